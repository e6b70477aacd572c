/**
 * Headers every response carries, whichever path made it: `x-request-id` (so any answer can be
 * traced in the logs) — the demo page, static files, errors, preflights and media included —
 * and `Cache-Control: no-store` on every answer that carries signed media URLs.
 */
import { describe, expect, it } from "vitest";
import { harness, SITES } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

const ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("every response", () => {
  it("carries x-request-id, on every path", async () => {
    const h = harness();
    const created = (await (await h.server("/v1/videos", post(createForm()))).json()) as {
      id: string;
    };
    h.advance(15_000);
    const done = (await (await h.server(`/v1/videos/${created.id}`)).json()) as {
      content_urls: { video: string };
    };
    const media = new URL(done.content_urls.video);
    const calls: Array<[string, Promise<Response>]> = [
      ["demo page", h.call("/")],
      ["widget", h.call("/widget.js")],
      ["unknown path", h.call("/nope")],
      ["healthz", h.call("/healthz")],
      ["unauthorized", h.call("/v1/videos")],
      [
        "bad json",
        h.call("/v1/sessions", {
          method: "POST",
          body: "{",
          headers: { "content-type": "application/json", origin: SITES[0]!.origins[0]! },
        }),
      ],
      [
        "preflight",
        h.call("/v1/videos", {
          method: "OPTIONS",
          headers: { origin: SITES[0]!.origins[0]!, "access-control-request-method": "POST" },
        }),
      ],
      ["media", h.call(`${media.pathname}${media.search}`)],
      [
        "media range",
        h.call(`${media.pathname}${media.search}`, { headers: { range: "bytes=0-9" } }),
      ],
      ["not found", h.server("/v1/videos/video_00000000000000000000000000")],
    ];
    const missing: string[] = [];
    for (const [what, pending] of calls) {
      const response = await pending;
      await response.arrayBuffer();
      if (!ID.test(response.headers.get("x-request-id") ?? "")) missing.push(what);
    }
    expect(missing).toEqual([]);
    const misconfigured = harness({ vars: { MODEL_ROUTES: "[{" } });
    const broken = await misconfigured.call("/healthz");
    expect(broken.status).toBe(500);
    expect(broken.headers.get("x-request-id") ?? "").toMatch(ID);
  });

  it("is never cached when it carries signed media URLs", async () => {
    const h = harness();
    const created = await h.server("/v1/videos", post(createForm()));
    expect(created.headers.get("cache-control")).toBe("no-store");
    const { id } = (await created.json()) as { id: string };
    h.advance(15_000);
    for (const path of [`/v1/videos/${id}`, "/v1/videos"]) {
      const response = await h.server(path);
      expect(await response.text()).toContain("token=");
      expect(response.headers.get("cache-control"), path).toBe("no-store");
    }
    const remix = await h.server(`/v1/videos/${id}/remix`, post({ prompt: "at night" }));
    expect(remix.headers.get("cache-control")).toBe("no-store");
  });
});
