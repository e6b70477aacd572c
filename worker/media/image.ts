/**
 * Header-only image sniffing for uploaded `input_reference` images.
 *
 * The type comes from magic bytes, never the declared Content-Type, and the pixel size from the
 * header alone: a Worker has a few milliseconds of CPU, so nothing here decodes pixels, copies
 * the buffer or scans more than a bounded prefix. Every read is bounds-checked first, so a
 * truncated or hostile file yields `malformed` instead of a RangeError.
 */
import type { ImageMime } from "../providers/types";

export type SniffResult =
  | {
      ok: true;
      mime: ImageMime;
      width: number;
      height: number;
      /** EXIF orientation 1–8, 1 when absent */
      orientation: number;
    }
  | {
      ok: false;
      reason: "unsupported_type";
      /** human name of the detected format when recognised, e.g. "GIF", "HEIC", "AVIF", "BMP", "TIFF", "SVG", "PDF" */
      detected?: string;
    }
  | { ok: false; reason: "malformed" };

const MALFORMED: SniffResult = { ok: false, reason: "malformed" };
/** Real JPEGs reach SOF within a few dozen markers; fill bytes count too, so garbage cannot spin. */
const MAX_JPEG_STEPS = 1024;
/** How much leading whitespace we skip looking for `<?xml` / `<svg`. */
const MAX_TEXT_PREFIX = 256;

/**
 * Identifies a JPEG, PNG or WebP from its magic bytes and reads its pixel size from the header.
 *
 * Returns `unsupported_type` (with a `detected` name for common formats we refuse, e.g. "HEIC")
 * when the signature is not one of ours, and `malformed` when it is but the header is truncated
 * or inconsistent. Only the header is examined: trailing data (polyglots) is not detected here.
 * Width and height are as stored; for JPEG, `orientation` 5–8 means they display swapped.
 */
export function sniffImage(bytes: Uint8Array): SniffResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (has(bytes, 0, [0xff, 0xd8, 0xff])) return sniffJpeg(bytes, view);
  if (has(bytes, 0, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return sniffPng(bytes, view);
  if (ascii(bytes, 0, "RIFF") && ascii(bytes, 8, "WEBP")) return sniffWebp(bytes, view);
  const detected = detectOther(bytes, view);
  return detected
    ? { ok: false, reason: "unsupported_type", detected }
    : { ok: false, reason: "unsupported_type" };
}

/** ITU-T T.81 Annex B: SOI, then marker segments `FF xx [len16 BE, incl. itself] payload`. */
function sniffJpeg(bytes: Uint8Array, view: DataView): SniffResult {
  let pos = 2; // after SOI
  let orientation = 1;
  for (let step = 0; step < MAX_JPEG_STEPS; step++) {
    if (pos + 1 >= bytes.length || bytes[pos] !== 0xff) return MALFORMED;
    const marker = bytes[pos + 1]!;
    pos += 2;
    // B.1.1.2: any marker may be preceded by fill bytes (FF); FF FF xx is FF xx one byte later.
    if (marker === 0xff) {
      pos -= 1;
      continue;
    }
    // Table B.1: RST0–7 and TEM stand alone (no length field).
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) continue;
    // FF 00 is byte stuffing, not a marker; a second SOI, or EOI/SOS before a frame header,
    // means there is no frame header to read.
    if (marker === 0x00 || marker === 0xd8 || marker === 0xd9 || marker === 0xda) return MALFORMED;
    if (pos + 2 > bytes.length) return MALFORMED;
    const length = view.getUint16(pos);
    const end = pos + length;
    if (length < 2 || end > bytes.length) return MALFORMED;
    if (isSof(marker)) {
      // B.2.2 frame header: Lf(2) P(1) Y(2) X(2) Nf(1) …; Y = lines (height), X = samples/line.
      if (length < 8) return MALFORMED;
      const height = view.getUint16(pos + 3);
      const width = view.getUint16(pos + 5);
      // Y = 0 is legal in T.81 (height deferred to a DNL marker after the first scan), but no
      // header-only reader can size that, and providers reject it anyway.
      if (width === 0 || height === 0) return MALFORMED;
      return { ok: true, mime: "image/jpeg", width, height, orientation };
    }
    // Exif 2.3 §4.7.2: APP1 starting "Exif\0\0" holds a TIFF structure. First one wins.
    if (marker === 0xe1 && orientation === 1 && ascii(bytes, pos + 2, "Exif\0\0")) {
      orientation = exifOrientation(bytes, view, pos + 8, end);
    }
    pos = end;
  }
  return MALFORMED;
}

/** SOF0–3, 5–7, 9–11, 13–15 (T.81 Table B.1); C4 = DHT, C8 = JPG, CC = DAC are not frames. */
function isSof(marker: number): boolean {
  return marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
}

/**
 * Orientation (tag 0x0112, SHORT) from IFD0 of the TIFF structure in [start, end).
 * Broken EXIF is common in the wild and only metadata, so any problem here means "absent" (1)
 * rather than rejecting an image whose frame header is fine.
 */
function exifOrientation(bytes: Uint8Array, view: DataView, start: number, end: number): number {
  // TIFF 6.0 §2 "Image File Header": byte order II/MM, 42, offset of IFD0 (from `start`).
  if (start + 8 > end) return 1;
  const little = ascii(bytes, start, "II");
  if (!little && !ascii(bytes, start, "MM")) return 1;
  if (view.getUint16(start + 2, little) !== 42) return 1;
  const ifd = start + view.getUint32(start + 4, little);
  if (ifd + 2 > end) return 1;
  // TIFF 6.0 §2 "Image File Directory": count(2), then 12-byte entries tag/type/count/value.
  // The segment is at most 64 KiB, so the bounds check caps this loop at ~5,500 entries.
  const count = view.getUint16(ifd, little);
  for (let entry = ifd + 2; entry < ifd + 2 + count * 12 && entry + 12 <= end; entry += 12) {
    if (view.getUint16(entry, little) !== 0x0112) continue;
    if (view.getUint16(entry + 2, little) !== 3) return 1; // type must be SHORT
    const value = view.getUint16(entry + 8, little);
    return value >= 1 && value <= 8 ? value : 1;
  }
  return 1;
}

/** PNG spec §5.2 signature, §5.3 chunk layout, §11.2.2 IHDR (must be the first chunk). */
function sniffPng(bytes: Uint8Array, view: DataView): SniffResult {
  // Whole IHDR chunk: length(4) type(4) data(13) CRC(4). The CRC is not checked: it only
  // catches accidental damage (a forger recomputes it), and the provider decodes anyway.
  if (bytes.length < 33 || view.getUint32(8) !== 13 || !ascii(bytes, 12, "IHDR")) return MALFORMED;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  // §11.2.2: zero is invalid and the maximum is 2^31-1.
  const valid = (n: number) => n >= 1 && n <= 0x7fffffff;
  if (!valid(width) || !valid(height)) return MALFORMED;
  return { ok: true, mime: "image/png", width, height, orientation: 1 };
}

/** RFC 9649 (WebP): `RIFF` size `WEBP`, then the first chunk decides the layout. */
function sniffWebp(bytes: Uint8Array, view: DataView): SniffResult {
  if (bytes.length < 20) return MALFORMED;
  const chunkSize = view.getUint32(16, true);
  const data = 20;
  let width: number;
  let height: number;
  if (ascii(bytes, 12, "VP8 ")) {
    // "Simple File Format (Lossy)": a VP8 key frame. RFC 6386 §9.1: 3-byte frame tag (bit 0
    // clear = key frame), start code 9D 01 2A, then 16-bit LE width/height whose top 2 bits
    // are a scaling hint, not size.
    if (chunkSize < 10 || bytes.length < data + 10) return MALFORMED;
    if ((bytes[data]! & 1) !== 0 || !has(bytes, data + 3, [0x9d, 0x01, 0x2a])) return MALFORMED;
    width = view.getUint16(data + 6, true) & 0x3fff;
    height = view.getUint16(data + 8, true) & 0x3fff;
  } else if (ascii(bytes, 12, "VP8L")) {
    // "Simple File Format (Lossless)" + §3 lossless header: signature 0x2F, then 14 bits
    // width-1, 14 bits height-1, 1 bit alpha hint, 3 bits version (must be 0), LSB first.
    if (chunkSize < 5 || bytes.length < data + 5 || bytes[data] !== 0x2f) return MALFORMED;
    const bits = view.getUint32(data + 1, true);
    if (bits >>> 29 !== 0) return MALFORMED;
    width = (bits & 0x3fff) + 1;
    height = ((bits >>> 14) & 0x3fff) + 1;
  } else if (ascii(bytes, 12, "VP8X")) {
    // "Extended File Format": flags(1) reserved(3), canvas width-1 and height-1 as uint24 LE.
    if (chunkSize < 10 || bytes.length < data + 10) return MALFORMED;
    width = (view.getUint16(data + 4, true) | (bytes[data + 6]! << 16)) + 1;
    height = (view.getUint16(data + 7, true) | (bytes[data + 9]! << 16)) + 1;
    // The spec requires width * height to fit in 32 bits.
    if (width * height > 0xffffffff) return MALFORMED;
  } else {
    return MALFORMED;
  }
  if (width === 0 || height === 0) return MALFORMED;
  return { ok: true, mime: "image/webp", width, height, orientation: 1 };
}

/** Names formats people commonly upload by mistake, so the refusal can say what we saw. */
function detectOther(bytes: Uint8Array, view: DataView): string | undefined {
  if (ascii(bytes, 0, "GIF87a") || ascii(bytes, 0, "GIF89a")) return "GIF";
  if (ascii(bytes, 0, "II*\0") || ascii(bytes, 0, "MM\0*")) return "TIFF";
  if (ascii(bytes, 0, "BM")) return "BMP";
  if (ascii(bytes, 0, "%PDF")) return "PDF";
  // ISO/IEC 14496-12 §4.3: box size(4) 'ftyp' major_brand(4) minor_version(4) compatible[].
  // AVIF files often carry major brand mif1 with avif only in the compatible list, so look
  // at all brands and let AVIF win over the generic HEIF ones.
  if (ascii(bytes, 4, "ftyp") && bytes.length >= 12) {
    // Size 0 ("to end of file") and 1 (64-bit size follows) are legal; the first 64 bytes
    // hold more brands than any real file lists.
    const size = view.getUint32(0);
    const boxEnd = Math.min(bytes.length, 64, size > 1 ? size : 64);
    let heif = false;
    for (let at = 8; at + 4 <= boxEnd; at += at === 8 ? 8 : 4) {
      if (ascii(bytes, at, "avif") || ascii(bytes, at, "avis")) return "AVIF";
      heif ||= ["heic", "heix", "hevc", "mif1", "msf1"].some((brand) => ascii(bytes, at, brand));
    }
    if (heif) return "HEIC";
  }
  // SVG is text: optional UTF-8 BOM and whitespace, then an XML declaration or the root tag.
  let at = has(bytes, 0, [0xef, 0xbb, 0xbf]) ? 3 : 0;
  while (at < MAX_TEXT_PREFIX && [0x20, 0x09, 0x0a, 0x0d].includes(bytes[at] ?? -1)) at++;
  if (ascii(bytes, at, "<?xml") || ascii(bytes, at, "<svg")) return "SVG";
  return undefined;
}

function has(bytes: Uint8Array, at: number, expected: readonly number[]): boolean {
  if (at + expected.length > bytes.length) return false;
  return expected.every((b, i) => bytes[at + i] === b);
}

function ascii(bytes: Uint8Array, at: number, text: string): boolean {
  if (at + text.length > bytes.length) return false;
  for (let i = 0; i < text.length; i++) if (bytes[at + i] !== text.charCodeAt(i)) return false;
  return true;
}
