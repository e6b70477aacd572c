/**
 * `<still-motion turnstile-site-key>`: the bot check. `window.turnstile` is a stub (render /
 * execute / reset / remove), so Cloudflare's script is never fetched; the fake API refuses a
 * missing or reused token, as the worker does.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { StillMotionClient } from "../../widget/api/client";
import { ApiProblem } from "../../widget/api/problem";
import type { StillMotionFailedEvent } from "../../widget/events";
import {
  loadTurnstile,
  TURNSTILE_SCRIPT,
  type Turnstile,
  type TurnstileParams,
} from "../../widget/turnstile/loader";
import { FakeStillMotionApi } from "./helpers/fake-api";
import { mount, reach, submitJob } from "./helpers/mount";

const SITE_KEY = "1x00000000000000000000AA";

/** A stand-in for Cloudflare's `window.turnstile`: each execute() answers with a new token. */
function stubTurnstile(outcome: "pass" | "fail" = "pass") {
  const widgets = new Map<string, { container: HTMLElement; params: TurnstileParams }>();
  let tokens = 0;
  const stub = {
    render: vi.fn((container: HTMLElement, params: TurnstileParams) => {
      const id = `widget-${widgets.size + 1}`;
      widgets.set(id, { container, params });
      return id;
    }),
    execute: vi.fn((id: string) => {
      const { params } = widgets.get(id)!;
      // Asynchronously, like the real challenge.
      setTimeout(() =>
        outcome === "pass"
          ? params.callback(`token-${++tokens}`)
          : params["error-callback"]("600010"),
      );
    }),
    reset: vi.fn(),
    remove: vi.fn(),
  } satisfies Turnstile;
  window.turnstile = stub;
  return { stub, widgets };
}

const sessionBodies = (api: FakeStillMotionApi) =>
  api.requests
    .filter((r) => r.method === "POST" && r.path === "/v1/sessions")
    .map((r) => r.json as { site_key: string; turnstile_token?: string });

const turnstileScripts = () =>
  document.querySelectorAll('script[src^="https://challenges.cloudflare.com/"]');

afterEach(() => {
  delete window.turnstile;
});

describe("<still-motion turnstile-site-key>", () => {
  it("renders the challenge in a slotted container and sends its token with the session request", async () => {
    const { stub, widgets } = stubTurnstile();
    const api = new FakeStillMotionApi({ turnstile: true });
    const m = await mount({ api, attrs: { "turnstile-site-key": SITE_KEY } });
    await submitJob(m);
    await reach(m.el, "waiting");

    expect(sessionBodies(api)).toEqual([{ site_key: api.siteKey, turnstile_token: "token-1" }]);
    const { container, params } = [...widgets.values()][0]!;
    expect(params).toMatchObject({
      sitekey: SITE_KEY,
      action: "stillmotion-session",
      execution: "execute",
      appearance: "interaction-only",
    });
    // Light DOM, slotted into the part: Turnstile's iframe stays out of the shadow root.
    expect(container!.parentElement).toBe(m.el);
    expect(container!.slot).toBe("turnstile");
    expect(m.root.querySelector('[part~="turnstile"] slot[name="turnstile"]')).not.toBeNull();
    expect(stub.render).toHaveBeenCalledTimes(1);
    expect(turnstileScripts()).toHaveLength(0);
  });

  it("asks for a fresh token for every session request (tokens are single-use)", async () => {
    const { stub } = stubTurnstile();
    const api = new FakeStillMotionApi({ turnstile: true });
    // The first create finds the token stale: the client renews the session and resends.
    api.failNext(401, { message: "expired", code: "invalid_token" }, { path: /^\/v1\/videos$/ });
    const m = await mount({ api, attrs: { "turnstile-site-key": SITE_KEY } });
    await submitJob(m);
    await reach(m.el, "waiting");

    expect(sessionBodies(api).map((b) => b.turnstile_token)).toEqual(["token-1", "token-2"]);
    expect(stub.render).toHaveBeenCalledTimes(1);
    expect(stub.reset).toHaveBeenCalledTimes(1);
    expect(stub.execute).toHaveBeenCalledTimes(2);
  });

  it("uses the container the page slotted in, and honours turnstile-action", async () => {
    const { widgets } = stubTurnstile();
    const mine = Object.assign(document.createElement("div"), { slot: "turnstile" });
    const api = new FakeStillMotionApi({ turnstile: true });
    const m = await mount({
      api,
      attrs: { "turnstile-site-key": SITE_KEY, "turnstile-action": "shop-video" },
      until: null,
    });
    m.el.append(mine);
    await reach(m.el, "choosing");
    await submitJob(m);
    await reach(m.el, "waiting");
    const { container, params } = [...widgets.values()][0]!;
    expect(container).toBe(mine);
    expect(params.action).toBe("shop-video");
    expect(m.el.querySelectorAll('[slot="turnstile"]')).toHaveLength(1);
  });

  it("shows a failed challenge as an error, without asking for a session", async () => {
    stubTurnstile("fail");
    const api = new FakeStillMotionApi({ turnstile: true });
    const m = await mount({ api, attrs: { "turnstile-site-key": SITE_KEY } });
    const failed = new Promise<StillMotionFailedEvent>((resolve) =>
      m.el.addEventListener("still-motion-failed", resolve, { once: true }),
    );
    await submitJob(m);
    await reach(m.el, "failed");
    expect((await failed).problem).toMatchObject({ kind: "auth", code: "turnstile_failed" });
    expect(sessionBodies(api)).toHaveLength(0);
  });

  it("removes the Turnstile widget and its container when the element leaves the page", async () => {
    const { stub } = stubTurnstile();
    const m = await mount({
      api: new FakeStillMotionApi({ turnstile: true }),
      attrs: { "turnstile-site-key": SITE_KEY },
    });
    await submitJob(m);
    await reach(m.el, "waiting");
    m.remove();
    expect(stub.remove).toHaveBeenCalledWith("widget-1");
    expect(m.el.querySelector('[slot="turnstile"]')).toBeNull();
  });
});

describe("<still-motion> without turnstile-site-key", () => {
  it("loads no Turnstile script, renders no container and sends no token", async () => {
    const m = await mount();
    await submitJob(m);
    await reach(m.el, "waiting");
    expect(turnstileScripts()).toHaveLength(0);
    expect(window.turnstile).toBeUndefined();
    expect(m.root.querySelector('[part~="turnstile"]')).toBeNull();
    expect(sessionBodies(m.api)).toEqual([{ site_key: m.api.siteKey }]);
  });
});

describe("StillMotionClient turnstileToken", () => {
  it("passes a failed challenge on as it is and sends nothing", async () => {
    const api = new FakeStillMotionApi({ turnstile: true });
    const refusal = new ApiProblem("The bot check did not pass.", {
      kind: "auth",
      code: "turnstile_failed",
    });
    const client = new StillMotionClient({
      endpoint: api.endpoint,
      siteKey: api.siteKey,
      fetch: api.fetch,
      storage: null,
      turnstileToken: () => Promise.reject(refusal),
    });
    await expect(client.session()).rejects.toBe(refusal);
    expect(sessionBodies(api)).toHaveLength(0);
  });
});

describe("loadTurnstile", () => {
  /** A local script standing in for api.js: defines window.turnstile and counts its runs. */
  const fakeScript = () =>
    URL.createObjectURL(
      new Blob(
        [
          "window.turnstile = { render() {}, execute() {}, reset() {}, remove() {} };",
          "window.__turnstileRuns = (window.__turnstileRuns || 0) + 1;",
        ],
        { type: "text/javascript" },
      ),
    );

  afterEach(() => {
    document.querySelectorAll("script[src^='blob:']").forEach((s) => s.remove());
    delete (window as { __turnstileRuns?: number }).__turnstileRuns;
  });

  it("uses Cloudflare's script in explicit-render mode", () => {
    expect(TURNSTILE_SCRIPT).toBe(
      "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit",
    );
  });

  it("adds the script once, however many widgets ask at the same time", async () => {
    const src = fakeScript();
    const [first, second] = await Promise.all([loadTurnstile(src), loadTurnstile(src)]);
    expect(first).toBe(second);
    expect(first).toBe(window.turnstile);
    expect(document.querySelectorAll(`script[src="${src}"]`)).toHaveLength(1);
    expect((window as { __turnstileRuns?: number }).__turnstileRuns).toBe(1);
    expect(await loadTurnstile(src)).toBe(first); // already there: no new script
  });

  it("rejects with a network problem when the script cannot load, and can try again", async () => {
    const src = fakeScript();
    URL.revokeObjectURL(src);
    await expect(loadTurnstile(src)).rejects.toMatchObject({
      kind: "network",
      code: "turnstile_unavailable",
    });
    expect(document.querySelector(`script[src="${src}"]`)).toBeNull();
  });
});
