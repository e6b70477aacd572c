/**
 * Refuses bodies over the configured upload limit before reading them: on `Content-Length`
 * when present, and while streaming otherwise (Hono's bodyLimit does both).
 */
import { bodyLimit } from "hono/body-limit";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";

/** `maxBytes` overrides the configured upload limit (e.g. small JSON bodies). */
export function limitBody(maxBytes?: number) {
  return createMiddleware<AppEnv>(async function limitBody(c, next) {
    const maxSize = maxBytes ?? c.var.config.limits.maxUploadBytes;
    const limit = bodyLimit({
      maxSize,
      onError: () => {
        throw new ApiError(
          413,
          `The request body is larger than ${formatBytes(maxSize)}. Send a smaller image.`,
          {
            code: "request_too_large",
            param: maxBytes ? null : "input_reference",
          },
        );
      },
    });
    return limit(c, next);
  });
}

function formatBytes(bytes: number): string {
  return bytes >= 1024 * 1024
    ? `${(bytes / 1024 / 1024).toFixed(0)} MB`
    : `${Math.round(bytes / 1024)} KB`;
}
