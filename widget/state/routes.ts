/**
 * Which model routes the widget offers: the worker's routes narrowed by the owner's `models`,
 * `sizes` and `seconds` attributes.
 */
import type { ModelRoute } from "../api/types";

/** The owner's `models`, `sizes` and `seconds` attributes: comma lists, empty = no restriction. */
export interface Restrictions {
  models?: string | null;
  sizes?: string | null;
  seconds?: string | null;
}

const list = (value: string | null | undefined) =>
  (value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);

/**
 * The routes this widget may offer: those taking an input image, in the owner's order when
 * `models` is given, with sizes and durations narrowed to the owner's; a route left with no
 * size or duration is dropped, and defaults move to the first allowed value.
 */
export function restrictRoutes(routes: ModelRoute[], r: Restrictions): ModelRoute[] {
  const [models, sizes, seconds] = [list(r.models), list(r.sizes), list(r.seconds)];
  const ordered = models.length
    ? models.flatMap((id) => routes.filter((route) => route.id === id))
    : routes;
  return ordered.flatMap((route) => {
    if (route.input_image === "none") return [];
    const keptSizes = sizes.length ? route.sizes.filter((s) => sizes.includes(s)) : route.sizes;
    const keptSeconds = seconds.length
      ? route.seconds.filter((s) => seconds.includes(s))
      : route.seconds;
    if (!keptSizes.length || !keptSeconds.length) return [];
    return [
      {
        ...route,
        sizes: keptSizes,
        seconds: keptSeconds,
        default_size: keptSizes.includes(route.default_size) ? route.default_size : keptSizes[0]!,
        default_seconds: keptSeconds.includes(route.default_seconds)
          ? route.default_seconds
          : keptSeconds[0]!,
      },
    ];
  });
}
