import { describe, expect, it } from "vitest";
import { sniffImage, type SniffResult } from "../../../worker/media/image";

// Real encoder output from scripts/make-image-fixtures.sh. They load as Data modules
// (wrangler.toml [[rules]]: *.jpg, *.webp → ArrayBuffer). A dynamic import keeps this file
// free of a global `declare module "*.jpg"`, which would clash with one elsewhere in the repo.
async function jpg(name: string): Promise<Uint8Array> {
  const mod = (await import(`../../fixtures/images/${name}.jpg`)) as { default: ArrayBuffer };
  return new Uint8Array(mod.default);
}
async function webp(name: string): Promise<Uint8Array> {
  const mod = (await import(`../../fixtures/images/${name}.webp`)) as { default: ArrayBuffer };
  return new Uint8Array(mod.default);
}

const fixtures = {
  baseline: await jpg("baseline-1280x720"),
  progressive: await jpg("progressive-1280x720"),
  exif6: await jpg("exif-orientation6-1280x720"),
  lossy: await webp("lossy-1280x720"),
  lossless: await webp("lossless-720x1280"),
  alpha: await webp("alpha-1000x563"),
};

// --- byte builders -------------------------------------------------------------------------

type Part = number[] | string | Uint8Array;
/** Concatenates byte arrays and latin1 strings. */
function bytes(...parts: Part[]): Uint8Array {
  const arrays = parts.map((p) =>
    typeof p === "string" ? Uint8Array.from(p, (c) => c.charCodeAt(0)) : Uint8Array.from(p),
  );
  const out = new Uint8Array(arrays.reduce((n, a) => n + a.length, 0));
  let at = 0;
  for (const a of arrays) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}
const u16be = (n: number) => [n >>> 8, n & 0xff];
const u16le = (n: number) => [n & 0xff, n >>> 8];
const u32be = (n: number) => [n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const u32le = (n: number) => u32be(n).reverse();
const u24le = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff];

/** A JPEG marker segment: FF marker, length (including itself), payload. */
const segment = (marker: number, ...payload: Part[]) => {
  const body = bytes(...payload);
  return bytes([0xff, marker], u16be(body.length + 2), body);
};
/** SOFn frame header: precision 8, height, width, 3 components. */
const sof = (width: number, height: number, marker = 0xc0) =>
  segment(marker, [8], u16be(height), u16be(width), [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
const jpeg = (...parts: Part[]) => bytes([0xff, 0xd8], ...parts, [0xff, 0xda]);
/** APP1 Exif with an IFD0 holding the given (tag, type, value) entries. */
function exif(order: "II" | "MM", entries: [tag: number, type: number, value: number][]) {
  const le = order === "II";
  const w16 = le ? u16le : u16be;
  const w32 = le ? u32le : u32be;
  const ifd = entries.flatMap(([tag, type, value]) => [
    ...w16(tag),
    ...w16(type),
    ...w32(1),
    ...w16(value),
    0,
    0,
  ]);
  return segment(0xe1, "Exif\0\0", order, w16(42), w32(8), w16(entries.length), ifd, w32(0));
}

function png(width: number, height: number, ...rest: Part[]) {
  const signature = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  // IHDR: bit depth 8, colour type 2 (RGB); CRC left zero (not checked).
  return bytes(
    signature,
    u32be(13),
    "IHDR",
    u32be(width),
    u32be(height),
    [8, 2, 0, 0, 0],
    [0, 0, 0, 0],
    ...rest,
  );
}

const riffWebp = (chunk: string, payload: Part[]) => {
  const body = bytes(...payload);
  return bytes("RIFF", u32le(4 + 8 + body.length), "WEBP", chunk, u32le(body.length), body);
};
/** VP8 key frame header: frame tag, start code, 14-bit width/height (+ 2-bit scale). */
const vp8 = (width: number, height: number, startCode = [0x9d, 0x01, 0x2a]) =>
  riffWebp("VP8 ", [[0x50, 0x01, 0x00], startCode, u16le(width), u16le(height), new Uint8Array(8)]);
/** VP8L: signature 0x2F, then width-1 | height-1 << 14 | alpha << 28 | version << 29. */
const vp8l = (width: number, height: number, version = 0) =>
  riffWebp("VP8L", [
    [0x2f],
    u32le(((width - 1) | ((height - 1) << 14) | (version << 29)) >>> 0),
    new Uint8Array(4),
  ]);
const vp8x = (width: number, height: number) =>
  riffWebp("VP8X", [[0x10, 0, 0, 0], u24le(width - 1), u24le(height - 1)]);

const MALFORMED = { ok: false, reason: "malformed" };
const jpegOk = (width: number, height: number, orientation = 1) => ({
  ok: true,
  mime: "image/jpeg",
  width,
  height,
  orientation,
});
const ok = (mime: string, width: number, height: number) => ({
  ok: true,
  mime,
  width,
  height,
  orientation: 1,
});

// --- tests ---------------------------------------------------------------------------------

describe("sniffImage", () => {
  describe("JPEG", () => {
    it("reads 1280x720 from a real baseline (SOF0) ImageMagick JPEG", () => {
      expect(sniffImage(fixtures.baseline)).toStrictEqual(jpegOk(1280, 720));
    });

    it("reads 1280x720 from a real progressive (SOF2) ImageMagick JPEG", () => {
      expect(indexOf(fixtures.progressive, [0xff, 0xc2])).toBeGreaterThan(0); // really SOF2
      expect(sniffImage(fixtures.progressive)).toStrictEqual(jpegOk(1280, 720));
    });

    it("reports EXIF orientation 6 with the stored (unrotated) size", () => {
      expect(sniffImage(fixtures.exif6)).toStrictEqual(jpegOk(1280, 720, 6));
    });

    it("reads big-endian (MM) EXIF orientation 8", () => {
      expect(sniffImage(jpeg(exif("MM", [[0x0112, 3, 8]]), sof(640, 480)))).toStrictEqual(
        jpegOk(640, 480, 8),
      );
    });

    it("finds the orientation tag after other IFD0 entries", () => {
      const app1 = exif("II", [
        [0x010f, 3, 1],
        [0x0112, 3, 3],
      ]);
      expect(sniffImage(jpeg(app1, sof(64, 64)))).toStrictEqual(jpegOk(64, 64, 3));
    });

    it.each([
      ["orientation 0", exif("II", [[0x0112, 3, 0]])],
      ["orientation 9", exif("II", [[0x0112, 3, 9]])],
      ["orientation stored as LONG", exif("II", [[0x0112, 4, 6]])],
      ["bad TIFF byte order", segment(0xe1, "Exif\0\0", "XX", [42, 0, 8, 0, 0, 0])],
      ["IFD0 offset past the segment", segment(0xe1, "Exif\0\0", "II", [42, 0], u32le(0xfffffff0))],
      [
        "IFD entry count past the segment",
        segment(0xe1, "Exif\0\0", "II", [42, 0, 8, 0, 0, 0], [0xff, 0xff]),
      ],
      ["XMP, not Exif, in APP1", segment(0xe1, "http://ns.adobe.com/xap/1.0/\0<x:xmpmeta/>")],
    ])("falls back to orientation 1 and keeps the size when EXIF has %s", (_, app1) => {
      expect(sniffImage(jpeg(app1, sof(320, 240)))).toStrictEqual(jpegOk(320, 240));
    });

    it("reports a SOF claiming 65535x65535 as exactly that, without allocating anything", () => {
      expect(sniffImage(jpeg(sof(65535, 65535)))).toStrictEqual(jpegOk(65535, 65535));
    });

    it.each(
      [0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf].map((m) => [
        m.toString(16),
        m,
      ]),
    )("reads the size from SOF marker FF %s", (_, marker) => {
      expect(sniffImage(jpeg(sof(10, 20, marker)))).toStrictEqual(jpegOk(10, 20));
    });

    it("skips DHT, JPG and DAC (0xC4, 0xC8, 0xCC) instead of reading them as frames", () => {
      const notFrames = [0xc4, 0xc8, 0xcc].map((m) => segment(m, new Uint8Array(9)));
      expect(sniffImage(jpeg(...notFrames, sof(33, 44)))).toStrictEqual(jpegOk(33, 44));
    });

    it("skips fill bytes and standalone RST/TEM markers before the frame header", () => {
      const input = jpeg(
        [0xff, 0xff, 0xff],
        segment(0xfe, "comment"),
        [0xff, 0xd3, 0xff, 0x01],
        sof(800, 600),
      );
      expect(sniffImage(input)).toStrictEqual(jpegOk(800, 600));
    });

    it.each([
      ["zero width", jpeg(sof(0, 720))],
      ["zero height (DNL-deferred)", jpeg(sof(1280, 0))],
      [
        "SOS before any frame header",
        bytes([0xff, 0xd8], segment(0xdb, new Uint8Array(65)), [0xff, 0xda, 0, 2]),
      ],
      ["EOI before any frame header", bytes([0xff, 0xd8, 0xff, 0xd9])],
      ["a second SOI", bytes([0xff, 0xd8, 0xff, 0xd8], sof(1, 1))],
      ["FF 00 where a marker should be", bytes([0xff, 0xd8, 0xff, 0x00], sof(1, 1))],
      ["garbage between segments", bytes([0xff, 0xd8], segment(0xe0, "JFIF\0"), [0x00], sof(1, 1))],
      ["a segment length below 2", bytes([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x01], sof(1, 1))],
      ["a segment running past the end", bytes([0xff, 0xd8, 0xff, 0xe1, 0xff, 0xff, 1, 2, 3])],
      [
        "a frame header too short for its sizes",
        bytes([0xff, 0xd8, 0xff, 0xc0, 0x00, 0x05, 8, 0, 1]),
      ],
      ["only SOI", bytes([0xff, 0xd8, 0xff])],
    ])("returns malformed for %s", (_, input) => {
      expect(sniffImage(input)).toStrictEqual(MALFORMED);
    });

    it("gives up with malformed after a bounded number of markers (hostile padding)", () => {
      const comments = Array.from({ length: 5000 }, () => segment(0xfe, []));
      expect(sniffImage(jpeg(...comments, sof(1280, 720)))).toStrictEqual(MALFORMED);
      const fill = new Uint8Array(1_000_000).fill(0xff);
      expect(sniffImage(jpeg(fill, sof(1280, 720)))).toStrictEqual(MALFORMED);
    });

    it("becomes ok exactly when a truncated real JPEG includes the whole frame header", () => {
      const sofAt = indexOf(fixtures.baseline, [0xff, 0xc0]);
      const sofEnd =
        sofAt + 2 + ((fixtures.baseline[sofAt + 2]! << 8) | fixtures.baseline[sofAt + 3]!);
      expect(sniffImage(fixtures.baseline.subarray(0, sofEnd - 1))).toStrictEqual(MALFORMED);
      expect(sniffImage(fixtures.baseline.subarray(0, sofEnd))).toStrictEqual(jpegOk(1280, 720));
    });
  });

  describe("PNG", () => {
    it("reads width and height from IHDR", () => {
      expect(sniffImage(png(1280, 720))).toStrictEqual(ok("image/png", 1280, 720));
    });

    it("accepts the largest legal size, 2^31-1", () => {
      expect(sniffImage(png(0x7fffffff, 1))).toStrictEqual(ok("image/png", 0x7fffffff, 1));
    });

    it("reports the header's size when garbage follows (polyglots are the caller's business)", () => {
      const polyglot = png(720, 1280, "<?php echo 1; ?>", new Uint8Array(100).fill(0xab));
      expect(sniffImage(polyglot)).toStrictEqual(ok("image/png", 720, 1280));
    });

    it("reads through a subarray with a non-zero byteOffset", () => {
      const backing = bytes(new Uint8Array(7).fill(0xff), png(12, 34), [1, 2, 3]);
      expect(sniffImage(backing.subarray(7, 7 + 33))).toStrictEqual(ok("image/png", 12, 34));
    });

    it.each([
      ["zero width", png(0, 720)],
      ["zero height", png(1280, 0)],
      ["width 2^31", png(0x80000000, 1)],
      ["height 2^32-1", png(1, 0xffffffff)],
      ["IHDR length not 13", bytes(png(1, 1).subarray(0, 8), u32be(12), png(1, 1).subarray(12))],
      [
        "a first chunk other than IHDR",
        bytes(png(1, 1).subarray(0, 12), "tEXt", png(1, 1).subarray(16)),
      ],
      ["an IHDR cut before its CRC", png(1, 1).subarray(0, 30)],
      ["only the signature", png(1, 1).subarray(0, 8)],
    ])("returns malformed for %s", (_, input) => {
      expect(sniffImage(input)).toStrictEqual(MALFORMED);
    });
  });

  describe("WebP", () => {
    it("reads 1280x720 from a real lossy (VP8) cwebp file", () => {
      expect(chunkOf(fixtures.lossy)).toBe("VP8 ");
      expect(sniffImage(fixtures.lossy)).toStrictEqual(ok("image/webp", 1280, 720));
    });

    it("reads 720x1280 from a real lossless (VP8L) cwebp file", () => {
      expect(chunkOf(fixtures.lossless)).toBe("VP8L");
      expect(sniffImage(fixtures.lossless)).toStrictEqual(ok("image/webp", 720, 1280));
    });

    it("reads 1000x563 from a real extended (VP8X, lossy + alpha) cwebp file", () => {
      expect(chunkOf(fixtures.alpha)).toBe("VP8X");
      expect(sniffImage(fixtures.alpha)).toStrictEqual(ok("image/webp", 1000, 563));
    });

    it("ignores the VP8 scaling bits above the 14-bit size", () => {
      expect(sniffImage(vp8(0xc000 | 1280, 0x4000 | 720))).toStrictEqual(
        ok("image/webp", 1280, 720),
      );
    });

    it("reads the 14-bit and 24-bit maxima", () => {
      expect(sniffImage(vp8l(16384, 16384))).toStrictEqual(ok("image/webp", 16384, 16384));
      expect(sniffImage(vp8x(1 << 24, 1))).toStrictEqual(ok("image/webp", 1 << 24, 1));
    });

    it.each([
      ["a VP8 frame without the 9D 01 2A start code", vp8(64, 64, [0x9d, 0x01, 0x2b])],
      ["a VP8 inter frame", bytes(vp8(64, 64).subarray(0, 20), [0x51], vp8(64, 64).subarray(21))],
      ["a VP8 frame of width 0", vp8(0, 64)],
      [
        "a VP8L stream without the 0x2F signature",
        bytes(vp8l(64, 64).subarray(0, 20), [0x2e], vp8l(64, 64).subarray(21)),
      ],
      ["a VP8L stream with version 1", vp8l(64, 64, 1)],
      ["a VP8X canvas over 2^32-1 pixels", vp8x(1 << 24, 1 << 24)],
      ["a first chunk that is not VP8/VP8L/VP8X", riffWebp("ALPH", [new Uint8Array(10)])],
      [
        "a VP8 chunk declaring size 4",
        bytes(vp8(64, 64).subarray(0, 16), u32le(4), vp8(64, 64).subarray(20)),
      ],
      ["only the RIFF header", bytes("RIFF", u32le(4), "WEBP")],
    ])("returns malformed for %s", (_, input) => {
      expect(sniffImage(input)).toStrictEqual(MALFORMED);
    });
  });

  describe("other formats", () => {
    const ftyp = (...brands: string[]) =>
      bytes(u32be(8 + 4 * brands.length + 4), "ftyp", brands[0]!, [0, 0, 0, 0], ...brands.slice(1));

    it.each([
      ["GIF", bytes("GIF89a", u16le(1280), u16le(720))],
      ["GIF", bytes("GIF87a", u16le(1), u16le(1))],
      ["BMP", bytes("BM", u32le(70), new Uint8Array(12))],
      ["TIFF", bytes("II*\0", u32le(8))],
      ["TIFF", bytes("MM\0*", u32be(8))],
      ["PDF", bytes("%PDF-1.7\n")],
      ["HEIC", ftyp("heic", "mif1", "heic")],
      ["HEIC", ftyp("mif1", "heic")],
      ["HEIC", ftyp("msf1", "hevc")],
      ["AVIF", ftyp("avif", "mif1", "miaf")],
      ["AVIF", ftyp("mif1", "avif", "miaf")],
      ["AVIF", ftyp("avis", "msf1")],
      ["SVG", bytes('<svg xmlns="http://www.w3.org/2000/svg"/>')],
      ["SVG", bytes([0xef, 0xbb, 0xbf], " \r\n\t<?xml version='1.0'?><svg/>")],
    ])("returns unsupported_type detected %s", (name, input) => {
      expect(sniffImage(input)).toStrictEqual({
        ok: false,
        reason: "unsupported_type",
        detected: name,
      });
    });

    it.each([
      ["empty input", new Uint8Array(0)],
      ["plain text", bytes("hello, world")],
      ["HTML", bytes("<!doctype html><html>")],
      ["a RIFF WAVE file", bytes("RIFF", u32le(36), "WAVEfmt ")],
      ["an MP4 (ftyp isom)", ftyp("isom", "iso2", "mp41")],
      ["a JPEG SOI without the third FF", bytes([0xff, 0xd8])],
      ["SVG after more than 256 bytes of whitespace", bytes(" ".repeat(300), "<svg/>")],
    ])("returns unsupported_type without a name for %s", (_, input) => {
      expect(sniffImage(input)).toStrictEqual({ ok: false, reason: "unsupported_type" });
    });
  });

  describe("truncation", () => {
    // Shorter than its signature a file is not recognised at all; from there on every prefix
    // must give the full answer or malformed, and once ok it must stay ok.
    it.each([
      ["baseline JPEG", "baseline", 3],
      ["progressive JPEG", "progressive", 3],
      ["EXIF JPEG", "exif6", 3],
      ["lossy WebP", "lossy", 12],
      ["lossless WebP", "lossless", 12],
      ["extended WebP", "alpha", 12],
    ] as const)(
      "never throws and returns malformed or the right answer for every prefix of a %s",
      (_, key, signature) => {
        const file = fixtures[key];
        const full = sniffImage(file);
        expect(full.ok).toBe(true);
        let seenOk = false;
        for (let n = 0; n <= file.length; n++) {
          const result: SniffResult = sniffImage(file.subarray(0, n));
          if (n < signature) {
            expect(result).toMatchObject({ ok: false, reason: "unsupported_type" });
          } else if (result.ok) {
            expect(result).toStrictEqual(full);
            seenOk = true;
          } else {
            expect(result, `prefix ${n}`).toStrictEqual(MALFORMED);
            expect(seenOk, `prefix ${n} malformed after a shorter prefix was ok`).toBe(false);
          }
        }
      },
    );

    it("returns malformed for every prefix of a PNG header from its signature up to IHDR's CRC", () => {
      const file = png(1280, 720);
      for (let n = 8; n < 33; n++) expect(sniffImage(file.subarray(0, n))).toStrictEqual(MALFORMED);
      expect(sniffImage(file)).toStrictEqual(ok("image/png", 1280, 720));
    });
  });
});

function indexOf(haystack: Uint8Array, needle: number[]): number {
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (needle.every((b, j) => haystack[i + j] === b)) return i;
  }
  return -1;
}

/** FourCC of a WebP file's first chunk. */
function chunkOf(file: Uint8Array): string {
  return String.fromCharCode(...file.subarray(12, 16));
}
