import { afterEach, describe, expect, it, vi } from "vitest";
import { StillMotionClient, type ClientOptions } from "../../widget/api/client";
import { ApiProblem } from "../../widget/api/problem";
import { FakeStillMotionApi } from "./helpers/fake-api";

type Store = NonNullable<ClientOptions["storage"]>;

function memoryStorage(): Store & { data: Map<string, string> } {
  const data = new Map<string, string>();
  return {
    data,
    getItem: (key) => data.get(key) ?? null,
    setItem: (key, value) => void data.set(key, value),
    removeItem: (key) => void data.delete(key),
  };
}

function setup(options: Partial<ClientOptions> = {}, api = new FakeStillMotionApi()) {
  const storage = memoryStorage();
  const client = new StillMotionClient({
    endpoint: api.endpoint,
    siteKey: api.siteKey,
    fetch: api.fetch,
    storage,
    ...options,
  });
  return { api, client, storage };
}

async function image(width = 1280, height = 720): Promise<Blob> {
  const canvas = new OffscreenCanvas(width, height);
  canvas.getContext("2d")!.fillRect(0, 0, width, height);
  return canvas.convertToBlob({ type: "image/png" });
}

const createInput = async (width = 1280, height = 720) => ({
  image: await image(width, height),
  prompt: "the waves roll in",
  model: "sim",
  size: "1280x720",
  seconds: "4",
});

const sessionRequests = (api: FakeStillMotionApi) =>
  api.requests.filter((r) => r.method === "POST" && r.path === "/v1/sessions");

/** Yields a real task: fake timers leave MessageChannel alone, so fetch and streams progress. */
const yieldTask = () =>
  new Promise<void>((resolve) => {
    const channel = new MessageChannel();
    channel.port1.onmessage = () => resolve();
    channel.port2.postMessage(null);
  });

/** Lets real I/O run until the code under test has set its (fake) backoff timer. */
async function untilTimerSet(): Promise<void> {
  for (let i = 0; i < 500 && vi.getTimerCount() === 0; i++) await yieldTask();
  expect(vi.getTimerCount()).toBe(1);
}

/** Runs `promise` to completion, letting real I/O and fake time advance in turns. */
async function settle<T>(promise: Promise<T>): Promise<PromiseSettledResult<T>> {
  let done = false;
  const result = Promise.allSettled([promise]).then(([outcome]) => ((done = true), outcome!));
  for (let i = 0; i < 1000 && !done; i++) {
    await yieldTask();
    await vi.advanceTimersByTimeAsync(100);
  }
  return result;
}

afterEach(() => {
  vi.useRealTimers();
});

describe("StillMotionClient.session", () => {
  it("caches the token in storage and reuses it, also from a new client", async () => {
    const { api, client, storage } = setup();
    const first = await client.session();
    expect(await client.session()).toEqual(first);
    const again = new StillMotionClient({
      endpoint: api.endpoint,
      siteKey: api.siteKey,
      fetch: api.fetch,
      storage,
    });
    expect(await again.session()).toEqual(first);
    expect(sessionRequests(api)).toHaveLength(1);
    expect(sessionRequests(api)[0]!.json).toEqual({ site_key: "pk_test_widget" });
  });

  it("renews about 60 s before expiry with the previous token as Bearer, keeping the visitor id", async () => {
    let now = Date.now();
    const { api, client } = setup({ now: () => now });
    const first = await client.session();
    now = first.expiresAt * 1000 - 61_000;
    expect((await client.session()).token).toBe(first.token);
    now = first.expiresAt * 1000 - 59_000;
    const renewed = await client.session();
    expect(renewed.token).not.toBe(first.token);
    expect(renewed.visitorId).toBe(first.visitorId);
    expect(sessionRequests(api)).toHaveLength(2);
    expect(sessionRequests(api)[1]!.headers.get("authorization")).toBe(`Bearer ${first.token}`);
  });

  it("renews an expired stored session and keeps its visitor id", async () => {
    let now = Date.now();
    const { client } = setup({ now: () => now });
    const first = await client.session();
    now = first.expiresAt * 1000 + 86_400_000;
    expect((await client.session()).visitorId).toBe(first.visitorId);
  });

  it("makes one request for concurrent callers", async () => {
    const { api, client } = setup();
    const sessions = await Promise.all([client.session(), client.session(), client.session()]);
    expect(new Set(sessions.map((s) => s.token)).size).toBe(1);
    expect(sessionRequests(api)).toHaveLength(1);
  });

  it("keeps the shared request alive when only one of its callers aborts", async () => {
    const { api, client } = setup({}, new FakeStillMotionApi({ latencyMs: 20 }));
    const leaving = new AbortController();
    const aborted = client.session(leaving.signal);
    const staying = client.session();
    leaving.abort();
    await expect(aborted).rejects.toMatchObject({ kind: "aborted" });
    expect((await staying).token).toMatch(/^tok_/);
    expect(sessionRequests(api)).toHaveLength(1);
  });

  it("works with storage that throws (Safari private mode)", async () => {
    const failing: Store = {
      getItem: () => {
        throw new DOMException("denied", "SecurityError");
      },
      setItem: () => {
        throw new DOMException("full", "QuotaExceededError");
      },
      removeItem: () => {},
    };
    const { api, client } = setup({ storage: failing });
    const first = await client.session();
    expect(await client.session()).toEqual(first);
    expect(sessionRequests(api)).toHaveLength(1);
  });

  it("reports an unknown site key as an auth problem", async () => {
    const { client } = setup({ siteKey: "pk_wrong" });
    await expect(client.session()).rejects.toMatchObject({
      kind: "auth",
      status: 401,
      code: "invalid_site_key",
    });
  });
});

describe("StillMotionClient requests", () => {
  it("sends create as multipart with OpenAI's field names and the Idempotency-Key", async () => {
    const { api, client } = setup();
    const input = await createInput();
    const video = await client.create(input, { idempotencyKey: "key-1" });
    expect(video).toMatchObject({ object: "video", status: "queued", size: "1280x720" });
    const sent = api.requests.find((r) => r.path === "/v1/videos")!;
    expect(sent.headers.get("idempotency-key")).toBe("key-1");
    expect(sent.headers.get("authorization")).toMatch(/^Bearer tok_/);
    expect(Object.fromEntries([...sent.form!.keys()].map((k) => [k, true]))).toEqual({
      prompt: true,
      model: true,
      size: true,
      seconds: true,
      input_reference: true,
    });
    expect(sent.form!.get("input_reference")).toBeInstanceOf(File);
    // The same key returns the same job: the element's retry is safe.
    expect((await client.create(input, { idempotencyKey: "key-1" })).id).toBe(video.id);
  });

  it("refuses an image that is not exactly `size` pixels (the fake decodes it)", async () => {
    const { client } = setup();
    await expect(client.create(await createInput(1000, 720))).rejects.toMatchObject({
      kind: "input",
      code: "image_size_mismatch",
      param: "input_reference",
    });
  });

  it("sends create once even on 503", async () => {
    const { api, client } = setup();
    api.failNext(
      503,
      { message: "The provider is busy.", code: "provider_unavailable" },
      { path: /^\/v1\/videos$/ },
    );
    const problem = await client.create(await createInput()).catch((e: unknown) => e);
    expect(problem).toBeInstanceOf(ApiProblem);
    expect(problem).toMatchObject({ kind: "provider", status: 503, transient: true });
    expect(api.requests.filter((r) => r.path === "/v1/videos")).toHaveLength(1);
  });

  it("renews the session once on 401 and resends the same request", async () => {
    const { api, client } = setup();
    const video = await client.create(await createInput());
    const old = (await client.session()).token;
    api.failNext(
      401,
      { message: "The token has expired.", code: "invalid_token" },
      { method: "GET" },
    );
    expect((await client.retrieve(video.id)).id).toBe(video.id);
    const path = `/v1/videos/${video.id}`;
    const [rejected, renewal, resent] = api.requests.slice(-3);
    expect([rejected, renewal, resent].map((r) => `${r!.method} ${r!.path}`)).toEqual([
      `GET ${path}`,
      "POST /v1/sessions",
      `GET ${path}`,
    ]);
    expect(rejected!.headers.get("authorization")).toBe(`Bearer ${old}`);
    expect(renewal!.headers.get("authorization")).toBe(`Bearer ${old}`);
    const fresh = await client.session();
    expect(fresh.token).not.toBe(old);
    expect(resent!.headers.get("authorization")).toBe(`Bearer ${fresh.token}`);
  });

  it("reports a second 401 as auth after a single renewal", async () => {
    const { api, client } = setup();
    await client.session();
    api.failNext(
      401,
      { message: "No.", code: "invalid_token" },
      { path: /^\/v1\/videos/, times: 2 },
    );
    await expect(client.recent()).rejects.toMatchObject({ kind: "auth", status: 401 });
    expect(sessionRequests(api)).toHaveLength(2);
  });

  it.each([
    [400, "policy_violation", "policy"],
    [400, "invalid_value", "input"],
    [402, "budget_exceeded", "budget"],
    [404, "not_found", "not_found"],
    [409, "idempotency_key_reused", "input"],
    [409, "idempotency_request_in_progress", "rate_limit"],
    [409, "idempotency_outcome_unknown", "unconfirmed"],
    [413, "payload_too_large", "input"],
    [429, "rate_limited", "rate_limit"],
    [429, "budget_exceeded", "budget"],
    [500, "internal_error", "server"],
    [502, "provider_error", "provider"],
    [504, "provider_timeout", "provider"],
  ] as const)(
    "maps HTTP %i %s to kind %s with the server's message",
    async (status, code, kind) => {
      const { api, client } = setup();
      api.failNext(
        status,
        { message: `Readable ${code}.`, code, param: "prompt" },
        { method: "POST", path: /^\/v1\/videos$/ },
      );
      const problem = await client.create(await createInput()).catch((e: unknown) => e);
      expect(problem).toBeInstanceOf(ApiProblem);
      expect(problem).toMatchObject({ status, code, kind, param: "prompt" });
      expect((problem as ApiProblem).message).toBe(`Readable ${code}.`);
    },
  );

  it("reads Retry-After in seconds and as an HTTP date", async () => {
    const { api, client } = setup();
    api.failNext(
      429,
      { message: "Slow down.", code: "rate_limited" },
      { path: /^\/v1\/videos$/, retryAfter: 7 },
    );
    await expect(client.create(await createInput())).rejects.toMatchObject({
      kind: "rate_limit",
      retryAfter: 7,
      transient: true,
    });
    const now = Math.floor(Date.now() / 1000) * 1000; // whole seconds, as HTTP dates carry
    const dated = new StillMotionClient({
      endpoint: "https://x.test",
      siteKey: "pk",
      storage: null,
      now: () => now,
      fetch: async (input) =>
        String(input).endsWith("/v1/sessions")
          ? Response.json({ token: "t", expires_at: now / 1000 + 3600, visitor_id: "v" })
          : new Response("{}", {
              status: 503,
              headers: { "retry-after": new Date(now + 30_000).toUTCString() },
            }),
    });
    await expect(dated.create(await createInput())).rejects.toMatchObject({
      kind: "provider",
      retryAfter: 30,
    });
  });

  it("reports a dropped connection as network (status 0)", async () => {
    const { api, client } = setup();
    api.dropNext({ path: /^\/v1\/videos$/ });
    await expect(client.create(await createInput())).rejects.toMatchObject({
      kind: "network",
      status: 0,
      transient: true,
    });
  });

  it("retries a transient retrieve failure with backoff, then succeeds", async () => {
    const { api, client } = setup();
    const video = await client.create(await createInput());
    vi.useFakeTimers();
    api
      .failNext(503, { message: "Busy." }, { method: "GET", times: 1 })
      .dropNext({ method: "GET" });
    const gets = () => api.requests.filter((r) => r.method === "GET").length;
    const result = client.retrieve(video.id);
    await untilTimerSet();
    expect(gets()).toBe(1);
    await vi.advanceTimersByTimeAsync(499);
    expect(gets()).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    await untilTimerSet();
    expect(gets()).toBe(2);
    await vi.advanceTimersByTimeAsync(1000);
    expect((await result).status).toBe("in_progress");
    expect(gets()).toBe(3);
  });

  it("waits Retry-After between retries, capped at 20 s", async () => {
    const { api, client } = setup();
    await client.session();
    vi.useFakeTimers();
    api.failNext(429, { message: "Later." }, { path: /^\/v1\/models$/, retryAfter: 120 });
    const result = client.models();
    await untilTimerSet();
    await vi.advanceTimersByTimeAsync(19_999);
    expect(api.requests.filter((r) => r.path === "/v1/models")).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect((await result).map((m) => m.id)).toEqual(["sim"]);
  });

  it("gives up after 3 retries and reports the last problem", async () => {
    const { api, client } = setup();
    vi.useFakeTimers();
    api.failNext(502, { message: "Provider failed." }, { path: /^\/v1\/models$/, times: 4 });
    const outcome = await settle(client.models());
    expect(outcome).toMatchObject({ status: "rejected", reason: { kind: "provider" } });
    expect(api.requests.filter((r) => r.path === "/v1/models")).toHaveLength(4);
  });

  it("does not retry a non-transient problem", async () => {
    const { api, client } = setup();
    await client.session();
    api.failNext(404, { message: "No such video.", code: "not_found" });
    await expect(client.retrieve("video_0123456789abcdefghjkmnpqrs")).rejects.toMatchObject({
      kind: "not_found",
    });
    expect(api.requests.filter((r) => r.method === "GET")).toHaveLength(1);
  });

  it("abort cancels an in-flight request with kind aborted", async () => {
    const seen: AbortSignal[] = [];
    const hanging: typeof fetch = (_input, init) =>
      new Promise((_resolve, reject) => {
        const signal = init!.signal!;
        seen.push(signal);
        signal.addEventListener("abort", () => reject(signal.reason));
      });
    const client = new StillMotionClient({
      endpoint: "https://x.test",
      siteKey: "pk",
      fetch: hanging,
      storage: null,
    });
    const controller = new AbortController();
    const result = client.models(controller.signal);
    await new Promise((r) => setTimeout(r, 10));
    expect(seen).toHaveLength(1);
    controller.abort();
    await expect(result).rejects.toMatchObject({ kind: "aborted", status: 0 });
    expect(seen[0]!.aborted).toBe(true);
  });

  it("abort also ends a retry backoff at once", async () => {
    const { api, client } = setup();
    api.failNext(503, { message: "Busy." }, { path: /^\/v1\/models$/, retryAfter: 15 });
    const controller = new AbortController();
    const result = client.models(controller.signal);
    await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await expect(result).rejects.toMatchObject({ kind: "aborted" });
    expect(api.requests.filter((r) => r.path === "/v1/models")).toHaveLength(1);
  });
});

describe("StillMotionClient with the fake worker", () => {
  it("lists the visitor's recent videos, newest first, with ?limit", async () => {
    const { api, client } = setup();
    const first = await client.create(await createInput());
    const second = await client.create(await createInput());
    expect((await client.recent(5)).map((v) => v.id)).toEqual([second.id, first.id]);
    expect(api.requests.at(-1)!.url).toBe(`${api.endpoint}/v1/videos?limit=5`);
  });

  it("polls a job to completion with playable media, then remixes it", async () => {
    const { api, client } = setup();
    const video = await client.create(await createInput());
    const seen = [];
    for (let i = 0; i < 3; i++) seen.push(await client.retrieve(video.id));
    expect(seen.map((v) => v.status)).toEqual(["in_progress", "in_progress", "completed"]);
    expect(seen[1]!.progress).toBeGreaterThan(seen[0]!.progress);
    const urls = seen[2]!.content_urls!;
    const [clip, thumbnail] = await Promise.all([api.fetch(urls.video), api.fetch(urls.thumbnail)]);
    expect(clip.headers.get("content-type")).toBe("video/mp4");
    expect(thumbnail.headers.get("content-type")).toBe("image/webp");
    expect((await createImageBitmap(await thumbnail.blob())).width).toBe(1280);
    const remix = await client.remix(video.id, "now at night", { idempotencyKey: "r1" });
    expect(remix).toMatchObject({ status: "queued", remixed_from_video_id: video.id });
  });

  it("serves a client that uses the global fetch once installed, until uninstalled", async () => {
    const api = new FakeStillMotionApi();
    const realFetch = globalThis.fetch;
    const uninstall = api.install();
    try {
      const client = new StillMotionClient({
        endpoint: api.endpoint,
        siteKey: api.siteKey,
        storage: null,
      });
      expect((await client.models()).map((m) => m.id)).toEqual(["sim"]);
    } finally {
      uninstall();
    }
    expect(globalThis.fetch).toBe(realFetch);
  });

  it("hides a job from another visitor (404, like the worker)", async () => {
    const api = new FakeStillMotionApi();
    const owner = setup({}, api).client;
    const stranger = setup({}, api).client;
    const video = await owner.create(await createInput());
    await expect(stranger.retrieve(video.id)).rejects.toMatchObject({ kind: "not_found" });
  });

  it("answers failJob on the next poll with the normalized error", async () => {
    const { api, client } = setup();
    const video = await client.create(await createInput());
    api.failJob(video.id, "policy_violation", "This image cannot be used.");
    expect(await client.retrieve(video.id)).toMatchObject({
      status: "failed",
      error: { code: "policy_violation", message: "This image cannot be used." },
    });
  });
});
