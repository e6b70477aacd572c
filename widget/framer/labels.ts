/** The framer's UI strings; the parent passes localised ones, missing keys fall back to English. */
export interface FramerLabels {
  /** Accessible name of the framing surface. */
  frame: string;
  panHint: string;
  /** How to frame with the keyboard, read as the surface's description. */
  keysHint: string;
  zoomIn: string;
  zoomOut: string;
  fillFrame: string;
  showWhole: string;
  blurFill: string;
  solidFill: string;
  /** Accessible name of the colour picker of the solid fill. */
  fillColour: string;
  recentre: string;
}

/** English, for keys the parent leaves out and for a framer used on its own. */
export const DEFAULT_FRAMER_LABELS: FramerLabels = {
  frame: "Photo framing",
  panHint: "Drag to choose what stays in the frame",
  keysHint: "Arrow keys move, + and − zoom, Home recentres.",
  zoomIn: "Zoom in",
  zoomOut: "Zoom out",
  fillFrame: "Fill the frame",
  showWhole: "Show the whole photo",
  blurFill: "Blurred edges",
  solidFill: "Solid edges",
  fillColour: "Edge colour",
  recentre: "Recentre",
};
