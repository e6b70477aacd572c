/**
 * The events `<still-motion>` dispatches, as typed classes added to the global event map, so
 * `el.addEventListener("still-motion-completed", (e) => e.video)` type-checks. All bubble and
 * cross shadow roots (`composed`) so a page can listen on any ancestor.
 */
import type { Video } from "./api/types";

const INIT: EventInit = { bubbles: true, composed: true };

/** Fired when the visitor has picked an image and it has been fitted to the model's size. */
export class StillMotionImageEvent extends Event {
  static readonly eventName = "still-motion-image";
  /** Pixel size of the image that will be uploaded. */
  readonly width: number;
  readonly height: number;
  /** Size of the encoded upload, in bytes. */
  readonly bytes: number;

  constructor(init: { width: number; height: number; bytes: number }) {
    super(StillMotionImageEvent.eventName, INIT);
    this.width = init.width;
    this.height = init.height;
    this.bytes = init.bytes;
  }
}

/** Fired when the worker has accepted a new job (status `queued` or later). */
export class StillMotionCreatedEvent extends Event {
  static readonly eventName = "still-motion-created";
  readonly video: Video;

  constructor(init: { video: Video }) {
    super(StillMotionCreatedEvent.eventName, INIT);
    this.video = init.video;
  }
}

/** Fired on every status poll of an unfinished job (`progress` is 0–100). */
export class StillMotionProgressEvent extends Event {
  static readonly eventName = "still-motion-progress";
  readonly video: Video;

  constructor(init: { video: Video }) {
    super(StillMotionProgressEvent.eventName, INIT);
    this.video = init.video;
  }
}

/** Fired once a job has completed; `video.content_urls` holds the playable media. */
export class StillMotionCompletedEvent extends Event {
  static readonly eventName = "still-motion-completed";
  readonly video: Video;

  constructor(init: { video: Video }) {
    super(StillMotionCompletedEvent.eventName, INIT);
    this.video = init.video;
  }
}

/**
 * Fired when a job failed (`video` set, `problem` from `video.error`) or a request failed for
 * good before or while it ran (`video` null when no job exists).
 */
export class StillMotionFailedEvent extends Event {
  static readonly eventName = "still-motion-failed";
  readonly video: Video | null;
  /** `kind`: an `ApiProblem` kind for a failed request; `message` is shown to the visitor as is. */
  readonly problem: { kind: string; code: string | null; message: string };

  constructor(init: {
    video: Video | null;
    problem: { kind: string; code: string | null; message: string };
  }) {
    super(StillMotionFailedEvent.eventName, INIT);
    this.video = init.video;
    this.problem = init.problem;
  }
}

/** Fired when the visitor cancelled; `videoId` is null when no job had been created yet. */
export class StillMotionCancelledEvent extends Event {
  static readonly eventName = "still-motion-cancelled";
  readonly videoId: string | null;

  constructor(init: { videoId: string | null }) {
    super(StillMotionCancelledEvent.eventName, INIT);
    this.videoId = init.videoId;
  }
}

/** Fired when a remix job was accepted; `video` is the new job, `sourceId` the one remixed. */
export class StillMotionRemixEvent extends Event {
  static readonly eventName = "still-motion-remix";
  readonly video: Video;
  readonly sourceId: string;

  constructor(init: { video: Video; sourceId: string }) {
    super(StillMotionRemixEvent.eventName, INIT);
    this.video = init.video;
    this.sourceId = init.sourceId;
  }
}

declare global {
  interface HTMLElementEventMap {
    "still-motion-image": StillMotionImageEvent;
    "still-motion-created": StillMotionCreatedEvent;
    "still-motion-progress": StillMotionProgressEvent;
    "still-motion-completed": StillMotionCompletedEvent;
    "still-motion-failed": StillMotionFailedEvent;
    "still-motion-cancelled": StillMotionCancelledEvent;
    "still-motion-remix": StillMotionRemixEvent;
  }
}
