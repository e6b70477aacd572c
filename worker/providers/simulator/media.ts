/**
 * The simulator's finished media: small synthetic files rendered by
 * scripts/make-simulator-media.sh and bundled into the worker as binary modules, so the simulator
 * serves real, playable bytes without storage or network.
 */
import type { Variant } from "../types";
import clip1280x720s4 from "./media/clip-1280x720-4s.mp4";
import clip1280x720s8 from "./media/clip-1280x720-8s.mp4";
import clip1280x720s12 from "./media/clip-1280x720-12s.mp4";
import clip1280x720s16 from "./media/clip-1280x720-16s.mp4";
import clip720x1280s4 from "./media/clip-720x1280-4s.mp4";
import clip720x1280s8 from "./media/clip-720x1280-8s.mp4";
import clip720x1280s12 from "./media/clip-720x1280-12s.mp4";
import clip720x1280s16 from "./media/clip-720x1280-16s.mp4";
import sprite1280x720 from "./media/sprite-1280x720.jpg";
import sprite720x1280 from "./media/sprite-720x1280.jpg";
import thumb1280x720 from "./media/thumb-1280x720.webp";
import thumb720x1280 from "./media/thumb-720x1280.webp";

/** One servable file: its bytes plus what the content route needs to label them. */
export interface MediaAsset {
  bytes: ArrayBuffer;
  contentType: string;
  /** File extension without the dot, e.g. for a download filename. */
  extension: string;
}

/** Every `WxH` the simulator has media for; routes offering other sizes cannot use it. */
export const SIMULATOR_SIZES: readonly string[] = ["1280x720", "720x1280"];

/**
 * Every clip length (whole seconds, as a string) the simulator has media for: 4 and 8 for new
 * clips, 12 and 16 for extensions, whose result is the stitched total.
 */
export const SIMULATOR_SECONDS: readonly string[] = ["4", "8", "12", "16"];

const mp4 = (bytes: ArrayBuffer): MediaAsset => ({
  bytes,
  contentType: "video/mp4",
  extension: "mp4",
});
const webp = (bytes: ArrayBuffer): MediaAsset => ({
  bytes,
  contentType: "image/webp",
  extension: "webp",
});
const jpeg = (bytes: ArrayBuffer): MediaAsset => ({
  bytes,
  contentType: "image/jpeg",
  extension: "jpg",
});

// Keyed by size, then seconds. Plain records with `Object.hasOwn` lookups so a size such as
// "constructor" or "__proto__" can never reach an inherited property.
const VIDEOS: Record<string, Record<string, MediaAsset>> = {
  "1280x720": {
    "4": mp4(clip1280x720s4),
    "8": mp4(clip1280x720s8),
    "12": mp4(clip1280x720s12),
    "16": mp4(clip1280x720s16),
  },
  "720x1280": {
    "4": mp4(clip720x1280s4),
    "8": mp4(clip720x1280s8),
    "12": mp4(clip720x1280s12),
    "16": mp4(clip720x1280s16),
  },
};

// Previews are cut from the 4 s clip and only depend on the frame shape, not the clip length.
const THUMBNAILS: Record<string, MediaAsset> = {
  "1280x720": webp(thumb1280x720),
  "720x1280": webp(thumb720x1280),
};
const SPRITESHEETS: Record<string, MediaAsset> = {
  "1280x720": jpeg(sprite1280x720),
  "720x1280": jpeg(sprite720x1280),
};

const own = <T>(record: Record<string, T>, key: string): T | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined;

/**
 * The simulator's media for a job of this size and duration, or undefined when none exists.
 *
 * A thumbnail or spritesheet is only returned when the video itself exists, so a job the
 * simulator could never have produced has no previews either.
 */
export function simulatorMedia(
  size: string,
  seconds: string,
  variant: Variant,
): MediaAsset | undefined {
  const videos = own(VIDEOS, size);
  const video = videos && own(videos, seconds);
  if (!video) return undefined;
  switch (variant) {
    case "video":
      return video;
    case "thumbnail":
      return own(THUMBNAILS, size);
    case "spritesheet":
      return own(SPRITESHEETS, size);
  }
}
