/**
 * Refuses bodies over the upload limit. A declared `Content-Length` over the limit is refused
 * before anything is read; and because a header can lie (or be absent), the bytes actually read
 * are held to it: a declared length by the runtime's FixedLengthStream (exactly that many
 * bytes, or a 400), an undeclared one by counting, which stops at the limit with the same 413.
 * Hono's bodyLimit trusts any Content-Length under the limit, so it is not used here. Only
 * uploads pass through this (images ≤ 10 MB, source videos ≤ 16 MiB by default) — never
 * generated media, which is streamed.
 */
import type { Context, Next } from "hono";
import { createMiddleware } from "hono/factory";
import { isJson } from "../api/content-type";
import type { AppEnv } from "../context";
import { ApiError, envelope, invalidRequest } from "../errors";

export interface LimitOptions {
  /** A small fixed limit for bodies that are not uploads (sessions, remix, webhooks). */
  bytes?: number;
  /** The field an upload arrives in, named in the 413 (default `input_reference`). */
  param?: string;
  /** The upload is a source video (MAX_VIDEO_UPLOAD_BYTES), not an image (MAX_UPLOAD_BYTES). */
  video?: boolean;
  /**
   * A JSON body on an upload endpoint whose JSON form carries no file (a source video by id) is
   * held to this small limit instead: it is parsed whole before any field is checked.
   */
  jsonBytes?: number;
}

/** Only an upload is told to send a smaller file, in its field; a small body is told so. */
export function limitBody(options: LimitOptions = {}) {
  const { param = options.video ? "video" : "input_reference", video = false } = options;
  return createMiddleware<AppEnv>(async function limitBody(c, next) {
    const json = isJson(c.req.header("content-type"));
    const bytes = json && options.jsonBytes ? options.jsonBytes : options.bytes;
    // The configuration is read only for upload limits (a fixed limit needs none).
    const maxSize =
      bytes ??
      (video ? c.var.config.limits.maxVideoUploadBytes : c.var.config.limits.maxUploadBytes);
    const advice = bytes
      ? "Send less: this endpoint takes a small JSON body."
      : video
        ? "Send a shorter or smaller video."
        : "Send a smaller image.";
    const tooLarge = () =>
      new ApiError(413, `The request body is larger than ${formatBytes(maxSize)}. ${advice}`, {
        code: "request_too_large",
        param: bytes ? null : param,
      });
    const declared = c.req.header("content-length");
    if (declared !== undefined) {
      if (!/^\d{1,15}$/.test(declared.trim())) {
        throw invalidRequest(
          "The Content-Length header is not a byte count.",
          null,
          "invalid_content_length",
        );
      }
      if (Number(declared) > maxSize) throw tooLarge();
    }
    const body = c.req.raw.body;
    if (!body) return next();
    if (declared !== undefined) return withDeclaredLength(c, next, body, Number(declared));

    let seen = 0;
    let exceeded = false;
    const counted = body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          seen += chunk.byteLength;
          if (seen > maxSize) {
            exceeded = true;
            controller.error(new Error("request body over the limit"));
          } else controller.enqueue(chunk);
        },
      }),
    );
    c.req.raw = new Request(c.req.raw, { body: counted, duplex: "half" } as RequestInit);
    await next();
    // The handler saw a broken body (and answered 400); the truth is that it was too large.
    if (exceeded) c.res = c.json(envelope(tooLarge()), 413);
  });
}

/**
 * A body whose Content-Length is within the limit is held to exactly that length by the
 * runtime's own FixedLengthStream: no JavaScript runs per chunk, which made counting cost as
 * much CPU as parsing the upload (bench/upload-parse-workerd.bench.ts). A body longer or
 * shorter than it said is cut off there and answered as the malformed request it is.
 */
async function withDeclaredLength(
  c: Context<AppEnv>,
  next: Next,
  body: ReadableStream<Uint8Array>,
  length: number,
): Promise<void> {
  const fixed = new FixedLengthStream(length);
  const piped = body.pipeTo(fixed.writable).then(
    () => true,
    () => false,
  );
  c.req.raw = new Request(c.req.raw, { body: fixed.readable, duplex: "half" } as RequestInit);
  await next();
  // A body that broke the length has errored the stream the handler read, so its pipe has
  // settled (or is a turn from it); one the handler never read is still pending: not waited for.
  const turn = new Promise<true>((resolve) => setTimeout(() => resolve(true), 0));
  if (c.res.status === 400 && !(await Promise.race([piped, turn]))) {
    const error = invalidRequest(
      "The request body does not match its Content-Length header.",
      null,
      "invalid_content_length",
    );
    c.res = c.json(envelope(error), 400);
  }
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(0)} MB`
    : `${Math.round(bytes / 1024)} KB`;
}
