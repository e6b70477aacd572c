import { describe, expect, it } from "vitest";
import {
  SIMULATOR_SECONDS,
  SIMULATOR_SIZES,
  simulatorMedia,
} from "../../worker/providers/simulator/media";

// These tests read the committed files themselves (bundled as Data modules), so they catch a
// regenerated file that a browser could not stream, or one that drifted from its advertised size.

const ascii = (b: Uint8Array, at: number, n: number): string =>
  String.fromCharCode(...b.subarray(at, at + n));
const u16be = (b: Uint8Array, at: number): number => (b[at]! << 8) | b[at + 1]!;
const u16le = (b: Uint8Array, at: number): number => b[at]! | (b[at + 1]! << 8);
const u32be = (b: Uint8Array, at: number): number =>
  new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(at);

function parseSize(size: string): { width: number; height: number } {
  const [width, height] = size.split("x").map(Number);
  return { width: width!, height: height! };
}

// --- ISO BMFF (MP4) -------------------------------------------------------------------------

interface Box {
  type: string;
  /** Payload start and end (exclusive), header excluded. */
  start: number;
  end: number;
}

/** The boxes laid end to end in [start, end), honouring 64-bit and to-end sizes. */
function boxes(b: Uint8Array, start = 0, end = b.length): Box[] {
  const out: Box[] = [];
  let at = start;
  while (at + 8 <= end) {
    let size = u32be(b, at);
    const type = ascii(b, at + 4, 4);
    let header = 8;
    if (size === 1) {
      size = u32be(b, at + 8) * 2 ** 32 + u32be(b, at + 12);
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) throw new Error(`bad ${type} box at ${at}`);
    out.push({ type, start: at + header, end: at + size });
    at += size;
  }
  return out;
}

/** Follows a path of box types from the top level, e.g. ["moov", "trak", "tkhd"]. */
function findBox(b: Uint8Array, path: string[]): Box | undefined {
  let found: Box | undefined;
  for (const type of path) {
    found = boxes(b, found?.start, found?.end).find((box) => box.type === type);
    if (!found) return undefined;
  }
  return found;
}

// --- WebP and JPEG --------------------------------------------------------------------------

/** Frame size from a lossy WebP's VP8 key-frame header (14-bit fields). */
function vp8Size(b: Uint8Array): { width: number; height: number } {
  expect(ascii(b, 12, 4)).toBe("VP8 ");
  expect([b[23], b[24], b[25]]).toEqual([0x9d, 0x01, 0x2a]);
  return { width: u16le(b, 26) & 0x3fff, height: u16le(b, 28) & 0x3fff };
}

/** Frame size from a baseline JPEG's SOF0 segment, walking the marker segments before it. */
function sof0Size(b: Uint8Array): { width: number; height: number } {
  let at = 2;
  while (at + 4 <= b.length) {
    expect(b[at]).toBe(0xff);
    const marker = b[at + 1]!;
    if (marker === 0xc0) return { height: u16be(b, at + 5), width: u16be(b, at + 7) };
    if (marker === 0xda) break; // Start of scan: no frame header came first.
    at += 2 + u16be(b, at + 2);
  }
  throw new Error("no SOF0 segment");
}

// Spritesheets are 5 x 4 tiles, 160 px wide, height following the frame's aspect ratio
// (rounded to even by the encoder).
const SPRITE_SIZE: Record<string, { width: number; height: number }> = {
  "1280x720": { width: 5 * 160, height: 4 * 90 },
  "720x1280": { width: 5 * 160, height: 4 * 284 },
};

describe("simulator media", () => {
  it("covers every size and duration of the default simulator route", () => {
    expect([...SIMULATOR_SIZES]).toEqual(["1280x720", "720x1280"]);
    expect([...SIMULATOR_SECONDS]).toEqual(["4", "8", "12", "16"]);
  });

  for (const size of SIMULATOR_SIZES) {
    for (const seconds of SIMULATOR_SECONDS) {
      it(`serves a streamable ${size} H.264 MP4 lasting ${seconds} s`, () => {
        const asset = simulatorMedia(size, seconds, "video");
        expect(asset).toMatchObject({ contentType: "video/mp4", extension: "mp4" });
        const b = new Uint8Array(asset!.bytes);

        expect(ascii(b, 4, 4)).toBe("ftyp");
        const topLevel = boxes(b).map((box) => box.type);
        expect(topLevel).toContain("moov");
        expect(topLevel).toContain("mdat");
        // Faststart: the index must arrive before the data so playback can begin mid-download.
        expect(topLevel.indexOf("moov")).toBeLessThan(topLevel.indexOf("mdat"));

        const tkhd = findBox(b, ["moov", "trak", "tkhd"])!;
        expect({
          width: u32be(b, tkhd.end - 8) >>> 16,
          height: u32be(b, tkhd.end - 4) >>> 16,
        }).toEqual(parseSize(size));

        const mvhd = findBox(b, ["moov", "mvhd"])!;
        const v1 = b[mvhd.start] === 1;
        const timescale = u32be(b, mvhd.start + (v1 ? 20 : 12));
        const duration = v1
          ? u32be(b, mvhd.start + 24) * 2 ** 32 + u32be(b, mvhd.start + 28)
          : u32be(b, mvhd.start + 16);
        expect(duration / timescale).toBeCloseTo(Number(seconds), 1);

        const stsd = findBox(b, ["moov", "trak", "mdia", "minf", "stbl", "stsd"])!;
        // stsd: version/flags and entry count, then the first sample entry's box header.
        expect(ascii(b, stsd.start + 12, 4)).toBe("avc1");
      });

      it(`serves a ${size} lossy WebP thumbnail for a ${seconds} s job`, () => {
        const asset = simulatorMedia(size, seconds, "thumbnail");
        expect(asset).toMatchObject({ contentType: "image/webp", extension: "webp" });
        const b = new Uint8Array(asset!.bytes);
        expect(ascii(b, 0, 4)).toBe("RIFF");
        expect(ascii(b, 8, 4)).toBe("WEBP");
        expect(vp8Size(b)).toEqual(parseSize(size));
      });

      it(`serves a 5x4 JPEG spritesheet of ${size} frames for a ${seconds} s job`, () => {
        const asset = simulatorMedia(size, seconds, "spritesheet");
        expect(asset).toMatchObject({ contentType: "image/jpeg", extension: "jpg" });
        const b = new Uint8Array(asset!.bytes);
        expect([b[0], b[1], b[2]]).toEqual([0xff, 0xd8, 0xff]);
        expect(sof0Size(b)).toEqual(SPRITE_SIZE[size]);
      });
    }
  }

  it("shares previews between durations of the same size", () => {
    for (const size of SIMULATOR_SIZES) {
      expect(simulatorMedia(size, "8", "thumbnail")).toBe(simulatorMedia(size, "4", "thumbnail"));
      expect(simulatorMedia(size, "8", "spritesheet")).toBe(
        simulatorMedia(size, "4", "spritesheet"),
      );
    }
  });

  it("returns undefined for a size, duration or key it has no media for", () => {
    expect(simulatorMedia("1920x1080", "4", "video")).toBeUndefined();
    expect(simulatorMedia("1920x1080", "4", "thumbnail")).toBeUndefined();
    expect(simulatorMedia("1280x720", "20", "video")).toBeUndefined();
    expect(simulatorMedia("1280x720", "20", "spritesheet")).toBeUndefined();
    expect(simulatorMedia("__proto__", "4", "video")).toBeUndefined();
    expect(simulatorMedia("1280x720", "constructor", "video")).toBeUndefined();
  });
});
