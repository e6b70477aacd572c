import { afterEach, describe, expect, it } from "vitest";
import { fetchWithRetry } from "../../../worker/providers/kit/send";
import { parseRetryAfter } from "../../../worker/providers/kit/errors";
import { sanitizeUpstreamText } from "../../../worker/providers/kit/sanitize";
import {
  createOpenAIProvider,
  openAIProviderOptions,
  type OpenAIProviderOptions,
} from "../../../worker/providers/openai";
import type { CreateInput, InputImage, Provider } from "../../../worker/providers/types";
import { ContractViolation, patternBytes } from "../../helpers/fakes/base";
import { FakeOpenAI, type FakeOpenAIOptions } from "../../helpers/fakes/openai";
import { wholeSecondNow } from "../../helpers/clock";
import { expectProviderError } from "../../helpers/provider-error";

const KEY = "sk-test-FAKEKEY-0123456789abcdefghij";
const BASE = "https://relay.example.test/v1";
// The fake clock starts at the real now: webhook timestamps are judged against it.
const NOW = wholeSecondNow();

const fakes: FakeOpenAI[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.assertClean();
});

interface Setup {
  fake: FakeOpenAI;
  provider: Provider;
  /** Every backoff the adapter asked for, in ms; sleeping is instant. */
  sleeps: number[];
}

function setup(
  block: Partial<Record<keyof OpenAIProviderOptions, unknown>> = {},
  fakeOptions: Partial<FakeOpenAIOptions> = {},
  apiKey = KEY,
): Setup {
  const options = openAIProviderOptions.parse({ type: "openai", base_url: BASE, ...block });
  const fake = new FakeOpenAI({
    apiKey: KEY,
    baseUrl: options.base_url,
    auth: options.auth,
    now: () => NOW,
    ...fakeOptions,
  });
  fakes.push(fake);
  const sleeps: number[] = [];
  const sleep = async (ms: number) => void sleeps.push(ms);
  const provider = createOpenAIProvider(options, {
    fetch: fake.fetch,
    now: () => NOW,
    apiKey,
    sleep,
  });
  return { fake, provider, sleeps };
}

/** A PNG header is all the fake (and the contract) looks at: signature and IHDR. */
function png(width: number, height: number): InputImage {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24);
  return { bytes, mime: "image/png", width, height };
}

/** An extended-format WebP header (VP8X), which carries the canvas size. */
function webp(width: number, height: number): InputImage {
  const bytes = new Uint8Array(30);
  bytes.set(new TextEncoder().encode("RIFF\x16\x00\x00\x00WEBPVP8X\x0a\x00\x00\x00"));
  const u24 = (at: number, value: number) =>
    bytes.set([value & 255, (value >> 8) & 255, value >> 16], at);
  u24(24, width - 1);
  u24(27, height - 1);
  return { bytes, mime: "image/webp", width, height };
}

function input(overrides: Partial<CreateInput> = {}): CreateInput {
  return {
    jobId: "job_abc123",
    model: "sora-2",
    prompt: "A cat turns its head",
    seconds: "4",
    size: "1280x720",
    ...overrides,
  };
}

const providerError = (promise: Promise<unknown>) => expectProviderError(promise, KEY, "FAKEKEY");

async function completed(s: Setup): Promise<string> {
  const { upstreamId } = await s.provider.create(input());
  for (let i = 0; i < 3; i++) await s.provider.retrieve(upstreamId);
  return upstreamId;
}

describe("openAIProviderOptions", () => {
  it("fills the defaults and drops a trailing slash from base_url", () => {
    const options = openAIProviderOptions.parse({ type: "openai", base_url: `${BASE}/` });
    expect(options).toEqual({
      type: "openai",
      base_url: BASE,
      auth: "bearer",
      api_key_secret: "OPENAI_API_KEY",
      timeout_ms: 30_000,
      max_retries: 2,
    });
  });

  it.each([
    "http://localhost:4000/v1",
    "http://127.0.0.1:8080/v1",
    "https://res.openai.azure.com/openai/v1",
  ])("accepts %s", (base_url) => {
    expect(openAIProviderOptions.safeParse({ type: "openai", base_url }).success).toBe(true);
  });

  it.each([
    ["http:// to a remote host", { base_url: "http://relay.example.test/v1" }],
    ["a non-URL", { base_url: "relay.example.test/v1" }],
    ["credentials in the URL", { base_url: "https://user:pass@relay.example.test/v1" }],
    ["a query string", { base_url: "https://relay.example.test/v1?key=abc" }],
    ["an unknown key (typo)", { base_url: BASE, max_retry: 3 }],
    ["an unknown auth style", { base_url: BASE, auth: "basic" }],
    ["a lowercase secret name", { base_url: BASE, api_key_secret: "openai_key" }],
    ["more than 5 retries", { base_url: BASE, max_retries: 6 }],
    ["a fractional timeout", { base_url: BASE, timeout_ms: 1500.5 }],
  ])("rejects %s", (_, block) => {
    expect(openAIProviderOptions.safeParse({ type: "openai", ...block }).success).toBe(false);
  });
});

describe("create", () => {
  it("posts multipart fields with seconds as a string and the image as a typed file", async () => {
    const { fake, provider } = setup();
    const job = await provider.create(input({ image: png(1280, 720) }));

    expect(job).toEqual({
      upstreamId: expect.stringMatching(/^video_/),
      status: "queued",
      progress: 0,
      error: null,
      expiresAt: null,
    });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request!.method).toBe("POST");
    expect(request!.url.href).toBe(`${BASE}/videos`);
    expect(request!.headers.get("content-type")).toMatch(/^multipart\/form-data; boundary=/);
    expect(request!.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(request!.headers.get("api-key")).toBeNull();
    expect(request!.headers.get("idempotency-key")).toBe("job_abc123");
    expect(request!.headers.get("accept")).toBe("application/json");
    expect(request!.fields).toEqual({
      prompt: "A cat turns its head",
      model: "sora-2",
      seconds: "4",
      size: "1280x720",
    });
    expect(request!.file).toMatchObject({ name: "input.png", type: "image/png" });
    expect(request!.file!.bytes).toEqual(png(1280, 720).bytes);
  });

  it("names a WebP input input.webp and sends it as image/webp", async () => {
    const { fake, provider } = setup();
    await provider.create(
      input({ model: "sora-2-pro", size: "1024x1792", seconds: "12", image: webp(1024, 1792) }),
    );
    expect(fake.requests[0]!.file).toMatchObject({ name: "input.webp", type: "image/webp" });
    expect(fake.requests[0]!.fields.seconds).toBe("12");
  });

  it("sends no input_reference when there is no image", async () => {
    const { fake, provider } = setup();
    await provider.create(input());
    expect(fake.requests[0]!.file).toBeNull();
  });

  it("authenticates Azure-style with an api-key header and no Authorization", async () => {
    const { fake, provider } = setup({
      base_url: "https://res.openai.azure.com/openai/v1",
      auth: "api-key",
    });
    await provider.create(input());
    const [request] = fake.requests;
    expect(request!.url.href).toBe("https://res.openai.azure.com/openai/v1/videos");
    expect(request!.headers.get("api-key")).toBe(KEY);
    expect(request!.headers.get("authorization")).toBeNull();
  });

  it("maps the upstream's 400 for a wrongly sized image to input_rejected with its reason", async () => {
    const { provider } = setup();
    const error = await providerError(provider.create(input({ image: png(640, 480) })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toContain(
      "Inpaint image must match the requested width and height",
    );
  });

  it("sanitises an upstream reason: no URLs, no token-like strings, at most ~200 characters", async () => {
    const { fake, provider } = setup();
    const message = `Bad image, see https://cdn.example.test/x?sig=abc token=tok_123 ${"very long ".repeat(40)}`;
    fake.failNext(400, { error: { message, type: "invalid_request_error" } });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).not.toContain("https://");
    expect(error.publicMessage).not.toContain("tok_123");
    expect(error.publicMessage.length).toBeLessThanOrEqual(260);
  });

  it("maps a moderation refusal at create to policy_violation", async () => {
    const { fake, provider } = setup();
    fake.failNext(400, {
      error: {
        message: "Your request was blocked.",
        type: "invalid_request_error",
        code: "moderation_blocked",
      },
    });
    expect((await providerError(provider.create(input()))).kind).toBe("policy_violation");
  });

  it("maps a 401 to misconfigured without repeating the key the upstream echoed", async () => {
    const { provider } = setup({}, {}, "sk-test-WRONGKEY-0123456789abcdefghij");
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("misconfigured");
    expect(error.publicMessage).toBe("The video provider rejected the worker's credentials.");
    expect(`${error.detail}`).not.toMatch(/WRONGKEY|ghij|https:/);
  });

  it("maps a 429 with retry-after to rate_limited and sends the create only once", async () => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(429, { headers: { "retry-after": "7" }, error: { type: "rate_limit_exceeded" } });
    const error = await providerError(provider.create(input()));
    expect(error).toMatchObject({ kind: "rate_limited", retryAfter: 7 });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("is not retried on 503: exactly one upstream request", async () => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(503, { times: 3 });
    expect((await providerError(provider.create(input()))).kind).toBe("unavailable");
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("reports an unknown outcome (timeout) when the connection drops during a create", async () => {
    const { provider } = setupWith(async () => {
      throw new TypeError("Network connection lost.");
    });
    expect((await providerError(provider.create(input()))).kind).toBe("timeout");
  });

  it.each([
    ["not JSON", "<html>Bad gateway</html>"],
    ["JSON without an id", JSON.stringify({ object: "video", status: "queued" })],
    ["an id unfit for a URL", JSON.stringify({ id: "../admin", status: "queued" })],
  ])("treats a 200 that is %s as bad_response", async (_, body) => {
    const { fake, provider } = setup();
    fake.script({
      respond: () => new Response(body, { headers: { "content-type": "application/json" } }),
    });
    expect((await providerError(provider.create(input()))).kind).toBe("bad_response");
  });
});

/** An adapter over a hand-written fetch, for failures the fake cannot produce (dropped sockets). */
function setupWith(fetchFn: typeof fetch, block: Record<string, unknown> = {}) {
  const options = openAIProviderOptions.parse({ type: "openai", base_url: BASE, ...block });
  const sleeps: number[] = [];
  const sleep = async (ms: number) => void sleeps.push(ms);
  return {
    provider: createOpenAIProvider(options, { fetch: fetchFn, now: () => NOW, apiKey: KEY, sleep }),
    sleeps,
  };
}

describe("retrieve", () => {
  it("follows a job from queued through in_progress to completed", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    const states = [];
    for (let i = 0; i < 3; i++) states.push(await provider.retrieve(upstreamId));
    expect(states).toEqual([
      { status: "in_progress", progress: 33, error: null, expiresAt: null },
      { status: "in_progress", progress: 66, error: null, expiresAt: null },
      { status: "completed", progress: 100, error: null, expiresAt: NOW / 1000 + 3600 },
    ]);
    expect(fake.requests.slice(1).map((r) => `${r.method} ${r.path}`)).toEqual(
      Array(3).fill(`GET /videos/${upstreamId}`),
    );
  });

  it.each([
    ["moderation_blocked", "policy_violation"],
    ["sentinel_block", "policy_violation"],
    ["content_policy_violation", "policy_violation"],
    ["invalid_input_image", "input_rejected"],
    ["internal_error", "provider_error"],
  ])("maps a failed job with error %s to %s", async (code, expected) => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failVideo(upstreamId, { code, message: `Refused, see https://help.example.test/${code}` });
    const state = await provider.retrieve(upstreamId);
    expect(state.status).toBe("failed");
    expect(state.error?.code).toBe(expected);
    expect(state.error?.message).toContain("Refused");
    expect(state.error?.message).not.toContain("https://");
  });

  it("gives a failed job without an error object a generic provider_error", async () => {
    const { fake, provider } = setup();
    fake.script({
      respond: () => Response.json({ id: "video_1", status: "failed", progress: 40, error: null }),
    });
    expect(await provider.retrieve("video_1")).toMatchObject({
      status: "failed",
      progress: 40,
      error: { code: "provider_error" },
    });
  });

  it.each([
    [
      "progress 100 before completion",
      { status: "in_progress", progress: 100 },
      { status: "in_progress", progress: 99 },
    ],
    [
      "an unknown status",
      { status: "processing", progress: 12.7 },
      { status: "in_progress", progress: 12 },
    ],
    ["a negative progress", { status: "queued", progress: -5 }, { status: "queued", progress: 0 }],
    [
      "a missing progress and extra fields",
      { status: "queued", vendor: { x: 1 } },
      { status: "queued", progress: 0 },
    ],
    [
      "a null progress",
      { status: "in_progress", progress: null },
      { status: "in_progress", progress: 0 },
    ],
  ])("reads %s leniently", async (_, video, expected) => {
    const { fake, provider } = setup();
    fake.script({ respond: () => Response.json({ id: "video_1", object: "video", ...video }) });
    expect(await provider.retrieve("video_1")).toEqual({
      ...expected,
      error: null,
      expiresAt: null,
    });
  });

  it("is retried on 503 and succeeds, waiting as retry-after-ms and retry-after say", async () => {
    const { fake, provider, sleeps } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failNext(503, { headers: { "retry-after-ms": "250" } });
    fake.failNext(503, { headers: { "retry-after": "2" } });
    expect((await provider.retrieve(upstreamId)).status).toBe("in_progress");
    expect(fake.requests).toHaveLength(4);
    expect(sleeps).toEqual([250, 2000]);
  });

  it("honours a retry-after given as an HTTP date", async () => {
    const { fake, provider, sleeps } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failNext(429, { headers: { "retry-after": new Date(NOW + 3000).toUTCString() } });
    await provider.retrieve(upstreamId);
    expect(sleeps).toEqual([3000]);
  });

  it("backs off exponentially with jitter, then gives up as upstream_failed after max_retries", async () => {
    const { fake, provider, sleeps } = setup({ max_retries: 3 });
    fake.failNext(500, { times: 4 });
    expect((await providerError(provider.retrieve("video_1"))).kind).toBe("upstream_failed");
    expect(fake.requests).toHaveLength(4);
    expect(sleeps).toHaveLength(3);
    [500, 1000, 2000].forEach((base, i) => {
      expect(sleeps[i]).toBeGreaterThanOrEqual(base * 0.75);
      expect(sleeps[i]).toBeLessThanOrEqual(base);
    });
  });

  it("does not retry when told to wait beyond the cap, and reports the wait", async () => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(429, { headers: { "retry-after": "120" } });
    const error = await providerError(provider.retrieve("video_1"));
    expect(error).toMatchObject({ kind: "rate_limited", retryAfter: 120 });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("retries dropped connections and then reports unavailable", async () => {
    let calls = 0;
    const { provider, sleeps } = setupWith(async () => {
      calls++;
      throw new TypeError("Network connection lost.");
    });
    expect((await providerError(provider.retrieve("video_1"))).kind).toBe("unavailable");
    expect(calls).toBe(3);
    expect(sleeps).toHaveLength(2);
  });

  it("maps an unknown job (404) to not_found", async () => {
    const { provider } = setup();
    expect((await providerError(provider.retrieve("video_missing"))).kind).toBe("not_found");
  });

  it.each([
    "video_1/../../admin",
    "..",
    "a/b",
    "video%2F1",
    "",
    "x".repeat(129),
    "video 1",
    "vidéo",
  ])("refuses the upstream id %j without sending anything", async (id) => {
    const { fake, provider } = setup();
    expect((await providerError(provider.retrieve(id))).kind).toBe("not_found");
    expect(
      (await providerError(provider.content(id, { variant: "video", range: null }))).kind,
    ).toBe("not_found");
    expect((await providerError(provider.remix!(id, { jobId: "job_1", prompt: "x" }))).kind).toBe(
      "not_found",
    );
    expect((await providerError(provider.delete!(id))).kind).toBe("not_found");
    expect(fake.requests).toEqual([]);
  });
});

describe("content", () => {
  it("forwards Range and streams back 206 with content-range and the exact bytes", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: "bytes=100-199" });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-199/${64 * 1024}`);
    expect(response.headers.get("content-length")).toBe("100");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(
      patternBytes(64 * 1024).slice(100, 200),
    );
    const request = s.fake.requests.at(-1)!;
    expect(request.url.href).toBe(`${BASE}/videos/${id}/content?variant=video`);
    expect(request.headers.get("range")).toBe("bytes=100-199");
    expect(request.headers.get("accept")).toBe("application/binary");
  });

  it("returns the whole asset with only whitelisted headers", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "thumbnail", range: null });
    expect(response.status).toBe(200);
    expect([...response.headers.keys()].sort()).toEqual(
      ["accept-ranges", "content-length", "content-type", "etag", "last-modified"].sort(),
    );
    expect(response.headers.get("content-type")).toBe("image/webp");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(patternBytes(512));
  });

  it("passes a 416 for an unsatisfiable range through", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: "bytes=999999-" });
    expect(response.status).toBe(416);
    expect(response.headers.get("content-range")).toBe(`bytes */${64 * 1024}`);
  });

  it("maps a variant the upstream lacks (404) to not_found", async () => {
    const s = setup();
    const id = await completed(s);
    const error = await providerError(
      s.provider.content(id, { variant: "spritesheet", range: null }),
    );
    expect(error.kind).toBe("not_found");
  });

  it("refuses a variant outside the documented list without a request", async () => {
    const { fake, provider } = setup();
    const request = { variant: "../secret" as "video", range: null };
    expect((await providerError(provider.content("video_1", request))).kind).toBe("not_found");
    expect(fake.requests).toEqual([]);
  });

  it("is retried when the upstream fails before answering", async () => {
    const s = setup();
    const id = await completed(s);
    s.fake.failNext(502, { path: `/videos/${id}/content` });
    const response = await s.provider.content(id, { variant: "video", range: "bytes=0-9" });
    expect(response.status).toBe(206);
    expect(s.sleeps).toHaveLength(1);
  });
});

describe("remix", () => {
  it("posts {prompt} as JSON and returns the new job", async () => {
    const s = setup();
    const id = await completed(s);
    const job = await s.provider.remix!(id, { jobId: "job_remix", prompt: "Now at night" });
    expect(job).toMatchObject({ status: "queued", upstreamId: expect.not.stringMatching(id) });
    const request = s.fake.requests.at(-1)!;
    expect(request.path).toBe(`/videos/${id}/remix`);
    expect(request.fields).toEqual({ prompt: "Now at night" });
    expect(request.headers.get("idempotency-key")).toBe("job_remix");
  });

  it("is not retried on 503", async () => {
    const s = setup();
    const id = await completed(s);
    const before = s.fake.requests.length;
    s.fake.failNext(503, { times: 3 });
    expect((await providerError(s.provider.remix!(id, { jobId: "job_r", prompt: "x" }))).kind).toBe(
      "unavailable",
    );
    expect(s.fake.requests.length - before).toBe(1);
  });
});

describe("delete", () => {
  it("deletes the upstream job", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    await provider.delete!(upstreamId);
    expect(fake.videos.has(upstreamId)).toBe(false);
    expect(fake.requests.at(-1)).toMatchObject({ method: "DELETE", path: `/videos/${upstreamId}` });
  });

  it("treats an already deleted job (404) as success", async () => {
    const { provider } = setup();
    await expect(provider.delete!("video_gone")).resolves.toBeUndefined();
  });

  it("is retried on 503", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failNext(503, { method: "DELETE" });
    await provider.delete!(upstreamId);
    expect(fake.requests.filter((r) => r.method === "DELETE")).toHaveLength(2);
  });
});

describe("the API key", () => {
  it("never leaves through errors or response headers, even when the upstream echoes it", async () => {
    const { fake, provider } = setup();
    const echo = { "x-echo-authorization": `Bearer ${KEY}`, "content-type": "video/mp4" };
    fake.failNext(400, { error: { message: `Bad key ${KEY} in request`, code: KEY } });
    await providerError(provider.create(input()));
    fake.failNext(500, {
      times: 3,
      error: { message: `upstream saw Authorization: Bearer ${KEY}` },
    });
    await providerError(provider.retrieve("video_1"));
    fake.script({ respond: () => new Response(`{"id":"${KEY}"`, { status: 200 }) });
    await providerError(provider.create(input()));
    fake.script({ respond: () => new Response("bytes", { headers: echo }) });
    const response = await provider.content("video_1", { variant: "video", range: null });
    for (const [name, value] of response.headers) expect(`${name}: ${value}`).not.toContain(KEY);
  });

  it("is scrubbed by value even when it looks like no known token (short Azure-style key)", async () => {
    const azureKey = "FAKEKEY-azure-77";
    const options = { base_url: "https://res.openai.azure.com/openai/v1", auth: "api-key" };
    const { fake, provider } = setup(options, { apiKey: azureKey }, azureKey);
    fake.failNext(400, { error: { message: `bad key ${azureKey}`, code: azureKey } });
    const error = await providerError(provider.create(input()));
    expect(error.detail).toContain("[redacted]");
  });

  it("fails every call as misconfigured, without a request, when the secret is empty", async () => {
    const { fake, provider } = setup({}, {}, "");
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("misconfigured");
    expect(error.detail).toContain("OPENAI_API_KEY");
    expect(fake.requests).toEqual([]);
  });
});

describe("fetchWithRetry", () => {
  it("abandons an attempt after timeoutMs and reports timeout once retries are spent", async () => {
    let calls = 0;
    const hang: typeof fetch = (input, init) =>
      new Promise((_, reject) => {
        calls++;
        const signal = input instanceof Request ? input.signal : init!.signal!;
        signal.addEventListener("abort", () => reject(signal.reason));
      });
    const attempt = fetchWithRetry(
      hang,
      `${BASE}/videos/video_1`,
      {},
      { retries: 1, idempotent: true, timeoutMs: 20, sleep: async () => {} },
    );
    expect((await providerError(attempt)).kind).toBe("timeout");
    expect(calls).toBe(2);
  });

  it("stops at once when the caller aborts", async () => {
    const controller = new AbortController();
    controller.abort();
    const never: typeof fetch = () => expect.fail("no request after an abort");
    const attempt = fetchWithRetry(never, () => new Request(`${BASE}/videos`), {
      retries: 2,
      idempotent: true,
      signal: controller.signal,
    });
    expect((await providerError(attempt)).kind).toBe("timeout");
  });
});

describe("parseRetryAfter", () => {
  const headers = (init: Record<string, string>) => new Headers(init);
  it.each([
    [{ "retry-after-ms": "1500" }, 1500],
    [{ "retry-after": "3" }, 3000],
    [{ "retry-after-ms": "100", "retry-after": "9" }, 100],
    [{ "retry-after": new Date(NOW + 10_000).toUTCString() }, 10_000],
    [{ "retry-after": new Date(NOW - 10_000).toUTCString() }, 0],
    [{ "retry-after": "soon" }, null],
    [{}, null],
  ])("reads %j as %s ms", (init, expected) => {
    expect(parseRetryAfter(headers(init), NOW)).toBe(expected);
  });
});

describe("sanitizeUpstreamText", () => {
  it.each([
    [`key ${KEY} here`, "FAKEKEY"],
    ["see https://x.example.test/a?sig=1", "https"],
    ["Authorization: Bearer abc.def.ghi", "abc.def"],
    ["api_key=hunter2", "hunter2"],
    ["token eyJhbGciOiJIUzI1NiJ9abcdef012345", "eyJhbGci"],
  ])("scrubs %j", (text, secret) => {
    expect(sanitizeUpstreamText(text)).not.toContain(secret);
  });

  it("caps the text at 200 characters", () => {
    expect(sanitizeUpstreamText("word ".repeat(100)).length).toBeLessThanOrEqual(200);
  });
});

describe("FakeOpenAI (the contract fake itself)", () => {
  const multipart = (fields: Record<string, string>) => {
    const body = new FormData();
    for (const [name, value] of Object.entries(fields)) body.set(name, value);
    return body;
  };
  const auth = { authorization: `Bearer ${KEY}` };

  it.each([
    ["an undocumented route", `${BASE}/videos/edits/x`, { method: "POST", headers: auth }],
    ["a URL outside its base", "https://elsewhere.example.test/v1/videos", { headers: auth }],
    ["a request without auth", `${BASE}/videos/video_1`, {}],
    [
      "seconds outside 4/8/12",
      `${BASE}/videos`,
      { method: "POST", headers: auth, body: multipart({ prompt: "p", seconds: "5" }) },
    ],
    [
      "an undocumented size",
      `${BASE}/videos`,
      { method: "POST", headers: auth, body: multipart({ prompt: "p", size: "640x480" }) },
    ],
    [
      "an unknown field",
      `${BASE}/videos`,
      { method: "POST", headers: auth, body: multipart({ prompt: "p", duration: "4" }) },
    ],
  ])("records and throws on %s", async (_, url, init: RequestInit) => {
    const fake = new FakeOpenAI({ apiKey: KEY });
    await expect(fake.fetch(url, init)).rejects.toBeInstanceOf(ContractViolation);
    expect(fake.violations).toHaveLength(1);
    expect(fake.requests).toHaveLength(1);
    expect(() => fake.assertClean()).toThrow(/Contract violations/);
  });

  it("answers an integer seconds in JSON with the documented 400", async () => {
    const fake = new FakeOpenAI({ apiKey: KEY });
    const body = JSON.stringify({ prompt: "p", seconds: 4 });
    const response = await fake.fetch(`${BASE}/videos`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { param: "seconds", type: "invalid_request_error" },
    });
    fake.assertClean();
  });

  it("serves the content only once the video is completed", async () => {
    const fake = new FakeOpenAI({ apiKey: KEY });
    const created = await fake.fetch(`${BASE}/videos`, {
      method: "POST",
      headers: auth,
      body: multipart({ prompt: "p" }),
    });
    const { id } = (await created.json()) as { id: string };
    const early = await fake.fetch(`${BASE}/videos/${id}/content`, { headers: auth });
    expect(early.status).toBe(400);
    fake.assertClean();
  });
});
