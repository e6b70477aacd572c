/**
 * The body of a Veo create (docs/providers/veo.md §1 "Create"), built only after refusing — with the list
 * of what the model can do — anything it cannot, so no request is sent for it.
 */
import { ProviderError } from "../errors";
import { base64 } from "../kit/bytes";
import { sizeParts } from "../kit/sizes";
import type { CreateInput, ExtendInput } from "../types";
import type { VeoProviderOptions } from "./options";

/** §1 "Allowed values": 16:9 or 9:16 at 720p, 1080p or 4k; 4, 6 or 8 s; 8 s at 1080p/4k. */
const SIZES = ["1280x720", "720x1280", "1920x1080", "1080x1920", "3840x2160", "2160x3840"];
const SECONDS = ["4", "6", "8"];
const LONG_ONLY_SECONDS = "8";
/** The Gemini API's inline request limit is 20 MB and base64 adds a third (§1 "Input image"). */
const MAX_IMAGE_BYTES = 14 * 1024 * 1024;
const MODEL_ID = /^[a-z0-9][\w.-]{0,99}$/;

/**
 * `{instances:[{prompt, image?}], parameters}` for `predictLongRunning`, or a refusal. Audio
 * cannot be switched off on the Gemini API (`generateAudio` is Vertex-only, §1), so asking for
 * silence is refused rather than ignored.
 */
export function requestBody(
  input: CreateInput,
  options: Pick<VeoProviderOptions, "person_generation" | "negative_prompt">,
) {
  const { model } = input;
  if (!MODEL_ID.test(model)) {
    throw new ProviderError(
      "misconfigured",
      "The video provider is not configured.",
      "upstream_model is not a Veo model id",
    );
  }
  if (input.audio === false) {
    throw new ProviderError(
      "input_rejected",
      "Veo on the Gemini API always makes sound; it cannot be switched off (use audio: true).",
    );
  }
  // 4K is not offered on 3.1 Lite (§1, 3P).
  const sizes = /lite/i.test(model) ? SIZES.filter((s) => !s.includes("3840")) : SIZES;
  if (!sizes.includes(input.size)) {
    throw new ProviderError("input_rejected", `${model} accepts sizes: ${sizes.join(", ")}`);
  }
  if (!SECONDS.includes(input.seconds)) {
    throw new ProviderError("input_rejected", `${model} accepts seconds: ${SECONDS.join(", ")}`);
  }
  const { aspect, resolution } = sizeParts(input.size);
  if (resolution !== "720p" && input.seconds !== LONG_ONLY_SECONDS) {
    const short = sizes.filter((s) => sizeParts(s).resolution === "720p");
    throw new ProviderError(
      "input_rejected",
      `${model} accepts ${input.size} only with seconds: ${LONG_ONLY_SECONDS}; ` +
        `for ${input.seconds} seconds it accepts sizes: ${short.join(", ")}`,
    );
  }
  if (input.image && input.image.bytes.byteLength > MAX_IMAGE_BYTES) {
    throw new ProviderError(
      "input_rejected",
      `${model} accepts input images up to ${MAX_IMAGE_BYTES / 1024 / 1024} MB`,
    );
  }
  const instance: Record<string, unknown> = { prompt: input.prompt };
  if (input.image) {
    instance.image = {
      bytesBase64Encoded: base64(input.image.bytes),
      mimeType: input.image.mime,
    };
  }
  const parameters: Record<string, unknown> = {
    aspectRatio: aspect,
    durationSeconds: Number(input.seconds),
    resolution,
  };
  if (options.person_generation) parameters.personGeneration = options.person_generation;
  if (options.negative_prompt) parameters.negativePrompt = options.negative_prompt;
  return { instances: [instance], parameters };
}

/**
 * Extension (docs/providers/veo.md "Extension"): Veo 3.1 continues a video it generated, by 7 s a
 * call, at 720p, up to 148 s in all; the answer is the stitched whole. The source goes back as
 * the `video.uri` its own operation returned (the SDKs' mldev form); `durationSeconds`,
 * `generateAudio` and images are not sent with it.
 */
export const EXTENSION_SECONDS = "7";
const MAX_EXTENSION_SOURCE_SECONDS = 141;

export function extensionBody(
  input: ExtendInput,
  options: Pick<VeoProviderOptions, "negative_prompt">,
  videoUri: string,
) {
  if (!/^veo-3\.1-(fast-)?generate/.test(input.model)) {
    throw new ProviderError(
      "misconfigured",
      "The video provider is not configured.",
      "only veo-3.1-generate and veo-3.1-fast-generate models extend videos",
    );
  }
  if (input.seconds !== EXTENSION_SECONDS) {
    throw new ProviderError("input_rejected", `Veo extends videos by ${EXTENSION_SECONDS} s only.`);
  }
  const { resolution } = sizeParts(input.source.size);
  if (resolution !== "720p") {
    throw new ProviderError("input_rejected", "Veo extends 720p videos only (1280x720, 720x1280).");
  }
  if (input.source.durationSeconds > MAX_EXTENSION_SOURCE_SECONDS) {
    throw new ProviderError(
      "input_rejected",
      `Veo extends videos up to ${MAX_EXTENSION_SOURCE_SECONDS} s long.`,
    );
  }
  const parameters: Record<string, unknown> = { resolution: "720p" };
  if (options.negative_prompt) parameters.negativePrompt = options.negative_prompt;
  return { instances: [{ prompt: input.prompt, video: { uri: videoUri } }], parameters };
}
