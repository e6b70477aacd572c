/**
 * DELETE sticks: once it has answered, the video is gone for every caller, route and signed
 * URL — whatever refresh was in flight in any isolate, and whatever a lagging KV replica still
 * returns — and the money it reserved is settled, not stranded.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FakeOpenAI } from "../../helpers/fakes/openai";
import { RELAY_ROUTE } from "../../fixtures/routes";
import { harness, testClock } from "../../helpers/harness";
import { ledger } from "../../helpers/ledger";
import { createForm, post } from "../../helpers/requests";

const API_KEY = "sk-test-DELETEkey-relay-0123456789abcdefghij";

type Video = { id: string; status: string; content_urls: { video: string } | null };

/**
 * A gate on the upstream's status reads: while closed, each is answered by the fake at once (the
 * upstream's answer is fixed before the delete) but handed back only after `open()`. Flags, not
 * promises: the read runs in the job's watcher (a Durable Object), and a promise made in the
 * test's context and awaited in the object's would cross request contexts, which workerd forbids.
 */
function gatedRetrieves(fake: FakeOpenAI) {
  let closed = false;
  let waiting = false;
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const isRetrieve = request.method === "GET" && /\/videos\/[^/]+$/.test(request.url);
    const answer = await fake.fetch(request);
    if (closed && isRetrieve) {
      waiting = true;
      while (closed) await tick();
      waiting = false;
    }
    return answer;
  };
  return {
    fetch,
    close: () => void (closed = true),
    arrival: async () => {
      while (!waiting) await tick();
    },
    open: () => void (closed = false),
  };
}

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

/** Two apps (two isolates: separate refresh memory) on the same KV and ledger. */
function twoIsolates() {
  const clock = testClock();
  const fake = new FakeOpenAI({ apiKey: API_KEY, pollsToComplete: 1, now: () => clock.ms });
  const gate = gatedRetrieves(fake);
  const options = { clock, routes: [RELAY_ROUTE], fetch: gate.fetch, vars: { RELAY_KEY: API_KEY } };
  return { a: harness(options), b: harness(options), gate, fake, clock };
}

const keysOf = async (videoId: string) =>
  (await env.JOBS.list()).keys.map((k) => k.name).filter((name) => name.includes(videoId));

describe("DELETE /v1/videos/{id}", () => {
  it("is not undone by a refresh that was in flight in another isolate", async () => {
    const { a, b, gate } = twoIsolates();
    const created = (await (
      await a.server("/v1/videos", post(createForm({ model: "relay" })))
    ).json()) as Video;
    a.advance(60_000); // past the refresh interval: the next GET asks the upstream

    gate.close();
    const inFlight = a.server(`/v1/videos/${created.id}`);
    await gate.arrival(); // isolate A read the record and is waiting on the upstream
    const deleted = await b.server(`/v1/videos/${created.id}`, { method: "DELETE" });
    expect(await deleted.json()).toEqual({
      id: created.id,
      object: "video.deleted",
      deleted: true,
    });
    gate.open(); // the upstream's `completed` arrives: A's refresh wants to write it back

    expect((await inFlight).status).toBe(404);
    expect(await keysOf(created.id)).toEqual([]);
    for (const h of [a, b]) {
      expect((await h.server(`/v1/videos/${created.id}`)).status).toBe(404);
      expect((await h.server(`/v1/videos/${created.id}/content`)).status).toBe(404);
      const list = (await (await h.server("/v1/videos")).json()) as { data: Video[] };
      expect(list.data.map((v) => v.id)).not.toContain(created.id);
    }
  });

  it("holds everywhere even where KV still returns the record (a lagging replica)", async () => {
    const { a, b } = twoIsolates();
    const created = (await (
      await a.server("/v1/videos", post(createForm({ model: "relay" })))
    ).json()) as Video;
    a.advance(60_000);
    const done = (await (await a.server(`/v1/videos/${created.id}`)).json()) as Video;
    expect(done.status).toBe("completed");
    const signedUrl = new URL(done.content_urls!.video);
    const stale = await env.JOBS.get(`v1:job:${created.id}`);
    const staleIndex = (await keysOf(created.id)).filter((name) => !name.startsWith("v1:job:"));
    expect(staleIndex.length).toBeGreaterThan(0);

    expect((await b.server(`/v1/videos/${created.id}`, { method: "DELETE" })).status).toBe(200);
    // What a KV location that has not seen the delete yet would still serve.
    await env.JOBS.put(`v1:job:${created.id}`, stale!);
    for (const key of staleIndex) await env.JOBS.put(key, created.id);

    expect((await a.server(`/v1/videos/${created.id}`)).status).toBe(404);
    const list = (await (await a.server("/v1/videos")).json()) as { data: Video[] };
    expect(list.data.map((v) => v.id)).not.toContain(created.id);
    // The signed media link minted before the delete: no credential beyond the URL itself.
    const media = await a.call(`${signedUrl.pathname}${signedUrl.search}`);
    expect(media.status).toBe(404);
    const remix = await a.server(`/v1/videos/${created.id}/remix`, post({ prompt: "again" }));
    expect(remix.status).toBe(404);
  });

  it("settles the reservation of an unfinished job and deletes the upstream copy", async () => {
    const { a, fake } = twoIsolates();
    const created = (await (
      await a.server("/v1/videos", post(createForm({ model: "relay" })))
    ).json()) as Video;
    const record = await env.JOBS.get<{ reservation_id: string; upstream_id: string }>(
      `v1:job:${created.id}`,
      "json",
    );
    expect((await ledger().reservation(record!.reservation_id))?.state).toBe("reserved");

    expect((await a.server(`/v1/videos/${created.id}`, { method: "DELETE" })).status).toBe(200);
    // It may have run upstream, and nothing will ever see it finish: spent, not stranded.
    expect((await ledger().reservation(record!.reservation_id))?.state).toBe("settled");
    expect(fake.requests.map((r) => `${r.method} ${r.path}`)).toContain(
      `DELETE /videos/${record!.upstream_id}`,
    );
    // A second delete finds nothing, and settles nothing twice.
    expect((await a.server(`/v1/videos/${created.id}`, { method: "DELETE" })).status).toBe(404);
  });
});

describe("a storage outage", () => {
  /** KV whose reads (get, list) fail as in an outage; writes still work. */
  function failingReads(h: { env: Env }) {
    const kv = h.env.JOBS;
    const broken = () => Promise.reject(new Error("KV GET failed: 503 Service Unavailable"));
    h.env.JOBS = { ...kv, get: broken, list: broken } as unknown as KVNamespace;
    return () => (h.env.JOBS = kv);
  }

  it("answers 503 storage_unavailable with Retry-After on every read path", async () => {
    const h = harness();
    const created = (await (await h.server("/v1/videos", post(createForm()))).json()) as Video;
    h.advance(15_000);
    const done = (await (await h.server(`/v1/videos/${created.id}`)).json()) as Video;
    const signedUrl = new URL(done.content_urls!.video);
    failingReads(h);
    const paths: Array<[string, RequestInit?]> = [
      [`/v1/videos/${created.id}`],
      ["/v1/videos"],
      [`/v1/videos/${created.id}/content`],
      [`/v1/videos/${created.id}`, { method: "DELETE" }],
      [`/v1/videos/${created.id}/remix`, post({ prompt: "again" })],
    ];
    for (const [path, init] of paths) {
      const response = await h.server(path, init);
      expect(response.status, path).toBe(503);
      expect(response.headers.get("retry-after"), path).toBe("5");
      const body = (await response.json()) as { error: { code: string; message: string } };
      expect(body.error.code, path).toBe("storage_unavailable");
      expect(body.error.message).not.toContain("KV GET failed");
    }
    const media = await h.call(`${signedUrl.pathname}${signedUrl.search}`);
    expect(media.status).toBe(503);
  });

  it("answers 503 when the tombstones cannot be read, rather than serve a deleted video", async () => {
    const h = harness();
    const created = (await (await h.server("/v1/videos", post(createForm()))).json()) as Video;
    const ledgerBinding = h.env.LEDGER;
    h.env.LEDGER = {
      idFromName: (name: string) => ledgerBinding.idFromName(name),
      get: () => ({
        deletedAmong: () => Promise.reject(new Error("Durable Object reset")),
      }),
    } as unknown as Env["LEDGER"];
    const response = await h.server(`/v1/videos/${created.id}`);
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "storage_unavailable",
    );
  });
});
