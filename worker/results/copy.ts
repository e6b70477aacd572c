/**
 * Copies one finished media file from the provider into R2, byte for byte and streamed: never
 * re-encoded (a provider's C2PA manifest and watermark live in the bytes) and never held in
 * memory whole (videos run to hundreds of MB; a Worker has 128 MB).
 *
 * R2 stores a stream only when its length is known up front. A provider that sends
 * Content-Length gets one `put` of a FixedLengthStream (worker/media/media-type.ts sets it up
 * and cuts off an upstream that lies about the length). One that does not is uploaded in
 * parts: memory then holds one part (PART_BYTES), whatever the video's size.
 */
import { MEDIA, servedMedia } from "../media/media-type";
import type { Variant } from "../providers/types";
import type { StoredVariant } from "../store/jobs";

/** R2 parts must be at least 5 MiB (all but the last) and the same size. */
export const PART_BYTES = 8 * 1024 * 1024;

/** Thrown when the provider's answer is not a whole file to copy (retried later). */
export class CopyError extends Error {
  override readonly name = "CopyError";
}

/**
 * Stores `upstream` (the provider's 200 for `variant`) at `key`. The type it will be served as
 * is decided here, once, by the same rule as a pass-through download.
 */
export async function copyToResults(
  bucket: R2Bucket,
  key: string,
  upstream: Response,
  variant: Variant,
  videoId: string,
): Promise<StoredVariant> {
  if (upstream.status !== 200 || upstream.body === null) {
    await upstream.body?.cancel().catch(() => {});
    throw new CopyError(`the provider answered HTTP ${upstream.status} for the ${variant}`);
  }
  const served = await servedMedia(upstream, variant, videoId);
  const type = served.headers.get("content-type");
  // Kept for the whole retention in place of the provider's file, so only what is plainly the
  // variant is kept: a relay's error page, or an empty body, is retried instead.
  if (type !== MEDIA[variant].type || served.headers.get("content-length") === "0") {
    await served.body?.cancel().catch(() => {});
    throw new CopyError(`the provider's ${variant} is not a ${MEDIA[variant].type} file`);
  }
  const options = { httpMetadata: { contentType: type } };
  const body = served.body!;
  const object = served.headers.has("content-length")
    ? await bucket.put(key, body, options)
    : await putInParts(bucket, key, body, options);
  if (!object) throw new CopyError(`R2 did not store the ${variant}`);
  return { size: object.size, etag: object.httpEtag, type };
}

/** A multipart upload of a stream of unknown length: one part in memory at a time. */
async function putInParts(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  options: R2MultipartOptions,
): Promise<R2Object> {
  const upload = await bucket.createMultipartUpload(key, options);
  try {
    const parts: R2UploadedPart[] = [];
    for await (const part of fixedParts(body, PART_BYTES)) {
      parts.push(await upload.uploadPart(parts.length + 1, part));
    }
    if (parts.length === 0) throw new CopyError("the provider's file was empty");
    return await upload.complete(parts);
  } catch (error) {
    await upload.abort().catch(() => {});
    throw error;
  }
}

/** The stream regrouped into chunks of exactly `size` bytes (the last may be shorter). */
export async function* fixedParts(
  body: ReadableStream<Uint8Array>,
  size: number,
): AsyncGenerator<Uint8Array> {
  let part = new Uint8Array(size);
  let filled = 0;
  for await (const chunk of body) {
    let at = 0;
    while (at < chunk.byteLength) {
      const take = Math.min(size - filled, chunk.byteLength - at);
      part.set(chunk.subarray(at, at + take), filled);
      filled += take;
      at += take;
      if (filled === size) {
        yield part;
        part = new Uint8Array(size); // the yielded part is R2's now: never reuse it
        filled = 0;
      }
    }
  }
  if (filled > 0) yield part.subarray(0, filled);
}
