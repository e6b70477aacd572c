/**
 * The shapes of the visitor flow: its states, the events that move it, and what they carry
 * (the draft, the photo, a problem). The machine that moves between them is transition.ts.
 */
import type { ProblemKind } from "../api/problem";
import type { ModelRoute, Video } from "../api/types";
import type { DecodedImage, FitMode, Focus } from "../fit";
import type { PromptDraft } from "../prompt";

/** How the photo meets the frame (see the framer): mode, focus point, zoom and edge fill. */
export interface Framing {
  mode: FitMode;
  focus: Focus;
  zoom: number;
  fill: "blur" | (string & {});
}

/** What the visitor has chosen so far; survives photo changes and failures. */
export interface Draft {
  model: string;
  size: string;
  seconds: string;
  framing: Framing;
  prompt: PromptDraft;
}

/** The routes on offer (already restricted by the owner) and the draft made from them. */
export interface Setup {
  routes: ModelRoute[];
  draft: Draft;
}

/** A file the visitor chose; `url` is an object URL shown before decoding finishes. */
export interface PendingPhoto {
  file: Blob;
  name: string;
  url: string;
}

/** A chosen file once decoded, ready to frame and fit. */
export interface Photo extends PendingPhoto {
  image: DecodedImage;
}

/** What went wrong, already in the visitor's language (`message`). */
export interface Problem {
  kind: ProblemKind | "image" | "setup";
  code: string | null;
  message: string;
  /** Seconds until trying again can help (rate limits, budgets). */
  retryAfter: number | null;
}

/** What is being sent; `key` is the Idempotency-Key, kept so a retry cannot start a second job. */
export type Request =
  | { kind: "create"; prompt: string; key: string }
  | { kind: "remix"; prompt: string; key: string; source: Video };

/** First observed progress, for the time-left estimate. */
export interface Sample {
  at: number;
  progress: number;
}

/** Where the visitor is, with everything that view needs; one name per step of the flow. */
export type FlowState =
  | { name: "idle" }
  | { name: "loading-models" }
  | { name: "choosing"; setup: Setup }
  | { name: "decoding"; setup: Setup; pending: PendingPhoto; previous: Photo | null }
  | { name: "editing"; setup: Setup; photo: Photo }
  | Submitting
  | Waiting
  | Completed
  | {
      name: "failed";
      problem: Problem;
      video: Video | null;
      /** Where "Try again" goes. */
      recover: Recoverable;
    };

/** Sending a create or remix; `retrying` while a transient failure is being retried. */
export interface Submitting {
  name: "submitting";
  setup: Setup;
  photo: Photo | null;
  request: Request;
  retrying: boolean;
}

/** The job exists and is being polled until it finishes. */
export interface Waiting {
  name: "waiting";
  setup: Setup;
  photo: Photo | null;
  video: Video;
  /** Milliseconds since the epoch, for the elapsed clock. */
  startedAt: number;
  sample: Sample | null;
  retrying: boolean;
}

/** The video is ready; `photo` is null for a job resumed after a reload. */
export interface Completed {
  name: "completed";
  setup: Setup;
  photo: Photo | null;
  video: Video;
}

/** The state names, also the element's `state` and its CSS custom states. */
export type StateName = FlowState["name"];
/** The states "Try again" can return to. */
export type Recoverable = Exclude<FlowState, { name: "idle" | "decoding" | "failed" }>;

/** A partial edit of the draft; framing and prompt may be patched field by field. */
export type DraftPatch = Partial<Omit<Draft, "framing" | "prompt">> & {
  framing?: Partial<Framing>;
  prompt?: Partial<PromptDraft>;
};

/** Everything that can move the flow: visitor actions and the results of effects. */
export type FlowEvent =
  | { type: "load" }
  | { type: "models-loaded"; routes: ModelRoute[]; mode?: FitMode }
  | { type: "pick"; pending: PendingPhoto }
  | { type: "decoded"; url: string; image: DecodedImage }
  | { type: "decode-failed"; url: string; problem: Problem }
  | { type: "edit"; patch: DraftPatch }
  | { type: "submit"; key: string; prompt: string }
  | { type: "remix"; key: string; prompt: string }
  | { type: "retrying" }
  | { type: "created"; video: Video; at: number }
  | { type: "resumed"; video: Video }
  | { type: "update"; video: Video; at: number; problem?: Problem }
  | { type: "request-failed"; problem: Problem }
  | { type: "cancel" }
  | { type: "retry" }
  | { type: "reset" };
