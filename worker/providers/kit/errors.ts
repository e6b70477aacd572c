/**
 * One mapping from a failed upstream HTTP response to the `ProviderError` the worker acts on,
 * and the sanitiser that keeps upstream text safe to log or show (no keys, no URLs).
 */
import { z } from "zod";
import { ProviderError } from "./errors";

/** Codes that mean "refused on content policy grounds" (`sentinel_block` is seen on relays). */
const POLICY_CODES = new Set(["moderation_blocked", "sentinel_block", "content_policy_violation"]);
const POLICY_WORDS = /moderation|policy|safety/i;

/** True when an upstream error code or type says the refusal was about content policy. */
export function isPolicyCode(...codes: Array<string | null | undefined>): boolean {
  return codes.some((code) => !!code && (POLICY_CODES.has(code) || POLICY_WORDS.test(code)));
}

/** OpenAI's envelope `{error:{message,type,param,code}}`, read leniently: relays vary it. */
const lenientText = z.string().nullish().catch(null);
const errorEnvelope = z.object({
  error: z
    .union([
      z.string(),
      z.object({
        message: lenientText,
        type: lenientText,
        code: z
          .union([z.string(), z.number().transform(String)])
          .nullish()
          .catch(null),
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
  const { status } = response;
  const body = await readErrorBody(response);
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
    const waitMs = parseRetryAfter(response.headers, options.now ?? Date.now());
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

async function readErrorBody(response: Response) {
  let text = "";
  try {
    text = await response.text();
  } catch {
    // A body that breaks mid-read still leaves the status to go on.
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { message: text.slice(0, 1_000), type: null, code: null };
  }
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
 * Makes upstream text safe to log or show: known secrets, URLs (they may carry signed tokens),
 * credentials and long token-like strings are replaced, control characters dropped, and the
 * result capped at 200 characters.
 */
export function sanitizeUpstreamText(text: string, redact: readonly string[] = []): string {
  let out = text;
  for (const secret of redact) if (secret.length >= 4) out = out.split(secret).join("[redacted]");
  out = out
    .replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "[url]")
    .replace(/\bdata:\S+/gi, "[data]")
    .replace(/\b(bearer|basic)\s+\S+/gi, "$1 [redacted]")
    .replace(/\b(api[-_]?key|token|secret|password)(["']?\s*[:=]\s*)\S+/gi, "$1$2[redacted]")
    .replace(/\b(sk|pk|rk|whsec|sess)[-_][\w*.-]{4,}/gi, "[redacted]")
    .replace(/(?=[\w+/=.-]*\d)(?=[\w+/=.-]*[a-z])[\w+/=.-]{24,}/gi, "[redacted]")
    .replace(/[\u0000-\u001f\u007f]+/g, " ")
    .replace(/\s+/g, " ")
    .trim();
  // Last, so the patterns above still see whole tokens: any stretch of a secret left over.
  for (const secret of redact) out = redactSecret(out, secret);
  return out.length > 200 ? `${out.slice(0, 199)}…` : out;
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

/**
 * Removes a secret from text, and any 8-character stretch of it too: upstreams like to quote a
 * key's beginning and end ("sk-abc…xyz1234"), and part of a key is still a leak.
 */
function redactSecret(text: string, secret: string): string {
  if (secret.length < 4) return text;
  let out = text.split(secret).join("[redacted]");
  const WINDOW = 8;
  for (let i = 0; i + WINDOW <= secret.length; i++) {
    const part = secret.slice(i, i + WINDOW);
    if (out.includes(part)) out = out.split(part).join("[redacted]");
  }
  return out;
}
