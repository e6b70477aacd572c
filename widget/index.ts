/**
 * The widget's entry point (served as /widget.js): registers `<still-motion>` and re-exports
 * its public API. Registration lives here, apart from the class, so the class can be imported
 * (or subclassed) without side effects; a page that loads the script twice keeps the first.
 */
import { StillMotionElement } from "./still-motion";

export { StillMotionElement } from "./still-motion";
// The framer and the image functions load with the first photo (widget/imaging.ts), so only
// their types are exported here; importing them as values would pull them into this bundle.
export type { StillMotionFramer } from "./framer/framer";
export type { FramingChangeEvent } from "./framer/framing";
export * from "./events";
export { ApiProblem } from "./api/problem";
export type { ProblemKind } from "./api/problem";
export { StillMotionClient } from "./api/client";
export type { ModelRoute, Video } from "./api/types";
export type { DecodedImage, FitError, FitMode, FitOptions, Focus } from "./fit";
export type { Strings } from "./i18n";
export { DEFAULT_PRESETS } from "./prompt";
export type { PromptFields, PromptPreset, PromptTemplate } from "./prompt";

if (!customElements.get("still-motion")) customElements.define("still-motion", StillMotionElement);

declare global {
  interface HTMLElementTagNameMap {
    "still-motion": StillMotionElement;
  }
}
