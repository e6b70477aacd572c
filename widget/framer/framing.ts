/**
 * The framing the visitor chooses — how the photo meets the frame, where and how close — with
 * its zoom bounds, and the event that reports each change to the parent.
 */
import type { FitMode, Focus } from "../fit";

/** Zoom bounds in cover mode; 4x of a 12 MP photo still gives about a 1000 px wide window. */
export const MIN_ZOOM = 1;
export const MAX_ZOOM = 4;
/** One press of a zoom button or key multiplies (or divides) the zoom by this. */
export const ZOOM_STEP = 1.25;

/** The framing the visitor chose: what {@link FramingChangeEvent} carries. */
export interface Framing {
  mode: FitMode;
  focus: Focus;
  zoom: number;
  fill: string;
}

/** Fired on every framing change the visitor makes (not on property changes by the parent). */
export class FramingChangeEvent extends Event {
  static readonly eventName = "still-motion-framing-change";
  readonly mode: FitMode;
  readonly focus: Focus;
  readonly zoom: number;
  readonly fill: string;

  constructor(framing: Framing) {
    super(FramingChangeEvent.eventName, { bubbles: true, composed: true });
    this.mode = framing.mode;
    this.focus = framing.focus;
    this.zoom = framing.zoom;
    this.fill = framing.fill;
  }
}

declare global {
  interface HTMLElementEventMap {
    "still-motion-framing-change": FramingChangeEvent;
  }
}
