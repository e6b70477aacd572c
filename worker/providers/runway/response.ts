/**
 * Runway's answers in our terms (docs/providers/runway.md §4, §12.1): a task read back as an
 * `UpstreamState`, and which result URLs may be fetched (without the key).
 */
import { z } from "zod";
import { unreadable } from "../kit/body";
import { sanitizeUpstreamText } from "../kit/sanitize";
import type { FailureCode, UpstreamState } from "../types";

/** How long a result stays downloadable: the low end of "24–48 hours" (§4 Result). */
const RESULT_TTL_SECONDS = 24 * 3600;

/** `GET /v1/tasks/{id}` ([SDK] tasks.ts), read leniently: odd fields fall back, extras are ignored. */
export const runwayTask = z.object({
  id: z.string(),
  status: z.string(),
  progress: z.number().nullish().catch(null),
  output: z.array(z.string()).nullish().catch(null),
  failure: z.string().nullish().catch(null),
  failureCode: z.string().nullish().catch(null),
});
export type RunwayTask = z.infer<typeof runwayTask>;

export interface StateContext {
  estimate: () => number;
  nowSeconds: number;
  redact: readonly string[];
}

/** Runway's task states onto ours (§12.1). Unknown words keep polling; the job then times out. */
export function runwayTaskState(task: RunwayTask, c: StateContext): UpstreamState {
  const state = (status: UpstreamState["status"], progress: number) =>
    ({ status, progress, error: null, expiresAt: null }) satisfies UpstreamState;
  switch (task.status) {
    case "PENDING":
    // THROTTLED: over the organisation's concurrency tier; Runway queues it by itself (§4).
    case "THROTTLED":
      return state("queued", 0);
    case "SUCCEEDED":
      if (!task.output?.[0]) {
        return {
          ...state("failed", 0),
          error: failed("provider_error", "", "finished with no video"),
        };
      }
      // Runway gives no completion time; this first sight of it is close enough.
      return { ...state("completed", 100), expiresAt: c.nowSeconds + RESULT_TTL_SECONDS };
    case "FAILED":
      return { ...state("failed", 0), error: mapFailure(task, c.redact) };
    case "CANCELLED":
      return { ...state("failed", 0), error: failed("cancelled", "", "was cancelled") };
    default:
      return state("in_progress", runningProgress(task.progress, c.estimate));
  }
}

/**
 * The SDK documents `progress` as 0–1, but its scale is UNCONFIRMED (§4, §13): a value above 1
 * can only be a percentage. Capped at 99: only SUCCEEDED is 100.
 */
function runningProgress(raw: number | null | undefined, estimate: () => number): number {
  if (raw === null || raw === undefined || !Number.isFinite(raw)) return estimate();
  const percent = raw > 1 ? raw : raw * 100;
  return Math.min(99, Math.max(0, Math.floor(percent)));
}

/** `failureCode` is dot-separated, most generic first (§4, [SDK] tasks.ts). */
function mapFailure(task: RunwayTask, redact: readonly string[]): UpstreamState["error"] {
  const code = task.failureCode ?? "";
  const reason = sanitizeUpstreamText(task.failure ?? "", redact);
  if (/^SAFETY(\.|$)/.test(code))
    return failed("policy_violation", reason, "was refused on content safety grounds");
  if (/^ASSET(\.|$)/.test(code))
    return failed("input_rejected", reason, "could not use the input image");
  if (/TIMEOUT/.test(code)) return failed("timeout", reason, "took too long");
  return failed("provider_error", reason, "could not make this video");
}

function failed(code: FailureCode, reason: string, fallback: string) {
  return { code, message: reason || `The video provider ${fallback}.` };
}

/** True for a plain https URL on one of the route's `output_hosts` (or a subdomain). */
export function onOutputHost(url: URL, hosts: readonly string[]): boolean {
  const host = url.hostname;
  return (
    url.protocol === "https:" &&
    !url.username &&
    !url.password &&
    url.port === "" &&
    hosts.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))
  );
}

/** The result URL exactly as returned, once it is https on an allowed host; else bad_response. */
export function checkedOutputUrl(raw: string, hosts: readonly string[]): string {
  const url = URL.canParse(raw) ? new URL(raw) : null;
  const host = url?.hostname ?? "";
  if (!url || !onOutputHost(url, hosts)) {
    // The host only: the rest of a signed URL is a credential.
    const where = url ? `host ${host} over ${url.protocol.slice(0, -1)}` : "an unparseable URL";
    throw unreadable(`result URL not allowed by output_hosts: ${where}`);
  }
  return raw;
}
