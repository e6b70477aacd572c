/**
 * Refuses bodies over the upload limit. A declared `Content-Length` over the limit is refused
 * before anything is read; and because a header can lie (or be absent), the bytes actually read
 * are counted too: reading stops at the limit and the answer is the same 413. Hono's bodyLimit
 * trusts any Content-Length under the limit, so it is not used here. Counting runs a small
 * TransformStream over uploads only (≤ the limit, 10 MB by default) — never over media.
 */
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ApiError, envelope, invalidRequest } from "../errors";

/**
 * `maxBytes` overrides the configured upload limit for small bodies (sessions, remix, webhooks);
 * only an upload, which carries an image, is told to send a smaller one.
 */
export function limitBody(maxBytes?: number) {
  return createMiddleware<AppEnv>(async function limitBody(c, next) {
    const maxSize = maxBytes ?? c.var.config.limits.maxUploadBytes;
    const advice = maxBytes
      ? "Send less: this endpoint takes a small JSON body."
      : "Send a smaller image.";
    const tooLarge = () =>
      new ApiError(413, `The request body is larger than ${formatBytes(maxSize)}. ${advice}`, {
        code: "request_too_large",
        param: maxBytes ? null : "input_reference",
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

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(0)} MB`
    : `${Math.round(bytes / 1024)} KB`;
}
