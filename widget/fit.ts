/**
 * Fits a visitor's photo to the exact output size the video API demands (`WxH`, JPEG/PNG/WebP),
 * in the browser, so nobody ever meets a size error and a 12 MP phone photo becomes a small upload.
 * Framework-free: the framer element and the upload path both build on these functions.
 */

import { FitError } from "./fit-error";

export { FitError };

/** How the photo meets the frame: crop to fill it, or letterbox to show all of it. */
export type FitMode = "cover" | "contain";

/** A point of the source image, 0..1 on each axis, kept in view in cover mode. */
export interface Focus {
  x: number;
  y: number;
}

/** The output the photo is fitted to, and how. */
export interface FitOptions {
  width: number;
  height: number;
  mode: FitMode;
  /** Default `{ x: 0.5, y: 0.5 }`. Cover only. */
  focus?: Focus;
  /** ≥ 1, cover only. Default 1. */
  zoom?: number;
  /** Contain only: `"blur"` (a blurred copy of the photo behind it, default) or a CSS colour. */
  fill?: "blur" | (string & {});
  /** Default `image/jpeg`. */
  type?: "image/jpeg" | "image/webp";
  /** Quality is lowered stepwise (0.9 → 0.5) until the upload is at most this. Default 1 500 000. */
  maxBytes?: number;
}

/** A decoded photo, already turned upright (EXIF orientation applied). */
export interface DecodedImage {
  bitmap: ImageBitmap;
  /** Displayed width, after orientation. */
  width: number;
  /** Displayed height, after orientation. */
  height: number;
  /** Sniffed MIME type (the file's own `type` is not trusted). */
  type: string;
  /** Releases the bitmap's memory; a 12 MP bitmap holds about 48 MB. */
  close(): void;
}

/** Limits applied by {@link decodeImage}; injectable so tests need not allocate 100 MP. */
export interface DecodeLimits {
  /** Default 100 000 000 (100 MP). */
  maxPixels?: number;
  /** Default 64: smaller than this on either side is too little to animate. */
  minSide?: number;
}

/** A recognised image format. */
export interface ImageSignature {
  mime: string;
  label: string;
  /** Every current browser decodes it, so a failure means a damaged file, not a missing codec. */
  universal: boolean;
}

const ascii = (bytes: Uint8Array, at: number, length: number) =>
  String.fromCharCode(...bytes.subarray(at, at + length));

/** Major and compatible brands of an ISO-BMFF `ftyp` box (ISO/IEC 14496-12 §4.3). */
function ftypBrands(bytes: Uint8Array): string[] {
  if (ascii(bytes, 4, 4) !== "ftyp") return [];
  const size = Math.min(new DataView(bytes.buffer, bytes.byteOffset).getUint32(0), bytes.length);
  const brands = [ascii(bytes, 8, 4)];
  for (let at = 16; at + 4 <= size; at += 4) brands.push(ascii(bytes, at, 4));
  return brands;
}

/** Recognises a format by its magic bytes; phones mislabel files (HEIC saved as .jpg), bytes do not lie. */
export function sniffType(bytes: Uint8Array): ImageSignature | undefined {
  const b = bytes;
  const sig = (mime: string, label: string, universal = false) => ({ mime, label, universal });
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return sig("image/jpeg", "JPEG", true);
  if (ascii(b, 0, 8) === "\x89PNG\r\n\x1a\n") return sig("image/png", "PNG", true);
  if (ascii(b, 0, 4) === "RIFF" && ascii(b, 8, 4) === "WEBP")
    return sig("image/webp", "WebP", true);
  if (/^GIF8[79]a$/.test(ascii(b, 0, 6))) return sig("image/gif", "GIF", true);
  if (ascii(b, 0, 2) === "BM") return sig("image/bmp", "BMP", true);
  if (ascii(b, 0, 4) === "II*\0" || ascii(b, 0, 4) === "MM\0*") return sig("image/tiff", "TIFF");
  if ((b[0] === 0xff && b[1] === 0x0a) || ascii(b, 4, 8) === "JXL \r\n\x87\n")
    return sig("image/jxl", "JPEG XL");
  const brands = ftypBrands(b);
  if (brands.some((x) => x === "avif" || x === "avis")) return sig("image/avif", "AVIF");
  if (brands.some((x) => /^he[iv][cxms]$/.test(x))) return sig("image/heic", "HEIC");
  if (brands.some((x) => x === "mif1" || x === "msf1")) return sig("image/heif", "HEIF");
  return undefined;
}

/**
 * Decodes with EXIF orientation applied. `"from-image"` is the value's name since whatwg/html
 * #8085 (2023; it was `"none"` before); an engine older than the rename rejects the unknown enum
 * value with a TypeError, and its default already honours EXIF, so it is asked without options.
 */
async function decodeUpright(file: Blob): Promise<ImageBitmap> {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (error) {
    if (error instanceof TypeError) return createImageBitmap(file);
    throw error;
  }
}

/**
 * Sniffs the format, decodes the photo upright and refuses clearly what cannot be used.
 *
 * `imageOrientation: "from-image"` makes the browser apply the EXIF Orientation tag (0x0112)
 * while decoding (HTML Standard, ImageBitmapOptions), so a phone photo stored sideways with
 * orientation 6 comes back as the visitor saw it, and `width`/`height` are the displayed ones.
 * A format the browser may lack (HEIC on Chromium) that fails to decode is reported as
 * `unsupported_type` with the format named, rather than as a damaged file.
 */
export async function decodeImage(file: Blob, limits: DecodeLimits = {}): Promise<DecodedImage> {
  const { maxPixels = 100_000_000, minSide = 64 } = limits;
  const signature = sniffType(new Uint8Array(await file.slice(0, 64).arrayBuffer()));
  if (!signature) throw new FitError("unsupported_type", "This file is not an image we recognise.");
  let bitmap: ImageBitmap;
  try {
    bitmap = await decodeUpright(file);
  } catch {
    if (signature.universal)
      throw new FitError(
        "decode_failed",
        `This ${signature.label} image seems damaged.`,
        signature.label,
      );
    throw new FitError(
      "unsupported_type",
      `This browser cannot open ${signature.label} images; please choose a JPEG or PNG.`,
      signature.label,
    );
  }
  const { width, height } = bitmap;
  const refuse = (code: "too_large" | "too_small", message: string) => {
    bitmap.close();
    return new FitError(code, message, signature.label);
  };
  if (width * height > maxPixels)
    throw refuse("too_large", `The image is over ${maxPixels / 1e6} MP.`);
  if (Math.min(width, height) < minSide)
    throw refuse("too_small", `The image is under ${minSide} px on a side.`);
  return { bitmap, width, height, type: signature.mime, close: () => bitmap.close() };
}

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));

/** Source rectangle (`s*`, photo pixels) and destination rectangle (`d*`, output pixels). */
export interface FitRects {
  sx: number;
  sy: number;
  sw: number;
  sh: number;
  dx: number;
  dy: number;
  dw: number;
  dh: number;
}

/**
 * Where to read from the source and where to draw on the `width x height` output.
 * Cover scales so the frame is filled (times `zoom`) and slides the window to centre `focus`,
 * clamped so it never leaves the photo. Contain scales so the whole photo fits, centred on whole
 * pixels so its edges stay crisp against the fill.
 */
export function fitGeometry(
  srcW: number,
  srcH: number,
  o: Pick<FitOptions, "width" | "height" | "mode" | "focus" | "zoom">,
): FitRects {
  const { width: W, height: H } = o;
  if (o.mode === "contain") {
    const scale = Math.min(W / srcW, H / srcH);
    const dw = Math.min(W, Math.round(srcW * scale));
    const dh = Math.min(H, Math.round(srcH * scale));
    const [dx, dy] = [Math.floor((W - dw) / 2), Math.floor((H - dh) / 2)];
    return { sx: 0, sy: 0, sw: srcW, sh: srcH, dx, dy, dw, dh };
  }
  const scale = Math.max(W / srcW, H / srcH) * Math.max(1, o.zoom ?? 1);
  const [sw, sh] = [Math.min(srcW, W / scale), Math.min(srcH, H / scale)];
  const focus = o.focus ?? { x: 0.5, y: 0.5 };
  const sx = clamp(clamp(focus.x, 0, 1) * srcW - sw / 2, 0, srcW - sw);
  const sy = clamp(clamp(focus.y, 0, 1) * srcH - sh / 2, 0, srcH - sh);
  return { sx, sy, sw, sh, dx: 0, dy: 0, dw: W, dh: H };
}

type Context2D = CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D;

function createCanvas(width: number, height: number): OffscreenCanvas | HTMLCanvasElement {
  if (typeof OffscreenCanvas !== "undefined") return new OffscreenCanvas(width, height);
  return Object.assign(document.createElement("canvas"), { width, height });
}

function context2d(canvas: OffscreenCanvas | HTMLCanvasElement): Context2D {
  const ctx = canvas.getContext("2d") as Context2D | null;
  if (!ctx) throw new Error("Canvas 2D is unavailable.");
  return ctx;
}

/**
 * Paints a blurred, cover-fitted copy of the photo over the whole output, so contain mode has
 * no bars. The copy overshoots each edge by three blur radii: a Gaussian reaches ~3σ, and
 * without the margin transparent surroundings would bleed into the corners.
 */
function drawBlurredBackdrop(ctx: Context2D, image: DecodedImage, W: number, H: number): void {
  const radius = Math.max(W, H) / 40;
  const pad = Math.ceil(radius * 3);
  const [bw, bh] = [W + 2 * pad, H + 2 * pad];
  const g = fitGeometry(image.width, image.height, { width: bw, height: bh, mode: "cover" });
  ctx.save();
  if (typeof ctx.filter === "string") {
    ctx.filter = `blur(${radius}px)`;
    ctx.drawImage(image.bitmap, g.sx, g.sy, g.sw, g.sh, -pad, -pad, bw, bh);
  } else {
    // No canvas filters (older Safari): shrinking to a thumbnail and stretching it back blurs too.
    const small = createCanvas(Math.max(1, Math.round(W / 24)), Math.max(1, Math.round(H / 24)));
    const [width, height] = [small.width, small.height];
    const g2 = fitGeometry(image.width, image.height, { width, height, mode: "cover" });
    context2d(small).drawImage(image.bitmap, g2.sx, g2.sy, g2.sw, g2.sh, 0, 0, width, height);
    ctx.imageSmoothingQuality = "high";
    ctx.drawImage(small, 0, 0, W, H);
  }
  ctx.restore();
}

/**
 * Draws the fitted photo onto a context whose canvas is exactly `o.width x o.height`.
 * The output is always opaque: transparent PNG areas sit on white, so they neither turn black
 * when encoded as JPEG (which has no alpha) nor show the blurred backdrop through the photo.
 */
export function drawFitted(ctx: Context2D, image: DecodedImage, o: FitOptions): void {
  const { width: W, height: H } = o;
  const fill = o.fill ?? "blur";
  const g = fitGeometry(image.width, image.height, o);
  ctx.save();
  ctx.fillStyle = "#fff";
  ctx.fillRect(0, 0, W, H);
  if (o.mode === "contain") {
    if (fill === "blur") drawBlurredBackdrop(ctx, image, W, H);
    else {
      // An invalid colour is ignored by the canvas, leaving the white ground: a safe failure.
      ctx.fillStyle = fill;
      ctx.fillRect(0, 0, W, H);
    }
    ctx.fillStyle = "#fff";
    ctx.fillRect(g.dx, g.dy, g.dw, g.dh);
  }
  // "high" asks for a proper minifying filter; the default can alias a 4000 px photo badly.
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(image.bitmap, g.sx, g.sy, g.sw, g.sh, g.dx, g.dy, g.dw, g.dh);
  ctx.restore();
}

function encode(canvas: OffscreenCanvas | HTMLCanvasElement, type: string, quality: number) {
  if ("convertToBlob" in canvas) return canvas.convertToBlob({ type, quality });
  return new Promise<Blob>((resolve, reject) =>
    canvas.toBlob((b) => (b ? resolve(b) : reject(new Error("Encoding failed."))), type, quality),
  );
}

const QUALITY_STEPS = [0.9, 0.8, 0.7, 0.6, 0.5];

/**
 * Renders the fitted photo at exactly `o.width x o.height` and encodes it for upload.
 * JPEG is the default: the smallest of the API's formats for photographs and decodable
 * everywhere. Quality steps down until the blob fits `maxBytes`; if even 0.5 does not, the
 * smallest attempt is returned and the server has the last word. A browser that cannot encode
 * the asked type silently returns PNG (the HTML Standard's fallback), so that case is
 * re-encoded as JPEG rather than uploading a PNG many times larger.
 */
export async function fitImage(
  image: DecodedImage,
  o: FitOptions,
): Promise<{ blob: Blob; width: number; height: number; type: string }> {
  const { width, height } = o;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0))
    throw new RangeError(`Output size must be whole pixels, got ${width}x${height}.`);
  const canvas = createCanvas(width, height);
  drawFitted(context2d(canvas), image, o);
  const maxBytes = o.maxBytes ?? 1_500_000;
  let type: string = o.type ?? "image/jpeg";
  let blob!: Blob;
  for (const quality of QUALITY_STEPS) {
    blob = await encode(canvas, type, quality);
    if (blob.type !== type && type !== "image/jpeg") {
      type = "image/jpeg";
      blob = await encode(canvas, type, quality);
    }
    if (blob.size <= maxBytes) break;
  }
  return { blob, width, height, type: blob.type };
}
