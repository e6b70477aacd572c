/**
 * What Runway is asked for (docs/providers/runway.md §4): what each `image_to_video` model
 * accepts and the body that asks for it. Pure functions, no I/O: `index.ts` does the talking.
 */
import { ProviderError } from "../errors";
import { dataUri } from "../kit/bytes";
import type { CreateInput, EditInput } from "../types";

/** A data URI `promptImage` may be at most 5 MB, header included (§4, docs "assets/inputs"). */
export const RUNWAY_DATA_URI_MAX_BYTES = 5_000_000;
/** `promptText` is capped at 1000 UTF-16 code units (§4), which is what `String.length` counts. */
export const RUNWAY_PROMPT_MAX_UNITS = 1000;

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
  const uriBytes = `data:${mime};base64,`.length + 4 * Math.ceil(bytes.length / 3);
  if (uriBytes > RUNWAY_DATA_URI_MAX_BYTES) {
    // Base64 adds a third, so the limit on the image itself is about 3.7 MB.
    throw refuse("Runway accepts an input image of at most 5 MB once encoded (about 3.7 MB).");
  }
  return {
    model: name,
    promptImage: dataUri(mime, bytes),
    ...(input.prompt ? { promptText: input.prompt } : {}),
    ratio,
    duration,
    ...(model.audio === "flag" && audio !== undefined ? { audio } : {}),
    ...(model.moderation && publicFigureThreshold
      ? { contentModeration: { publicFigureThreshold } }
      : {}),
  };
}

/**
 * The `video_to_video` models this adapter drives (the route's `provider.edit_model`; facts in
 * docs/providers/runway.md §4a). `gen4_aleph` reads only the first 5 s of its source, so a
 * longer one would come back shorter than it was priced: refused. `aleph2` takes 2–30 s
 * (third-party figures, UNCONFIRMED) and may go without a prompt.
 */
export const RUNWAY_EDIT_MODELS = {
  gen4_aleph: { minSeconds: 1, maxSeconds: 5, promptRequired: true },
  aleph2: { minSeconds: 2, maxSeconds: 30, promptRequired: false },
} as const;
export type RunwayEditModel = keyof typeof RUNWAY_EDIT_MODELS;

/** A video data URI may be at most 16 MB (docs "assets/inputs"); larger needs an upload. */
export const RUNWAY_VIDEO_DATA_URI_MAX_BYTES = 16_000_000;

/**
 * The `video_to_video` body for an edit, or an `input_rejected` saying what the model takes
 * (checked before anything is read or sent). The source goes inline as a data URI: nothing of
 * ours has to be reachable from Runway, and no upload host has to be trusted.
 */
export function runwayEditBody(
  model: RunwayEditModel,
  input: EditInput,
  video: Uint8Array | null,
  publicFigureThreshold?: "auto" | "low",
): Record<string, unknown> {
  const limits = RUNWAY_EDIT_MODELS[model];
  const refuse = (message: string) => new ProviderError("input_rejected", message);
  const length = input.source.durationSeconds;
  if (length > limits.maxSeconds + 0.05 || length < limits.minSeconds) {
    throw refuse(
      `${model} on Runway edits videos of ${limits.minSeconds}–${limits.maxSeconds} s; this one is ${Math.round(length * 10) / 10} s.`,
    );
  }
  if (limits.promptRequired && !input.prompt) throw refuse(`${model} on Runway needs a prompt.`);
  if (input.prompt.length > RUNWAY_PROMPT_MAX_UNITS) {
    throw refuse(`${model} accepts a prompt of at most ${RUNWAY_PROMPT_MAX_UNITS} characters.`);
  }
  if (video === null) return {}; // the checks alone, before the source is read
  const uriBytes = "data:video/mp4;base64,".length + 4 * Math.ceil(video.length / 3);
  if (uriBytes > RUNWAY_VIDEO_DATA_URI_MAX_BYTES) {
    throw refuse("Runway accepts a source video of at most 16 MB once encoded (about 12 MB).");
  }
  return {
    model,
    videoUri: dataUri("video/mp4", video),
    ...(input.prompt ? { promptText: input.prompt } : {}),
    ...(publicFigureThreshold ? { contentModeration: { publicFigureThreshold } } : {}),
  };
}
