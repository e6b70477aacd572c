/**
 * Read-only questions about a state that the element and the views ask: the setup it holds,
 * the photos it keeps, the current route, whether the prompt can be sent, the time left.
 */
import type { ModelRoute } from "../api/types";
import type { FlowState, PendingPhoto, Setup, Waiting } from "./types";

/** The routes and draft a state holds (a failed state: those of where it recovers to). */
export function setupOf(s: FlowState): Setup | null {
  if (s.name === "idle" || s.name === "loading-models") return null;
  if (s.name === "failed") return setupOf(s.recover);
  return s.setup;
}

/** Every photo a state still holds, so the element can release the rest (bitmaps, object URLs). */
export function photosOf(s: FlowState): PendingPhoto[] {
  switch (s.name) {
    case "decoding":
      return s.previous ? [s.pending, s.previous] : [s.pending];
    case "editing":
      return [s.photo];
    case "submitting":
    case "waiting":
    case "completed":
      return s.photo ? [s.photo] : [];
    case "failed":
      return photosOf(s.recover);
    default:
      return [];
  }
}

/** The route with this id, if it is on offer. */
export function routeOf(setup: Setup, id: string): ModelRoute | undefined {
  return setup.routes.find((route) => route.id === id);
}

/** The route the draft has chosen (the first one if it went away). */
export function currentRoute(setup: Setup): ModelRoute {
  return routeOf(setup, setup.draft.model) ?? setup.routes[0]!;
}

/** The prompt is non-empty and within the route's limit (counted like the worker: UTF-16, trimmed). */
export function canSubmit(setup: Setup, prompt: string): boolean {
  const length = prompt.trim().length;
  return length > 0 && length <= currentRoute(setup).prompt_max_chars;
}

/** `"1280x720"` → `{ width: 1280, height: 720 }`. */
export function parseSize(size: string): { width: number; height: number } {
  const [width = 0, height = 0] = size.split("x").map(Number);
  return { width, height };
}

/** Time left from the observed progress rate; null until progress has moved. */
export function remainingMs(s: Waiting, now: number): number | null {
  const { sample, video } = s;
  if (!sample || video.progress <= sample.progress || now <= sample.at) return null;
  const rate = (video.progress - sample.progress) / (now - sample.at);
  return Math.max(0, (100 - video.progress) / rate);
}
