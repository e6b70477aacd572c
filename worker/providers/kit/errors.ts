/**
 * One mapping from a failed upstream HTTP response to the `ProviderError` the worker acts on.
 * Its body is read through the kit's one body reader (size limit) and its text through the one
 * sanitiser (`sanitize.ts`), so every adapter shows callers the same, redacted, kind of message.
 */
import { z } from "zod";
import { ProviderError } from "../errors";
import { readBody } from "./body";
import { sanitizeUpstreamText } from "./sanitize";

/** Codes that mean "refused on content policy grounds" (`sentinel_block` is seen on relays). */
const POLICY_CODES = new Set(["moderation_blocked", "sentinel_block", "content_policy_violation"]);
const POLICY_WORDS = /moderation|policy|safety/i;

/** True when an upstream error code or type says the refusal was about content policy. */
export function isPolicyCode(...codes: Array<string | null | undefined>): boolean {
  return codes.some((code) => !!code && (POLICY_CODES.has(code) || POLICY_WORDS.test(code)));
}

/** OpenAI's envelope `{error:{message,type,param,code}}`, read leniently: relays vary it. */
/** A text field of an upstream's error body, read leniently: absent or the wrong type is null. */
export const lenientText = z.string().nullish().catch(null);
/** An error code that may come as a string or a number; anything else is null. */
export const lenientCode = z
  .union([z.string(), z.number().transform(String)])
  .nullish()
  .catch(null);
const errorEnvelope = z.object({
  error: z
    .union([
      z.string(),
      z.object({
        message: lenientText,
        type: lenientText,
        code: lenientCode,
      }),
    ])
    .nullish()
    .catch(null),
  message: lenientText,
});

/**
 * Turns a failed upstream response into the `ProviderError` the worker acts on, reading (and so
 * consuming) its body. The public message is fixed per kind, except for input refusals, where
 * the upstream's reason helps the person fix their input — sanitised first. `what` names the
 * thing asked for ("video", "video content"); `redact` lists secrets to scrub from the detail.
 */
export async function providerErrorFromResponse(
  response: Response,
  options: { what: string; now?: number; redact?: readonly string[] },
): Promise<ProviderError> {
  return upstreamFailure(response.status, response.headers, await readErrorBody(response), options);
}

/** An upstream failure already read into its parts (a provider with its own error body). */
export interface FailureParts {
  message: string;
  type: string | null;
  code: string | null;
}

/**
 * The one status → kind mapping, for a failure whose body an adapter read itself (fal's and
 * Replicate's error bodies are not OpenAI's). Only `retry-after(-ms)` is read from `headers`.
 */
export function upstreamFailure(
  status: number,
  headers: Headers,
  body: FailureParts,
  options: { what: string; now?: number; redact?: readonly string[] },
): ProviderError {
  const reason = sanitizeUpstreamText(body.message, options.redact);
  const labels = sanitizeUpstreamText(
    [body.type, body.code].filter(Boolean).join("/"),
    options.redact,
  );
  // e.g. "video: HTTP 400 (invalid_request_error): Inpaint image must match …"
  const head = `${options.what}: HTTP ${status}${labels ? ` (${labels})` : ""}`;
  const detail = reason ? `${head}: ${reason}` : head;
  const fail = (kind: ProviderError["kind"], message: string, retryAfter?: number) =>
    new ProviderError(kind, message, detail, retryAfter);

  if (status >= 400 && status < 500 && ![401, 404, 429].includes(status)) {
    if (isPolicyCode(body.code, body.type)) {
      return fail(
        "policy_violation",
        "The video provider refused this request on content policy grounds.",
      );
    }
  }
  if ([400, 409, 413, 415, 422].includes(status)) {
    return fail(
      "input_rejected",
      `The video provider rejected the request${reason ? `: ${reason}` : "."}`,
    );
  }
  if (status === 401 || status === 403) {
    return fail("misconfigured", "The video provider rejected the worker's credentials.");
  }
  if (status === 404 || status === 410) {
    return fail("not_found", `The video provider has no such ${options.what}.`);
  }
  if (status === 408 || status === 504) {
    return fail("timeout", "The video provider did not answer in time.");
  }
  if (status === 429) {
    const waitMs = parseRetryAfter(headers, options.now ?? Date.now());
    const retryAfter = waitMs === null ? undefined : Math.ceil(waitMs / 1000);
    return fail(
      "rate_limited",
      "The video provider is rate limiting requests; try again later.",
      retryAfter,
    );
  }
  // Only a 503 says "not now, nothing done"; any other 5xx may come after the work started.
  if (status === 503) return fail("unavailable", "The video provider is unavailable right now.");
  if (status >= 500) return fail("upstream_failed", "The video provider failed. Try again later.");
  return fail("bad_response", "The video provider answered with an unexpected error.");
}

async function readErrorBody(response: Response): Promise<FailureParts> {
  // A body that breaks mid-read (or is oversized) still leaves the status to go on.
  const { text, json } = await readBody(response, "error").catch(() => ({
    text: "",
    json: undefined,
  }));
  if (json === undefined) return { message: text.slice(0, 1_000), type: null, code: null };
  const parsed = errorEnvelope.safeParse(json);
  const envelope = parsed.success ? parsed.data : { error: null, message: null };
  const error = typeof envelope.error === "object" ? envelope.error : null;
  return {
    message:
      error?.message ??
      (typeof envelope.error === "string" ? envelope.error : envelope.message) ??
      "",
    type: error?.type ?? null,
    code: error?.code ?? null,
  };
}

/**
 * How long the server asked us to wait, in milliseconds, or null when it did not say (or said
 * nonsense). `retry-after-ms` (OpenAI's extension) wins over `retry-after`, which is either
 * delay-seconds or an HTTP-date (RFC 9110 §10.2.3). `now` is milliseconds since the epoch.
 */
export function parseRetryAfter(headers: Headers, now: number): number | null {
  const ms = Number.parseFloat(headers.get("retry-after-ms") ?? "");
  if (Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get("retry-after")?.trim();
  if (!value) return null;
  if (/^\d+(\.\d+)?$/.test(value)) return Number.parseFloat(value) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}
