/// <reference types="@vitest/browser-playwright" />
// (the reference types cdp() as Playwright's CDP session, for media emulation below)
import axe from "axe-core";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import { cdp, userEvent } from "vitest/browser";
import { decodeImage, type DecodedImage } from "../../widget/fit";
import "../../widget/framer/framer"; // registers <still-motion-framer>
import type { StillMotionFramer } from "../../widget/framer/framer";
import { FramingChangeEvent, MAX_ZOOM, MIN_ZOOM } from "../../widget/framer/framing";
import { DEFAULT_FRAMER_LABELS } from "../../widget/framer/labels";
import { asFile, makePhotoJpeg } from "./helpers/images";

/** A portrait photo in a landscape frame: room to pan vertically, none horizontally at zoom 1. */
let portrait: DecodedImage;
/** Undo steps of the current test's mounts, so no test sees another's element or listener. */
const cleanups: (() => void)[] = [];

beforeAll(async () => {
  portrait = await decodeImage(asFile(await makePhotoJpeg(900, 1200, { noise: 0 })));
});

afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});

async function mount(props: Partial<StillMotionFramer> = {}) {
  const el = document.createElement("still-motion-framer");
  Object.assign(el, { image: portrait, width: 1280, height: 720, ...props });
  document.body.append(el);
  await el.updateComplete;
  const events: FramingChangeEvent[] = [];
  // Listening on the document proves the event bubbles and crosses the shadow boundary.
  const listener = (e: Event) => {
    if (e instanceof FramingChangeEvent && e.target === el) events.push(e);
  };
  document.addEventListener("still-motion-framing-change", listener);
  cleanups.push(() => {
    el.remove();
    document.removeEventListener("still-motion-framing-change", listener);
  });
  const root = el.shadowRoot!;
  const canvas = root.querySelector("canvas")!;
  const button = (name: string) =>
    [...root.querySelectorAll("button")].find(
      (b) => (b.getAttribute("aria-label") ?? b.textContent!.trim()) === name,
    )!;
  return { el, root, events, canvas, button };
}

async function press(canvas: HTMLCanvasElement, keys: string) {
  canvas.focus();
  await userEvent.keyboard(keys);
}

function pointer(canvas: HTMLCanvasElement, type: string, id: number, x: number, y: number) {
  const init = { pointerId: id, clientX: x, clientY: y, bubbles: true, isPrimary: id === 1 };
  canvas.dispatchEvent(new PointerEvent(type, init));
}

describe("StillMotionFramer", () => {
  it("is focusable, named and described for assistive tech", async () => {
    const { root, canvas } = await mount();
    expect(canvas.tabIndex).toBe(0);
    expect(canvas.getAttribute("role")).toBe("application");
    expect(canvas.getAttribute("aria-label")).toBe(DEFAULT_FRAMER_LABELS.frame);
    const description = canvas
      .getAttribute("aria-describedby")!
      .split(" ")
      .map((id) => root.getElementById(id)!.textContent)
      .join(" ");
    expect(description).toBe(`${DEFAULT_FRAMER_LABELS.panHint} ${DEFAULT_FRAMER_LABELS.keysHint}`);
    canvas.focus();
    expect(root.activeElement).toBe(canvas);
  });

  it("has no axe-core accessibility violations in either mode", async () => {
    for (const mode of ["cover", "contain"] as const) {
      const { el } = await mount({ mode, fill: "#336699" });
      const results = await axe.run(el);
      expect(results.violations.map((v) => `${v.id}: ${v.help}`)).toEqual([]);
    }
  });

  it("exposes the canvas, controls and button parts", async () => {
    const { root } = await mount();
    expect(root.querySelector('[part~="canvas"]')).toBeInstanceOf(HTMLCanvasElement);
    expect(root.querySelector('[part~="controls"]')).not.toBeNull();
    expect(root.querySelectorAll('[part~="button"]').length).toBeGreaterThanOrEqual(5);
  });

  it("draws the photo, and the chosen edge colour in contain mode", async () => {
    const { canvas } = await mount({ mode: "contain", fill: "#ff0000" });
    const ctx = canvas.getContext("2d")!;
    expect([...ctx.getImageData(5, canvas.height / 2, 1, 1).data]).toEqual([255, 0, 0, 255]);
    const [r, g, b, a] = ctx.getImageData(canvas.width / 2, canvas.height / 2, 1, 1).data;
    expect(a).toBe(255);
    expect([r, g, b]).not.toEqual([255, 0, 0]);
  });

  it("moves the focus down with ArrowDown and reports it", async () => {
    const { el, events, canvas } = await mount();
    await press(canvas, "{ArrowDown}");
    expect(events).toHaveLength(1);
    expect(events[0]).toBeInstanceOf(FramingChangeEvent);
    expect(events[0]!.focus.y).toBeGreaterThan(0.5);
    expect(el.focusPoint).toEqual(events[0]!.focus);
  });

  it("stays silent when an arrow cannot move the frame further", async () => {
    const { el, events, canvas } = await mount();
    await press(canvas, "{ArrowRight}{ArrowLeft}"); // the whole width is already in view
    expect(events).toHaveLength(0);
    expect(el.focusPoint.x).toBe(0.5);
  });

  it("zooms with + and - between 1 and 4, reporting each step", async () => {
    const { el, events, canvas } = await mount();
    await press(canvas, "+".repeat(12));
    expect(el.zoom).toBe(MAX_ZOOM);
    const zoomedIn = events.length;
    expect(zoomedIn).toBeGreaterThan(1);
    expect(events.every((e) => e.zoom > MIN_ZOOM && e.zoom <= MAX_ZOOM)).toBe(true);
    await press(canvas, "-".repeat(12));
    expect(el.zoom).toBe(MIN_ZOOM);
    expect(events.length - zoomedIn).toBe(zoomedIn);
  });

  it("pans horizontally once zoomed in, and Home recentres", async () => {
    const { el, events, canvas } = await mount({ zoom: 2 });
    await press(canvas, "{ArrowRight}{ArrowRight}");
    expect(el.focusPoint.x).toBeGreaterThan(0.5);
    await press(canvas, "{Home}");
    expect(el.focusPoint).toEqual({ x: 0.5, y: 0.5 });
    expect(events.at(-1)!.focus).toEqual({ x: 0.5, y: 0.5 });
  });

  it("zooms with the zoom buttons and stops at the bounds", async () => {
    const { el, button } = await mount();
    const zoomOut = button(DEFAULT_FRAMER_LABELS.zoomOut);
    expect(zoomOut.getAttribute("aria-disabled")).toBe("true");
    zoomOut.click();
    expect(el.zoom).toBe(1);
    button(DEFAULT_FRAMER_LABELS.zoomIn).click();
    expect(el.zoom).toBe(1.25);
  });

  it("switches to contain with the toggle, reports it and drops the pan and zoom controls", async () => {
    const { el, events, button, canvas } = await mount();
    button(DEFAULT_FRAMER_LABELS.showWhole).click();
    await el.updateComplete;
    expect(events.map((e) => e.mode)).toEqual(["contain"]);
    expect(button(DEFAULT_FRAMER_LABELS.showWhole).getAttribute("aria-pressed")).toBe("true");
    expect(button(DEFAULT_FRAMER_LABELS.zoomIn)).toBeUndefined();
    // Nothing to move in contain mode: a picture, out of the tab order.
    expect([canvas.getAttribute("role"), canvas.tabIndex]).toEqual(["img", -1]);
    button(DEFAULT_FRAMER_LABELS.fillFrame).click();
    expect(events.map((e) => e.mode)).toEqual(["contain", "cover"]);
  });

  it("switches the contain fill between blur and a solid colour", async () => {
    const { el, root, events, button } = await mount({ mode: "contain" });
    button(DEFAULT_FRAMER_LABELS.solidFill).click();
    await el.updateComplete;
    expect(events.at(-1)!.fill).toMatch(/^#[0-9a-f]{6}$/);
    const colour = root.querySelector<HTMLInputElement>('input[type="color"]')!;
    colour.value = "#123456";
    colour.dispatchEvent(new Event("input"));
    expect(events.at(-1)!.fill).toBe("#123456");
    button(DEFAULT_FRAMER_LABELS.blurFill).click();
    expect(events.at(-1)!.fill).toBe("blur");
  });

  it("moves the focus with a drag, the photo following the pointer", async () => {
    const { el, events, canvas } = await mount();
    const r = canvas.getBoundingClientRect();
    const [x, y] = [r.left + r.width / 2, r.top + r.height / 2];
    pointer(canvas, "pointerdown", 1, x, y);
    pointer(canvas, "pointermove", 1, x, y - r.height * 0.2);
    pointer(canvas, "pointerup", 1, x, y - r.height * 0.2);
    expect(el.focusPoint.y).toBeGreaterThan(0.5);
    expect(events).toHaveLength(1);
  });

  it("zooms with a two-finger pinch", async () => {
    const { el, canvas } = await mount();
    const r = canvas.getBoundingClientRect();
    const [x, y] = [r.left + r.width / 2, r.top + r.height / 2];
    pointer(canvas, "pointerdown", 1, x - 20, y);
    pointer(canvas, "pointerdown", 2, x + 20, y);
    pointer(canvas, "pointermove", 2, x + 60, y);
    expect(el.zoom).toBe(2);
  });

  it("zooms in with the mouse wheel", async () => {
    const { el, canvas } = await mount();
    await userEvent.wheel(canvas, { delta: { y: -200 } });
    expect(el.zoom).toBeGreaterThan(1);
  });

  it("uses the parent's labels and English for the missing ones", async () => {
    const { canvas, button } = await mount({ labels: { zoomIn: "放大", frame: "取景" } });
    expect(canvas.getAttribute("aria-label")).toBe("取景");
    expect(button("放大")).toBeDefined();
    expect(button(DEFAULT_FRAMER_LABELS.zoomOut)).toBeDefined();
  });

  it("animates nothing when the visitor prefers reduced motion", async () => {
    const { button } = await mount();
    const zoomIn = button(DEFAULT_FRAMER_LABELS.zoomIn);
    expect(getComputedStyle(zoomIn).transitionDuration).not.toBe("0s");
    const session = cdp();
    const emulate = (value: string) =>
      session.send("Emulation.setEmulatedMedia", {
        features: [{ name: "prefers-reduced-motion", value }],
      });
    await emulate("reduce");
    try {
      expect(matchMedia("(prefers-reduced-motion: reduce)").matches).toBe(true);
      expect(getComputedStyle(zoomIn).transitionDuration).toBe("0s");
    } finally {
      await emulate("");
    }
  });
});
