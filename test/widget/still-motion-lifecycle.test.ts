/** `<still-motion>`: abort signals, reconnecting, late configuration, slots, layout and theme. */
import axe from "axe-core";
import { describe, expect, it, vi } from "vitest";
import { FakeStillMotionApi } from "./helpers/fake-api";
import {
  MemoryStorage,
  button,
  choosePhoto,
  mount,
  reach,
  submitJob,
  type Mounted,
} from "./helpers/mount";

/** Records the signal of every fetch the element makes (on top of the installed fake). */
function recordSignals() {
  const calls: { url: string; signal: AbortSignal | null | undefined }[] = [];
  const inner = globalThis.fetch;
  const spy = vi.spyOn(globalThis, "fetch").mockImplementation((input, init) => {
    calls.push({ url: String(input instanceof Request ? input.url : input), signal: init?.signal });
    return inner(input, init);
  });
  return { calls, restore: () => spy.mockRestore() };
}

describe("<still-motion> abort signals", () => {
  it("gives every fetch a signal and aborts them all when removed", async () => {
    const api = new FakeStillMotionApi({ pollsToComplete: 1000 });
    const m = await mount({ api, until: null });
    const { calls, restore } = recordSignals();
    try {
      await reach(m.el, "choosing");
      await submitJob(m);
      await reach(m.el, "waiting");
      await expect
        .poll(() => calls.filter((c) => c.url.includes("/v1/videos/")).length)
        .toBeGreaterThan(1);
      m.remove();
      expect(calls.every((c) => c.signal instanceof AbortSignal)).toBe(true);
      // Session renewals are shared by the client and end on their own; everything else is ours.
      const ours = calls.filter((c) => !c.url.endsWith("/v1/sessions"));
      expect(ours.map((c) => c.signal?.aborted)).not.toContain(false);
    } finally {
      restore();
    }
  });

  it("aborts a download in flight on Start over", async () => {
    const m = await mount();
    await submitJob(m);
    await reach(m.el, "completed");
    const click = vi.spyOn(HTMLAnchorElement.prototype, "click");
    const { calls, restore } = recordSignals();
    try {
      button(m, "download").click();
      button(m, "start-over").click();
      await reach(m.el, "choosing");
      expect(calls[0]?.url).toContain("/media/");
      expect(calls[0]?.signal?.aborted).toBe(true);
      await new Promise((r) => setTimeout(r, 200));
      expect(click).not.toHaveBeenCalled();
    } finally {
      restore();
      click.mockRestore();
    }
  });
});

describe("<still-motion> connection", () => {
  it("keeps polling after being moved in the page", async () => {
    const m = await mount({ api: new FakeStillMotionApi({ pollsToComplete: 20 }) });
    await submitJob(m);
    await reach(m.el, "waiting");
    const box = document.createElement("div");
    document.body.append(box);
    box.append(m.el); // disconnect + connect
    await reach(m.el, "completed");
    box.remove();
  });

  it("waits in idle until it has a site key, then starts", async () => {
    const api = new FakeStillMotionApi();
    const uninstall = api.install();
    const el = document.createElement("still-motion");
    el.storage = new MemoryStorage();
    el.endpoint = api.endpoint;
    document.body.append(el);
    try {
      await el.updateComplete;
      expect(el.state).toBe("idle");
      expect(el.matches(":state(idle)")).toBe(true);
      el.siteKey = api.siteKey;
      await expect.poll(() => el.state).toBe("choosing");
      expect(el.matches(":state(choosing)")).toBe(true);
    } finally {
      el.remove();
      uninstall();
    }
  });

  it("talks to the origin it was loaded from when no endpoint is given", async () => {
    // The widget module is served by the same server as this page, like /widget.js by the worker.
    const api = new FakeStillMotionApi({ endpoint: location.origin });
    const uninstall = api.install();
    const el = document.createElement("still-motion");
    el.storage = new MemoryStorage();
    el.setAttribute("site-key", api.siteKey);
    document.body.append(el);
    try {
      await expect.poll(() => el.state).toBe("choosing");
      expect(api.requests.map((r) => r.path)).toContain("/v1/models");
    } finally {
      el.remove();
      uninstall();
    }
  });
});

describe("<still-motion> slots and layout", () => {
  it("shows header and footer rows only when something is slotted", async () => {
    const m = await mount();
    const header = m.root.querySelector<HTMLElement>("[part~=header]")!;
    const footer = m.root.querySelector<HTMLElement>("[part~=footer]")!;
    expect(header.hidden && footer.hidden).toBe(true);
    m.el.insertAdjacentHTML("beforeend", '<img slot="logo" alt="Acme" src="data:,"><p>Hi!</p>');
    await expect.poll(() => header.hidden).toBe(false);
    expect(footer.hidden).toBe(true);
    const intro = m.root.querySelector<HTMLSlotElement>("[part~=intro] slot")!;
    expect(intro.assignedElements()[0]?.textContent).toBe("Hi!");
  });

  async function overflow(m: Mounted): Promise<number> {
    await m.el.updateComplete;
    const base = m.root.querySelector<HTMLElement>("[part~=base]")!;
    return base.scrollWidth - base.clientWidth;
  }

  it("fits a 320 px wide host without horizontal scrolling", async () => {
    const m = await mount({ attrs: { style: "width: 320px", "show-price": "" } });
    expect(await overflow(m)).toBeLessThanOrEqual(0);
    await choosePhoto(m);
    expect(await overflow(m)).toBeLessThanOrEqual(0);
    expect(m.el.getBoundingClientRect().width).toBe(320);
  });

  it("has no axe violations in the forced dark theme", async () => {
    const m = await mount({ attrs: { theme: "dark" } });
    await choosePhoto(m);
    const result = await axe.run(m.el);
    const found = result.violations.map(
      (v) => `${v.id}: ${v.nodes.map((n) => n.target).join(" ")}`,
    );
    expect(found).toEqual([]);
    expect(getComputedStyle(m.root.querySelector("[part~=base]")!).backgroundColor).toBe(
      "rgb(23, 22, 31)",
    );
  });

  it("takes the owner's accent colour", async () => {
    const m = await mount({ attrs: { style: "--still-motion-accent: rgb(255, 0, 0)" } });
    await choosePhoto(m);
    expect(getComputedStyle(button(m, "submit")).borderColor).toBe("rgb(255, 0, 0)");
  });
});
