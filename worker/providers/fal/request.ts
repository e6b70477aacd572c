/**
 * What the adapter sends to fal (docs/providers/fal.md §2): fixed hosts, and the model's own
 * input object (no wrapper), refusing what the route's model cannot do before any request.
 */
import { ProviderError } from "../errors";
import { sizeParts } from "../kit/sizes";
import type { CreateInput, EditInput, ExtendInput } from "../types";
import type { FalProviderOptions } from "./options";

/** Fixed, like every fal URL: never configurable, never taken from an answer. */
export const QUEUE_BASE = "https://queue.fal.run";
/** `fal-cdn-v3` is what current fal clients request (§2 "Image"; fal-js `storage.ts`). */
export const UPLOAD_INITIATE_URL =
  "https://rest.alpha.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3";

/** The model's own input (no wrapper, §2), refusing what the route's model cannot do. */
export function mapInput(options: FalProviderOptions, input: CreateInput): Record<string, unknown> {
  const refuse = (what: string, allowed: readonly unknown[]) =>
    new ProviderError(
      "input_rejected",
      `${options.model_path} accepts these ${what}: ${allowed.join(", ")}`,
    );
  const seconds = Number(input.seconds);
  if (!options.durations.includes(seconds)) throw refuse("durations (seconds)", options.durations);
  const { aspect, resolution } = sizeParts(input.size);
  if (options.aspect_ratios && !options.aspect_ratios.includes(aspect))
    throw refuse("aspect ratios", options.aspect_ratios);
  if (options.resolutions && !options.resolutions.includes(resolution))
    throw refuse("resolutions", options.resolutions);

  const body: Record<string, unknown> = { ...options.extra_input, prompt: input.prompt };
  body[options.duration_field] =
    options.duration_format === "integer"
      ? seconds
      : `${seconds}${options.duration_format === "seconds_s" ? "s" : ""}`;
  if (options.aspect_field) body[options.aspect_field] = aspect;
  if (options.resolution_field) body[options.resolution_field] = resolution;
  if (options.audio_field && input.audio !== undefined) body[options.audio_field] = input.audio;
  return body;
}

/**
 * An extension's or edit's input (docs/providers/fal.md "Extensions and edits"): the prompt,
 * the source as a fal storage URL in `video_field`, and for an extension the added length in the
 * route's duration field and format. Create-only inputs (`extra_input`, image, aspect) are not
 * sent: these endpoints have their own schemas.
 */
export function mapDerivedInput(
  options: FalProviderOptions,
  input: ExtendInput | EditInput,
  videoUrl: string,
  extension: boolean,
): Record<string, unknown> {
  const body: Record<string, unknown> = { prompt: input.prompt, [options.video_field]: videoUrl };
  if (extension) {
    const seconds = Number(input.seconds);
    body[options.duration_field] =
      options.duration_format === "integer"
        ? seconds
        : `${seconds}${options.duration_format === "seconds_s" ? "s" : ""}`;
  }
  return body;
}
