import { afterEach, describe, expect, it, vi } from "vitest";
import type { ProviderError } from "../../../worker/providers/errors";
import {
  createOpenRouterProvider,
  OPENROUTER_API_BASE,
  openRouterProviderOptions,
} from "../../../worker/providers/openrouter";
import { createProvider, providerOptions } from "../../../worker/providers/registry";
import type { CreateInput, InputImage, Provider } from "../../../worker/providers/types";
import {
  ContractViolation,
  FakeOpenRouter,
  OPENROUTER_BASE,
  OPENROUTER_MEDIA_ORIGIN,
  patternBytes,
  signOpenRouter,
  type FakeJobState,
  type FakeOpenRouterOptions,
} from "../../helpers/fakes/openrouter";
import { expectProviderError, keySlices } from "../../helpers/provider-error";

const KEY_BODY = "Qz7xWv3kJ9pLm2Rt8YhN4sBc6DfG1aEoXu5";
const KEY = `sk-or-v1-${KEY_BODY}`;
const SECRET = "or-signing-secret-Hq4Vz8Lw2Nd6Tb0Xs";
const HOOK = "https://stillmotion.example.test/webhooks/veo-openrouter";
// The fake clock starts at the real now (a whole second): nothing here depends on the date.
const NOW = Math.floor(Date.now() / 1000) * 1000;
const UNKNOWN_JOB = "Nxff2D1Z6w4Zk9iNuZam";

/** Veo 3.1 on OpenRouter, its sets copied from the catalog (docs/providers/openrouter.md §7). */
const VEO = {
  type: "openrouter",
  model: "google/veo-3.1",
  durations: [4, 6, 8],
  resolutions: ["720p", "1080p", "4K"],
  aspect_ratios: ["16:9", "9:16"],
  generate_audio: false,
};

const fakes: FakeOpenRouter[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.assertClean();
});

interface Setup {
  fake: FakeOpenRouter;
  provider: Provider;
  /** Every backoff the adapter asked for, in ms; sleeping is instant. */
  sleeps: number[];
  /** The shared clock (the fake's timestamps and the adapter's `now`). */
  clock: { now: number };
}

function setup(
  block: Record<string, unknown> = {},
  extra: {
    fake?: Partial<FakeOpenRouterOptions>;
    apiKey?: string;
    webhookSecret?: string;
    fetch?: (fake: FakeOpenRouter) => typeof fetch;
  } = {},
): Setup {
  const options = openRouterProviderOptions.parse({ ...VEO, ...block });
  const clock = { now: NOW };
  const fake = new FakeOpenRouter({
    apiKey: KEY,
    baseUrl: options.base_url,
    now: () => clock.now,
    ...extra.fake,
  });
  fakes.push(fake);
  const sleeps: number[] = [];
  const provider = createOpenRouterProvider(options, {
    fetch: extra.fetch ? extra.fetch(fake) : fake.fetch,
    now: () => clock.now,
    apiKey: extra.apiKey ?? KEY,
    sleep: async (ms) => void sleeps.push(ms),
    ...(extra.webhookSecret === undefined ? {} : { webhookSecret: extra.webhookSecret }),
  });
  return { fake, provider, sleeps, clock };
}

/** A PNG header (signature and IHDR), padded to `length` bytes. */
function png(width: number, height: number, length = 33): InputImage {
  const bytes = new Uint8Array(length);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  return { bytes, mime: "image/png", width, height };
}

function input(overrides: Partial<CreateInput> = {}): CreateInput {
  return {
    jobId: "video_abc123",
    model: "google/veo-3.1",
    prompt: "A cat turns its head",
    seconds: "8",
    size: "1920x1080",
    ...overrides,
  };
}

const providerError = (promise: Promise<unknown>) => expectProviderError(promise, KEY_BODY);

/** Created and polled through the default lifecycle (pending, pending, in_progress, completed). */
async function completed(s: Setup): Promise<string> {
  const { upstreamId } = await s.provider.create(input());
  for (let i = 0; i < 4; i++) await s.provider.retrieve(upstreamId);
  return upstreamId;
}

/** A job created, then pinned to `state`, read once. */
async function stateOf(state: FakeJobState) {
  const s = setup();
  const { upstreamId } = await s.provider.create(input());
  s.fake.setState(upstreamId, state);
  return s.provider.retrieve(upstreamId);
}

describe("openRouterProviderOptions", () => {
  it("fills the defaults", () => {
    const options = openRouterProviderOptions.parse({
      type: "openrouter",
      model: "google/veo-3.1",
      durations: [8],
    });
    expect(options).toEqual({
      type: "openrouter",
      model: "google/veo-3.1",
      api_key_secret: "OPENROUTER_API_KEY",
      base_url: "https://openrouter.ai/api/v1",
      durations: [8],
      generate_audio: null,
      typical_seconds: 90,
      timeout_ms: 30_000,
      max_retries: 2,
    });
    expect(OPENROUTER_API_BASE).toBe(OPENROUTER_BASE);
  });

  it("trims a trailing slash from base_url", () => {
    const options = openRouterProviderOptions.parse({
      ...VEO,
      base_url: "https://proxy.example.test/openrouter/api/v1/",
    });
    expect(options.base_url).toBe("https://proxy.example.test/openrouter/api/v1");
  });

  it.each([
    ["no model", { model: undefined }],
    ["a model that is not a slug", { model: "veo-3.1" }],
    ["a model with a path in it", { model: "google/../veo" }],
    ["no durations", { durations: [] }],
    ["fractional durations", { durations: [4.5] }],
    ["a resolution outside OpenRouter's enum", { resolutions: ["4k"] }],
    ["an aspect ratio outside OpenRouter's enum", { aspect_ratios: ["5:4"] }],
    ["sizes together with resolutions", { sizes: ["1920x1080"] }],
    [
      "a malformed size",
      { sizes: ["1920:1080"], resolutions: undefined, aspect_ratios: undefined },
    ],
    ["an http base URL", { base_url: "http://openrouter.ai/api/v1" }],
    ["a base URL with credentials", { base_url: "https://u:p@proxy.example.test/v1" }],
    ["a base URL with a query", { base_url: "https://openrouter.ai/api/v1?x=1" }],
    ["a lowercase secret name", { api_key_secret: "openrouter_key" }],
    ["a lowercase webhook secret name", { webhook_secret_secret: "or_whsec" }],
    ["an unknown key (typo)", { duration: [8] }],
  ])("refuses %s", (_, block) => {
    expect(openRouterProviderOptions.safeParse({ ...VEO, ...block }).success).toBe(false);
  });

  it("is one of the registry's provider blocks, webhooks on only with a secret", () => {
    const ctx = { fetch: new FakeOpenRouter({ apiKey: KEY }).fetch, now: () => NOW };
    const plain = providerOptions.parse(VEO);
    expect(createProvider(plain, ctx, { OPENROUTER_API_KEY: KEY }).kind).toBe("openrouter");
    expect(createProvider(plain, ctx, { OPENROUTER_API_KEY: KEY }).verifyWebhook).toBeUndefined();
    const hooked = providerOptions.parse({
      ...VEO,
      webhook_secret_secret: "OPENROUTER_WEBHOOK_SECRET",
    });
    const keys = { OPENROUTER_API_KEY: KEY, OPENROUTER_WEBHOOK_SECRET: SECRET };
    expect(createProvider(hooked, ctx, keys).verifyWebhook).toBeTypeOf("function");
  });
});

describe("create", () => {
  it("posts the documented JSON body with the Bearer key and answers queued", async () => {
    const { fake, provider } = setup();
    const job = await provider.create(input());
    expect(job).toEqual({
      upstreamId: expect.stringMatching(/^Fk\d{18}$/),
      status: "queued",
      progress: 0,
      error: null,
      expiresAt: null,
    });
    expect(fake.requests).toHaveLength(1);
    const request = fake.requests[0]!;
    expect(request.method).toBe("POST");
    expect(request.url.href).toBe(`${OPENROUTER_BASE}/videos`);
    expect(request.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(request.headers.get("accept")).toBe("application/json");
    expect(request.json).toEqual({
      model: "google/veo-3.1",
      prompt: "A cat turns its head",
      duration: 8,
      resolution: "1080p",
      aspect_ratio: "16:9",
      generate_audio: false,
    });
  });

  it("sends the image as a first-frame data URL in frame_images", async () => {
    const { fake, provider } = setup();
    const image = png(1920, 1080);
    await provider.create(input({ image }));
    const b64 = btoa(String.fromCharCode(...image.bytes));
    expect(fake.requests[0]!.json!.frame_images).toEqual([
      {
        type: "image_url",
        image_url: { url: `data:image/png;base64,${b64}` },
        frame_type: "first_frame",
      },
    ]);
  });

  it.each([
    ["1280x720", "4", { duration: 4, resolution: "720p", aspect_ratio: "16:9" }],
    ["720x1280", "6", { duration: 6, resolution: "720p", aspect_ratio: "9:16" }],
    ["1080x1920", "8", { duration: 8, resolution: "1080p", aspect_ratio: "9:16" }],
    ["3840x2160", "8", { duration: 8, resolution: "4K", aspect_ratio: "16:9" }],
  ])("maps %s for %ss", async (size, seconds, expected) => {
    const { fake, provider } = setup();
    await provider.create(input({ size, seconds }));
    const body = fake.requests[0]!.json!;
    expect(body).toMatchObject(expected);
    expect(typeof body.duration).toBe("number");
  });

  it.each([
    ["the client's audio: true", { generate_audio: false }, true, true],
    ["the client's audio: false", { generate_audio: true }, false, false],
    ["the route's default when the client says nothing", { generate_audio: true }, undefined, true],
  ])("sends generate_audio from %s", async (_, block, audio, expected) => {
    const { fake, provider } = setup(block);
    await provider.create(input({ audio }));
    expect(fake.requests[0]!.json!.generate_audio).toBe(expected);
  });

  it("sends no generate_audio for a model without the switch", async () => {
    const { fake, provider } = setup({ generate_audio: null });
    await provider.create(input());
    expect(fake.requests[0]!.json!).not.toHaveProperty("generate_audio");
  });

  it("sends `size` instead of resolution and aspect ratio when the block lists sizes", async () => {
    const block = {
      model: "minimax/hailuo-2.3",
      durations: [6, 10],
      sizes: ["1920x1080"],
      resolutions: undefined,
      aspect_ratios: undefined,
      generate_audio: null,
    };
    const { fake, provider } = setup(block);
    await provider.create(input({ model: "minimax/hailuo-2.3", seconds: "6" }));
    expect(fake.requests[0]!.json).toEqual({
      model: "minimax/hailuo-2.3",
      prompt: "A cat turns its head",
      duration: 6,
      size: "1920x1080",
    });
  });

  it("leaves out resolution and aspect ratio when the block does not list them", async () => {
    const { fake, provider } = setup({ resolutions: undefined, aspect_ratios: undefined });
    await provider.create(input());
    expect(fake.requests[0]!.json!).not.toHaveProperty("resolution");
    expect(fake.requests[0]!.json!).not.toHaveProperty("aspect_ratio");
  });

  it("leaves an empty prompt out when an image carries the job", async () => {
    const { fake, provider } = setup();
    await provider.create(input({ prompt: "", image: png(1920, 1080) }));
    expect(fake.requests[0]!.json!).not.toHaveProperty("prompt");
  });

  it("names the callback_url when a signing secret is configured", async () => {
    const { fake, provider } = setup({}, { webhookSecret: SECRET });
    await provider.create(input({ webhookUrl: HOOK }));
    expect(fake.requests[0]!.json!.callback_url).toBe(HOOK);
  });

  it.each([
    ["no signing secret is configured", {}, HOOK],
    ["the receiver is not https", { webhookSecret: SECRET }, "http://localhost:8787/webhooks/x"],
    ["no receiver is given", { webhookSecret: SECRET }, undefined],
  ])("sends no callback_url when %s", async (_, extra, webhookUrl) => {
    const { fake, provider } = setup({}, extra);
    await provider.create(input({ webhookUrl }));
    expect(fake.requests[0]!.json!).not.toHaveProperty("callback_url");
  });

  it.each([
    [500, "upstream_failed"],
    [502, "upstream_failed"],
    [503, "unavailable"],
    [429, "rate_limited"],
  ])("is sent once: a %s is not retried (%s)", async (status, kind) => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(status, { times: 3 });
    expect((await providerError(provider.create(input()))).kind).toBe(kind);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("reports an unknown outcome (timeout) when the connection drops", async () => {
    const { provider } = setup(
      {},
      {
        fetch: () => async () => {
          throw new TypeError("Network connection lost.");
        },
      },
    );
    expect((await providerError(provider.create(input()))).kind).toBe("timeout");
  });

  it.each([
    ["not JSON", "<html>Bad gateway</html>"],
    ["JSON without an id", JSON.stringify({ status: "pending", polling_url: "/x" })],
    ["an id unfit for a URL", JSON.stringify({ id: "../credits", status: "pending" })],
    ["an id with a query in it", JSON.stringify({ id: "abcd?x=1", status: "pending" })],
  ])("treats a 202 that is %s as bad_response", async (_, body) => {
    const { fake, provider } = setup();
    fake.script({ method: "POST", respond: () => new Response(body, { status: 202 }) });
    expect((await providerError(provider.create(input()))).kind).toBe("bad_response");
    expect(fake.requests).toHaveLength(1);
  });
});

describe("refusals before any request", () => {
  it.each([
    ["a duration the model lacks", input({ seconds: "5" }), "durations (seconds): 4, 6, 8"],
    ["a square size", input({ size: "1024x1024" }), "aspect ratios: 16:9, 9:16"],
    ["a 4:3 size", input({ size: "1440x1080" }), "aspect ratios: 16:9, 9:16"],
    ["an odd-aspect size", input({ size: "854x480" }), "aspect ratios: 16:9, 9:16"],
  ])("refuses %s, listing what it accepts", async (_, request, list) => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(request));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toBe(`google/veo-3.1 accepts these ${list}`);
    expect(fake.requests).toEqual([]);
  });

  it("refuses a resolution outside the block's list", async () => {
    const { fake, provider } = setup({ resolutions: ["720p"] });
    const error = await providerError(provider.create(input({ size: "1920x1080" })));
    expect(error.publicMessage).toBe("google/veo-3.1 accepts these resolutions: 720p");
    expect(fake.requests).toEqual([]);
  });

  it("refuses a size outside the block's sizes", async () => {
    const block = { sizes: ["1280x720"], resolutions: undefined, aspect_ratios: undefined };
    const { fake, provider } = setup(block);
    const error = await providerError(provider.create(input({ size: "1920x1080" })));
    expect(error.publicMessage).toBe("google/veo-3.1 accepts these sizes: 1280x720");
    expect(fake.requests).toEqual([]);
  });

  it("refuses audio on a model without the switch", async () => {
    const { fake, provider } = setup({ generate_audio: null });
    const error = await providerError(provider.create(input({ audio: true })));
    expect(error.kind).toBe("input_rejected");
    expect(fake.requests).toEqual([]);
  });

  it("calls a route whose upstream_model differs from the block's model misconfigured", async () => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input({ model: "google/veo-3.1-fast" })));
    expect(error.kind).toBe("misconfigured");
    expect(fake.requests).toEqual([]);
  });

  it.each([
    ["missing", ""],
    ["not a header value", `${KEY}\n`],
  ])("calls a key that is %s misconfigured, naming the secret only", async (_, apiKey) => {
    const { fake, provider } = setup({}, { apiKey });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("misconfigured");
    expect(error.detail).toContain("OPENROUTER_API_KEY");
    expect(fake.requests).toEqual([]);
  });
});

describe("retrieve", () => {
  it("follows pending → in_progress → completed with an estimated progress", async () => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    const seen = [];
    for (let i = 0; i < 4; i++) {
      s.clock.now += 30_000;
      seen.push(await s.provider.retrieve(upstreamId, { startedAt: NOW }));
    }
    expect(seen.map((state) => state.status)).toEqual([
      "queued",
      "queued",
      "in_progress",
      "completed",
    ]);
    // Pending is capped low (a live job stayed pending until done, §3); never 100 before done.
    expect(seen[0]!.progress).toBeGreaterThan(0);
    expect(seen[1]!.progress).toBeLessThanOrEqual(10);
    expect(seen[2]!.progress).toBeGreaterThan(10);
    expect(seen[2]!.progress).toBeLessThan(100);
    expect(seen[3]).toEqual({ status: "completed", progress: 100, error: null, expiresAt: null });
    const poll = s.fake.requests[1]!;
    expect(poll.method).toBe("GET");
    expect(poll.url.href).toBe(`${OPENROUTER_BASE}/videos/${upstreamId}`);
    expect(poll.headers.get("authorization")).toBe(`Bearer ${KEY}`);
  });

  it("reads in_progress without a start time as at least 5", async () => {
    const state = await stateOf({ status: "in_progress" });
    expect(state).toEqual({ status: "in_progress", progress: 5, error: null, expiresAt: null });
  });

  it.each([
    ["failed", "model returned no output", "provider_error", "model returned no output"],
    ["failed", "Content policy violation", "policy_violation", "Content policy violation"],
    ["failed", "See https://x.test/?token=abc", "provider_error", "See [url]"],
    ["failed", undefined, "provider_error", "The video provider could not make this video."],
    ["dead", undefined, "provider_error", "The video provider could not make this video."],
    ["cancelled", "Job was cancelled", "cancelled", "Job was cancelled"],
    ["cancelled", undefined, "cancelled", "The job was cancelled at the video provider."],
    [
      "expired",
      "Job exceeded maximum time to live",
      "expired",
      "Job exceeded maximum time to live",
    ],
  ])("maps %s (%j) to failed/%s", async (status, error, code, message) => {
    const state = await stateOf({ status, ...(error === undefined ? {} : { error }) });
    expect(state).toEqual({
      status: "failed",
      progress: 0,
      error: { code, message },
      expiresAt: null,
    });
  });

  it("maps a completed job with no outputs to provider_error", async () => {
    const state = await stateOf({ status: "completed", unsigned_urls: [] });
    expect(state).toMatchObject({ status: "failed", error: { code: "provider_error" } });
  });

  it("keeps polling a status it does not know", async () => {
    const state = await stateOf({ status: "warming_up" });
    expect(state.status).toBe("in_progress");
  });

  it("treats an answer about another job as bad_response", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    fake.script({
      method: "GET",
      respond: () => Response.json({ id: UNKNOWN_JOB, status: "completed", polling_url: "/x" }),
    });
    expect((await providerError(provider.retrieve(upstreamId))).kind).toBe("bad_response");
  });

  it("is retried on 502 and on 429, honouring Retry-After", async () => {
    const { fake, provider, sleeps } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failNext(502, { method: "GET", message: "Provider returned error" });
    fake.failNext(429, { method: "GET", headers: { "retry-after": "2" } });
    expect((await provider.retrieve(upstreamId)).status).toBe("queued");
    expect(fake.requests.filter((r) => r.method === "GET")).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBe(2000);
  });

  it.each([
    [500, "upstream_failed"],
    [503, "unavailable"],
  ])("reports %s as %s once the retries are spent", async (status, kind) => {
    const { fake, provider } = setup();
    fake.failNext(status, { times: 3 });
    expect((await providerError(provider.retrieve(UNKNOWN_JOB))).kind).toBe(kind);
    expect(fake.requests).toHaveLength(3);
  });

  it("maps an unknown job (404) to not_found", async () => {
    const { provider } = setup();
    expect((await providerError(provider.retrieve(UNKNOWN_JOB))).kind).toBe("not_found");
  });

  it("abandons a poll after timeout_ms and reports timeout", async () => {
    const { fake, provider } = setup({ timeout_ms: 1_000, max_retries: 0 });
    fake.hangNext({ method: "GET" });
    expect((await providerError(provider.retrieve(UNKNOWN_JOB))).kind).toBe("timeout");
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    "../credits",
    "abc",
    "Nxff2D1Z6w4Zk9iNuZam/content",
    "Nxff2D1Z6w4Zk9iNuZam?index=1",
    "Nxff2D1Z6w4Zk9iNuZam#x",
    "Nxff%2F..%2Fkeys",
    "job.abc123",
    "-leading-dash",
    "",
    "a".repeat(129),
  ])("refuses the upstream id %j without sending anything", async (id) => {
    const { fake, provider } = setup();
    expect((await providerError(provider.retrieve(id))).kind).toBe("not_found");
    expect(
      (await providerError(provider.content(id, { variant: "video", range: null }))).kind,
    ).toBe("not_found");
    expect(fake.requests).toEqual([]);
  });
});

describe("content", () => {
  it("streams /videos/{id}/content?index=0 with the key and the client's Range: 206", async () => {
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
    expect(request.url.href).toBe(`${OPENROUTER_BASE}/videos/${id}/content?index=0`);
    expect(request.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(request.headers.get("range")).toBe("bytes=100-199");
    expect(request.headers.get("accept")).toBe("video/mp4");
  });

  it("returns the whole video with only whitelisted headers", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: null });
    expect(response.status).toBe(200);
    expect([...response.headers.keys()].sort()).toEqual(
      ["accept-ranges", "content-length", "content-type", "etag"].sort(),
    );
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(patternBytes(64 * 1024));
  });

  it("forwards only a plain single byte range", async () => {
    const s = setup();
    const id = await completed(s);
    await s.provider.content(id, { variant: "video", range: "bytes=0-1, 5-9" });
    expect(s.fake.requests.at(-1)!.headers.has("range")).toBe(false);
  });

  it("passes a 416 for an unsatisfiable range through", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: "bytes=999999-" });
    expect(response.status).toBe(416);
  });

  it.each(["thumbnail", "spritesheet"] as const)(
    "answers not_found for the %s variant without a request",
    async (variant) => {
      const { fake, provider } = setup();
      const error = await providerError(provider.content(UNKNOWN_JOB, { variant, range: null }));
      expect(error.kind).toBe("not_found");
      expect(fake.requests).toEqual([]);
    },
  );

  it("answers not_found while the job is still running (409)", async () => {
    const { provider } = setup();
    const { upstreamId } = await provider.create(input());
    const error = await providerError(
      provider.content(upstreamId, { variant: "video", range: null }),
    );
    expect(error).toMatchObject({ kind: "not_found", publicMessage: "The video is not ready." });
  });

  it.each([
    [404, "not_found"],
    [410, "not_found"],
    [401, "misconfigured"],
    [429, "rate_limited"],
  ])("maps a content %s to %s", async (status, kind) => {
    const s = setup({ max_retries: 0 });
    const id = await completed(s);
    s.fake.failNext(status, { path: `/api/v1/videos/${id}/content` });
    expect(
      (await providerError(s.provider.content(id, { variant: "video", range: null }))).kind,
    ).toBe(kind);
  });

  it("follows a redirect to another https origin without the key, keeping the Range", async () => {
    const s = setup({}, { fake: { redirectContent: true } });
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: "bytes=0-9" });
    expect(response.status).toBe(206);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(
      patternBytes(64 * 1024).slice(0, 10),
    );
    const hop = s.fake.requests.at(-1)!;
    expect(hop.url.origin).toBe(OPENROUTER_MEDIA_ORIGIN);
    expect(hop.headers.has("authorization")).toBe(false);
    expect(hop.headers.get("range")).toBe("bytes=0-9");
    expect([...hop.headers].join("\n")).not.toContain(KEY_BODY);
  });

  it("refuses a content redirect to plain http, fetching nothing there", async () => {
    const fetched: string[] = [];
    const s = setup(
      {},
      {
        fetch: (fake) => async (request, init) => {
          const r = new Request(request, init);
          fetched.push(r.url);
          if (r.url.includes("/content")) {
            return new Response(null, {
              status: 302,
              headers: { location: "http://media.storage.example.test/v.mp4" },
            });
          }
          return fake.fetch(r);
        },
      },
    );
    const id = await completed(s);
    const error = await providerError(s.provider.content(id, { variant: "video", range: null }));
    expect(error.kind).toBe("bad_response");
    expect(fetched.some((url) => url.startsWith("http:"))).toBe(false);
  });
});

describe("redirects of a create", () => {
  it.each([
    [307, "https://evil.example.test/api/v1/videos"],
    [308, "https://evil.example.test/api/v1/videos"],
    [302, `${OPENROUTER_BASE}/videos`],
    [303, `${OPENROUTER_BASE}/videos/elsewhere`],
  ])("refuses a %s to %s: the body and key go nowhere else", async (status, location) => {
    const { fake, provider } = setup();
    fake.script({
      method: "POST",
      respond: () => new Response(null, { status, headers: { location } }),
    });
    const error = await providerError(provider.create(input({ image: png(1920, 1080) })));
    expect(error.kind).toBe("bad_response");
    expect(fake.requests).toHaveLength(1);
  });
});

describe("upstream errors", () => {
  it("gives a 400's reason, sanitised, as input_rejected", async () => {
    const { fake, provider } = setup();
    fake.failNext(400, {
      message: "duration must be one of 4, 6, 8. See https://openrouter.ai/docs?session=abc123",
      metadata: { error_type: "invalid_request", raw: "internal provider text" },
    });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toBe(
      "The video provider rejected the request: duration must be one of 4, 6, 8. See [url]",
    );
    expect(error.detail).toContain("HTTP 400 (invalid_request)");
    expect(error.detail).not.toContain("internal provider text");
  });

  it.each([
    [400, { message: "Request blocked by content policy" }, "policy_violation"],
    [403, { message: "Your prompt was flagged by moderation" }, "policy_violation"],
    [401, { message: "Missing Authentication header" }, "misconfigured"],
    [403, { message: "Key is disabled" }, "misconfigured"],
    [
      402,
      { message: "Insufficient credits. Add more using https://openrouter.ai/credits" },
      "misconfigured",
    ],
    [413, { message: "Payload too large" }, "input_rejected"],
    [429, { metadata: { error_type: "rate_limit_exceeded" } }, "rate_limited"],
    [
      500,
      { message: "Internal Server Error", metadata: { error_type: "server" } },
      "upstream_failed",
    ],
    [502, { message: "Provider returned error" }, "upstream_failed"],
    [503, {}, "unavailable"],
  ] as const)("maps a %s (%j) to %s", async (status, body, kind) => {
    const { fake, provider } = setup();
    fake.failNext(status, body);
    expect((await providerError(provider.create(input()))).kind).toBe(kind);
  });

  it("passes Retry-After on a 429 along", async () => {
    const { fake, provider } = setup();
    fake.failNext(429, { headers: { "retry-after": "7" } });
    const error = await providerError(provider.create(input()));
    expect(error).toMatchObject({ kind: "rate_limited", retryAfter: 7 });
  });

  it("reads a body that is not OpenRouter's envelope by its status alone", async () => {
    const { fake, provider } = setup();
    fake.script({ respond: () => new Response("<html>bad gateway</html>", { status: 502 }) });
    expect((await providerError(provider.create(input()))).kind).toBe("upstream_failed");
  });

  it("maps the real API's 401 for a wrong key to misconfigured", async () => {
    const { fake, provider } = setup({}, { apiKey: "sk-or-v1-WRONGwrongWRONG0000" });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("misconfigured");
    expect(fake.requests).toHaveLength(1);
  });

  it("abandons a create after timeout_ms and reports timeout (outcome unknown)", async () => {
    const { fake, provider } = setup({ timeout_ms: 1_000 });
    fake.hangNext({ method: "POST" });
    expect((await providerError(provider.create(input()))).kind).toBe("timeout");
    expect(fake.requests).toHaveLength(1);
  });
});

describe("the API key", () => {
  it("never appears, not even four characters of it, when a 400 quotes it", async () => {
    const { fake, provider } = setup();
    fake.failNext(400, {
      message:
        `Invalid key ${KEY} (Authorization: Bearer ${KEY}); ` +
        `key ending …${KEY_BODY.slice(-6)}, part ${KEY_BODY.slice(9, 14)}, ${KEY_BODY.slice(20, 24)}`,
    });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("input_rejected");
    const texts = [error.message, error.publicMessage, error.detail ?? "", JSON.stringify(error)];
    for (const text of texts.map((t) => t.toLowerCase())) {
      for (const window of keySlices(KEY)) expect(text).not.toContain(window);
    }
  });

  it("never appears in errors, states, responses or log lines across every call", async () => {
    const logged: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi
        .spyOn(console, level)
        .mockImplementation((...args: unknown[]) => void logged.push(args.map(String).join(" "))),
    );
    try {
      const s = setup();
      const errors: ProviderError[] = [];
      const catchError = async (p: Promise<unknown>) => errors.push(await providerError(p));
      s.fake.failNext(429, { message: `quota for ${KEY}` });
      await catchError(s.provider.create(input()));
      s.fake.script({
        method: "POST",
        respond: () => new Response(`{"id":"${KEY}"`, { status: 202 }),
      });
      await catchError(s.provider.create(input()));
      const id = await completed(s);
      s.fake.failNext(500, { times: 3, message: `upstream saw ${KEY_BODY}` });
      await catchError(s.provider.retrieve(id));
      const other = (await s.provider.create(input())).upstreamId;
      s.fake.setState(other, { status: "failed", error: `crashed with ${KEY}` });
      const failedState = await s.provider.retrieve(other);
      s.fake.failNext(403, { path: `/api/v1/videos/${id}/content`, message: KEY });
      await catchError(s.provider.content(id, { variant: "video", range: null }));
      const response = await s.provider.content(id, { variant: "video", range: "bytes=0-99" });
      const body = new TextDecoder().decode(await response.arrayBuffer());

      expect(errors).toHaveLength(4);
      expect(failedState.error!.message).toContain("[redacted]");
      const surfaces = [
        JSON.stringify(failedState),
        body,
        [...response.headers].join("\n"),
        ...errors.flatMap((e) => [e.message, e.detail ?? "", e.stack ?? ""]),
        ...logged,
      ];
      for (const text of surfaces.map((t) => t.toLowerCase())) {
        for (const window of keySlices(KEY)) expect(text).not.toContain(window);
      }
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe("webhooks", () => {
  const hooked = () => setup({}, { webhookSecret: SECRET });

  it("are not offered without a signing secret", () => {
    expect(setup().provider.verifyWebhook).toBeUndefined();
  });

  it.each(["completed", "failed", "cancelled", "expired"] as const)(
    "verifies a %s delivery and names its job",
    async (status) => {
      const s = hooked();
      const { upstreamId } = await s.provider.create(input());
      const delivery = await s.fake.signedDelivery(HOOK, upstreamId, { secret: SECRET, status });
      expect(await s.provider.verifyWebhook!(delivery)).toEqual({
        deliveryId: `${upstreamId}-${status}`,
        upstreamId,
      });
    },
  );

  it("judges the timestamp by the worker's clock, not the real one", async () => {
    const s = hooked();
    const { upstreamId } = await s.provider.create(input());
    s.clock.now += 3 * 3600_000;
    const delivery = await s.fake.signedDelivery(HOOK, upstreamId, { secret: SECRET });
    await expect(s.provider.verifyWebhook!(delivery)).resolves.toMatchObject({ upstreamId });
  });

  it.each([
    ["a stale timestamp", -301, false],
    ["a timestamp from the future", 301, false],
    ["a timestamp 299 s old", -299, true],
  ])("handles %s", async (_, offsetSeconds, ok) => {
    const s = hooked();
    const { upstreamId } = await s.provider.create(input());
    const timestamp = NOW / 1000 + offsetSeconds;
    const delivery = await s.fake.signedDelivery(HOOK, upstreamId, { secret: SECRET, timestamp });
    if (ok) {
      await expect(s.provider.verifyWebhook!(delivery)).resolves.toMatchObject({ upstreamId });
    } else {
      const error = await providerError(s.provider.verifyWebhook!(delivery));
      expect(error.kind).toBe("input_rejected");
      expect(error.detail).toContain("window");
    }
  });

  it("refuses a bad signature", async () => {
    const s = hooked();
    const { upstreamId } = await s.provider.create(input());
    const delivery = await s.fake.signedDelivery(HOOK, upstreamId, { secret: SECRET });
    const header = delivery.headers.get("x-openrouter-signature")!;
    const last = header.at(-1) === "0" ? "1" : "0";
    const headers = new Headers(delivery.headers);
    headers.set("x-openrouter-signature", `${header.slice(0, -1)}${last}`);
    const forged = new Request(delivery.url, {
      method: "POST",
      headers,
      body: await delivery.text(),
    });
    expect((await providerError(s.provider.verifyWebhook!(forged))).kind).toBe("input_rejected");
  });

  it("refuses a delivery signed with another secret", async () => {
    const s = hooked();
    const { upstreamId } = await s.provider.create(input());
    const delivery = await s.fake.signedDelivery(HOOK, upstreamId, { secret: "someone-else" });
    expect((await providerError(s.provider.verifyWebhook!(delivery))).kind).toBe("input_rejected");
  });

  it("refuses a tampered body under a genuine signature", async () => {
    const s = hooked();
    const { upstreamId } = await s.provider.create(input());
    const delivery = await s.fake.signedDelivery(HOOK, upstreamId, { secret: SECRET });
    const body = (await delivery.text()).replace('"completed"', '"failed"');
    const tampered = new Request(delivery.url, { method: "POST", headers: delivery.headers, body });
    const error = await providerError(s.provider.verifyWebhook!(tampered));
    expect(error).toMatchObject({ kind: "input_rejected", detail: "no matching signature" });
  });

  it.each([
    ["no signature header", null],
    ["no v1", `t=${NOW / 1000}`],
    ["no t", `v1=${"a".repeat(64)}`],
    ["a t that is not seconds", `t=${new Date(NOW).toISOString()},v1=${"a".repeat(64)}`],
    ["a short v1", `t=${NOW / 1000},v1=abc123`],
    ["two timestamps", `t=${NOW / 1000},t=${NOW / 1000},v1=${"a".repeat(64)}`],
  ])("refuses %s", async (_, header) => {
    const { provider } = hooked();
    const headers = new Headers({ "content-type": "application/json" });
    if (header !== null) headers.set("x-openrouter-signature", header);
    const body = JSON.stringify({ type: "video.generation.completed", data: { id: UNKNOWN_JOB } });
    const request = new Request(HOOK, { method: "POST", headers, body });
    expect((await providerError(provider.verifyWebhook!(request))).kind).toBe("input_rejected");
  });

  it("accepts a header carrying a second v1 (a rotated secret), with spaces", async () => {
    const { provider } = hooked();
    const t = String(NOW / 1000);
    const body = JSON.stringify({ type: "video.generation.completed", data: { id: UNKNOWN_JOB } });
    const good = await signOpenRouter(SECRET, t, body);
    const headers = { "x-openrouter-signature": `t=${t}, v1=${"b".repeat(64)}, v1=${good}` };
    const request = new Request(HOOK, { method: "POST", headers, body });
    expect(await provider.verifyWebhook!(request)).toEqual({
      deliveryId: `${UNKNOWN_JOB}-completed`,
      upstreamId: UNKNOWN_JOB,
    });
  });

  it("derives the delivery id from the signed body, not the unsigned idempotency header", async () => {
    const s = hooked();
    const { upstreamId } = await s.provider.create(input());
    const delivery = await s.fake.signedDelivery(HOOK, upstreamId, { secret: SECRET });
    const headers = new Headers(delivery.headers);
    headers.set("x-openrouter-idempotency-key", "replay-1");
    const replay = new Request(HOOK, { method: "POST", headers, body: await delivery.text() });
    expect((await s.provider.verifyWebhook!(replay)).deliveryId).toBe(`${upstreamId}-completed`);
  });

  it.each([
    ["an id unfit for a URL", { type: "video.generation.completed", data: { id: "../keys" } }],
    ["no data", { type: "video.generation.completed" }],
    ["no status anywhere", { type: "video.other", data: { id: UNKNOWN_JOB } }],
    ["a body that is not JSON", null],
  ])("refuses a verified body with %s", async (_, payload) => {
    const { provider } = hooked();
    const t = String(NOW / 1000);
    const body = payload === null ? "not json" : JSON.stringify(payload);
    const headers = {
      "x-openrouter-signature": `t=${t},v1=${await signOpenRouter(SECRET, t, body)}`,
    };
    const error = await providerError(
      provider.verifyWebhook!(new Request(HOOK, { method: "POST", headers, body })),
    );
    expect(error).toMatchObject({
      kind: "input_rejected",
      publicMessage: "The webhook could not be read.",
    });
  });

  it("calls an empty signing secret misconfigured", async () => {
    const { provider } = setup({}, { webhookSecret: "" });
    const request = new Request(HOOK, { method: "POST", body: "{}" });
    expect((await providerError(provider.verifyWebhook!(request))).kind).toBe("misconfigured");
  });
});

describe("FakeOpenRouter (the contract fake itself)", () => {
  const auth = { authorization: `Bearer ${KEY}` };
  const json = { ...auth, "content-type": "application/json" };
  const post = (body: unknown, headers: Record<string, string> = json): RequestInit => ({
    method: "POST",
    headers,
    body: typeof body === "string" ? body : JSON.stringify(body),
    redirect: "manual",
  });
  const get: RequestInit = { headers: auth, redirect: "manual" };
  const good = { model: "google/veo-3.1", prompt: "p", duration: 8, resolution: "720p" };

  it.each([
    ["an undocumented route", `${OPENROUTER_BASE}/videos/${UNKNOWN_JOB}/cancel`, post({})],
    ["a DELETE", `${OPENROUTER_BASE}/videos/${UNKNOWN_JOB}`, { ...get, method: "DELETE" }],
    ["another host", "https://api.openrouter.example.test/api/v1/videos", get],
    ["a field no spec has", `${OPENROUTER_BASE}/videos`, post({ ...good, seconds: "8" })],
    ["a field never ours", `${OPENROUTER_BASE}/videos`, post({ ...good, provider: {} })],
    ["a query on create", `${OPENROUTER_BASE}/videos?x=1`, post(good)],
    ["a poll with a query", `${OPENROUTER_BASE}/videos/${UNKNOWN_JOB}?x=1`, get],
    ["content without ?index", `${OPENROUTER_BASE}/videos/${UNKNOWN_JOB}/content`, get],
    ["the key in a URL", `${OPENROUTER_BASE}/videos/${UNKNOWN_JOB}?k=${KEY}`, get],
    ["the key sent to the media host", `${OPENROUTER_MEDIA_ORIGIN}/videos/x.mp4`, get],
    [
      "a mislabelled data URL",
      `${OPENROUTER_BASE}/videos`,
      post({
        ...good,
        frame_images: [
          {
            type: "image_url",
            image_url: {
              url: `data:image/jpeg;base64,${btoa(String.fromCharCode(...png(8, 8).bytes))}`,
            },
            frame_type: "first_frame",
          },
        ],
      }),
    ],
  ])("records and throws on %s", async (_, url, init: RequestInit) => {
    const fake = new FakeOpenRouter({ apiKey: KEY });
    await expect(fake.fetch(url, init)).rejects.toBeInstanceOf(ContractViolation);
    expect(fake.violations).toHaveLength(1);
    expect(() => fake.assertClean()).toThrow(/Contract violations/);
  });

  it.each([
    ["no key", {}, "Missing Authentication header"],
    ["a wrong key", { authorization: "Bearer sk-or-v1-nope" }, "User not found."],
  ])("answers 401 in the envelope for %s", async (_, headers, message) => {
    const fake = new FakeOpenRouter({ apiKey: KEY });
    const response = await fake.fetch(`${OPENROUTER_BASE}/videos/${UNKNOWN_JOB}`, {
      headers,
      redirect: "manual",
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual({ error: { code: 401, message }, user_id: null });
    fake.assertClean();
  });

  it.each([
    ["a body that is not JSON", "{oops", "Invalid JSON in request body"],
    ["no model", { prompt: "p" }, "model: Required"],
    ["an unknown model", { ...good, model: "openai/gpt-4o" }, "is not a video generation model"],
    ["a duration as a string", { ...good, duration: "8" }, "duration: Expected integer"],
    ["a duration the model lacks", { ...good, duration: 5 }, "duration: must be one of 4, 6, 8"],
    ["a lowercase 4k", { ...good, resolution: "4k" }, "resolution: Invalid enum value"],
    ["an aspect the model lacks", { ...good, aspect_ratio: "1:1" }, "aspect_ratio: must be one of"],
    ["frame_images as an object", { ...good, frame_images: {} }, "frame_images: Expected array"],
    [
      "an http callback",
      { ...good, callback_url: "http://x.test/h" },
      "callback_url: Must be HTTPS",
    ],
    [
      "audio on a silent model",
      { model: "minimax/hailuo-2.3", prompt: "p", generate_audio: true },
      "does not generate audio",
    ],
  ])("answers 400 in the envelope for %s", async (_, body, message) => {
    const fake = new FakeOpenRouter({ apiKey: KEY });
    const response = await fake.fetch(`${OPENROUTER_BASE}/videos`, post(body));
    expect(response.status).toBe(400);
    const answer = (await response.json()) as { error: { code: number; message: string } };
    expect(answer.error.code).toBe(400);
    expect(answer.error.message).toContain(message);
    fake.assertClean();
  });

  it("accepts the documented body (202), moves the job on per poll and serves the catalog", async () => {
    const fake = new FakeOpenRouter({ apiKey: KEY });
    const created = await fake.fetch(`${OPENROUTER_BASE}/videos`, post(good));
    expect(created.status).toBe(202);
    const { id, polling_url, status } = (await created.json()) as Record<string, string>;
    expect({ polling_url, status }).toEqual({
      polling_url: `/api/v1/videos/${id}`,
      status: "pending",
    });
    const seen: string[] = [];
    for (let i = 0; i < 5; i++) {
      const poll = await fake.fetch(`${OPENROUTER_BASE}/videos/${id}`, get);
      seen.push(((await poll.json()) as { status: string }).status);
    }
    expect(seen).toEqual(["pending", "pending", "in_progress", "completed", "completed"]);
    const models = await fake.fetch(`${OPENROUTER_BASE}/videos/models`, get);
    const catalog = (await models.json()) as { data: Array<{ id: string }> };
    expect(catalog.data.map((m) => m.id)).toContain("google/veo-3.1");
    fake.assertClean();
  });
});
