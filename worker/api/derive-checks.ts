/**
 * Checks an extension or edit against the route that will make it, before anything is spent:
 * which route (the request's `model`, else the source's own, else the first that can), that it
 * can do this at all (naming the routes that can), the source's structure, size and length, and
 * the segment to add. Every refusal names its field.
 */
import type { Config, Route } from "../config";
import { invalidRequest } from "../errors";
import { checkMp4, type VideoInfo } from "../media/video";
import { operationsOf } from "../providers/registry";
import { resolveRoute } from "./checks";

export type Operation = "extension" | "edit";

const VERB = { extension: "extend", edit: "edit" } as const;

const can = (route: Route, operation: Operation) =>
  operation === "extension" ? route.extend !== undefined : route.edit !== undefined;

/**
 * The route an extension or edit runs on. `model` wins; then the source video's own route; an
 * upload without `model` takes the first route that can. A route that cannot answers a 400
 * listing those that can, so the caller can retry with `model`.
 */
export function deriveRoute(
  config: Config,
  operation: Operation,
  model: string | undefined,
  sourceRoute: string | null,
): Route {
  const able = config.routes.filter((route) => can(route, operation));
  const chosen =
    model !== undefined
      ? resolveRoute(config, model)
      : sourceRoute !== null
        ? config.routes.find((route) => route.id === sourceRoute)
        : able[0];
  if (chosen && can(chosen, operation)) return chosen;
  const others = able.map((route) => route.id);
  const alternatives = others.length
    ? `Models that can: ${others.join(", ")} (pass one as model).`
    : `No model here can ${VERB[operation]} videos.`;
  const subject = chosen ? `${chosen.id} cannot ${VERB[operation]} videos.` : "";
  throw invalidRequest(
    `${subject} ${alternatives}`.trim(),
    model !== undefined ? "model" : "video",
    "unsupported_for_model",
  );
}

/**
 * A route whose provider continues only its own output (Veo) takes only its own videos: an
 * upload or another route's video is refused before anything is spent, saying what works.
 */
export function checkSourceReach(
  route: Route,
  operation: Operation,
  sourceRoute: string | null,
): void {
  const reach = operationsOf(route.provider)[operation === "extension" ? "extend" : "edit"];
  if (reach !== "own" || sourceRoute === route.id) return;
  throw invalidRequest(
    `${route.id} can only ${VERB[operation]} videos it made itself: send video: { id } of one of its videos.`,
    "video",
    "source_not_supported",
  );
}

/** An uploaded source judged by its structure (worker/media/video.ts), never its name or type. */
export function checkUploadedVideo(bytes: Uint8Array): VideoInfo {
  const checked = checkMp4(bytes);
  if (!checked.ok) {
    throw invalidRequest(
      `video is not a well-formed MP4: ${checked.problem}. Upload an MP4 file (H.264, H.265, AV1 or VP9).`,
      "video",
      "invalid_video",
    );
  }
  return checked.info;
}

/** The result keeps its source's frame, so the source must be one of the route's sizes. */
export function checkSourceSize(route: Route, size: string): void {
  if (!route.sizes.includes(size)) {
    throw invalidRequest(
      `The source video is ${size}; ${route.id} makes ${route.sizes.join(" or ")}. Send a video of one of those sizes.`,
      "video",
      "unsupported_size",
    );
  }
}

/**
 * Whole seconds a source is priced and reported as (at least 1): rounded up (a 4.4 s video is 5 s of work),
 * with 50 ms of slack for the few milliseconds encoders add at the end.
 */
export const wholeSeconds = (durationSeconds: number) =>
  Math.max(1, Math.ceil(durationSeconds - 0.05));

/**
 * An extension adds one of the route's segment lengths, and the stitched whole must fit its
 * limit. Returns the segment and the total, both as OpenAI's strings.
 */
export function checkExtension(
  route: Route,
  segment: string,
  sourceSeconds: number,
): { seconds: string; totalSeconds: string } {
  const extend = route.extend!;
  if (!extend.seconds.includes(segment)) {
    throw invalidRequest(
      `seconds "${segment.slice(0, 8)}" is not a length ${route.id} can add. Allowed: ${extend.seconds.join(", ")}.`,
      "seconds",
      "unsupported_seconds",
    );
  }
  const total = wholeSeconds(sourceSeconds) + Number(segment);
  if (total > extend.max_total_seconds) {
    throw invalidRequest(
      `The source is ${wholeSeconds(sourceSeconds)} s; adding ${segment} s makes ${total} s, but ${route.id} makes videos of at most ${extend.max_total_seconds} s. Add less, or extend a shorter video.`,
      "seconds",
      "video_too_long",
    );
  }
  return { seconds: segment, totalSeconds: String(total) };
}

/** An edit keeps its source's length, up to the route's limit. */
export function checkEdit(route: Route, sourceSeconds: number): string {
  const seconds = wholeSeconds(sourceSeconds);
  if (seconds > route.edit!.max_source_seconds) {
    throw invalidRequest(
      `The source is ${seconds} s; ${route.id} edits videos of at most ${route.edit!.max_source_seconds} s. Trim it first.`,
      "video",
      "video_too_long",
    );
  }
  return String(seconds);
}
