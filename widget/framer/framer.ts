/**
 * `<still-motion-framer>`: shows the photo fitted to the output's aspect ratio and lets the
 * visitor choose the framing by pointer, wheel, pinch, buttons or keyboard. It only reports
 * choices; the parent keeps them and passes them back, so the upload uses the same numbers.
 */
import { html, LitElement, nothing, type PropertyValues } from "lit";
import { styleMap } from "lit/directives/style-map.js";
import { drawFitted, fitGeometry, type DecodedImage, type FitMode, type Focus } from "../fit";
import { controlsView } from "./controls";
import { FramingChangeEvent, MAX_ZOOM, MIN_ZOOM, ZOOM_STEP, type Framing } from "./framing";
import { DEFAULT_FRAMER_LABELS, type FramerLabels } from "./labels";
import { framerStyles } from "./styles";

/** Arrow keys move the frame by this share of what is visible. */
const PAN_STEP = 0.1;
/**
 * The preview's longest side in canvas pixels. Drawing a 12 MP photo costs roughly in
 * proportion to the canvas area, and 800 px stays sharp at typical sizes while dragging.
 */
const PREVIEW_MAX = 800;

const clamp = (value: number, min: number, max: number) => Math.min(max, Math.max(min, value));
/** Four decimals is far below a pixel and keeps float noise from looking like a change. */
const round = (value: number) => Math.round(value * 1e4) / 1e4;

/**
 * Frames a photo for a `width x height` output.
 *
 * @event still-motion-framing-change - {@link FramingChangeEvent}, on every visitor change.
 * @csspart canvas - The framing surface (focusable).
 * @csspart controls - The row of buttons.
 * @csspart button - Each button.
 * @csspart hint - The instructions under the surface.
 * @cssproperty --still-motion-accent - Focus ring and pressed buttons. Default #5b5bd6.
 * @cssproperty --still-motion-bg - Button background. Default #ffffff.
 * @cssproperty --still-motion-fg - Text colour. Default #1c1b29.
 * @cssproperty --still-motion-muted - Hint colour. Default #5f5d75.
 * @cssproperty --still-motion-border - Button borders. Default #d9d7e8.
 * @cssproperty --still-motion-radius - Corner radius. Default 12px.
 * @cssproperty --still-motion-framer-max-height - Tallest the preview may be. Default 24rem.
 */
export class StillMotionFramer extends LitElement {
  static override properties = {
    image: { attribute: false },
    width: { type: Number },
    height: { type: Number },
    mode: { reflect: true },
    focusPoint: { attribute: false },
    zoom: { type: Number },
    fill: {},
    labels: { attribute: false },
  };

  declare image: DecodedImage | null;
  /** Output width in pixels; only the aspect ratio matters to the preview. */
  declare width: number;
  declare height: number;
  declare mode: FitMode;
  /**
   * The point of the photo kept in view (cover mode). Not named `focus`: that would shadow
   * `HTMLElement.focus()`, which the parent and assistive tech rely on to move keyboard focus.
   */
  declare focusPoint: Focus;
  /** 1–4, cover mode only. */
  declare zoom: number;
  /** `"blur"` or a CSS colour, contain mode only. */
  declare fill: string;
  declare labels: Partial<FramerLabels>;

  /** Active pointers by id, for drag (one) and pinch (two). */
  #pointers = new Map<number, { x: number; y: number }>();
  /** The colour "Solid edges" goes back to after a detour through blur. */
  #solid = "#000000";

  constructor() {
    super();
    this.image = null;
    this.width = 1280;
    this.height = 720;
    this.mode = "cover";
    this.focusPoint = { x: 0.5, y: 0.5 };
    this.zoom = 1;
    this.fill = "blur";
    this.labels = {};
  }

  static override styles = framerStyles;

  get #labels(): FramerLabels {
    return { ...DEFAULT_FRAMER_LABELS, ...this.labels };
  }

  get #framing(): Framing {
    return { mode: this.mode, focus: this.focusPoint, zoom: this.zoom, fill: this.fill };
  }

  get #output(): { width: number; height: number } {
    return { width: this.width, height: this.height };
  }

  /** The preview canvas size: the output's shape, at most {@link PREVIEW_MAX} on its long side. */
  get #previewSize(): { width: number; height: number } {
    const k = Math.min(1, PREVIEW_MAX / Math.max(this.width, this.height));
    return { width: Math.round(this.width * k), height: Math.round(this.height * k) };
  }

  override render() {
    const t = this.#labels;
    const { width, height } = this.#previewSize;
    const cover = this.mode === "cover";
    // Interactive only in cover mode; in contain mode there is nothing to move, so the canvas
    // is a plain picture and leaves the tab order.
    return html`
      <canvas
        part="canvas"
        width=${width}
        height=${height}
        style=${styleMap({ "--_ratio": String(width / height) })}
        tabindex=${cover ? 0 : nothing}
        role=${cover ? "application" : "img"}
        aria-label=${t.frame}
        aria-describedby=${cover ? "pan-hint keys-hint" : nothing}
        @keydown=${this.#onKey}
        @pointerdown=${this.#onPointerDown}
        @pointermove=${this.#onPointerMove}
        @pointerup=${this.#onPointerEnd}
        @pointercancel=${this.#onPointerEnd}
        @lostpointercapture=${this.#onPointerEnd}
        @wheel=${this.#onWheel}
      ></canvas>
      ${
        cover
          ? html`<p part="hint" id="pan-hint">${t.panHint}</p>
              <p part="hint" id="keys-hint">${t.keysHint}</p>`
          : nothing
      }
      ${controlsView({
        framing: this.#framing,
        solid: this.#solid,
        t,
        change: (patch) => this.#change(patch),
        zoomBy: (factor) => this.#zoomBy(factor),
      })}
    `;
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (changed.has("fill") && this.fill !== "blur") this.#solid = this.fill;
  }

  /** Redraws after every render: a change of the canvas size attributes also clears it. */
  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    const canvas = this.renderRoot.querySelector("canvas");
    const ctx = canvas?.getContext("2d");
    if (!canvas || !ctx) return;
    if (!this.image) return ctx.clearRect(0, 0, canvas.width, canvas.height);
    drawFitted(ctx, this.image, { ...this.#framing, width: canvas.width, height: canvas.height });
  }

  /** Applies a change, keeps it within what can be seen, and reports it if anything moved. */
  #change(patch: Partial<Framing>): void {
    const next = { ...this.#framing, ...patch };
    next.zoom = round(clamp(next.zoom, MIN_ZOOM, MAX_ZOOM));
    next.focus = this.#reachable(next.focus, next.zoom);
    const before = this.#framing;
    const same =
      next.mode === before.mode &&
      next.zoom === before.zoom &&
      next.fill === before.fill &&
      next.focus.x === before.focus.x &&
      next.focus.y === before.focus.y;
    if (same) return;
    ({ mode: this.mode, focus: this.focusPoint, zoom: this.zoom, fill: this.fill } = next);
    this.dispatchEvent(new FramingChangeEvent(next));
  }

  /**
   * The focus the frame can actually centre on. Past the photo's edge nothing moves, so a focus
   * left out there would make the next presses in the other direction seem dead.
   */
  #reachable(focus: Focus, zoom: number): Focus {
    const x = clamp(focus.x, 0, 1);
    const y = clamp(focus.y, 0, 1);
    if (!this.image) return { x: round(x), y: round(y) };
    const { width: w, height: h } = this.image;
    const g = fitGeometry(w, h, { ...this.#output, mode: "cover", focus: { x, y }, zoom });
    return { x: round((g.sx + g.sw / 2) / w), y: round((g.sy + g.sh / 2) / h) };
  }

  /** The visible window as a share of the photo, to turn screen moves into focus moves. */
  #window(): { w: number; h: number } {
    if (!this.image) return { w: 1, h: 1 };
    const { width: w, height: h } = this.image;
    const g = fitGeometry(w, h, { ...this.#output, mode: "cover", zoom: this.zoom });
    return { w: g.sw / w, h: g.sh / h };
  }

  #panBy(dx: number, dy: number): void {
    if (this.mode !== "cover") return;
    const { x, y } = this.focusPoint;
    this.#change({ focus: { x: x + dx, y: y + dy } });
  }

  #zoomBy(factor: number): void {
    if (this.mode === "cover") this.#change({ zoom: this.zoom * factor });
  }

  #onKey = (event: KeyboardEvent): void => {
    const { w, h } = this.#window();
    const actions: Record<string, () => void> = {
      ArrowLeft: () => this.#panBy(-PAN_STEP * w, 0),
      ArrowRight: () => this.#panBy(PAN_STEP * w, 0),
      ArrowUp: () => this.#panBy(0, -PAN_STEP * h),
      ArrowDown: () => this.#panBy(0, PAN_STEP * h),
      "+": () => this.#zoomBy(ZOOM_STEP),
      "=": () => this.#zoomBy(ZOOM_STEP), // the unshifted + key on many layouts
      "-": () => this.#zoomBy(1 / ZOOM_STEP),
      Home: () => this.mode === "cover" && this.#change({ focus: { x: 0.5, y: 0.5 } }),
    };
    const action = actions[event.key];
    if (!action || event.altKey || event.ctrlKey || event.metaKey) return;
    event.preventDefault(); // arrows and Home would scroll the page
    action();
  };

  #onPointerDown = (event: PointerEvent): void => {
    if (this.mode !== "cover" || event.button !== 0) return;
    const canvas = event.currentTarget as HTMLCanvasElement;
    // Capture keeps the drag alive when the pointer leaves the canvas. It throws for a pointer
    // that is no longer active (e.g. already lifted), which only means there is nothing to keep.
    try {
      canvas.setPointerCapture(event.pointerId);
    } catch {
      /* nothing to capture */
    }
    this.#pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  };

  #onPointerMove = (event: PointerEvent): void => {
    const last = this.#pointers.get(event.pointerId);
    if (!last) return;
    const before = [...this.#pointers.values()];
    this.#pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
    if (before.length === 2) return this.#pinch(before, [...this.#pointers.values()]);
    const rect = (event.currentTarget as HTMLElement).getBoundingClientRect();
    const { w, h } = this.#window();
    // The photo follows the pointer, so the frame moves the other way.
    this.#panBy(
      ((last.x - event.clientX) / rect.width) * w,
      ((last.y - event.clientY) / rect.height) * h,
    );
  };

  #pinch(before: { x: number; y: number }[], after: { x: number; y: number }[]): void {
    const distance = (p: { x: number; y: number }[]) =>
      Math.hypot(p[0]!.x - p[1]!.x, p[0]!.y - p[1]!.y);
    const from = distance(before);
    if (from > 0) this.#zoomBy(distance(after) / from);
  }

  #onPointerEnd = (event: PointerEvent): void => {
    this.#pointers.delete(event.pointerId);
  };

  #onWheel = (event: WheelEvent): void => {
    if (this.mode !== "cover") return; // let the page scroll
    event.preventDefault();
    // Lines and pages (deltaMode 1, 2) are turned into rough pixels so every mouse feels alike.
    const pixels = event.deltaY * (event.deltaMode === 1 ? 16 : event.deltaMode === 2 ? 400 : 1);
    this.#zoomBy(Math.exp(-pixels / 300));
  };
}

if (!customElements.get("still-motion-framer")) {
  customElements.define("still-motion-framer", StillMotionFramer);
}

declare global {
  interface HTMLElementTagNameMap {
    "still-motion-framer": StillMotionFramer;
  }
}
