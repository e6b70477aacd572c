/**
 * The kit's one redirect rule (worker/providers/kit/redirects.ts), on its own: what follows, with
 * which headers and body, and what is refused. Every adapter sends through it, so these
 * properties hold for all of them; test/worker/security/redirects.test.ts checks that they do.
 */
import { describe, expect, it } from "vitest";
import type { RedirectPolicy } from "../../../../worker/providers/kit/redirects";
import { fetchWithRetry } from "../../../../worker/providers/kit/send";
import { expectProviderError } from "../../../helpers/provider-error";

const API = "https://api.provider.test";
const KEY = "sk-test-FAKEKEY-kit-redirects-0123456789";

interface Seen {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

/** A scripted upstream: answers by URL, records what each request carried. */
function upstream(answers: Record<string, () => Response>) {
  const seen: Seen[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    expect(request.redirect).toBe("manual");
    seen.push({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body: request.body ? await request.text() : "",
    });
    const answer = answers[request.url];
    if (!answer) throw new Error(`unexpected ${request.method} ${request.url}`);
    return answer();
  };
  return { fetch, seen };
}

const redirect = (status: number, location: string) => () =>
  new Response(null, { status, headers: { location } });
const ok =
  (text = "ok") =>
  () =>
    new Response(text, { status: 200 });

const keyed =
  (url: string, init: RequestInit = {}) =>
  () =>
    new Request(url, {
      ...init,
      headers: {
        "api-key": KEY,
        authorization: `Bearer ${KEY}`,
        range: "bytes=0-9",
        ...init.headers,
      },
    });

const send = (fetch: typeof globalThis.fetch, make: () => Request, redirects?: RedirectPolicy) =>
  fetchWithRetry(fetch, make, { retries: 0, idempotent: true, redirects });

/** A refused redirect: a ProviderError that quotes no part of the key. */
const refusal = (promise: Promise<unknown>) => expectProviderError(promise, KEY, KEY.slice(8, 20));

describe("redirects in the provider kit", () => {
  it("follows a hop on the same origin with the request as built, credentials and body", async () => {
    const up = upstream({
      [`${API}/v1/videos`]: redirect(307, "/v2/videos"),
      [`${API}/v2/videos`]: ok("created"),
    });
    const make = keyed(`${API}/v1/videos`, { method: "POST", body: "prompt=waves" });
    const response = await fetchWithRetry(up.fetch, make, { retries: 0, idempotent: false });
    expect(await response.text()).toBe("created");
    expect(up.seen[1]).toMatchObject({ method: "POST", body: "prompt=waves" });
    expect(up.seen[1]!.headers["api-key"]).toBe(KEY);
  });

  it.each([301, 302, 303, 307, 308])(
    "never sends a write, its body or its key to another origin (HTTP %i)",
    async (status) => {
      const up = upstream({ [`${API}/v1/videos`]: redirect(status, "https://evil.test/collect") });
      const make = keyed(`${API}/v1/videos`, { method: "POST", body: "photo-bytes" });
      const error = await refusal(
        fetchWithRetry(up.fetch, make, {
          retries: 0,
          idempotent: false,
          redirects: { media: true },
        }),
      );
      expect(error.kind).toBe("bad_response");
      expect(up.seen.map((s) => s.url)).toEqual([`${API}/v1/videos`]);
    },
  );

  it("refuses a read redirected to another origin unless it is a media read", async () => {
    const up = upstream({ [`${API}/v1/videos/v1`]: redirect(302, "https://evil.test/steal") });
    const error = await refusal(send(up.fetch, keyed(`${API}/v1/videos/v1`)));
    expect(error.detail).toMatch(/another origin/);
    expect(up.seen).toHaveLength(1);
  });

  it("follows a media read to another origin with nothing but the allow-listed headers", async () => {
    const up = upstream({
      [`${API}/v1/videos/v1/content`]: redirect(302, "https://cdn.test/file.mp4?sig=abc"),
      "https://cdn.test/file.mp4?sig=abc": redirect(302, `${API}/v1/again`),
      [`${API}/v1/again`]: ok("bytes"),
    });
    const make = keyed(`${API}/v1/videos/v1/content`, {
      headers: { cookie: "a=b", accept: "video/mp4" },
    });
    const response = await send(up.fetch, make, { media: true });
    expect(await response.text()).toBe("bytes");
    expect(up.seen[1]!.headers).toEqual({ range: "bytes=0-9", accept: "video/mp4" });
    // Back on the API origin after leaving it: still no credentials.
    expect(up.seen[2]!.headers).toEqual({ range: "bytes=0-9", accept: "video/mp4" });
    for (const s of up.seen.slice(1)) expect(JSON.stringify(s)).not.toContain(KEY.slice(8, 20));
  });

  it.each([
    ["plain http", "http://cdn.test/file.mp4"],
    ["credentials in the URL", "https://user:pass@cdn.test/file.mp4"],
    ["a host the adapter does not accept", "https://elsewhere.test/file.mp4"],
  ])("refuses a media hop to %s", async (_, location) => {
    const up = upstream({ [`${API}/content`]: redirect(302, location) });
    const allowHost = (url: URL) => url.hostname.endsWith("cdn.test");
    const error = await refusal(
      send(up.fetch, keyed(`${API}/content`), { media: true, allowHost }),
    );
    expect(error.kind).toBe("bad_response");
    expect(up.seen).toHaveLength(1);
  });

  it("refuses a redirect without a Location and a chain of more than five hops", async () => {
    const none = upstream({ [`${API}/a`]: () => new Response(null, { status: 302 }) });
    expect((await refusal(send(none.fetch, keyed(`${API}/a`)))).detail).toMatch(/Location/);
    const loop = upstream({ [`${API}/a`]: redirect(302, "/a") });
    expect((await refusal(send(loop.fetch, keyed(`${API}/a`)))).detail).toMatch(/more than 5/);
    expect(loop.seen).toHaveLength(6);
  });

  it("does not retry a refused redirect", async () => {
    const up = upstream({ [`${API}/a`]: redirect(302, "https://evil.test/") });
    const make = keyed(`${API}/a`);
    await refusal(
      fetchWithRetry(up.fetch, make, { retries: 3, idempotent: true, sleep: async () => {} }),
    );
    expect(up.seen).toHaveLength(1);
  });
});
