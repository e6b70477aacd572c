/**
 * Redirects to another origin, through the whole worker, for every provider route (openai with
 * bearer and with Azure-style `api-key` auth, fal, Veo, Runway, Replicate). The upstream answers
 * a create or a content download with a 3xx pointing at a host we do not know; whatever that host
 * receives is recorded. No credential header, no slice of any key and no request body may ever
 * arrive there — the property the provider kit's redirect rule exists for.
 */
import { describe, expect, it } from "vitest";
import { deployment, PROVIDERS, SECRETS } from "../../helpers/deployment";
import type { Harness } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

const EVIL = "evil.example.test";
const CREDENTIAL_HEADERS = ["authorization", "api-key", "x-goog-api-key", "cookie", "x-api-key"];

/** Requests each route makes to fetch a finished video's bytes. */
const IS_CONTENT: Record<string, (url: URL) => boolean> = {
  relay: (url) => url.pathname.endsWith("/content"),
  azure: (url) => url.pathname.endsWith("/content"),
  "kling-fal": (url) => url.hostname === "v3.fal.media",
  veo: (url) => url.pathname.endsWith(":download"),
  runway: (url) => url.hostname.includes("cloudfront") || url.hostname.includes("runway"),
  "veo-replicate": (url) => url.hostname === "replicate.delivery",
  "veo-openrouter": (url) => url.pathname.endsWith("/content"),
};

interface Arrival {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A deployment whose upstreams redirect the first request `when` matches to the evil host. */
function redirecting(when: (request: Request) => boolean, status: number) {
  const arrivals: Arrival[] = [];
  let armed = true;
  const d = deployment({
    intercept: async (request) => {
      const url = new URL(request.url);
      if (url.hostname === EVIL) {
        arrivals.push({
          method: request.method,
          url: request.url,
          headers: Object.fromEntries(request.headers),
          body: request.body ? await request.text() : "",
        });
        return new Response(new Uint8Array(64), { headers: { "content-type": "video/mp4" } });
      }
      if (armed && when(request)) {
        armed = false;
        return new Response(null, { status, headers: { location: `https://${EVIL}/collect` } });
      }
      return null;
    },
  });
  return { ...d, arrivals, fired: () => !armed };
}

const allSecrets = Object.values(SECRETS);

const server = (d: { h: Harness }, path: string, init?: RequestInit) =>
  d.h.as(SECRETS.SERVER_KEY_BACKEND, path, init);

/** No credential header and no 6-character slice of any configured secret. */
function expectClean(arrivals: Arrival[]) {
  for (const arrival of arrivals) {
    for (const name of CREDENTIAL_HEADERS) expect(arrival.headers[name]).toBeUndefined();
    const text = JSON.stringify(arrival);
    for (const secret of allSecrets) {
      for (let i = 0; i + 6 <= secret.length; i += 3) {
        expect(text, `a slice of a secret reached ${EVIL}`).not.toContain(secret.slice(i, i + 6));
      }
    }
  }
}

describe.each(PROVIDERS)("a redirect to another origin on route $model", ({ model, seconds }) => {
  it.each([307, 308, 302])(
    "on create (HTTP %i) sends neither the body nor the key",
    async (status) => {
      const d = redirecting((r) => r.method === "POST" && new URL(r.url).hostname !== EVIL, status);
      const response = await server(d, "/v1/videos", post(createForm({ model, seconds })));
      expect(d.fired()).toBe(true);
      expect(response.status).toBeGreaterThanOrEqual(500);
      expect(d.arrivals).toEqual([]);
    },
  );

  it("on content download carries no credential, and a write never follows", async () => {
    const d = redirecting((r) => r.method === "GET" && IS_CONTENT[model]!(new URL(r.url)), 302);
    const created = await server(d, "/v1/videos", post(createForm({ model, seconds })));
    expect(created.status).toBe(200);
    const { id } = (await created.json()) as { id: string };
    let status = "queued";
    for (let i = 0; i < 15 && status !== "completed"; i++) {
      d.h.advance(2500);
      status = ((await (await server(d, `/v1/videos/${id}`)).json()) as { status: string }).status;
    }
    expect(status).toBe("completed");
    const content = await server(d, `/v1/videos/${id}/content`, {
      headers: { range: "bytes=0-9" },
    });
    await content.arrayBuffer();
    expect(d.fired()).toBe(true);
    // Followed (credential-free) or refused, as the route's host rules say; never with a key.
    expect([200, 206, 502]).toContain(content.status);
    expect(d.arrivals.every((a) => a.method === "GET" && a.body === "")).toBe(true);
    expectClean(d.arrivals);
  });
});
