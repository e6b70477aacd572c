/**
 * Is an uploaded image well formed as a whole, not just at its start? `sniffImage` reads the
 * header; a file made of a PNG signature, a valid IHDR and then an HTML page passes that, and
 * would be sent (and paid for) to a provider. This walks the whole container once, linearly,
 * before anything is spent:
 *
 *   PNG   every chunk, with its CRC, from IHDR to an IEND that ends the file (PNG spec §5.3, §5.6)
 *   JPEG  every marker segment up to SOS, the entropy-coded data after it (RST, byte stuffing,
 *         further segments of a progressive scan), and an EOI that ends the file (T.81 B.1, F.1.2.3)
 *   WebP  the RIFF size against the file's, then every chunk to the end (RFC 9649 §2.5–2.7)
 *
 * Nothing is decoded and nothing is copied; the costliest part is PNG's CRC, about one table
 * lookup per byte (see bench/ for what an upload of the largest allowed size costs).
 * Data after the end of the image (a polyglot's payload; also a "motion photo's" video after a
 * JPEG's EOI) is refused: what we send must be an image and nothing else.
 */
import type { ImageMime } from "../providers/types";

export type StructureResult = { ok: true } | { ok: false; problem: string };

const OK: StructureResult = { ok: true };
const bad = (problem: string): StructureResult => ({ ok: false, problem });

export function checkStructure(bytes: Uint8Array, mime: ImageMime): StructureResult {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (mime === "image/png") return png(bytes, view);
  if (mime === "image/jpeg") return jpeg(bytes, view);
  return webp(bytes, view);
}

/** PNG §5.3: length(4, ≤ 2^31−1) type(4 letters) data CRC(4) over type and data. */
function png(bytes: Uint8Array, view: DataView): StructureResult {
  let pos = 8; // after the signature
  let first = true;
  let idat = false;
  while (pos + 12 <= bytes.length) {
    const length = view.getUint32(pos);
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8));
    if (length > 0x7fffffff || !/^[A-Za-z]{4}$/.test(type)) return bad("a chunk is damaged");
    const end = pos + 12 + length;
    if (end > bytes.length) return bad(`the ${type} chunk runs past the end of the file`);
    if (crc32(bytes, pos + 4, pos + 8 + length) !== view.getUint32(pos + 8 + length)) {
      return bad(`the ${type} chunk's checksum is wrong`);
    }
    if (first && type !== "IHDR") return bad("it does not start with an IHDR chunk");
    first = false;
    if (type === "IDAT") idat = true;
    if (type === "IEND") {
      if (!idat) return bad("it has no image data (IDAT)");
      return end === bytes.length ? OK : bad("there is data after its end (IEND)");
    }
    pos = end;
  }
  return bad("it ends before its IEND chunk");
}

/** T.81 Annex B: SOI, segments `FF xx len16 payload`, then scans up to EOI. */
function jpeg(bytes: Uint8Array, view: DataView): StructureResult {
  let pos = 2; // after SOI
  let frame = false;
  // Marker segments before the first scan.
  for (;;) {
    if (pos + 2 > bytes.length || bytes[pos] !== 0xff) return bad("a segment is damaged");
    const marker = bytes[pos + 1]!;
    if (marker === 0xff) {
      pos += 1; // fill byte before a marker (B.1.1.2)
      continue;
    }
    if (marker === 0xd9) return bad("it ends before any image data");
    if (
      marker === 0x00 ||
      marker === 0x01 ||
      marker === 0xd8 ||
      (marker >= 0xd0 && marker <= 0xd7)
    ) {
      return bad("a marker is out of place");
    }
    if (pos + 4 > bytes.length) return bad("a segment runs past the end");
    const end = pos + 2 + view.getUint16(pos + 2);
    if (view.getUint16(pos + 2) < 2 || end > bytes.length)
      return bad("a segment runs past the end");
    if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) frame = true;
    pos = end;
    if (marker === 0xda) break; // SOS: entropy-coded data follows its header
  }
  if (!frame) return bad("it has no frame header");
  // Entropy-coded data: any FF is stuffing (FF 00), a restart (FF D0–D7), fill (FF FF), EOI, or
  // the start of another segment (DHT, SOS … in progressive and multi-scan files).
  for (;;) {
    const at = bytes.indexOf(0xff, pos);
    if (at === -1 || at + 1 >= bytes.length) return bad("it ends before its end marker (EOI)");
    const next = bytes[at + 1]!;
    if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) {
      pos = at + (next === 0xff ? 1 : 2);
      continue;
    }
    if (next === 0xd9) {
      return at + 2 === bytes.length ? OK : bad("there is data after its end (EOI)");
    }
    if (next === 0xd8 || next === 0x01) return bad("a marker is out of place");
    if (at + 4 > bytes.length) return bad("a segment runs past the end");
    const length = view.getUint16(at + 2);
    if (length < 2 || at + 2 + length > bytes.length) return bad("a segment runs past the end");
    pos = at + 2 + length;
  }
}

/** RFC 9649: `RIFF` size(LE) `WEBP`, then chunks fourcc(4) size(4 LE) payload, padded to even. */
function webp(bytes: Uint8Array, view: DataView): StructureResult {
  if (bytes.length < 20) return bad("it is cut short");
  const riffEnd = 8 + view.getUint32(4, true);
  if (riffEnd > bytes.length) return bad("it is cut short");
  if (riffEnd < bytes.length) return bad("there is data after its end");
  let pos = 12;
  let image = false;
  while (pos < riffEnd) {
    if (pos + 8 > riffEnd) return bad("a chunk is damaged");
    const fourcc = String.fromCharCode(...bytes.subarray(pos, pos + 4));
    if (!/^[\x20-\x7e]{4}$/.test(fourcc)) return bad("a chunk is damaged");
    const size = view.getUint32(pos + 4, true);
    const end = pos + 8 + size + (size & 1);
    if (end > riffEnd) return bad(`the ${fourcc.trim()} chunk runs past the end`);
    if (fourcc === "VP8 " || fourcc === "VP8L" || fourcc === "ANMF") image = true;
    pos = end;
  }
  return image ? OK : bad("it has no image data");
}

/** CRC-32 (ISO 3309, PNG Annex D) of bytes[start, end). */
function crc32(bytes: Uint8Array, start: number, end: number): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ bytes[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const CRC_TABLE = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();
