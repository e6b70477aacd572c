/**
 * Is an uploaded video a whole, ordinary MP4 — and how long and how large is it? A source for an
 * extension or an edit is paid for by its length and sent to a provider, so it is judged the way
 * images are (worker/media/structure.ts): by walking its structure, never by its name, type or
 * first bytes. One linear pass over the box headers (ISO/IEC 14496-12 §4.2), nothing decoded:
 *
 *   - top-level boxes tile the file exactly: `ftyp` first with an MP4 brand, one `moov`, media in
 *     `mdat`, nothing after the last box (a polyglot's payload is refused);
 *   - `moov` holds `mvhd` (the timescale and duration) and a video track (`hdlr` `vide`) with its
 *     width and height (`tkhd`), an H.264/H.265/AV1/VP9 sample entry (`stsd`) and a chunk table
 *     (`stco`/`co64`) whose every offset lies inside an `mdat`;
 *   - fragmented files (`moof`) and QuickTime brands are refused with a message saying so.
 */

export interface VideoInfo {
  width: number;
  height: number;
  /** Presentation length in seconds (mvhd duration / timescale). */
  durationSeconds: number;
  /** The video sample entry's four-character code, e.g. `avc1`. */
  codec: string;
}

export type VideoCheck = { ok: true; info: VideoInfo } | { ok: false; problem: string };

const bad = (problem: string): VideoCheck => ({ ok: false, problem });

/** Brands of ISO base media / MP4 files (the registered `isoN`, `mp4N`, `avc1`, `M4V `). */
const MP4_BRANDS = new Set([
  "isom",
  "iso2",
  "iso3",
  "iso4",
  "iso5",
  "iso6",
  "mp41",
  "mp42",
  "avc1",
  "M4V ",
  "dash",
]);
const VIDEO_CODECS = new Set(["avc1", "avc3", "hvc1", "hev1", "av01", "vp09"]);

interface Box {
  type: string;
  /** First byte of the payload (after the header). */
  start: number;
  /** One past the last byte of the box. */
  end: number;
}

class Malformed extends Error {}

export function checkMp4(bytes: Uint8Array): VideoCheck {
  try {
    return walk(bytes);
  } catch (error) {
    if (error instanceof Malformed) return bad(error.message);
    throw error;
  }
}

function walk(bytes: Uint8Array): VideoCheck {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const top = children(bytes, view, 0, bytes.length, "the file");
  const ftyp = top[0];
  if (!ftyp || ftyp.type !== "ftyp") return bad("it does not start with an ftyp box");
  if (!hasMp4Brand(bytes, ftyp)) return bad("its brand is not MP4 (a QuickTime or other file)");
  if (top.some((box) => box.type === "moof")) {
    return bad("it is a fragmented MP4; send a regular (non-fragmented) MP4 file");
  }
  const moovs = top.filter((box) => box.type === "moov");
  if (moovs.length !== 1) return bad(moovs.length ? "it has more than one moov box" : "no moov");
  const mdats = top.filter((box) => box.type === "mdat");
  if (mdats.length === 0) return bad("it has no media data (mdat)");

  const moov = children(bytes, view, moovs[0]!.start, moovs[0]!.end, "moov");
  const mvhd = moov.find((box) => box.type === "mvhd");
  if (!mvhd) return bad("it has no movie header (mvhd)");
  const durationSeconds = movieDuration(view, mvhd);
  if (!(durationSeconds > 0)) return bad("its duration is zero or unknown");

  for (const trak of moov.filter((box) => box.type === "trak")) {
    const track = videoTrack(bytes, view, trak, mdats);
    if (track) return { ok: true, info: { ...track, durationSeconds } };
  }
  return bad("it has no video track");
}

/** The boxes that tile [start, end) exactly, or Malformed naming where they stop fitting. */
function children(
  bytes: Uint8Array,
  view: DataView,
  start: number,
  end: number,
  where: string,
): Box[] {
  const boxes: Box[] = [];
  let pos = start;
  while (pos < end) {
    if (pos + 8 > end) throw new Malformed(`${where} ends inside a box header`);
    let size = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (!/^[\x20-\x7e]{4}$/.test(type)) throw new Malformed(`a box in ${where} is damaged`);
    let header = 8;
    if (size === 1) {
      if (pos + 16 > end) throw new Malformed(`${where} ends inside a box header`);
      size = view.getUint32(pos + 8) * 2 ** 32 + view.getUint32(pos + 12);
      header = 16;
    } else if (size === 0) {
      size = end - pos; // "extends to the end" (§4.2), allowed for the last box only
    }
    if (size < header || pos + size > end) {
      throw new Malformed(`the ${type.trim()} box runs past the end of ${where}`);
    }
    boxes.push({ type, start: pos + header, end: pos + size });
    pos += size;
  }
  return boxes;
}

function hasMp4Brand(bytes: Uint8Array, ftyp: Box): boolean {
  const brand = (at: number) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (ftyp.end - ftyp.start < 8) return false;
  if (MP4_BRANDS.has(brand(ftyp.start))) return true;
  for (let at = ftyp.start + 8; at + 4 <= ftyp.end; at += 4) {
    if (MP4_BRANDS.has(brand(at))) return true;
  }
  return false;
}

/** mvhd §8.2.2: version 0 has 32-bit times, version 1 64-bit. */
function movieDuration(view: DataView, mvhd: Box): number {
  const v1 = view.getUint8(mvhd.start) === 1;
  const need = v1 ? 32 : 20;
  if (mvhd.end - mvhd.start < need) throw new Malformed("its movie header is cut short");
  const timescale = view.getUint32(mvhd.start + (v1 ? 20 : 12));
  const duration = v1
    ? view.getUint32(mvhd.start + 24) * 2 ** 32 + view.getUint32(mvhd.start + 28)
    : view.getUint32(mvhd.start + 16);
  return timescale > 0 ? duration / timescale : 0;
}

/** A video trak's size and codec, after checking its chunks lie inside the media data. */
function videoTrack(
  bytes: Uint8Array,
  view: DataView,
  trak: Box,
  mdats: Box[],
): { width: number; height: number; codec: string } | null {
  const boxes = children(bytes, view, trak.start, trak.end, "a track");
  const mdia = boxes.find((box) => box.type === "mdia");
  const tkhd = boxes.find((box) => box.type === "tkhd");
  if (!mdia || !tkhd) throw new Malformed("a track has no header or media box");
  const media = children(bytes, view, mdia.start, mdia.end, "a track");
  const hdlr = media.find((box) => box.type === "hdlr");
  if (!hdlr || hdlr.end - hdlr.start < 12) throw new Malformed("a track has no handler");
  if (String.fromCharCode(...bytes.subarray(hdlr.start + 8, hdlr.start + 12)) !== "vide") {
    return null;
  }
  // tkhd §8.3.2: width and height are its last 8 bytes, 16.16 fixed point.
  if (tkhd.end - tkhd.start < 84) throw new Malformed("the video track header is cut short");
  const width = view.getUint32(tkhd.end - 8) >>> 16;
  const height = view.getUint32(tkhd.end - 4) >>> 16;
  if (width === 0 || height === 0) throw new Malformed("the video track has no picture size");

  const minf = media.find((box) => box.type === "minf");
  const stbl = minf && find(bytes, view, minf, "stbl");
  if (!stbl) throw new Malformed("the video track has no sample table");
  const table = children(bytes, view, stbl.start, stbl.end, "the sample table");
  const stsd = table.find((box) => box.type === "stsd");
  if (!stsd || stsd.end - stsd.start < 16) throw new Malformed("the video track has no codec");
  const codec = String.fromCharCode(...bytes.subarray(stsd.start + 12, stsd.start + 16));
  if (!VIDEO_CODECS.has(codec)) {
    throw new Malformed(`its video codec (${codec.trim()}) is not H.264, H.265, AV1 or VP9`);
  }
  checkChunks(view, table, mdats);
  return { width, height, codec };
}

function find(bytes: Uint8Array, view: DataView, parent: Box, type: string): Box | undefined {
  return children(bytes, view, parent.start, parent.end, parent.type).find((b) => b.type === type);
}

/** stco/co64 §8.7.5: every chunk offset points into an mdat payload, so the index fits the data. */
function checkChunks(view: DataView, table: Box[], mdats: Box[]): void {
  const stco = table.find((box) => box.type === "stco" || box.type === "co64");
  if (!stco || stco.end - stco.start < 8) throw new Malformed("the video track has no chunk table");
  const wide = stco.type === "co64";
  const count = view.getUint32(stco.start + 4);
  if (count === 0) throw new Malformed("the video track has no samples");
  if (stco.start + 8 + count * (wide ? 8 : 4) > stco.end) {
    throw new Malformed("the chunk table runs past its box");
  }
  for (let i = 0; i < count; i++) {
    const at = stco.start + 8 + i * (wide ? 8 : 4);
    const offset = wide
      ? view.getUint32(at) * 2 ** 32 + view.getUint32(at + 4)
      : view.getUint32(at);
    if (!mdats.some((mdat) => offset >= mdat.start && offset < mdat.end)) {
      throw new Malformed("a chunk points outside the media data");
    }
  }
}
