/**
 * Reading Replicate's answers (docs/providers/replicate.md): the prediction object (§3
 * "Status"), its mapping onto our states (§12.1), the output URL check, and Replicate's
 * `{detail,title,status}` error bodies. Everything is parsed leniently: Replicate adds fields,
 * and `error` has no fixed shape.
 */
import { z } from "zod";
import type { ProviderError } from "../errors";
import { readBody, readJson } from "../kit/body";
import { upstreamFailure } from "../kit/errors";
import { estimatedProgress } from "../kit/progress";
import { sanitizeUpstreamText } from "../kit/sanitize";
import type { FailureCode, UpstreamState } from "../types";

/** Prediction ids go into URL paths: plain tokens only (Replicate's are 26 base32 characters). */
export const PREDICTION_ID = /^[a-z0-9]{8,64}$/i;
/** Output files and prediction data are deleted an hour after creation (§3 "Result"). */
const RETENTION_SECONDS = 3600;
/** Words Replicate's safety checker and hosted models use when they refuse content. */
const POLICY_WORDS = /nsfw|safety|sensitive|moderat|content polic|inappropriate/i;
const TIMEOUT_WORDS = /timed? ?out|deadline/i;
const INPUT_WORDS =
  /\b(input|image)\b.*\b(invalid|unsupported|could not|cannot|too (large|small))\b/i;

const prediction = z.object({
  id: z.string().regex(PREDICTION_ID),
  status: z.string(),
  output: z.unknown().optional(),
  error: z.unknown().optional(),
  created_at: z.string().nullish().catch(null),
});
export type Prediction = z.infer<typeof prediction>;

/** Reads a 2xx body as a prediction; a body cut off after a 200 leaves the outcome unknown. */
export function parsePrediction(
  response: Response,
  redact: readonly string[],
): Promise<Prediction> {
  return readJson(response, prediction, "prediction", redact);
}

/**
 * The first output URL, only when it is https on Replicate's delivery host, returned exactly as
 * given; anything else is treated as no output, so the token-free fetch never goes astray.
 */
export function checkedOutputUrl(p: Prediction): string | null {
  const first = Array.isArray(p.output) ? p.output[0] : p.output;
  if (typeof first !== "string" || !URL.canParse(first)) return null;
  return onDeliveryHost(new URL(first)) ? first : null;
}

/** Plain https on Replicate's delivery host (or a subdomain): where outputs, and their redirects, may go. */
export function onDeliveryHost(url: URL): boolean {
  const host = url.hostname;
  const delivery = host === "replicate.delivery" || host.endsWith(".replicate.delivery");
  return delivery && url.protocol === "https:" && !url.port && !url.username && !url.password;
}

export interface StateOptions {
  now: number;
  /** When our job was submitted (ms); else the prediction's `created_at`. */
  startedAt?: number;
  typicalMs: number;
  redact: readonly string[];
}

/** §12.1: starting → queued, processing → in_progress, succeeded → completed, the rest failed. */
export function toState(p: Prediction, options: StateOptions): UpstreamState {
  const createdMs = p.created_at ? Date.parse(p.created_at) : Number.NaN;
  const created = Number.isNaN(createdMs) ? null : createdMs;
  const expiresAt = created === null ? null : Math.floor(created / 1000) + RETENTION_SECONDS;
  const failed = (code: FailureCode, message: string): UpstreamState => ({
    status: "failed",
    progress: 0,
    error: { code, message },
    expiresAt,
  });
  const reason = sanitizeUpstreamText(errorText(p.error), options.redact);

  switch (p.status) {
    case "starting":
      return { status: "queued", progress: 0, error: null, expiresAt };
    case "succeeded":
      if (checkedOutputUrl(p))
        return { status: "completed", progress: 100, error: null, expiresAt };
      if (expiresAt !== null && options.now / 1000 >= expiresAt) {
        return failed("expired", "Replicate keeps results for one hour; this one was deleted.");
      }
      return failed("provider_error", "The video provider finished without a usable video.");
    case "failed":
      return failed(...classify(reason));
    case "canceled":
      return failed("cancelled", "The job was cancelled at the video provider.");
    case "aborted":
      // Aborted = stopped before it ran (e.g. a deadline passed): retrying may well work.
      return TIMEOUT_WORDS.test(reason)
        ? failed("timeout", reason)
        : failed("provider_error", reason || "The video provider stopped the job before it ran.");
    default: {
      // "processing", and any status Replicate adds later: still running, so polling stays safe.
      const since = options.startedAt ?? created ?? options.now;
      const progress = estimatedProgress(options.now - since, options.typicalMs);
      return { status: "in_progress", progress, error: null, expiresAt };
    }
  }
}

function classify(reason: string): [FailureCode, string] {
  if (POLICY_WORDS.test(reason)) return ["policy_violation", reason];
  if (TIMEOUT_WORDS.test(reason)) return ["timeout", reason];
  if (INPUT_WORDS.test(reason)) return ["input_rejected", reason];
  return ["provider_error", reason || "The video provider could not make this video."];
}

/** `error` is usually a string; tolerate `{message}` / `{detail}` objects too. */
function errorText(error: unknown): string {
  if (typeof error === "string") return error;
  const parsed = z
    .object({ message: z.string().optional(), detail: z.string().optional() })
    .safeParse(error);
  return parsed.success ? (parsed.data.message ?? parsed.data.detail ?? "") : "";
}

const problem = z.object({
  detail: z.string().nullish().catch(null),
  title: z.string().nullish().catch(null),
  error: z.string().nullish().catch(null),
});

/**
 * Maps a failed Replicate response. Replicate answers RFC 9457-style `{detail, title, status}`
 * (the SDK's tests); its parts go through the kit's one status mapping (401 → misconfigured,
 * 429 → rate_limited + Retry-After …). Safety refusals carry no code, only words, so those become a policy code here.
 */
export async function replicateError(
  response: Response,
  options: { what: string; now: number; redact: readonly string[] },
): Promise<ProviderError> {
  const { text, json } = await readBody(response, "error").catch(() => ({ text: "", json: null }));
  const body = problem.safeParse(json ?? { detail: text.slice(0, 1_000) });
  const { detail, title, error } = body.success
    ? body.data
    : { detail: null, title: null, error: null };
  const message = detail ?? error ?? title ?? "";
  const policy = response.status >= 400 && response.status < 500 && POLICY_WORDS.test(message);
  const code = policy ? "content_policy_violation" : null;
  return upstreamFailure(
    response.status,
    response.headers,
    { message, type: title ?? null, code },
    options,
  );
}
