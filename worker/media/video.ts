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
 *   - exactly one track carries a picture (by its handler or its sample entry): a decoder must
 *     not find another, longer or larger one to play instead;
 *   - the length, which prices the job, is told several ways (the movie header, each track's
 *     media header and edit list, the frames' timing in `stts` counted against `stsz`, their
 *     composition offsets in `ctts`): they must agree, the frame rate must be one a camera
 *     films at, and the largest counts;
 *   - the walk is bounded (boxes, `mdat`s), so a crafted file costs no more than an honest one;
 *   - fragmented files (`moof`) and QuickTime brands are refused with a message saying so.
 */

export interface VideoInfo {
  width: number;
  height: number;
  /** Presentation length in seconds: the largest of the movie's and the video track's. */
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

/**
 * Bounds on the walk, so a small crafted file costs as little as an honest one: real MP4s have a
 * handful of top-level boxes and one or two `mdat`s; these are far above that and far below
 * what would make the checks (linear in boxes × mdats) expensive.
 */
const MAX_BOXES = 4096;
const MAX_MDATS = 16;
/** Frames per second above this are a file lying about its length (phones film at 240). */
const MAX_FPS = 240;
/** How far the movie header and the video track may disagree on the length, in seconds. */
const LENGTH_TOLERANCE_SECONDS = 0.5;

export function checkMp4(bytes: Uint8Array): VideoCheck {
  try {
    return walk(new Reader(bytes));
  } catch (error) {
    if (error instanceof Malformed) return bad(error.message);
    // A read past a box that claimed to be longer than it is: damaged, not our failure.
    if (error instanceof RangeError) return bad("a box is cut short");
    throw error;
  }
}

/** The file, and the box budget left for the walk. */
class Reader {
  readonly view: DataView;
  private boxesLeft = MAX_BOXES;
  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  fourcc(at: number): string {
    return String.fromCharCode(...this.bytes.subarray(at, at + 4));
  }

  u64(at: number): number {
    return this.view.getUint32(at) * 2 ** 32 + this.view.getUint32(at + 4);
  }

  /** The boxes that tile [start, end) exactly, or Malformed naming where they stop fitting. */
  children(start: number, end: number, where: string): Box[] {
    const boxes: Box[] = [];
    let pos = start;
    while (pos < end) {
      if (--this.boxesLeft < 0) throw new Malformed("it has far more boxes than a video needs");
      if (pos + 8 > end) throw new Malformed(`${where} ends inside a box header`);
      let size = this.view.getUint32(pos);
      const type = this.fourcc(pos + 4);
      if (!/^[\x20-\x7e]{4}$/.test(type)) throw new Malformed(`a box in ${where} is damaged`);
      let header = 8;
      if (size === 1) {
        if (pos + 16 > end) throw new Malformed(`${where} ends inside a box header`);
        size = this.u64(pos + 8);
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

  /** The one child of `type` of `parent`, or undefined. */
  child(parent: Box, type: string): Box | undefined {
    return this.children(parent.start, parent.end, parent.type).find((b) => b.type === type);
  }
}

function walk(r: Reader): VideoCheck {
  const top = r.children(0, r.bytes.length, "the file");
  const ftyp = top[0];
  if (!ftyp || ftyp.type !== "ftyp") return bad("it does not start with an ftyp box");
  if (!hasMp4Brand(r, ftyp)) return bad("its brand is not MP4 (a QuickTime or other file)");
  if (top.some((box) => box.type === "moof")) {
    return bad("it is a fragmented MP4; send a regular (non-fragmented) MP4 file");
  }
  const mdats = top.filter((box) => box.type === "mdat");
  if (mdats.length > MAX_MDATS) return bad("its media data is split into too many mdat boxes");
  const moovs = top.filter((box) => box.type === "moov");
  if (moovs.length !== 1) return bad(moovs.length ? "it has more than one moov box" : "no moov");
  if (mdats.length === 0) return bad("it has no media data (mdat)");

  const moov = r.children(moovs[0]!.start, moovs[0]!.end, "moov");
  const mvhd = moov.find((box) => box.type === "mvhd");
  if (!mvhd) return bad("it has no movie header (mvhd)");
  const movieSeconds = movieDuration(r, mvhd);
  const movieTimescale = r.view.getUint32(
    mvhd.start + (r.view.getUint8(mvhd.start) === 1 ? 20 : 12),
  );

  const tracks = moov
    .filter((box) => box.type === "trak")
    .map((trak) => readTrack(r, trak, mdats, movieTimescale));
  // A second picture (even one whose handler says otherwise) is what a decoder may play instead
  // of the one checked here: one video track, or the file is refused.
  const videos = tracks.filter((track) => track.video !== null);
  if (videos.length === 0) return bad("it has no video track");
  if (videos.length > 1) return bad("it has more than one video track; send one picture");
  const { width, height, codec, seconds, frames } = videos[0]!.video!;
  // The length is what the file is priced by: every account of it must agree, and the
  // largest counts (a movie header may run longer than the picture, for trailing sound; an
  // edit list may play the media more than once).
  if (movieSeconds < seconds - LENGTH_TOLERANCE_SECONDS) {
    return bad(
      `its movie header says ${round(movieSeconds)} s but its video track runs ${round(seconds)} s`,
    );
  }
  const durationSeconds = Math.max(movieSeconds, ...tracks.map((track) => track.seconds));
  if (!(durationSeconds > 0)) return bad("its duration is zero or unknown");
  if (frames / Math.max(seconds, 1e-9) > MAX_FPS) {
    return bad(`its timing is implausible: ${frames} frames in ${round(seconds)} s`);
  }
  return { ok: true, info: { width, height, durationSeconds, codec } };
}

const round = (seconds: number) => Math.round(seconds * 100) / 100;

function hasMp4Brand(r: Reader, ftyp: Box): boolean {
  if (ftyp.end - ftyp.start < 8) return false;
  if (MP4_BRANDS.has(r.fourcc(ftyp.start))) return true;
  for (let at = ftyp.start + 8; at + 4 <= ftyp.end; at += 4) {
    if (MP4_BRANDS.has(r.fourcc(at))) return true;
  }
  return false;
}

/**
 * A full box's (timescale, duration) at the offsets mvhd §8.2.2 and mdhd §8.4.2 share:
 * version 0 has 32-bit times, version 1 64-bit. Seconds, or 0 when the timescale is 0.
 */
function headerDuration(r: Reader, box: Box, what: string): number {
  if (box.end - box.start < 1) throw new Malformed(`its ${what} is cut short`);
  const v1 = r.view.getUint8(box.start) === 1;
  if (box.end - box.start < (v1 ? 32 : 20)) throw new Malformed(`its ${what} is cut short`);
  const timescale = r.view.getUint32(box.start + (v1 ? 20 : 12));
  const duration = v1 ? r.u64(box.start + 24) : r.view.getUint32(box.start + 16);
  return timescale > 0 ? duration / timescale : 0;
}

const movieDuration = (r: Reader, mvhd: Box) => headerDuration(r, mvhd, "movie header");

interface VideoTrack {
  width: number;
  height: number;
  codec: string;
  /** The track's length by its samples' timing, checked against its media header. */
  seconds: number;
  frames: number;
}

interface Track {
  /** Set when the track carries a picture: by its handler, or by a video sample entry. */
  video: VideoTrack | null;
  /** The longest account of how long the track plays: its media header or its edit list. */
  seconds: number;
}

/** A track's length and, for a picture, its size, codec and timing, checked against the data. */
function readTrack(r: Reader, trak: Box, mdats: Box[], movieTimescale: number): Track {
  const boxes = r.children(trak.start, trak.end, "a track");
  const mdia = boxes.find((box) => box.type === "mdia");
  const tkhd = boxes.find((box) => box.type === "tkhd");
  if (!mdia || !tkhd) throw new Malformed("a track has no header or media box");
  const media = r.children(mdia.start, mdia.end, "a track");
  const hdlr = media.find((box) => box.type === "hdlr");
  if (!hdlr || hdlr.end - hdlr.start < 12) throw new Malformed("a track has no handler");
  const mdhd = media.find((box) => box.type === "mdhd");
  if (!mdhd) throw new Malformed("a track has no media header");
  const trackSeconds = headerDuration(r, mdhd, "track's media header");
  const edts = boxes.find((box) => box.type === "edts");
  const edited = edts ? editListSeconds(r, edts, movieTimescale) : 0;
  const seconds = Math.max(trackSeconds, edited);

  const minf = media.find((box) => box.type === "minf");
  const stbl = minf && r.child(minf, "stbl");
  const table = stbl ? r.children(stbl.start, stbl.end, "the sample table") : [];
  const stsd = table.find((box) => box.type === "stsd");
  const entry = stsd && stsd.end - stsd.start >= 16 ? r.fourcc(stsd.start + 12) : null;
  const isVideo =
    r.fourcc(hdlr.start + 8) === "vide" || (entry !== null && VIDEO_CODECS.has(entry));
  if (!isVideo) return { video: null, seconds };

  // tkhd §8.3.2: width and height are its last 8 bytes, 16.16 fixed point.
  if (tkhd.end - tkhd.start < 84) throw new Malformed("the video track header is cut short");
  const width = r.view.getUint32(tkhd.end - 8) >>> 16;
  const height = r.view.getUint32(tkhd.end - 4) >>> 16;
  if (width === 0 || height === 0) throw new Malformed("the video track has no picture size");
  if (!stbl) throw new Malformed("the video track has no sample table");
  if (entry === null) throw new Malformed("the video track has no codec");
  if (!VIDEO_CODECS.has(entry)) {
    throw new Malformed(`its video codec (${entry.trim()}) is not H.264, H.265, AV1 or VP9`);
  }
  checkChunks(r, table, mdats);
  const timescale = r.view.getUint32(mdhd.start + (r.view.getUint8(mdhd.start) === 1 ? 20 : 12));
  const { frames, ticks } = sampleTiming(r, table);
  const timed = timescale > 0 ? ticks / timescale : 0;
  if (Math.abs(timed - trackSeconds) > LENGTH_TOLERANCE_SECONDS) {
    throw new Malformed(
      `its video track's header says ${round(trackSeconds)} s but its frames last ${round(timed)} s`,
    );
  }
  checkCompositionOffsets(r, table, timescale);
  const video = { width, height, codec: entry, seconds: Math.max(timed, seconds), frames };
  return { video, seconds: video.seconds };
}

/**
 * elst §8.6.6: how long the edit list presents the track, in seconds (the movie's timescale).
 * An edit list may repeat the media — 2 s of frames shown for 30 s — so it counts towards the
 * length like any other account of it.
 */
function editListSeconds(r: Reader, edts: Box, movieTimescale: number): number {
  const elst = r.child(edts, "elst");
  if (!elst) return 0;
  if (elst.end - elst.start < 8) throw new Malformed("its edit list is cut short");
  const v1 = r.view.getUint8(elst.start) === 1;
  const size = v1 ? 20 : 12;
  const entries = r.view.getUint32(elst.start + 4);
  if (elst.start + 8 + entries * size > elst.end) {
    throw new Malformed("the edit list runs past its box");
  }
  let total = 0;
  for (let i = 0; i < entries; i++) {
    const at = elst.start + 8 + i * size;
    total += v1 ? r.u64(at) : r.view.getUint32(at);
  }
  return movieTimescale > 0 ? total / movieTimescale : 0;
}

/**
 * ctts §8.6.1.3: composition offsets shift when a frame is shown. Encoders use a few frames of
 * them for B-frames; a frame shown a minute after it is decoded stretches a short file into a
 * long one, so an offset beyond the length tolerance is refused.
 */
function checkCompositionOffsets(r: Reader, table: Box[], timescale: number): void {
  const ctts = table.find((box) => box.type === "ctts");
  if (!ctts) return;
  if (ctts.end - ctts.start < 8) throw new Malformed("its composition offsets are cut short");
  const signed = r.view.getUint8(ctts.start) === 1;
  const entries = r.view.getUint32(ctts.start + 4);
  if (ctts.start + 8 + entries * 8 > ctts.end) {
    throw new Malformed("the composition offset table runs past its box");
  }
  const limit = LENGTH_TOLERANCE_SECONDS * timescale;
  for (let i = 0; i < entries; i++) {
    const at = ctts.start + 8 + i * 8 + 4;
    const offset = signed ? r.view.getInt32(at) : r.view.getUint32(at);
    if (Math.abs(offset) > limit) throw new Malformed("its frames are shown far from their timing");
  }
}

/**
 * stts §8.6.1.2 (sample count × delta runs) against stsz §8.7.3 (the sample count): how many
 * frames there are and how long they play, in the media timescale.
 */
function sampleTiming(r: Reader, table: Box[]): { frames: number; ticks: number } {
  const stts = table.find((box) => box.type === "stts");
  const stsz = table.find((box) => box.type === "stsz" || box.type === "stz2");
  if (!stts || stts.end - stts.start < 8 || !stsz || stsz.end - stsz.start < 12) {
    throw new Malformed("the video track has no sample timing");
  }
  const entries = r.view.getUint32(stts.start + 4);
  if (stts.start + 8 + entries * 8 > stts.end) {
    throw new Malformed("the sample timing table runs past its box");
  }
  let frames = 0;
  let ticks = 0;
  for (let i = 0; i < entries; i++) {
    const at = stts.start + 8 + i * 8;
    const count = r.view.getUint32(at);
    frames += count;
    ticks += count * r.view.getUint32(at + 4);
  }
  const sizes = r.view.getUint32(stsz.start + 8); // sample_count, in stsz and stz2 alike
  if (frames === 0 || frames !== sizes) {
    throw new Malformed("the video track's sample tables disagree on how many frames it has");
  }
  return { frames, ticks };
}

/** stco/co64 §8.7.5: every chunk offset points into an mdat payload, so the index fits the data. */
function checkChunks(r: Reader, table: Box[], mdats: Box[]): void {
  const stco = table.find((box) => box.type === "stco" || box.type === "co64");
  if (!stco || stco.end - stco.start < 8) throw new Malformed("the video track has no chunk table");
  const wide = stco.type === "co64";
  const count = r.view.getUint32(stco.start + 4);
  if (count === 0) throw new Malformed("the video track has no samples");
  if (stco.start + 8 + count * (wide ? 8 : 4) > stco.end) {
    throw new Malformed("the chunk table runs past its box");
  }
  // At most MAX_MDATS ranges per offset, and no more offsets than the box holds: linear.
  for (let i = 0; i < count; i++) {
    const at = stco.start + 8 + i * (wide ? 8 : 4);
    const offset = wide ? r.u64(at) : r.view.getUint32(at);
    if (!mdats.some((mdat) => offset >= mdat.start && offset < mdat.end)) {
      throw new Malformed("a chunk points outside the media data");
    }
  }
}
