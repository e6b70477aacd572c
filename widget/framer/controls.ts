/**
 * The row of buttons under the framing surface: fill or show whole, then zoom and recentre
 * (cover) or the edge fill (contain). A plain view: the element passes the framing and what a
 * press does, and applies the change itself.
 */
import { html, nothing, type TemplateResult } from "lit";
import { MAX_ZOOM, MIN_ZOOM, ZOOM_STEP, type Framing } from "./framing";
import type { FramerLabels } from "./labels";

/** What the controls show and what pressing them does. */
export interface ControlsContext {
  framing: Framing;
  /** The colour "Solid edges" goes back to after a detour through blur. */
  solid: string;
  t: FramerLabels;
  change(patch: Partial<Framing>): void;
  zoomBy(factor: number): void;
}

/** The buttons for the current mode. */
export function controlsView(c: ControlsContext): TemplateResult {
  const { t } = c;
  const cover = c.framing.mode === "cover";
  return html`<div part="controls">
    ${button(t.fillFrame, t.fillFrame, () => c.change({ mode: "cover" }), { pressed: cover })}
    ${button(t.showWhole, t.showWhole, () => c.change({ mode: "contain" }), { pressed: !cover })}
    ${cover ? coverControls(c) : fillControls(c)}
  </div>`;
}

function coverControls({ framing, t, change, zoomBy }: ControlsContext) {
  const recentre = () => change({ focus: { x: 0.5, y: 0.5 } });
  return html`
    ${button(t.zoomOut, "−", () => zoomBy(1 / ZOOM_STEP), { disabled: framing.zoom <= MIN_ZOOM })}
    ${button(t.zoomIn, "+", () => zoomBy(ZOOM_STEP), { disabled: framing.zoom >= MAX_ZOOM })}
    ${button(t.recentre, t.recentre, recentre, {})}
  `;
}

function fillControls({ framing, solid, t, change }: ControlsContext) {
  const blur = framing.fill === "blur";
  // <input type="color"> only speaks #rrggbb; a named colour from the parent shows as black.
  const hex = /^#[0-9a-f]{6}$/i.test(solid) ? solid : "#000000";
  return html`
    ${button(t.blurFill, t.blurFill, () => change({ fill: "blur" }), { pressed: blur })}
    ${button(t.solidFill, t.solidFill, () => change({ fill: solid }), { pressed: !blur })}
    ${
      blur
        ? null
        : html`<input
            part="color"
            type="color"
            aria-label=${t.fillColour}
            .value=${hex}
            @input=${(e: Event) => change({ fill: (e.target as HTMLInputElement).value })}
          />`
    }
  `;
}

function button(
  label: string,
  text: string,
  act: () => void,
  s: { pressed?: boolean; disabled?: boolean },
) {
  return html`<button
    part="button"
    type="button"
    aria-label=${text === label ? nothing : label}
    aria-pressed=${s.pressed === undefined ? nothing : String(s.pressed)}
    aria-disabled=${s.disabled ? "true" : nothing}
    @click=${() => s.disabled || act()}
  >
    ${text}
  </button>`;
}
