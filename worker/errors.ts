/**
 * One error path. Code anywhere throws `ApiError` (or lets something else escape); `onError`
 * writes OpenAI's envelope `{ error: { message, type, param, code } }` with the matching status,
 * so OpenAI clients map every failure to their typed errors. Messages are for the person who will
 * read them (the widget shows them): they say what to do next and never carry secrets or
 * upstream internals — those go to the log only.
 */
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import { ProviderError } from "./providers/errors";
import { HTTPException } from "hono/http-exception";
import { ConfigError } from "./config";
import { log } from "./log";
import { DeletedError, StorageError } from "./store/jobs";

export type ErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "not_found_error"
  | "conflict_error"
  | "rate_limit_error"
  | "provider_error"
  | "server_error";

export interface ApiErrorInit {
  type?: ErrorType;
  param?: string | null;
  code?: string | null;
  headers?: Record<string, string>;
}

export class ApiError extends Error {
  override readonly name = "ApiError";
  readonly type: ErrorType;
  readonly param: string | null;
  readonly code: string | null;
  readonly headers: Record<string, string>;

  constructor(
    readonly status: ContentfulStatusCode,
    message: string,
    init: ApiErrorInit = {},
  ) {
    super(message);
    this.type = init.type ?? defaultType(status);
    this.param = init.param ?? null;
    this.code = init.code ?? null;
    this.headers = init.headers ?? {};
  }
}

function defaultType(status: number): ErrorType {
  if (status === 401) return "authentication_error";
  if (status === 404) return "not_found_error";
  if (status === 409) return "conflict_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return status === 500 ? "server_error" : "provider_error";
  return "invalid_request_error";
}

/** 400 for a field the caller can fix; `param` names the field. */
export const invalidRequest = (
  message: string,
  param: string | null = null,
  code = "invalid_value",
) => new ApiError(400, message, { param, code });

/** 404 that reveals nothing: unknown ids and other owners' jobs look the same. */
export const notFound = (what = "video", param: string | null = "video_id") =>
  new ApiError(404, `No ${what} with that id exists for this caller.`, {
    param,
    code: "not_found",
  });

export const unauthorized = (message: string, code = "invalid_token") =>
  new ApiError(401, message, {
    code,
    headers: { "www-authenticate": 'Bearer realm="stillmotion"' },
  });

/** Maps an adapter failure to the public status: 4xx for the caller's input, 5xx for upstream. */
export function fromProviderError(error: ProviderError, param: string | null = null): ApiError {
  const retry =
    error.retryAfter !== undefined ? { "retry-after": String(error.retryAfter) } : undefined;
  switch (error.kind) {
    case "input_rejected":
      return new ApiError(400, error.publicMessage, { param, code: "input_rejected" });
    case "policy_violation":
      return new ApiError(400, error.publicMessage, { param, code: "policy_violation" });
    case "rate_limited":
      return new ApiError(429, error.publicMessage, {
        code: "provider_rate_limited",
        headers: retry ?? { "retry-after": "30" },
      });
    case "not_found":
      return new ApiError(404, error.publicMessage, { code: "not_found" });
    case "unsupported":
      return new ApiError(400, error.publicMessage, { param, code: "unsupported_for_model" });
    case "timeout":
      return new ApiError(504, error.publicMessage, { code: "provider_timeout", headers: retry });
    case "unavailable":
      return new ApiError(503, error.publicMessage, {
        code: "provider_unavailable",
        headers: retry ?? { "retry-after": "10" },
      });
    case "misconfigured":
    case "bad_response":
    case "upstream_failed":
      return new ApiError(502, "The video provider failed. Try again later.", {
        code: "provider_error",
      });
  }
}

/** Builds the envelope body; used by `onError`, the validation hook and `notFound`. */
export function envelope(error: ApiError) {
  return {
    error: { message: error.message, type: error.type, param: error.param, code: error.code },
  };
}

/** The single `app.onError`: typed errors become envelopes, everything else a logged 500. */
export function onError(err: Error, c: Context): Response {
  let error: ApiError;
  if (err instanceof ApiError) error = err;
  else if (err instanceof HTTPException && err.status < 500) error = fromHttpException(err);
  else if (err instanceof ConfigError) {
    log("error", "config_error", { request_id: requestId(c), error: err.message });
    error = new ApiError(
      500,
      `Stillmotion is misconfigured (${err.message}). The operator must fix the configuration.`,
      {
        type: "server_error",
        code: "misconfigured",
      },
    );
  } else if (err instanceof DeletedError) {
    // Deleted while this request was refreshing it: gone, like any deleted video.
    error = notFound();
  } else if (err instanceof StorageError) {
    log("error", "storage_unavailable", { request_id: requestId(c), error: err.message });
    error = new ApiError(503, "Stored videos are briefly unavailable. Try again in a moment.", {
      type: "server_error",
      code: "storage_unavailable",
      headers: { "retry-after": "5" },
    });
  } else if (err instanceof ProviderError) {
    log("warn", "provider_error", { request_id: requestId(c), kind: err.kind, detail: err.detail });
    error = fromProviderError(err);
  } else {
    log("error", "unhandled_error", { request_id: requestId(c), error: String(err?.stack ?? err) });
    error = new ApiError(500, "Something went wrong on our side. Try again in a moment.", {
      code: "internal_error",
    });
  }
  for (const [name, value] of Object.entries(error.headers)) c.header(name, value);
  return c.json(envelope(error), error.status);
}

function requestId(c: Context): string | undefined {
  return c.get("requestId" as never);
}

/**
 * Hono's own refusals (the OpenAPI validators throw 400 for unparseable JSON and 415 for a body
 * of another type) in our envelope and words, instead of a generic 500.
 */
function fromHttpException(err: HTTPException): ApiError {
  if (err.status === 415) {
    return invalidRequest(
      "Send this request as application/json.",
      null,
      "unsupported_content_type",
    );
  }
  // Hono's form validator (POST /v1/files) says so in its message; every other body is JSON.
  const form = err.message.startsWith("Malformed FormData");
  return invalidRequest(
    form
      ? "The multipart body could not be read. Check the form encoding and try again."
      : "The request body could not be parsed. Send valid JSON and try again.",
    null,
    "malformed_body",
  );
}
