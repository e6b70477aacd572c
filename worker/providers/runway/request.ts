/**
 * Runway's shapes in our terms (docs/providers/runway.md §4, §12.1): what each
 * `image_to_video` model accepts and the body that asks for it, and a task read back as an
 * `UpstreamState`. Pure functions, no I/O: `runway.ts` does the talking.
 */
import { z } from "zod";
import { ProviderError } from "./errors";
import { sanitizeUpstreamText } from "./upstream-errors";
import type { CreateInput, FailureCode, UpstreamState } from "./types";

/** A data URI `promptImage` may be at most 5 MB, header included (§4, docs "assets/inputs"). */
export const RUNWAY_DATA_URI_MAX_BYTES = 5_000_000;
/** `promptText` is capped at 1000 UTF-16 code units (§4), which is what `String.length` counts. */
export const RUNWAY_PROMPT_MAX_UNITS = 1000;
/** How long a result stays downloadable: the low end of "24–48 hours" (§4 Result). */
const RESULT_TTL_SECONDS = 24 * 3600;

/** `flag`: the body takes `audio`; `always`/`never`: fixed; `unknown`: no switch, unconfirmed. */
type AudioSupport = "flag" | "always" | "never" | "unknown";

/** What one `image_to_video` model accepts (§4 Create, [SDK] image-to-video.ts). */
export interface RunwayModel {
  /** Runway's `W:H` ratios; ours are the same pixels written `WxH`. */
  ratios: readonly string[];
  durations: readonly number[];
  audio: AudioSupport;
  /** Whether the body may carry `contentModeration.publicFigureThreshold`. */
  moderation: boolean;
}

const GEN4_RATIOS = ["1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672"];
const VEO31_RATIOS = ["1280:720", "720:1280", "1080:1920", "1920:1080"];
const LANDSCAPE_PORTRAIT = ["1280:720", "720:1280"];
const between = (from: number, to: number) =>
  Array.from({ length: to - from + 1 }, (_, i) => from + i);

/**
 * The models this adapter can drive, by Runway model id (the route's `upstream_model`). Others
 * (seedance2…, happyhorse_1_0) take different bodies and are refused as misconfigured.
 */
export const RUNWAY_MODELS: Readonly<Record<string, RunwayModel>> = {
  "gen4.5": { ratios: GEN4_RATIOS, durations: between(2, 10), audio: "never", moderation: true },
  // §4 gives gen4_turbo "same ratios, optional duration" but no range: gen4.5's 2–10 is assumed.
  gen4_turbo: { ratios: GEN4_RATIOS, durations: between(2, 10), audio: "never", moderation: true },
  "veo3.1": { ratios: VEO31_RATIOS, durations: [4, 6, 8], audio: "flag", moderation: false },
  "veo3.1_fast": { ratios: VEO31_RATIOS, durations: [4, 6, 8], audio: "flag", moderation: false },
  // veo3 costs veo3.1's with-audio price (§4 Price): it always makes sound. Ratios per the SDK.
  veo3: { ratios: LANDSCAPE_PORTRAIT, durations: [8], audio: "always", moderation: false },
  // §4 says nothing of its sound: an explicit `audio` either way is refused rather than guessed.
  gemini_omni_flash: {
    ratios: LANDSCAPE_PORTRAIT,
    durations: between(3, 10),
    audio: "unknown",
    moderation: false,
  },
};

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

/**
 * The `image_to_video` body for `input`, or an `input_rejected` naming what the model accepts
 * (checked before any request). An unknown model is an operator mistake: `misconfigured`.
 */
export function runwayCreateBody(
  input: CreateInput,
  publicFigureThreshold?: "auto" | "low",
): Record<string, unknown> {
  // hasOwn: "__proto__" or "constructor" must not look like a model.
  const model = Object.hasOwn(RUNWAY_MODELS, input.model) ? RUNWAY_MODELS[input.model] : undefined;
  if (!model) {
    const known = Object.keys(RUNWAY_MODELS).join(", ");
    const detail = `upstream_model ${input.model} is not one of ${known}`;
    throw new ProviderError("misconfigured", "The video provider is not configured.", detail);
  }
  const refuse = (message: string) => new ProviderError("input_rejected", message);
  const name = input.model;
  if (!input.image) throw refuse(`${name} on Runway needs an input image.`);
  const ratio = input.size.replace("x", ":");
  if (!model.ratios.includes(ratio)) {
    const sizes = model.ratios.map((r) => r.replace(":", "x")).join(", ");
    throw refuse(`${name} accepts these sizes: ${sizes}.`);
  }
  const duration = Number(input.seconds);
  if (!model.durations.includes(duration)) {
    throw refuse(`${name} accepts these durations in seconds: ${model.durations.join(", ")}.`);
  }
  const { audio } = input;
  const audioOk =
    audio === undefined ||
    model.audio === "flag" ||
    (model.audio === "always" && audio) ||
    (model.audio === "never" && !audio);
  if (!audioOk) throw refuse(`${name} on Runway has no audio switch; leave audio out.`);
  if (input.prompt.length > RUNWAY_PROMPT_MAX_UNITS) {
    throw refuse(`${name} accepts a prompt of at most ${RUNWAY_PROMPT_MAX_UNITS} characters.`);
  }
  const { bytes, mime } = input.image;
  const head = `data:${mime};base64,`;
  const uriBytes = head.length + 4 * Math.ceil(bytes.length / 3);
  if (uriBytes > RUNWAY_DATA_URI_MAX_BYTES) {
    // Base64 adds a third, so the limit on the image itself is about 3.7 MB.
    throw refuse("Runway accepts an input image of at most 5 MB once encoded (about 3.7 MB).");
  }
  return {
    model: name,
    promptImage: head + base64(bytes),
    ...(input.prompt ? { promptText: input.prompt } : {}),
    ratio,
    duration,
    ...(model.audio === "flag" && audio !== undefined ? { audio } : {}),
    ...(model.moderation && publicFigureThreshold
      ? { contentModeration: { publicFigureThreshold } }
      : {}),
  };
}

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

/** Base64 in 32 KiB slices: spreading a whole image into `fromCharCode` would overflow the stack. */
function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
