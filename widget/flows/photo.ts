/**
 * The photo's life: decoded when picked, fitted to the output as soon as it is ready (and again
 * only when size or framing change), and its bitmap and object URL freed once no state holds it.
 */
import { StillMotionImageEvent } from "../events";
import type { fitImage } from "../fit";
import { parseSize, photosOf } from "../state/queries";
import type { Draft, FlowState, PendingPhoto, Photo } from "../state/types";
import { describeError } from "../views/problem";
import type { FlowHost } from "./host";

/** Decoding, fitting and the framer arrive with the first photo (widget/imaging.ts). */
const loadImaging = () => import("../imaging");

/** Runs while the state is `decoding` this `pending` photo; a late result is dropped. */
export async function decode(host: FlowHost, pending: PendingPhoto): Promise<void> {
  const current = () => {
    const s = host.flow();
    return s.name === "decoding" && s.pending === pending;
  };
  try {
    const { decodeImage } = await loadImaging();
    const image = await decodeImage(pending.file);
    if (current()) host.send({ type: "decoded", url: pending.url, image });
    else image.close();
  } catch (error) {
    if (!current()) return;
    const problem = describeError(error, host.strings(), host.lang());
    host.send({ type: "decode-failed", url: pending.url, problem });
  }
}

/**
 * The photo is ready: announce it and fit it at once with the current framing — that gives the
 * `still-motion-image` event its real upload size, and submit reuses the result if nothing changed.
 */
export function imageReady(host: FlowHost, photo: Photo, draft: Draft): void {
  host.say(host.strings().imageReady);
  host.fit(photo, draft).then(
    ({ width, height, blob }) =>
      host.emit(new StillMotionImageEvent({ width, height, bytes: blob.size })),
    () => {}, // a failing fit is reported when the visitor submits
  );
}

/** Remembers the last fit, so the upload reuses the one made when the photo arrived. */
export class FitCache {
  #fitted: { key: string; result: ReturnType<typeof fitImage> } | null = null;

  /** The photo fitted to the draft; a new fit only when photo, size or framing changed. */
  fit(photo: Photo, draft: Draft): ReturnType<typeof fitImage> {
    const { width, height } = parseSize(draft.size);
    const { mode, focus, zoom, fill } = draft.framing;
    const key = JSON.stringify([photo.url, width, height, mode, focus, zoom, fill]);
    if (this.#fitted?.key !== key) {
      const fitted = {
        key,
        result: loadImaging().then(({ fitImage }) =>
          fitImage(photo.image, { width, height, mode, focus, zoom, fill }),
        ),
      };
      this.#fitted = fitted;
      // A failed fit is not kept: the next attempt tries again.
      fitted.result.catch(() => this.#fitted === fitted && (this.#fitted = null));
    }
    return this.#fitted.result;
  }
}

/** Frees the bitmaps and object URLs no state holds any more (a 12 MP bitmap is ~48 MB). */
export function releasePhotos(prev: FlowState, next: FlowState): void {
  const kept = new Set(photosOf(next).map((p) => p.url));
  for (const photo of photosOf(prev)) {
    if (kept.has(photo.url)) continue;
    URL.revokeObjectURL(photo.url);
    if ("image" in photo) (photo as Photo).image.close();
  }
}
