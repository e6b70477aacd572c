/**
 * The prediction Replicate is asked for (docs/providers/replicate.md §3 "Create"): the model's
 * own inputs, refusing what the route's model cannot do before any request is sent.
 */
import { ProviderError } from "../errors";
import { dataUri } from "../kit/bytes";
import { sizeParts } from "../kit/sizes";
import type { CreateInput, EditInput, ExtendInput } from "../types";
import type { ReplicateProviderOptions } from "./options";

/** The JS client refuses to inline more than this as data URIs (§3 "Create", `MAX_DATA_URI_SIZE`). */
export const MAX_INLINE_IMAGE_BYTES = 10_000_000;

/** `{input, webhook?, webhook_events_filter?}`, refusing what the model cannot do first. */
export function createBody(options: ReplicateProviderOptions, input: CreateInput, signed: boolean) {
  const { model } = options;
  const refuse = (message: string) => new ProviderError("input_rejected", message);
  const { aspect, resolution } = sizeParts(input.size);
  const seconds = Number(input.seconds);
  if (!options.durations.includes(seconds)) {
    throw refuse(`${model} accepts durations (seconds): ${options.durations.join(", ")}`);
  }
  if (options.aspect_ratios && !options.aspect_ratios.includes(aspect)) {
    throw refuse(`${model} accepts aspect ratios: ${options.aspect_ratios.join(", ")}`);
  }
  if (options.resolutions && !options.resolutions.includes(resolution)) {
    throw refuse(`${model} accepts resolutions: ${options.resolutions.join(", ")}`);
  }
  if (input.audio !== undefined && !options.audio_field) {
    throw refuse(`${model} has no audio switch: leave audio out`);
  }
  const fields: Record<string, unknown> = { ...options.extra_input, prompt: input.prompt };
  fields[options.duration_field] = seconds;
  if (options.aspect_field) fields[options.aspect_field] = aspect;
  if (options.resolution_field) fields[options.resolution_field] = resolution;
  if (options.audio_field && input.audio !== undefined) fields[options.audio_field] = input.audio;
  if (input.image) {
    const { bytes, mime } = input.image;
    if (bytes.length > MAX_INLINE_IMAGE_BYTES) {
      const mb = (bytes.length / 1_000_000).toFixed(1);
      throw refuse(`Replicate accepts input images up to 10 MB; this one is ${mb} MB`);
    }
    // Inline as a data URI (§11.2): nothing of ours has to be publicly reachable.
    fields[options.image_field] = dataUri(mime, bytes);
  }
  return withWebhook({ input: fields }, input.webhookUrl, signed);
}

/** The prediction body for an edit: the edit model's inputs, the source named by its file URL. */
export function editBody(
  edit: NonNullable<ReplicateProviderOptions["edit"]>,
  input: EditInput,
  videoUrl: string,
  signed: boolean,
) {
  const fields: Record<string, unknown> = { ...edit.extra_input, prompt: input.prompt };
  fields[edit.video_field] = videoUrl;
  if (edit.aspect_field) fields[edit.aspect_field] = sizeParts(input.source.size).aspect;
  if (edit.duration_field) fields[edit.duration_field] = Number(input.seconds);
  return withWebhook({ input: fields }, input.webhookUrl, signed);
}

/**
 * The prediction body for an extension. The model is told the stitched total or the segment,
 * as its duration field counts; either way the job reports the total (OpenAI's `seconds`).
 */
export function extendBody(
  extend: NonNullable<ReplicateProviderOptions["extend"]>,
  input: ExtendInput,
  videoUrl: string,
  signed: boolean,
) {
  const fields: Record<string, unknown> = { ...extend.extra_input, prompt: input.prompt };
  fields[extend.video_field] = videoUrl;
  const seconds = extend.duration_is === "total" ? input.totalSeconds : input.seconds;
  fields[extend.duration_field] = Number(seconds);
  if (extend.resolution_field) {
    fields[extend.resolution_field] = sizeParts(input.source.size).resolution;
  }
  return withWebhook({ input: fields }, input.webhookUrl, signed);
}

/** Only a signed receiver may be named, and Replicate cannot reach a local dev server. */
function withWebhook(
  body: Record<string, unknown>,
  webhookUrl: string | undefined,
  signed: boolean,
) {
  if (signed && webhookUrl?.startsWith("https://")) {
    body.webhook = webhookUrl;
    body.webhook_events_filter = ["completed"];
  }
  return body;
}
