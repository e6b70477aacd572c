/**
 * The whole-container check (worker/media/structure.ts) against real encoder output: every real
 * image passes, and the same files cut short, extended, or with a byte of their framing broken
 * do not. hostile-inputs.test.ts checks that the API refuses them before anything is spent.
 */
import { describe, expect, it } from "vitest";
import { checkStructure } from "../../../worker/media/structure";
import type { ImageMime } from "../../../worker/providers/types";
import { concat, pngChunk } from "../../helpers/bytes";

async function fixture(name: string): Promise<Uint8Array> {
  const mod = (await import(`../../fixtures/images/${name}`)) as { default: ArrayBuffer };
  return new Uint8Array(mod.default);
}

/** A real PNG: an RGBA image, its rows deflated by the runtime's own zlib (PNG spec §10). */
async function realPng(width: number, height: number): Promise<Uint8Array> {
  const rows = new Uint8Array(height * (1 + width * 4));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) rows.set([x, y, 128, 255], y * (1 + width * 4) + 1 + x * 4);
  }
  const deflated = await new Response(
    new Blob([rows]).stream().pipeThrough(new CompressionStream("deflate")),
  ).arrayBuffer();
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, width);
  new DataView(ihdr.buffer).setUint32(4, height);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return concat(
    new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk("IHDR", ihdr),
    pngChunk("tEXt", new TextEncoder().encode("Comment\0made in a test")),
    pngChunk("IDAT", new Uint8Array(deflated)),
    pngChunk("IEND", new Uint8Array()),
  );
}

const real: Array<[string, ImageMime, () => Promise<Uint8Array>]> = [
  ["baseline JPEG", "image/jpeg", () => fixture("baseline-1280x720.jpg")],
  ["progressive JPEG", "image/jpeg", () => fixture("progressive-1280x720.jpg")],
  ["JPEG with EXIF", "image/jpeg", () => fixture("exif-orientation6-1280x720.jpg")],
  ["lossy WebP", "image/webp", () => fixture("lossy-1280x720.webp")],
  ["lossless WebP", "image/webp", () => fixture("lossless-720x1280.webp")],
  ["WebP with alpha (VP8X)", "image/webp", () => fixture("alpha-1000x563.webp")],
  ["PNG", "image/png", () => realPng(64, 36)],
];

describe("checkStructure", () => {
  it.each(real)("accepts a real %s", async (_, mime, load) => {
    expect(checkStructure(await load(), mime)).toEqual({ ok: true });
  });

  it.each(real)("refuses a %s cut short anywhere", async (_, mime, load) => {
    const bytes = await load();
    for (const keep of [0.25, 0.5, 0.9, 0.999]) {
      const cut = bytes.subarray(0, Math.floor(bytes.length * keep));
      expect(checkStructure(cut, mime).ok, `kept ${keep}`).toBe(false);
    }
    expect(checkStructure(bytes.subarray(0, bytes.length - 1), mime).ok).toBe(false);
  });

  it.each(real)("refuses a %s with anything after its end", async (_, mime, load) => {
    const bytes = await load();
    for (const tail of ["<html>", "\n", "\0\0\0\0"]) {
      const result = checkStructure(concat(bytes, new TextEncoder().encode(tail)), mime);
      expect(result).toMatchObject({ ok: false, problem: expect.stringMatching(/after its end/) });
    }
  });

  it("refuses a PNG whose data was changed after its checksum was made", async () => {
    const png = await realPng(16, 16);
    const idat = png.findIndex((_, i) => String.fromCharCode(...png.subarray(i, i + 4)) === "IDAT");
    png[idat + 6]! ^= 0x01;
    expect(checkStructure(png, "image/png")).toEqual({
      ok: false,
      problem: "the IDAT chunk's checksum is wrong",
    });
  });

  it("refuses a JPEG whose segment length runs past the end of the file", async () => {
    const jpeg = (await fixture("baseline-1280x720.jpg")).slice();
    // The APP0 segment right after SOI: claim 64 KiB.
    jpeg[4] = 0xff;
    jpeg[5] = 0xff;
    expect(checkStructure(jpeg, "image/jpeg").ok).toBe(false);
  });
});
