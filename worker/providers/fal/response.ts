/**
 * Reading fal's answers for the fal adapter (fal.ts): its two error bodies and their types in our
 * failure codes, response bodies that may break off, and which URLs count as fal's own assets.
 */
import { z } from "zod";
import { ProviderError } from "./errors";
import type { FailureCode } from "./types";
import { isPolicyCode, providerErrorFromResponse, sanitizeUpstreamText } from "./upstream-errors";

export const CANCELLED = {
  code: "cancelled" as const,
  message: "The job was cancelled at the video provider.",
};

/** A fal error, from either of its two bodies (§2; docs.fal.ai "Model Errors", "Request Error
 * Types"): model errors `{detail: [{loc, msg, type}]}`, request errors `{detail: "…",
 * error_type}` with the same type in `X-Fal-Error-Type`. */
export interface FalFailure {
  status: number;
  type: string | null;
  /** Sanitised: safe to show. */
  message: string;
  /** The body or headers were fal's own error shape (not an edge's bare 5xx). */
  typed: boolean;
  /** Only what the shared mapping reads: `retry-after(-ms)`. */
  headers?: Headers;
}

const falErrorBody = z.object({
  detail: z
    .union([
      z.string(),
      z.array(
        z
          .object({ msg: z.string().catch(""), type: z.string().catch("") })
          .catch({ msg: "", type: "" }),
      ),
    ])
    .nullish()
    .catch(null),
  error_type: z.string().nullish().catch(null),
});

export async function readFalError(
  response: Response,
  redact: readonly string[],
): Promise<FalFailure> {
  const body = falErrorBody.safeParse(
    (await readBody(response, "error").catch(() => null))?.json,
  ).data;
  const first = Array.isArray(body?.detail) ? body.detail[0] : undefined;
  const header = response.headers.get("x-fal-error-type");
  const type = header || body?.error_type || first?.type || null;
  const message = typeof body?.detail === "string" ? body.detail : (first?.msg ?? "");
  const headers = new Headers();
  for (const name of ["retry-after", "retry-after-ms"]) {
    const value = response.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  return {
    status: response.status,
    headers,
    type: type ? sanitizeUpstreamText(type, redact).slice(0, 64) : null,
    message: sanitizeUpstreamText(message, redact),
    typed: Boolean(header || body?.error_type || body?.detail),
  };
}

/** A failed call, through the shared mapping (status → kind, Retry-After, redaction). */
export function falCallError(
  failure: FalFailure,
  what: string,
  now: number,
  redact: readonly string[],
) {
  const { status, type, message, headers } = failure;
  const envelope = JSON.stringify({ error: { message, type, code: type } });
  return providerErrorFromResponse(new Response(envelope, { status, headers }), {
    what,
    now,
    redact,
  });
}

const TIMEOUT_TYPES = new Set(["request_timeout", "startup_timeout", "generation_timeout"]);
/** fal's input-validation types (image_too_small, file_download_error, face_detection_error…). */
const INPUT_TYPES =
  /^(image|file|video|audio|face|unsupported|greater_than|less_than|one_of|multiple_of|sequence|feature_not_supported|invalid|archive|bad_request)/;

/** A finished job's error in our codes (§12.1), with fal's own words when it gave some. */
export function falJobFailure(failure: FalFailure): { code: FailureCode; message: string } {
  const type = failure.type ?? "";
  const said = (fallback: string) => failure.message || fallback;
  if (isPolicyCode(type)) {
    return {
      code: "policy_violation",
      message: said("The video provider refused this content on policy grounds."),
    };
  }
  if (TIMEOUT_TYPES.has(type) || failure.status === 504) {
    return { code: "timeout", message: said("The video provider took too long.") };
  }
  if (type === "client_cancelled") return CANCELLED;
  if (INPUT_TYPES.test(type) || (failure.status >= 400 && failure.status < 500)) {
    return { code: "input_rejected", message: said("The video provider rejected the input.") };
  }
  return { code: "provider_error", message: said("The video provider could not make this video.") };
}

/** Upload and media URLs fal hands out: its CDN (or its GCS bucket), https, no credentials. */
export function isFalAssetUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.protocol !== "https:" || url.username || url.password || url.port) return false;
  return (
    /(^|\.)fal\.(media|ai|run)$/.test(url.hostname) ||
    (url.hostname === "storage.googleapis.com" && url.pathname.startsWith("/falserverless/"))
  );
}

/** A body cut off after the headers: the outcome is unknown, which is what `timeout` means. */
export async function readBody(
  response: Response,
  what: string,
): Promise<{ text: string; json: unknown }> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    throw new ProviderError(
      "timeout",
      "The video provider did not answer in time.",
      `${what}: body read failed`,
    );
  }
  try {
    return { text, json: JSON.parse(text) };
  } catch {
    return { text, json: undefined };
  }
}

/** Upstream JSON, parsed leniently (fal adds fields) but with the fields we need required. */
export async function readJson<T>(
  response: Response,
  schema: z.ZodType<T>,
  what: string,
  redact: readonly string[],
): Promise<T> {
  const { text, json } = await readBody(response, what);
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  const sample = sanitizeUpstreamText(text.slice(0, 200), redact);
  throw new ProviderError(
    "bad_response",
    "The video provider answered something unreadable.",
    `${what}: ${sample}`,
  );
}

export function isHttpsUrl(value: string): boolean {
  return URL.canParse(value) && new URL(value).protocol === "https:";
}

export function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
