import { describe, expect, it } from "vitest";
import { checkMp4 } from "../../../worker/media/video";
import { simulatorMedia } from "../../../worker/providers/simulator/media";
import plain from "../../fixtures/videos/plain-64x48-2s.mp4";
import fragmented from "../../fixtures/videos/fragmented-64x48.mp4";
import audioOnly from "../../fixtures/videos/audio-only.mp4";

const bytes = (buffer: ArrayBuffer) => new Uint8Array(buffer);
const ascii = (s: string) => new TextEncoder().encode(s);
const problem = (b: Uint8Array) => {
  const result = checkMp4(b);
  return result.ok ? null : result.problem;
};

/** The byte offset of the first box header of `type` (its size field). */
function boxAt(b: Uint8Array, type: string): number {
  const needle = ascii(type);
  for (let i = 4; i + 4 <= b.length; i++) {
    if (needle.every((byte, k) => b[i + k] === byte)) return i - 4;
  }
  throw new Error(`no ${type}`);
}

describe("checkMp4", () => {
  it("reads size, duration and codec of an ordinary MP4", () => {
    expect(checkMp4(bytes(plain))).toEqual({
      ok: true,
      info: { width: 64, height: 48, durationSeconds: 2, codec: "avc1" },
    });
  });

  it("reads every simulator clip as the size and length it is labelled", () => {
    for (const size of ["1280x720", "720x1280"]) {
      for (const seconds of ["4", "8", "12", "16"]) {
        const result = checkMp4(bytes(simulatorMedia(size, seconds, "video")!.bytes));
        expect(result.ok).toBe(true);
        if (!result.ok) continue;
        expect(`${result.info.width}x${result.info.height}`).toBe(size);
        expect(result.info.durationSeconds).toBeCloseTo(Number(seconds), 1);
      }
    }
  });

  it("refuses what is not an MP4, whatever its first bytes", () => {
    expect(problem(ascii("<html>hello</html>"))).toMatch(/ftyp|box/);
    expect(problem(new Uint8Array(0))).toMatch(/ftyp/);
    // An MP4's first 64 bytes followed by something else.
    const head = bytes(plain).slice(0, 64);
    expect(problem(head)).toMatch(/runs past the end/);
  });

  it("refuses data after the last box (a polyglot's payload)", () => {
    const b = bytes(plain);
    const longer = new Uint8Array(b.length + 20);
    longer.set(b);
    longer.set(ascii("<script>alert(1)</script>".slice(0, 20)), b.length);
    expect(problem(longer)).not.toBeNull();
  });

  it("refuses a fragmented MP4, a QuickTime brand and a file with no video track", () => {
    expect(problem(bytes(fragmented))).toMatch(/fragmented/);
    expect(problem(bytes(audioOnly))).toMatch(/no video track/);
    const qt = bytes(plain).slice();
    // Rewrite the whole ftyp payload (major and compatible brands) to QuickTime's.
    for (let at = 8; at < 32; at += 4) qt.set(at === 12 ? [0, 0, 2, 0] : ascii("qt  "), at);
    expect(problem(qt)).toMatch(/brand/);
  });

  it("refuses a chunk table that points outside the media data", () => {
    const b = bytes(plain).slice();
    const stco = boxAt(b, "stco");
    new DataView(b.buffer).setUint32(stco + 16, 4); // first chunk offset → inside ftyp
    expect(problem(b)).toMatch(/outside the media data/);
  });

  it("refuses a zero duration and an unknown codec", () => {
    const zero = bytes(plain).slice();
    const mvhd = boxAt(zero, "mvhd");
    new DataView(zero.buffer).setUint32(mvhd + 8 + 16, 0);
    expect(problem(zero)).toMatch(/duration/);
    const codec = bytes(plain).slice();
    // stsd: header(8) version/flags(4) count(4), then the first entry: size(4) fourcc(4).
    codec.set(ascii("mp4v"), boxAt(codec, "stsd") + 20);
    expect(problem(codec)).toMatch(/codec/);
  });
});
