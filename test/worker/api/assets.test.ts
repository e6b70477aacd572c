import { describe, expect, it } from "vitest";
import { harness, ORIGIN, SITES } from "../../helpers/harness";

describe("static assets", () => {
  it("serves the demo page pointed at this deployment's endpoint and demo site key", async () => {
    const h = harness({ vars: { DEMO_SITE_KEY: SITES[0]!.publishable_key } });
    const response = await h.call("/");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/html");
    const page = await response.text();
    expect(page).toMatch(new RegExp(`<still-motion[^>]*endpoint="${ORIGIN}"`));
    expect(page).toMatch(new RegExp(`<still-motion[^>]*site-key="${SITES[0]!.publishable_key}"`));
    expect(page).toMatch(/<script type="module" src="\/widget\.[0-9a-f]{12}\.js">/);
  });

  it("refuses a demo site key that no site has", async () => {
    const h = harness({ vars: { DEMO_SITE_KEY: "pk_nobody_000000" } });
    const response = await h.call("/");
    expect(response.status).toBe(500);
    expect(await response.text()).toContain("DEMO_SITE_KEY");
  });

  it("serves /widget.js briefly cached and the hashed bundle cached forever", async () => {
    const h = harness();
    const latest = await h.call("/widget.js");
    expect(latest.status).toBe(200);
    expect(latest.headers.get("content-type")).toContain("javascript");
    expect(latest.headers.get("cache-control")).toBe("public, max-age=300");
    const { widget } = (await (await h.call("/widget-manifest.json")).json()) as { widget: string };
    const pinned = await h.call(widget);
    expect(pinned.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(await pinned.text()).toBe(await latest.text());
  });

  it("serves the lazily loaded chunks cached forever and loadable cross-origin by sites", async () => {
    const h = harness();
    const { lazy } = (await (await h.call("/widget-manifest.json")).json()) as { lazy: string[] };
    expect(lazy.length).toBeGreaterThan(0);
    for (const file of lazy) {
      const chunk = await h.call(`/${file}`, { headers: { origin: SITES[0]!.origins[0]! } });
      expect(chunk.status).toBe(200);
      expect(chunk.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
      expect(chunk.headers.get("access-control-allow-origin")).toBe(SITES[0]!.origins[0]);
    }
  });

  it("lets only configured sites load the module cross-origin", async () => {
    const h = harness();
    const allowed = await h.call("/widget.js", { headers: { origin: SITES[0]!.origins[0]! } });
    expect(allowed.headers.get("access-control-allow-origin")).toBe(SITES[0]!.origins[0]);
    expect(allowed.headers.get("vary")).toContain("Origin");
    const stranger = await h.call("/widget.js", { headers: { origin: "https://evil.example" } });
    expect(stranger.headers.get("access-control-allow-origin")).toBeNull();
  });

  it("serves the Custom Elements Manifest describing <still-motion>", async () => {
    const h = harness();
    const response = await h.call("/custom-elements.json");
    expect(response.status).toBe(200);
    const manifest = (await response.json()) as {
      modules: { declarations?: { tagName?: string }[] }[];
    };
    const tags = manifest.modules.flatMap((m) => m.declarations ?? []).map((d) => d.tagName);
    expect(tags).toContain("still-motion");
  });

  it("answers an unknown path with the error envelope", async () => {
    const h = harness();
    const response = await h.call("/nothing-here.txt");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "unknown_endpoint",
    );
  });
});
