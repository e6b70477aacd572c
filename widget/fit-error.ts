/**
 * Why a photo was refused. Its own module because the element's error view needs the class
 * with the first render, while decoding and fitting (fit.ts) load only with the first photo.
 */
export class FitError extends Error {
  override name = "FitError";
  constructor(
    /** Stable, for the UI to pick a message. */
    readonly code: "unsupported_type" | "decode_failed" | "too_large" | "too_small",
    message: string,
    /** The format sniffed from the bytes, e.g. "HEIC", when one was recognised. */
    readonly detected?: string,
  ) {
    super(message);
  }
}
