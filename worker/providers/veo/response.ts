/**
 * What the Gemini API says about Veo jobs, read and mapped: the long-running operation, Google's
 * error envelope, and the thin webhook payload. Kept apart from `veo.ts` (which sends requests)
 * so each file stays small. Facts: docs/providers/veo.md §1 and §12.1.
 */
import { z } from "zod";
import { ProviderError } from "../errors";
import { readBody } from "../kit/body";
import { upstreamFailure } from "../kit/errors";
import { estimatedProgress } from "../kit/progress";
import { sanitizeUpstreamText } from "../kit/sanitize";
import type { UpstreamState } from "../types";

/** An operation name as `predictLongRunning` returns it (§1 "Create"); it becomes a URL path. */
export const OPERATION_NAME = /^models\/[\w.-]+\/operations\/[\w-]+$/;

/** "Stored on the server for 2 days" (§1 "Result"). */
const RETENTION_SECONDS = 2 * 24 * 60 * 60;

const text = z.string().optional().catch(undefined);
const sample = z.object({ video: z.object({ uri: text }).optional().catch(undefined) });
/** The filter fields sit in `generateVideoResponse`; read them one level up too (Vertex shape). */
const filtered = {
  raiMediaFilteredCount: z.coerce.number().optional().catch(undefined),
  raiMediaFilteredReasons: z.array(z.coerce.string()).optional().catch(undefined),
};

/**
 * `GET /v1beta/{name}` (§1 "Status"), read leniently: proto3 JSON omits `done: false`, and hosts
 * add fields. Only what we act on is kept.
 */
export const veoOperation = z.object({
  done: z.boolean().optional().catch(undefined),
  error: z
    .object({
      code: z.union([z.number(), z.string()]).optional().catch(undefined),
      message: text,
      status: text,
    })
    .nullish()
    .catch(null),
  response: z
    .object({
      ...filtered,
      generateVideoResponse: z
        .object({
          ...filtered,
          generatedSamples: z.array(sample.catch({})).optional().catch(undefined),
        })
        .optional()
        .catch(undefined),
    })
    .nullish()
    .catch(null),
});
export type VeoOperation = z.infer<typeof veoOperation>;

/** gRPC status names by number (google.rpc.Code): an operation's `error.code` is numeric. */
const GRPC_NAMES: Record<number, string> = {
  1: "CANCELLED",
  2: "UNKNOWN",
  3: "INVALID_ARGUMENT",
  4: "DEADLINE_EXCEEDED",
  5: "NOT_FOUND",
  7: "PERMISSION_DENIED",
  8: "RESOURCE_EXHAUSTED",
  9: "FAILED_PRECONDITION",
  13: "INTERNAL",
  14: "UNAVAILABLE",
  16: "UNAUTHENTICATED",
};

/** Words Google uses when a refusal is about content, not form. */
const POLICY_WORDS =
  /safety|polic(y|ies)|guideline|responsible ai|prohibited|celebrit|public figure|prominent/i;
/** `personGeneration` refusals are about a setting, so they stay `input_rejected` (§1, 3P forum). */
const PERSON_SETTING = /person_?generation|allow_adult|allow_all|dont_allow/i;

export interface MappedOperation {
  state: UpstreamState;
  /** The result's file URI, when completed. Checked by the caller before use. */
  videoUri: string | null;
  /** For the operator's log only: never shown to a client. */
  hint: string | null;
}

interface MapContext {
  now: number;
  startedAt?: number;
  typicalMs: number;
  redact: readonly string[];
}

/**
 * Maps an operation onto our states (§12.1): not done → in_progress with an estimate (Veo has
 * no progress, §11.4); done + error → failed by gRPC code; done + a sample → completed; done
 * without samples → failed, as a safety block when the RAI filter fields say so. LiteLLM treats
 * any `done` as completed (§1); that is the bug this function exists to avoid.
 */
export function mapOperation(op: VeoOperation, ctx: MapContext): MappedOperation {
  if (op.done !== true) {
    const elapsed = ctx.startedAt === undefined ? 0 : ctx.now - ctx.startedAt;
    const progress = Math.min(99, estimatedProgress(elapsed, ctx.typicalMs));
    return { state: running(progress), videoUri: null, hint: null };
  }
  if (op.error) return failure(op.error, ctx.redact);
  const result = op.response?.generateVideoResponse;
  const uri = result?.generatedSamples?.find((s) => s.video?.uri)?.video?.uri;
  if (uri) {
    const expiresAt = Math.floor(ctx.now / 1000) + RETENTION_SECONDS;
    return {
      state: { status: "completed", progress: 100, error: null, expiresAt },
      videoUri: uri,
      hint: null,
    };
  }
  const reasons = [
    ...(result?.raiMediaFilteredReasons ?? []),
    ...(op.response?.raiMediaFilteredReasons ?? []),
  ];
  const count = result?.raiMediaFilteredCount ?? op.response?.raiMediaFilteredCount ?? 0;
  if (count > 0 || reasons.length > 0) {
    // Reasons are sentences or bare support codes ("58061214"); say which is which.
    const words = reasons.map((r) => (/^\d+$/.test(r.trim()) ? `support code ${r.trim()}` : r));
    const said = sanitizeUpstreamText(words.join("; "), ctx.redact);
    const message = `Google's safety filters held the video back${said ? `: ${said}` : "."}`;
    return failed("policy_violation", message, null);
  }
  return failed("provider_error", "The video provider finished without a video.", null);
}

function running(progress: number): UpstreamState {
  return { status: "in_progress", progress, error: null, expiresAt: null };
}

function failed(
  code: NonNullable<UpstreamState["error"]>["code"],
  message: string,
  hint: string | null,
): MappedOperation {
  return {
    state: { status: "failed", progress: 0, error: { code, message }, expiresAt: null },
    videoUri: null,
    hint,
  };
}

/** An operation's `error {code, message}` (google.rpc.Status) in our terms. */
function failure(
  error: NonNullable<VeoOperation["error"]>,
  redact: readonly string[],
): MappedOperation {
  const name =
    error.status?.toUpperCase() ??
    (typeof error.code === "number" ? GRPC_NAMES[error.code] : error.code?.toUpperCase()) ??
    "UNKNOWN";
  const reason = sanitizeUpstreamText(error.message ?? "", redact);
  const hint = (why: string) => `${name}: ${why}${reason ? ` (${reason})` : ""}`;
  switch (name) {
    case "INVALID_ARGUMENT":
      if (POLICY_WORDS.test(reason) && !PERSON_SETTING.test(reason)) {
        return failed("policy_violation", `Google refused this video: ${reason}`, null);
      }
      return failed(
        "input_rejected",
        `The video provider rejected the input${reason ? `: ${reason}` : "."}`,
        null,
      );
    case "PERMISSION_DENIED":
    case "UNAUTHENTICATED":
    case "FAILED_PRECONDITION":
      // An operator problem (key, billing, region, model access): the person cannot fix it.
      return failed(
        "provider_error",
        "The video provider could not make this video.",
        hint("check the Gemini API key, its billing and its access to this Veo model"),
      );
    case "RESOURCE_EXHAUSTED":
      return failed(
        "provider_error",
        "The video provider's rate limit or quota was reached; try again later.",
        hint("rate/quota"),
      );
    case "DEADLINE_EXCEEDED":
      return failed("timeout", "The video provider took too long to make this video.", null);
    case "CANCELLED":
      return failed("cancelled", "The video provider cancelled this job.", null);
    default:
      return failed(
        "provider_error",
        reason
          ? `The video provider could not make this video: ${reason}`
          : "The video provider could not make this video.",
        hint("upstream failure"),
      );
  }
}

/** Google's error envelope `{error:{code, message, status, details[]}}` (Gemini troubleshooting). */
const googleError = z.object({
  error: z.object({
    message: text,
    status: text,
    details: z
      .array(z.object({ reason: text, retryDelay: text }).catch({}))
      .optional()
      .catch(undefined),
  }),
});

/**
 * A failed HTTP answer as a `ProviderError`. Google answers a bad key with 400 INVALID_ARGUMENT
 * (reason API_KEY_INVALID) and a billing/region problem with 400 FAILED_PRECONDITION (Gemini
 * troubleshooting page, not §1): both are operator problems, not the caller's input. The rest
 * goes through the shared mapping, with `status` as the label and `RetryInfo.retryDelay` as a
 * 429's wait when no `retry-after` header says otherwise.
 */
export async function veoErrorFromResponse(
  response: Response,
  options: { what: string; now: number; redact: readonly string[] },
): Promise<ProviderError> {
  const { text, json } = await readBody(response, "error").catch(() => ({ text: "", json: null }));
  const parsed = googleError.safeParse(json);
  const { status: code, headers } = response;
  if (!parsed.success) {
    return upstreamFailure(
      code,
      headers,
      { message: text.slice(0, 1_000), type: null, code: null },
      options,
    );
  }
  const { message = "", status = "", details = [] } = parsed.data.error;
  const reasons = details.map((d) => d.reason).filter(Boolean);
  const label = { message, type: status || null, code: reasons[0] ?? null };
  const error = upstreamFailure(code, headers, label, options);
  const detail = error.detail;
  if (reasons.includes("API_KEY_INVALID") || /api key not valid/i.test(message)) {
    return new ProviderError(
      "misconfigured",
      "The video provider rejected the worker's credentials.",
      detail,
    );
  }
  if (status === "FAILED_PRECONDITION") {
    return new ProviderError(
      "misconfigured",
      "The video provider is not available to this deployment.",
      `${detail} — check billing and the region the worker calls from`,
    );
  }
  if (
    error.kind === "input_rejected" &&
    POLICY_WORDS.test(message) &&
    !PERSON_SETTING.test(message)
  ) {
    return new ProviderError(
      "policy_violation",
      "The video provider refused this request on content policy grounds.",
      detail,
    );
  }
  if (error.kind === "rate_limited" && error.retryAfter === undefined) {
    const delay = details.map((d) => d.retryDelay).find(Boolean);
    const seconds = delay ? Number.parseFloat(delay) : Number.NaN; // "37s" → 37
    if (Number.isFinite(seconds) && seconds >= 0) {
      return new ProviderError(error.kind, error.publicMessage, detail, Math.ceil(seconds));
    }
  }
  return error;
}
