/**
 * The body of `POST /videos` (docs/providers/openrouter.md §2): the route's model, the mapped
 * duration and size, the image as a first frame, and the callback. Pure functions, no I/O:
 * what the model cannot do is refused here, before any request is sent.
 */
import { ProviderError } from "../errors";
import { dataUri, isHttpsUrl } from "../kit/bytes";
import { sizeParts } from "../kit/sizes";
import type { CreateInput } from "../types";
import type { OpenRouterProviderOptions } from "./options";

/** Our `WxH` as OpenRouter's `resolution` word: the short side, `4K` for 2160 (§2 enum). */
export function openRouterResolution(size: string): string {
  const { resolution } = sizeParts(size);
  return resolution === "4k" ? "4K" : resolution;
}

/**
 * The create body for `input`, or `input_rejected` naming what the model accepts. `callbackUrl`
 * is the signed receiver, given only when the route can verify OpenRouter's signature.
 */
export function createBody(
  options: OpenRouterProviderOptions,
  input: CreateInput,
  callbackUrl?: string,
): Record<string, unknown> {
  const { model } = options;
  const refuse = (what: string, allowed: readonly unknown[]) =>
    new ProviderError("input_rejected", `${model} accepts these ${what}: ${allowed.join(", ")}`);
  const seconds = Number(input.seconds);
  if (!options.durations.includes(seconds)) throw refuse("durations (seconds)", options.durations);

  const body: Record<string, unknown> = { model };
  // "Optional for models that support generating a video from image input alone" (§2): an
  // empty prompt is left out rather than sent as "".
  if (input.prompt) body.prompt = input.prompt;
  body.duration = seconds;

  if (options.sizes) {
    if (!options.sizes.includes(input.size)) throw refuse("sizes", options.sizes);
    body.size = input.size;
  } else {
    const aspect = sizeParts(input.size).aspect;
    const resolution = openRouterResolution(input.size);
    const aspects: readonly string[] | undefined = options.aspect_ratios;
    const resolutions: readonly string[] | undefined = options.resolutions;
    if (aspects && !aspects.includes(aspect)) throw refuse("aspect ratios", aspects);
    if (resolutions && !resolutions.includes(resolution)) throw refuse("resolutions", resolutions);
    if (resolutions) body.resolution = resolution;
    if (aspects) body.aspect_ratio = aspect;
  }

  if (options.generate_audio === null) {
    if (input.audio !== undefined) {
      throw new ProviderError("input_rejected", `${model} has no audio switch: leave audio out`);
    }
  } else {
    // Always explicit: the upstream default follows the model's capability (§2 `generate_audio`).
    body.generate_audio = input.audio ?? options.generate_audio;
  }

  if (input.image) {
    // Inline as a data URL (§2 "How the image is passed"): nothing of ours must be reachable.
    const url = dataUri(input.image.mime, input.image.bytes);
    body.frame_images = [{ type: "image_url", image_url: { url }, frame_type: "first_frame" }];
  }
  // "Must be HTTPS" (§2 `callback_url`); a local dev server gets no callback and is polled.
  if (callbackUrl && isHttpsUrl(callbackUrl)) body.callback_url = callbackUrl;
  return body;
}
