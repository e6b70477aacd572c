/**
 * Reading OpenRouter's answers (docs/providers/openrouter.md): the job object (§2, §3), its
 * statuses in our terms, and the `{error:{code,message,metadata}}` envelope (§1) through the
 * kit's one status mapping. Parsed leniently: the API is alpha and adds fields (§0 note).
 */
import { z } from "zod";
import { ProviderError } from "../errors";
import { readBody, readJson } from "../kit/body";
import { lenientCode, lenientText, upstreamFailure } from "../kit/errors";
import { estimatedProgress } from "../kit/progress";
import { sanitizeUpstreamText } from "../kit/sanitize";
import type { FailureCode, UpstreamState } from "../types";

/**
 * Job ids go into URL paths: plain tokens only. Seen as 20 alphanumerics, `gen-vid-<ts>-<20>`
 * and `job-abc123` (§2 "`id` is an opaque string"): letters, digits, `-` and `_`, nothing that
 * could end a path segment or start a query.
 */
export const JOB_ID = /^[A-Za-z0-9][A-Za-z0-9_-]{3,127}$/;

/** While `pending` the estimate stops here: a live job stayed `pending` until done (§3). */
const PENDING_CEILING = 10;
/** Words of a content-policy refusal, e.g. the webhook example's "Content policy violation" (§8). */
const POLICY_WORDS = /content polic|moderat|safety|nsfw|inappropriate|prohibited content/i;

const job = z.object({
  id: z.string().regex(JOB_ID),
  status: z.string(),
  unsigned_urls: z.array(z.string()).nullish().catch(null),
  // A string per the spec (§3); tolerate `{message}` from a future version.
  error: z
    .union([z.string(), z.object({ message: z.string() }).transform((e) => e.message)])
    .nullish()
    .catch(null),
});
export type OpenRouterJob = z.infer<typeof job>;

/** Reads a 2xx body as a job; a body cut off after the status leaves the outcome unknown. */
export function parseJob(response: Response, redact: readonly string[]): Promise<OpenRouterJob> {
  return readJson(response, job, "video job", redact);
}

export interface StateOptions {
  now: number;
  /** When our job was submitted (ms), for the estimate. */
  startedAt?: number;
  typicalMs: number;
  redact: readonly string[];
}

/**
 * §3: pending → queued, in_progress → in_progress, completed → completed; failed, cancelled,
 * expired (and the SDK's undocumented `dead`) → failed. Unknown words keep polling (§10): the
 * worker's job timeout bounds them. There is no progress field, so it is estimated.
 */
export function toState(j: OpenRouterJob, o: StateOptions): UpstreamState {
  const state = (status: UpstreamState["status"], progress: number): UpstreamState => ({
    status,
    progress,
    error: null,
    // Retention is undocumented (§4 "Retention", §9 #5): no expiry is claimed.
    expiresAt: null,
  });
  const failed = (code: FailureCode, message: string): UpstreamState => ({
    ...state("failed", 0),
    error: { code, message },
  });
  const estimate = () => estimatedProgress(o.now - (o.startedAt ?? o.now), o.typicalMs);
  const reason = sanitizeUpstreamText(j.error ?? "", o.redact);

  switch (j.status) {
    case "pending":
      return state("queued", Math.min(PENDING_CEILING, estimate()));
    case "completed":
      // `unsigned_urls` is present on completion (§3); an empty list is a job that made nothing.
      if (j.unsigned_urls && j.unsigned_urls.length === 0) {
        return failed("provider_error", "The video provider finished without a usable video.");
      }
      return state("completed", 100);
    case "failed":
    case "dead":
      if (POLICY_WORDS.test(reason)) return failed("policy_violation", reason);
      return failed("provider_error", reason || "The video provider could not make this video.");
    case "cancelled":
      return failed("cancelled", reason || "The job was cancelled at the video provider.");
    case "expired":
      // "Job exceeded maximum time to live" (§3, §8).
      return failed("expired", reason || "The video provider let this job expire.");
    default:
      // "in_progress", and any status added later.
      return state("in_progress", Math.max(5, estimate()));
  }
}

const envelope = z.object({
  error: z
    .union([
      z.string().transform((message) => ({ message, metadata: null })),
      z.object({
        message: lenientText,
        metadata: z
          .object({ error_type: lenientText, provider_code: lenientCode })
          .nullish()
          .catch(null),
      }),
    ])
    .nullish()
    .catch(null),
  message: lenientText,
});

/**
 * Maps a failed response. The envelope's `error.code` only repeats the HTTP status (§1), so the
 * labels are `metadata.error_type` and `metadata.provider_code`; `metadata.raw` (the provider's
 * own text) is never read. A refusal on content grounds carries words only, so those become a
 * policy code here. 402 (no credits) is an operator problem, not the caller's input.
 */
export async function openRouterError(
  response: Response,
  options: { what: string; now: number; redact: readonly string[] },
): Promise<ProviderError> {
  const { text, json } = await readBody(response, "error").catch(() => ({ text: "", json: null }));
  const parsed = envelope.safeParse(json ?? {});
  const body = parsed.success ? parsed.data : { error: null, message: null };
  const message = body.error?.message ?? body.message ?? (json === undefined ? text : "") ?? "";
  const type = body.error?.metadata?.error_type ?? null;
  const providerCode = body.error?.metadata?.provider_code ?? null;
  const { status } = response;
  const policy = status >= 400 && status < 500 && POLICY_WORDS.test(message);
  const code = policy ? "content_policy_violation" : providerCode;
  const error = upstreamFailure(
    status,
    response.headers,
    { message: message.slice(0, 1_000), type, code },
    options,
  );
  if (status === 402) {
    const publicMessage = "The video provider account has no credits left.";
    return new ProviderError("misconfigured", publicMessage, error.detail);
  }
  return error;
}
