import { describe, expect, it } from "vitest";
import { checkMp4 } from "../../../worker/media/video";
import { simulatorMedia } from "../../../worker/providers/simulator/media";
import plain from "../../fixtures/videos/plain-64x48-2s.mp4";
import fragmented from "../../fixtures/videos/fragmented-64x48.mp4";
import audioOnly from "../../fixtures/videos/audio-only.mp4";
// The 2 s fixture with its edit list removed and a composition offset showing the last frame
// 60 s late: a decoder plays it for 62 s.
import farShown from "../../fixtures/videos/far-shown-frames.mp4";

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
    expect(problem(zero)).toMatch(/movie header says 0 s but its video track runs 2 s/);
    const codec = bytes(plain).slice();
    // stsd: header(8) version/flags(4) count(4), then the first entry: size(4) fourcc(4).
    codec.set(ascii("mp4v"), boxAt(codec, "stsd") + 20);
    expect(problem(codec)).toMatch(/codec/);
  });

  // The fixture: mvhd 2000/1000 s; the video track's mdhd 24576/12288 s; stts 24 frames × 1024.
  const at = (b: Uint8Array, type: string, offset: number) => boxAt(b, type) + 8 + offset;
  const set = (b: Uint8Array, offset: number, value: number) =>
    new DataView(b.buffer).setUint32(offset, value);

  it("refuses a file whose headers disagree on its length (a source priced by it)", () => {
    const movie = bytes(plain).slice();
    set(movie, at(movie, "mvhd", 16), 1); // the movie says 1 ms
    expect(problem(movie)).toMatch(/movie header says 0 s but its video track runs 2 s/);
    const track = bytes(plain).slice();
    set(track, at(track, "mdhd", 16), 1228); // the track header says 0.1 s
    expect(problem(track)).toMatch(/header says 0.1 s but its frames last 2 s/);
  });

  it("refuses a file whose every header agrees on a length its frames cannot fill", () => {
    const lie = bytes(plain).slice();
    set(lie, at(lie, "mvhd", 16), 2); // 2 ms
    set(lie, at(lie, "mdhd", 16), 24); // 24 ticks
    set(lie, at(lie, "stts", 12), 1); // 24 frames of one tick each: 12,288 fps
    set(lie, at(lie, "elst", 8), 2); // and the edit list presents them for 2 ms
    expect(problem(lie)).toMatch(/implausible: 24 frames in 0 s/);
  });

  it("refuses sample tables that disagree on the frame count", () => {
    const b = bytes(plain).slice();
    set(b, at(b, "stts", 8), 12); // 12 timed frames, 24 sized ones
    expect(problem(b)).toMatch(/disagree on how many frames/);
  });

  it("prices by the longer account when the movie runs past its picture (trailing sound)", () => {
    const b = bytes(plain).slice();
    set(b, at(b, "mvhd", 16), 2400);
    expect(checkMp4(b)).toMatchObject({ ok: true, info: { durationSeconds: 2.4 } });
  });

  it("stops early, with a 4xx reason, on a file built to be expensive to walk", () => {
    const ftyp = bytes(plain).subarray(0, boxAt(bytes(plain), "ftyp") + 32);
    // An ftyp then a million 8-byte `free` boxes (8 MB): refused after a few thousand.
    const many = new Uint8Array(ftyp.length + 8 * 1_000_000);
    many.set(ftyp);
    for (let pos = ftyp.length; pos < many.length; pos += 8) {
      set(many, pos, 8);
      many.set(ascii("free"), pos + 4);
    }
    expect(problem(many)).toMatch(/far more boxes/);
    // The media data split into 20 boxes.
    const split = new Uint8Array(ftyp.length + 9 * 20);
    split.set(ftyp);
    for (let i = 0; i < 20; i++) {
      set(split, ftyp.length + 9 * i, 9);
      split.set(ascii("mdat"), ftyp.length + 9 * i + 4);
    }
    expect(problem(split)).toMatch(/too many mdat/);
  });

  it("answers a reason, never a crash, for a header box with no room for its fields", () => {
    const ftyp = bytes(plain).subarray(0, 32);
    const mdat = [0, 0, 0, 9, ...ascii("mdat"), 0];
    const moov = [0, 0, 0, 16, ...ascii("moov"), 0, 0, 0, 8, ...ascii("mvhd")];
    const b = new Uint8Array([...ftyp, ...mdat, ...moov]);
    expect(problem(b)).toMatch(/cut short/);
  });

  it("counts an edit list that repeats the media, and refuses a second picture", () => {
    // The edit list plays the 2 s of frames 15 times: 30 s, whatever the headers say.
    const repeated = bytes(plain).slice();
    const elst = boxAt(repeated, "elst");
    expect(new DataView(repeated.buffer).getUint32(elst + 12)).toBe(1); // one entry of 2000 ms
    set(repeated, elst + 12, 1);
    set(repeated, elst + 16, 30_000);
    expect(problem(repeated)).toMatch(/movie header says 2 s but its video track runs 30 s/);
    set(repeated, at(repeated, "mvhd", 16), 30_000); // and a movie header that agrees
    expect(checkMp4(repeated)).toMatchObject({ ok: true, info: { durationSeconds: 30 } });
    // A second track whose handler hides it, but whose sample entry is a picture.
    const twice = withSecondTrack(bytes(plain));
    expect(problem(twice)).toMatch(/more than one video track/);
    expect(problem(bytes(farShown))).toMatch(/shown far from their timing/);
  });
});

/** The fixture with its trak box duplicated inside moov (moov's size grown to match). */
function withSecondTrack(b: Uint8Array): Uint8Array {
  const moov = boxAt(b, "moov");
  const trak = boxAt(b, "trak");
  const view = new DataView(b.buffer, b.byteOffset);
  const trakSize = view.getUint32(trak);
  const copy = b.slice(trak, trak + trakSize);
  copy.set(new TextEncoder().encode("xxxx"), boxAt(copy, "hdlr") + 16); // handler_type
  const out = new Uint8Array(b.length + trakSize);
  out.set(b.subarray(0, trak + trakSize));
  out.set(copy, trak + trakSize);
  out.set(b.subarray(trak + trakSize), trak + trakSize * 2);
  const outView = new DataView(out.buffer);
  outView.setUint32(moov, view.getUint32(moov) + trakSize);
  // Chunk offsets after moov moved by the inserted bytes: shift every stco entry in both traks.
  for (let at = 0; at + 8 <= out.length; at++) {
    if (out[at + 4] === 0x73 && String.fromCharCode(...out.subarray(at + 4, at + 8)) === "stco") {
      const count = outView.getUint32(at + 12);
      for (let i = 0; i < count; i++) {
        const entry = at + 16 + i * 4;
        const offset = outView.getUint32(entry);
        if (offset > moov) outView.setUint32(entry, offset + trakSize);
      }
    }
  }
  return out;
}
