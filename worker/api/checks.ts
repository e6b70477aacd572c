/**
 * Checks a create request against its model route before anything is stored or spent. Every
 * refusal names the field and lists what is allowed, so a person can fix it in one go.
 */
import type { Config, Route } from "../config";
import { invalidRequest } from "../errors";
import { sniffImage } from "../media/image";
import { checkStructure } from "../media/structure";
import type { InputImage } from "../providers/types";

export function resolveRoute(config: Config, model: string | undefined): Route {
  const route = model === undefined ? config.routes[0]! : config.routes.find((r) => r.id === model);
  if (!route) {
    const allowed = config.routes.map((r) => r.id).join(", ");
    throw invalidRequest(
      `Unknown model "${quoted(model ?? "")}". Available models: ${allowed}.`,
      "model",
      "unknown_model",
    );
  }
  return route;
}

export function checkOptions(route: Route, size: string | undefined, seconds: string | undefined) {
  const chosenSize = size ?? route.default_size;
  if (!route.sizes.includes(chosenSize)) {
    throw invalidRequest(
      `size "${quoted(chosenSize)}" is not offered by ${route.id}. Allowed sizes: ${route.sizes.join(", ")}.`,
      "size",
      "unsupported_size",
    );
  }
  const chosenSeconds = seconds ?? route.default_seconds;
  if (!route.seconds.includes(chosenSeconds)) {
    throw invalidRequest(
      `seconds "${quoted(chosenSeconds)}" is not offered by ${route.id}. Allowed: ${route.seconds.join(", ")}.`,
      "seconds",
      "unsupported_seconds",
    );
  }
  return { size: chosenSize, seconds: chosenSeconds };
}

export function checkPrompt(route: Route, prompt: string, param = "prompt"): string {
  const trimmed = cleanText(prompt).trim();
  if (trimmed.length === 0)
    throw invalidRequest(
      "prompt is empty (or only invisible characters): describe what should happen in the video.",
      param,
    );
  if (trimmed.length > route.prompt_max_chars) {
    throw invalidRequest(
      `prompt is ${trimmed.length} characters; ${route.id} accepts at most ${route.prompt_max_chars}. Shorten it.`,
      param,
      "prompt_too_long",
    );
  }
  return trimmed;
}

/** Sniffs the image by its bytes (never the declared type) and checks the route takes one. */
export function readImage(route: Route, bytes: Uint8Array | null): InputImage | undefined {
  if (!bytes) {
    if (route.input_image === "required") {
      throw invalidRequest(
        `${route.id} needs an input image: send it as input_reference.`,
        "input_reference",
        "image_required",
      );
    }
    return undefined;
  }
  if (route.input_image === "none") {
    throw invalidRequest(
      `${route.id} does not take an input image; remove input_reference.`,
      "input_reference",
      "image_not_supported",
    );
  }
  return checkImageBytes(bytes, "input_reference");
}

/**
 * A well-formed JPEG, PNG or WebP by its bytes alone (the declared type is never trusted);
 * `param` names the field in every refusal. Shared by create and by file uploads.
 */
export function checkImageBytes(bytes: Uint8Array, param: string): InputImage {
  const sniffed = sniffImage(bytes);
  if (!sniffed.ok) {
    const what =
      sniffed.reason === "malformed"
        ? "is damaged or truncated"
        : `is ${sniffed.detected ?? "not an image we can read"}`;
    throw invalidRequest(
      `${param} ${what}. Upload a JPEG, PNG or WebP image.`,
      param,
      sniffed.reason === "malformed" ? "invalid_image" : "unsupported_image_type",
    );
  }
  // The whole container, not only its header: a valid header followed by anything else (an
  // HTML page, a second file) is not an image, and must not reach a paid provider.
  const structure = checkStructure(bytes, sniffed.mime);
  if (!structure.ok) {
    throw invalidRequest(
      `${param} is not a well-formed ${FORMAT[sniffed.mime]} image: ${structure.problem}. Upload the image file itself, exported again if need be.`,
      param,
      "invalid_image",
    );
  }
  return { bytes, mime: sniffed.mime, width: sniffed.width, height: sniffed.height };
}

const FORMAT = { "image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WebP" } as const;

/** When `size` is omitted, an image of one of the route's sizes picks it (OpenAI would 400). */
export function impliedSize(route: Route, image: InputImage | undefined): string | undefined {
  const size = image && `${image.width}x${image.height}`;
  return size && route.sizes.includes(size) ? size : undefined;
}

/** The image becomes the first frame, so it must be exactly `size` (OpenAI's rule). */
export function checkImageSize(image: InputImage | undefined, size: string): void {
  const actual = image && `${image.width}x${image.height}`;
  if (actual && actual !== size) {
    throw invalidRequest(
      `input_reference is ${actual} pixels but size is ${size}. Crop or resize the image to exactly ${size} (the widget does this for you).`,
      "input_reference",
      "image_size_mismatch",
    );
  }
}

/** `audio` is an extension: only routes whose model makes sound take it (default: the model's). */
export function checkAudio(route: Route, audio: boolean | undefined): boolean | undefined {
  if (audio && !route.audio) {
    throw invalidRequest(
      `${route.id} does not make sound; leave audio out.`,
      "audio",
      "audio_not_supported",
    );
  }
  return route.audio ? audio : undefined;
}

/**
 * Characters that hide or reorder text: C0/C1 controls other than tab and newline, the Arabic
 * letter mark, and every Unicode default-ignorable code point — bidi overrides and isolates,
 * directional marks, zero-width space, word joiner and invisible operators, soft hyphen, Hangul
 * fillers, variation selectors, the byte-order mark, and the tag characters that can spell out
 * a hidden instruction. Stripped from prompts before they are stored or sent, so a prompt reads
 * the same in a log, a dashboard and the provider's console. The zero-width (non-)joiners
 * stay: scripts and emoji sequences need them.
 */
const INVISIBLE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u061c]|\p{Default_Ignorable_Code_Point}/gu;

export function cleanText(text: string): string {
  return text.replace(INVISIBLE, (ch) => (ch === "\u200c" || ch === "\u200d" ? ch : ""));
}

/** A caller's value inside an error message: cleaned and cut short, never echoed whole. */
function quoted(value: string): string {
  const clean = cleanText(value);
  return clean.length > 40 ? `${clean.slice(0, 40)}…` : clean;
}
