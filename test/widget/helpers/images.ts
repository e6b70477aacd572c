/**
 * Real image fixtures made in the browser under test, so tests and benchmarks need no binary
 * files in the repository and every byte's origin is visible.
 */

export type Corner = "top-left" | "top-right" | "bottom-left" | "bottom-right";

/** Options for {@link makePhotoJpeg}. */
export interface PhotoOptions {
  /** JPEG quality, default 0.92 (what phone cameras roughly use). */
  quality?: number;
  /** Seed of the pseudo-random scene and noise; same seed, same bytes. */
  seed?: number;
  /** Sensor-like noise amplitude in 0..255 levels, default 10; noise is what makes photos big. */
  noise?: number;
  /** A solid square drawn last in one corner, to see where that corner ends up. */
  marker?: {
    corner: Corner;
    color: string;
    /** fraction of the shorter side, default 0.25 */ size?: number;
  };
}

/** mulberry32: tiny, seedable, good enough for fixtures. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A bright sky-to-ground gradient with soft blobs: smooth areas and edges, like a photo. */
function paintScene(
  ctx: OffscreenCanvasRenderingContext2D,
  w: number,
  h: number,
  rnd: () => number,
) {
  const sky = ctx.createLinearGradient(0, 0, 0, h);
  sky.addColorStop(0, "#8ec5ff");
  sky.addColorStop(0.55, "#f3e3c3");
  sky.addColorStop(1, "#6f8f4e");
  ctx.fillStyle = sky;
  ctx.fillRect(0, 0, w, h);
  for (let i = 0; i < 60; i++) {
    const [x, y, r] = [rnd() * w, rnd() * h, (0.02 + rnd() * 0.12) * Math.min(w, h)];
    const blob = ctx.createRadialGradient(x, y, r * 0.2, x, y, r);
    const hue = Math.floor(rnd() * 360);
    blob.addColorStop(0, `hsl(${hue} 60% 60% / 0.9)`);
    blob.addColorStop(1, `hsl(${hue} 60% 60% / 0)`);
    ctx.fillStyle = blob;
    ctx.fillRect(x - r, y - r, 2 * r, 2 * r);
  }
}

function addNoise(
  ctx: OffscreenCanvasRenderingContext2D,
  w: number,
  h: number,
  amount: number,
  rnd: () => number,
) {
  const data = ctx.getImageData(0, 0, w, h);
  const px = data.data;
  for (let i = 0; i < px.length; i += 4) {
    const n = (rnd() - 0.5) * 2 * amount;
    px[i] = px[i]! + n + (rnd() - 0.5) * amount;
    px[i + 1] = px[i + 1]! + n;
    px[i + 2] = px[i + 2]! + n + (rnd() - 0.5) * amount;
  }
  ctx.putImageData(data, 0, 0);
}

function cornerOrigin(corner: Corner, w: number, h: number, side: number): [number, number] {
  return [corner.endsWith("left") ? 0 : w - side, corner.startsWith("top") ? 0 : h - side];
}

/** A JPEG of `width x height` that compresses like a real photo (≈ 0.3 bytes per pixel). */
export async function makePhotoJpeg(
  width: number,
  height: number,
  options: PhotoOptions = {},
): Promise<Uint8Array> {
  const { quality = 0.92, seed = 1, noise = 10, marker } = options;
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d")!;
  const rnd = random(seed);
  paintScene(ctx, width, height, rnd);
  if (noise > 0) addNoise(ctx, width, height, noise, rnd);
  if (marker) {
    const side = Math.round((marker.size ?? 0.25) * Math.min(width, height));
    ctx.fillStyle = marker.color;
    ctx.fillRect(...cornerOrigin(marker.corner, width, height, side), side, side);
  }
  const blob = await canvas.convertToBlob({ type: "image/jpeg", quality });
  return new Uint8Array(await blob.arrayBuffer());
}

/** A PNG that is transparent except for an opaque disc in the middle. */
export async function makeAlphaPng(width: number, height: number): Promise<Uint8Array> {
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext("2d")!;
  ctx.fillStyle = "#2a9d8f";
  ctx.beginPath();
  ctx.arc(width / 2, height / 2, Math.min(width, height) / 4, 0, 2 * Math.PI);
  ctx.fill();
  const blob = await canvas.convertToBlob({ type: "image/png" });
  return new Uint8Array(await blob.arrayBuffer());
}

/**
 * An APP1 Exif segment holding only IFD0 with Orientation (tag 0x0112, SHORT), big-endian TIFF
 * header (Exif 2.32 §4.5.2, §4.6.4 Table 4). Length counts itself but not the marker.
 */
function exifSegment(orientation: number): Uint8Array {
  // prettier-ignore
  return new Uint8Array([
    0xff, 0xe1, 0x00, 34,                       // APP1, length 34
    0x45, 0x78, 0x69, 0x66, 0x00, 0x00,         // "Exif\0\0"
    0x4d, 0x4d, 0x00, 0x2a, 0x00, 0x00, 0x00, 8, // "MM", 42, IFD0 at offset 8
    0x00, 0x01,                                 // one entry
    0x01, 0x12, 0x00, 0x03, 0x00, 0x00, 0x00, 1, // Orientation, SHORT, count 1
    0x00, orientation, 0x00, 0x00,              // value, padded to 4 bytes
    0x00, 0x00, 0x00, 0x00,                     // no next IFD
  ]);
}

/**
 * Splices an Exif Orientation into a JPEG made by a canvas (which writes none). It goes after
 * SOI and any JFIF APP0, since JFIF requires APP0 to come first and decoders accept APP1 next.
 * Orientation 6 means "rotate 90° clockwise to display": a stored 4000x3000 shows as 3000x4000.
 */
export function withExifOrientation(jpegBytes: Uint8Array, orientation: number): Uint8Array {
  if (jpegBytes[0] !== 0xff || jpegBytes[1] !== 0xd8) throw new Error("Not a JPEG.");
  let at = 2;
  while (jpegBytes[at] === 0xff && jpegBytes[at + 1] === 0xe0) {
    at += 2 + ((jpegBytes[at + 2]! << 8) | jpegBytes[at + 3]!);
  }
  const segment = exifSegment(orientation);
  const out = new Uint8Array(jpegBytes.length + segment.length);
  out.set(jpegBytes.subarray(0, at), 0);
  out.set(segment, at);
  out.set(jpegBytes.subarray(at), at + segment.length);
  return out;
}

/** The start of a HEIC file as an iPhone writes it: an `ftyp` box with brand `heic`, then junk. */
export function makeHeicHeader(): Uint8Array {
  const bytes = new Uint8Array(512);
  const text = "\0\0\0\x18ftypheic\0\0\0\0mif1heic";
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  for (let i = text.length; i < bytes.length; i++) bytes[i] = (i * 131) & 0xff;
  return bytes;
}

/** Decodes an image blob and gives access to its RGBA pixels. */
export async function readPixels(blob: Blob) {
  const bitmap = await createImageBitmap(blob);
  const { width, height } = bitmap;
  const ctx = new OffscreenCanvas(width, height).getContext("2d")!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const { data } = ctx.getImageData(0, 0, width, height);
  const at = (x: number, y: number): [number, number, number, number] => {
    const i = (Math.floor(y) * width + Math.floor(x)) * 4;
    return [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
  };
  return { width, height, at };
}

/** Wraps fixture bytes as a file, with a declared type that may deliberately be wrong. */
export const asFile = (bytes: Uint8Array, type = "", name = "photo") =>
  new File([bytes as Uint8Array<ArrayBuffer>], name, { type });
