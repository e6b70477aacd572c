import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createVeoProvider,
  veoProviderOptions,
  type VeoProviderOptions,
} from "../../../worker/providers/veo";
import type {
  CreateInput,
  ExtendInput,
  InputImage,
  Provider,
} from "../../../worker/providers/types";
import { patternBytes } from "../../helpers/fakes/base";
import {
  API_ORIGIN,
  ContractViolation,
  FakeVeo,
  STORAGE_ORIGIN,
  type FakeVeoOptions,
} from "../../helpers/fakes/veo";
import { wholeSecondNow } from "../../helpers/clock";
import { expectProviderError } from "../../helpers/provider-error";

const KEY = "AIzaSy-FAKEKEY-veo-0123456789abcdefghij";
const WHSEC = `whsec_${btoa("veo-webhook-signing-secret-for-tests")}`;
// The fake clock starts at the real now: webhook timestamps are judged against it.
const NOW = wholeSecondNow();
const MODEL = "veo-3.1-generate-preview";
const BASE = `${API_ORIGIN}/v1beta`;
const OP = /^models\/veo-3\.1-generate-preview\/operations\/op\d{10}$/;

const fakes: FakeVeo[] = [];
afterEach(() => {
  vi.restoreAllMocks();
  for (const fake of fakes.splice(0)) fake.assertClean();
});

interface Setup {
  fake: FakeVeo;
  provider: Provider;
  sleeps: number[];
  clock: { now: number };
}

function setup(
  block: Partial<Record<keyof VeoProviderOptions, unknown>> = {},
  fakeOptions: Partial<FakeVeoOptions> = {},
  ctx: { apiKey?: string; webhookSecret?: string } = {},
): Setup {
  const options = veoProviderOptions.parse({ type: "veo", ...block });
  const fake = new FakeVeo({ apiKey: KEY, ...fakeOptions });
  fakes.push(fake);
  const sleeps: number[] = [];
  const clock = { now: NOW };
  const provider = createVeoProvider(options, {
    fetch: fake.fetch,
    now: () => clock.now,
    apiKey: ctx.apiKey ?? KEY,
    webhookSecret: ctx.webhookSecret,
    sleep: async (ms) => void sleeps.push(ms),
  });
  return { fake, provider, sleeps, clock };
}

/** An adapter over a hand-written fetch, for failures the fake cannot produce. */
function setupWith(fetchFn: typeof fetch) {
  const options = veoProviderOptions.parse({ type: "veo" });
  return createVeoProvider(options, {
    fetch: fetchFn,
    now: () => NOW,
    apiKey: KEY,
    sleep: async () => {},
  });
}

function png(width: number, height: number): InputImage {
  const bytes = new Uint8Array(33);
  bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]);
  const view = new DataView(bytes.buffer);
  view.setUint32(16, width);
  view.setUint32(20, height);
  bytes.set([8, 6, 0, 0, 0], 24);
  return { bytes, mime: "image/png", width, height };
}

function input(overrides: Partial<CreateInput> = {}): CreateInput {
  return {
    jobId: "job_abc123",
    model: MODEL,
    prompt: "A lighthouse at dusk, waves rolling in",
    seconds: "8",
    size: "1280x720",
    ...overrides,
  };
}

const providerError = (promise: Promise<unknown>) => expectProviderError(promise, "FAKEKEY");

async function createdOp(s: Setup, overrides: Partial<CreateInput> = {}): Promise<string> {
  return (await s.provider.create(input(overrides))).upstreamId;
}

async function finishedOp(s: Setup): Promise<string> {
  const name = await createdOp(s);
  for (let i = 0; i < 3; i++) await s.provider.retrieve(name, { startedAt: NOW });
  return name;
}

describe("veoProviderOptions", () => {
  it("fills the defaults", () => {
    expect(veoProviderOptions.parse({ type: "veo" })).toEqual({
      type: "veo",
      api_key_secret: "GEMINI_API_KEY",
      typical_seconds: 90,
      timeout_ms: 30_000,
      max_retries: 2,
    });
  });

  it.each([
    ["an unknown key (typo)", { person_generaton: "allow_adult" }],
    ["a base URL (the host is fixed)", { base_url: "https://proxy.example.test/v1beta" }],
    ["a lowercase secret name", { api_key_secret: "gemini_key" }],
    ["a webhook secret value instead of its name", { webhook_secret_secret: WHSEC }],
    ["an unknown personGeneration", { person_generation: "allow_everyone" }],
    ["a fractional typical_seconds", { typical_seconds: 90.5 }],
    ["an empty negative prompt", { negative_prompt: "  " }],
  ])("rejects %s", (_, block) => {
    expect(veoProviderOptions.safeParse({ type: "veo", ...block }).success).toBe(false);
  });
});

describe("create", () => {
  it("posts one JSON instance with the image inline and the size/seconds mapped", async () => {
    const { fake, provider } = setup();
    const image = png(1280, 720);
    const job = await provider.create(input({ image, audio: true }));

    expect(job).toEqual({
      upstreamId: expect.stringMatching(OP),
      status: "queued",
      progress: 0,
      error: null,
      expiresAt: null,
    });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request!.method).toBe("POST");
    expect(request!.url.href).toBe(`${BASE}/models/${MODEL}:predictLongRunning`);
    expect(request!.headers.get("x-goog-api-key")).toBe(KEY);
    expect(request!.headers.get("authorization")).toBeNull();
    expect(request!.headers.get("content-type")).toBe("application/json");
    expect(request!.json).toEqual({
      instances: [
        {
          prompt: "A lighthouse at dusk, waves rolling in",
          image: {
            bytesBase64Encoded: btoa(String.fromCharCode(...image.bytes)),
            mimeType: "image/png",
          },
        },
      ],
      parameters: { aspectRatio: "16:9", durationSeconds: 8, resolution: "720p" },
    });
  });

  it.each([
    ["720x1280", "4", { aspectRatio: "9:16", durationSeconds: 4, resolution: "720p" }],
    ["1280x720", "6", { aspectRatio: "16:9", durationSeconds: 6, resolution: "720p" }],
    ["1920x1080", "8", { aspectRatio: "16:9", durationSeconds: 8, resolution: "1080p" }],
    ["1080x1920", "8", { aspectRatio: "9:16", durationSeconds: 8, resolution: "1080p" }],
    ["3840x2160", "8", { aspectRatio: "16:9", durationSeconds: 8, resolution: "4k" }],
    ["2160x3840", "8", { aspectRatio: "9:16", durationSeconds: 8, resolution: "4k" }],
  ])("maps %s for %s s onto %j", async (size, seconds, parameters) => {
    const { fake, provider } = setup();
    await provider.create(input({ size, seconds }));
    expect((fake.requests[0]!.json as { parameters: unknown }).parameters).toEqual(parameters);
  });

  it("sends no image, audio flag or webhookConfig when there is nothing to send", async () => {
    const { fake, provider } = setup();
    await provider.create(input({ webhookUrl: "https://worker.example.test/webhooks/veo" }));
    expect(fake.requests[0]!.json).toEqual({
      instances: [{ prompt: "A lighthouse at dusk, waves rolling in" }],
      parameters: { aspectRatio: "16:9", durationSeconds: 8, resolution: "720p" },
    });
  });

  it("sends personGeneration and negativePrompt only when the route sets them", async () => {
    const { fake, provider } = setup({ person_generation: "allow_adult", negative_prompt: "text" });
    await provider.create(input({ image: png(1280, 720) }));
    expect((fake.requests[0]!.json as { parameters: unknown }).parameters).toEqual({
      aspectRatio: "16:9",
      durationSeconds: 8,
      resolution: "720p",
      personGeneration: "allow_adult",
      negativePrompt: "text",
    });
  });

  it("refuses audio: false, since Veo on the Gemini API always makes sound", async () => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input({ audio: false })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toMatch(/always makes sound.*audio: true/);
    expect(fake.requests).toEqual([]);
  });

  const ALL_SIZES = "1280x720, 720x1280, 1920x1080, 1080x1920, 3840x2160, 2160x3840";
  it.each(["640x480", "1024x1024", "1366x768", "1280x721", "1792x1024", "720x720"])(
    "refuses the size %s with the allowed list and sends nothing",
    async (size) => {
      const { fake, provider } = setup();
      const error = await providerError(provider.create(input({ size })));
      expect(error.kind).toBe("input_rejected");
      expect(error.publicMessage).toBe(`${MODEL} accepts sizes: ${ALL_SIZES}`);
      expect(fake.requests).toEqual([]);
    },
  );

  it.each(["5", "10", "12", "2"])("refuses %s seconds with the allowed list", async (seconds) => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input({ seconds })));
    expect(error).toMatchObject({
      kind: "input_rejected",
      publicMessage: `${MODEL} accepts seconds: 4, 6, 8`,
    });
    expect(fake.requests).toEqual([]);
  });

  it.each([
    ["1920x1080", "4"],
    ["1080x1920", "6"],
    ["3840x2160", "4"],
  ])("refuses %s for %s s: 1080p and 4k need 8 s", async (size, seconds) => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input({ size, seconds })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toBe(
      `${MODEL} accepts ${size} only with seconds: 8; ` +
        `for ${seconds} seconds it accepts sizes: 1280x720, 720x1280`,
    );
    expect(fake.requests).toEqual([]);
  });

  it("refuses 4k on 3.1 Lite and lists the sizes it has", async () => {
    const { fake, provider } = setup();
    const model = "veo-3.1-lite-generate-preview";
    const error = await providerError(provider.create(input({ model, size: "3840x2160" })));
    expect(error.publicMessage).toBe(
      `${model} accepts sizes: 1280x720, 720x1280, 1920x1080, 1080x1920`,
    );
    expect(fake.requests).toEqual([]);
  });

  it("refuses an image too large to send inline", async () => {
    const { fake, provider } = setup();
    const big = { ...png(1280, 720), bytes: new Uint8Array(15 * 1024 * 1024) };
    const error = await providerError(provider.create(input({ image: big })));
    expect(error.publicMessage).toBe(`${MODEL} accepts input images up to 14 MB`);
    expect(fake.requests).toEqual([]);
  });

  it("surfaces a 400 about allow_adult as input_rejected with Google's reason", async () => {
    const { fake, provider } = setup({ person_generation: "allow_adult" });
    fake.failNext(400, {
      grpc: "INVALID_ARGUMENT",
      message: "allow_adult for personGeneration is currently not supported.",
    });
    const error = await providerError(provider.create(input({ image: png(1280, 720) })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toBe(
      "The video provider rejected the request: allow_adult for personGeneration is currently not supported.",
    );
  });

  it("maps a 400 about usage guidelines to policy_violation", async () => {
    const { fake, provider } = setup();
    fake.failNext(400, {
      grpc: "INVALID_ARGUMENT",
      message: "The prompt contains words that violate the usage guidelines.",
    });
    expect((await providerError(provider.create(input()))).kind).toBe("policy_violation");
  });

  it.each([
    ["a key Google calls not valid (400 API_KEY_INVALID)", "AIzaSy-WRONGKEY-0123456789", undefined],
    ["a 403 PERMISSION_DENIED", KEY, [403, "PERMISSION_DENIED", "Permission denied."] as const],
    [
      "a 400 FAILED_PRECONDITION (billing/region)",
      KEY,
      [400, "FAILED_PRECONDITION", "User location is not supported for the API use."] as const,
    ],
    ["a 404 for an unknown model", KEY, [404, "NOT_FOUND", "models/x is not found."] as const],
  ])("maps %s to misconfigured", async (_, apiKey, failure) => {
    const { fake, provider } = setup({}, {}, { apiKey });
    if (failure) fake.failNext(failure[0], { grpc: failure[1], message: failure[2] });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("misconfigured");
    expect(error.detail).not.toContain("WRONGKEY");
  });

  it("maps a 429 with retry-after to rate_limited and sends the create once", async () => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(429, { grpc: "RESOURCE_EXHAUSTED", headers: { "retry-after": "7" } });
    const error = await providerError(provider.create(input()));
    expect(error).toMatchObject({ kind: "rate_limited", retryAfter: 7 });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("reads a 429's wait from google.rpc.RetryInfo when there is no header", async () => {
    const { fake, provider } = setup();
    fake.failNext(429, {
      grpc: "RESOURCE_EXHAUSTED",
      message: "Quota exceeded.",
      details: [{ "@type": "type.googleapis.com/google.rpc.RetryInfo", retryDelay: "37s" }],
    });
    expect(await providerError(provider.create(input()))).toMatchObject({
      kind: "rate_limited",
      retryAfter: 37,
    });
  });

  it.each([
    [500, "upstream_failed"],
    [503, "unavailable"],
  ])("is not retried on %s: %s after one request", async (status, kind) => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(status, { grpc: "UNAVAILABLE", times: 3 });
    expect((await providerError(provider.create(input()))).kind).toBe(kind);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("reports an unknown outcome (timeout) when the connection drops", async () => {
    const provider = setupWith(async () => {
      throw new TypeError("Network connection lost.");
    });
    expect((await providerError(provider.create(input()))).kind).toBe("timeout");
  });

  it.each([
    ["not JSON", "<html>oops</html>"],
    ["JSON without a name", JSON.stringify({ done: false })],
    [
      "a name that climbs out of the base",
      JSON.stringify({ name: "models/x/operations/../../files" }),
    ],
    [
      "a name that is a URL",
      JSON.stringify({ name: "https://evil.example/models/a/operations/b" }),
    ],
  ])("treats a 200 that is %s as bad_response", async (_, body) => {
    const { fake, provider } = setup();
    fake.script({ respond: () => new Response(body, { status: 200 }) });
    expect((await providerError(provider.create(input()))).kind).toBe("bad_response");
  });

  it("fails as misconfigured, without a request, when the key secret is empty", async () => {
    const { fake, provider } = setup({}, {}, { apiKey: "" });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("misconfigured");
    expect(error.detail).toContain("GEMINI_API_KEY");
    expect(fake.requests).toEqual([]);
  });
});

describe("retrieve", () => {
  it("follows an operation from queued through in_progress to completed", async () => {
    const s = setup({}, { pollsToComplete: 4 });
    const name = await createdOp(s);
    const states = [];
    for (let i = 0; i < 4; i++) {
      s.clock.now += 30_000;
      states.push(await s.provider.retrieve(name, { startedAt: NOW }));
    }
    const running = states.slice(0, 3);
    expect(running.map((st) => st.status)).toEqual(["in_progress", "in_progress", "in_progress"]);
    const progress = running.map((st) => st.progress);
    expect(progress[0]).toBeGreaterThan(0);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(new Set(progress).size).toBe(3);
    expect(Math.max(...progress)).toBeLessThan(100);
    expect(states[3]).toEqual({
      status: "completed",
      progress: 100,
      error: null,
      expiresAt: Math.floor(s.clock.now / 1000) + 2 * 24 * 3600,
    });
    expect(s.fake.requests.slice(1).map((r) => `${r.method} ${r.url.href}`)).toEqual(
      Array(4).fill(`GET ${BASE}/${name}`),
    );
    expect(s.fake.requests[1]!.headers.get("x-goog-api-key")).toBe(KEY);
  });

  it("estimates 0 without a start time and stays below 100 long after the typical time", async () => {
    const s = setup({}, { pollsToComplete: 10 });
    const name = await createdOp(s);
    expect(await s.provider.retrieve(name)).toMatchObject({ status: "in_progress", progress: 0 });
    s.clock.now += 3_600_000;
    const late = await s.provider.retrieve(name, { startedAt: NOW });
    expect(late.progress).toBeGreaterThan(90);
    expect(late.progress).toBeLessThan(100);
  });

  it.each([
    [
      3,
      "Input image is not a valid image.",
      "input_rejected",
      "The video provider rejected the input: Input image is not a valid image.",
    ],
    [
      3,
      "The request violates Google's Responsible AI policies.",
      "policy_violation",
      "Google refused this video: The request violates Google's Responsible AI policies.",
    ],
    [
      7,
      "The caller does not have permission.",
      "provider_error",
      "The video provider could not make this video.",
    ],
    [
      16,
      "Request had invalid authentication credentials.",
      "provider_error",
      "The video provider could not make this video.",
    ],
    [
      8,
      "Quota exceeded for aiplatform.googleapis.com.",
      "provider_error",
      "The video provider's rate limit or quota was reached; try again later.",
    ],
    [4, "Deadline exceeded.", "timeout", "The video provider took too long to make this video."],
    [1, "Cancelled.", "cancelled", "The video provider cancelled this job."],
    [
      13,
      "Internal error encountered, see https://status.example/x",
      "provider_error",
      "The video provider could not make this video: Internal error encountered, see [url]",
    ],
  ])("maps done + error code %s to %s", async (code, message, expected, publicMessage) => {
    vi.spyOn(console, "warn").mockImplementation(() => {}); // operator hints; tested below
    const s = setup({}, { pollsToComplete: 1 });
    const name = await createdOp(s);
    s.fake.failOperation(name, { code, message });
    expect(await s.provider.retrieve(name, { startedAt: NOW })).toEqual({
      status: "failed",
      progress: 0,
      error: { code: expected, message: publicMessage },
      expiresAt: null,
    });
  });

  it("logs an operator hint for PERMISSION_DENIED, never the key", async () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((...args) => void lines.push(args.join(" ")));
    const s = setup({}, { pollsToComplete: 1 });
    const name = await createdOp(s);
    s.fake.failOperation(name, { code: 7, message: `Key ${KEY} lacks access.` });
    await s.provider.retrieve(name);
    expect(lines.join("\n")).toMatch(/PERMISSION_DENIED: check the Gemini API key/);
    expect(lines.join("\n")).not.toContain("FAKEKEY");
  });

  it.each([
    [
      1,
      ["Veo could not generate videos because the input image contains a celebrity."],
      "Google's safety filters held the video back: Veo could not generate videos because the input image contains a celebrity.",
    ],
    [1, ["58061214"], "Google's safety filters held the video back: support code 58061214"],
    [2, [], "Google's safety filters held the video back."],
    [
      0,
      ["a person was shown", "violence"],
      "Google's safety filters held the video back: a person was shown; violence",
    ],
  ])(
    "maps done with %s filtered and reasons %j to policy_violation",
    async (count, reasons, message) => {
      const s = setup({}, { pollsToComplete: 1 });
      const name = await createdOp(s);
      s.fake.filterOperation(name, count, reasons);
      expect(await s.provider.retrieve(name)).toEqual({
        status: "failed",
        progress: 0,
        error: { code: "policy_violation", message },
        expiresAt: null,
      });
    },
  );

  it("does not call a done operation without samples completed (LiteLLM's bug)", async () => {
    const { fake, provider } = setup();
    const name = `models/${MODEL}/operations/opdone`;
    fake.script({ respond: () => Response.json({ name, done: true, response: {} }) });
    expect(await provider.retrieve(name)).toMatchObject({
      status: "failed",
      error: { code: "provider_error", message: "The video provider finished without a video." },
    });
  });

  it.each([
    ["done: false with metadata", { done: false, metadata: { "@type": "x" } }, "in_progress"],
    ["no done field", { name: "n" }, "in_progress"],
    ["a done that is not a boolean", { done: "yes" }, "in_progress"],
    [
      "extra fields around a sample",
      {
        done: true,
        extra: 1,
        response: {
          generateVideoResponse: {
            generatedSamples: [{ video: { uri: "u", mimeType: "video/mp4" } }],
          },
        },
      },
      "completed",
    ],
  ])("reads %s leniently", async (_, body, status) => {
    const { fake, provider } = setup();
    fake.script({ respond: () => Response.json(body) });
    expect((await provider.retrieve(`models/${MODEL}/operations/op1`)).status).toBe(status);
  });

  it("is retried on 503 and succeeds, waiting as retry-after says", async () => {
    const s = setup();
    const name = await createdOp(s);
    s.fake.failNext(503, { grpc: "UNAVAILABLE", headers: { "retry-after": "2" } });
    expect((await s.provider.retrieve(name)).status).toBe("in_progress");
    expect(s.fake.requests).toHaveLength(3);
    expect(s.sleeps).toEqual([2000]);
  });

  it("gives up as upstream_failed after max_retries of 500", async () => {
    const s = setup({ max_retries: 1 });
    const name = await createdOp(s);
    s.fake.failNext(500, { times: 2 });
    expect((await providerError(s.provider.retrieve(name))).kind).toBe("upstream_failed");
    expect(s.fake.requests).toHaveLength(3);
  });

  it("maps an unknown operation (404) to not_found", async () => {
    const { provider } = setup();
    const error = await providerError(provider.retrieve(`models/${MODEL}/operations/gone`));
    expect(error.kind).toBe("not_found");
  });

  it.each([
    "",
    "operations/abc",
    "models/veo/operations/../../files/x",
    "models/veo/operations/a/b",
    "models/veo/operations/a?key=1",
    "https://evil.example/models/a/operations/b",
    "/models/a/operations/b",
    "models/a b/operations/c",
  ])("refuses the upstream id %j without sending anything", async (id) => {
    const { fake, provider } = setup();
    expect((await providerError(provider.retrieve(id))).kind).toBe("not_found");
    const content = provider.content(id, { variant: "video", range: null });
    expect((await providerError(content)).kind).toBe("not_found");
    expect(fake.requests).toEqual([]);
  });
});

describe("extend", () => {
  const source = (upstreamId: string | null, size = "1280x720", durationSeconds = 8) => ({
    upstreamId,
    size,
    durationSeconds,
    bytes: () => Promise.reject(new Error("Veo never uploads the source")),
  });
  const extension = (upstreamId: string | null, overrides: Partial<ExtendInput> = {}) => ({
    jobId: "job_ext",
    model: MODEL,
    prompt: "The camera keeps rising over the bay",
    seconds: "7",
    totalSeconds: "15",
    source: source(upstreamId),
    ...overrides,
  });

  it("sends its own generation's file URI back as video.uri, 720p, nothing create-only", async () => {
    const s = setup();
    const name = await finishedOp(s);
    const created = await s.provider.extend!(extension(name));
    expect(created).toMatchObject({ status: "queued", progress: 0 });
    expect(created.upstreamId).toMatch(OP);
    expect(created.upstreamId).not.toBe(name);
    const post = s.fake.requests.filter((r) => r.method === "POST").at(-1)!;
    const op = s.fake.operations.get(name)!;
    expect(post.json).toEqual({
      instances: [
        {
          prompt: "The camera keeps rising over the bay",
          video: { uri: s.fake.fileUri(op.fileId) },
        },
      ],
      parameters: { resolution: "720p" },
    });
    expect(s.fake.extended).toEqual([{ from: name, uri: s.fake.fileUri(op.fileId) }]);
  });

  it("refuses, without a request, what Veo cannot extend", async () => {
    const s = setup();
    const name = await finishedOp(s);
    const before = s.fake.requests.length;
    expect(await providerError(s.provider.extend!(extension(null)))).toMatchObject({
      kind: "input_rejected",
      message: expect.stringContaining("only videos it made itself"),
    });
    expect(
      await providerError(s.provider.extend!(extension(name, { seconds: "4" }))),
    ).toMatchObject({
      kind: "input_rejected",
    });
    expect(
      await providerError(
        s.provider.extend!(extension(name, { source: source(name, "1920x1080") })),
      ),
    ).toMatchObject({ kind: "input_rejected", message: expect.stringContaining("720p") });
    expect(
      await providerError(
        s.provider.extend!(extension(name, { source: source(name, "1280x720", 142) })),
      ),
    ).toMatchObject({ kind: "input_rejected", message: expect.stringContaining("141") });
    expect(
      await providerError(
        s.provider.extend!(extension(name, { model: "veo-3.1-lite-generate-preview" })),
      ),
    ).toMatchObject({ kind: "misconfigured" });
    // Only the status reads of the refused calls that got that far; no POST.
    expect(s.fake.requests.slice(before).every((r) => r.method === "GET")).toBe(true);
  });

  it("refuses a source that is not finished yet", async () => {
    const s = setup();
    const name = await createdOp(s);
    expect(await providerError(s.provider.extend!(extension(name)))).toMatchObject({
      kind: "input_rejected",
      message: expect.stringContaining("not finished"),
    });
  });
});

describe("content", () => {
  it("downloads the file with the key, forwards Range and streams 206 with exact bytes", async () => {
    const s = setup();
    const name = await finishedOp(s);
    const response = await s.provider.content(name, { variant: "video", range: "bytes=100-199" });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-199/${64 * 1024}`);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(
      patternBytes(64 * 1024).slice(100, 200),
    );
    const [poll, download] = s.fake.requests.slice(-2);
    expect(poll!.url.href).toBe(`${BASE}/${name}`);
    expect(download!.url.href).toBe(`${BASE}/files/file1:download?alt=media`);
    expect(download!.headers.get("x-goog-api-key")).toBe(KEY);
    expect(download!.headers.get("range")).toBe("bytes=100-199");
  });

  it("returns the whole file with only whitelisted headers", async () => {
    const s = setup();
    const name = await finishedOp(s);
    const response = await s.provider.content(name, { variant: "video", range: null });
    expect(response.status).toBe(200);
    expect([...response.headers.keys()].sort()).toEqual(
      ["accept-ranges", "content-length", "content-type", "etag"].sort(),
    );
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(patternBytes(64 * 1024));
    expect(s.fake.requests.at(-1)!.headers.has("range")).toBe(false);
  });

  it("passes a 416 for an unsatisfiable range through", async () => {
    const s = setup();
    const name = await finishedOp(s);
    const response = await s.provider.content(name, { variant: "video", range: "bytes=999999-" });
    expect(response.status).toBe(416);
    expect(response.headers.get("content-range")).toBe(`bytes */${64 * 1024}`);
  });

  it("follows Google's redirect itself, without the key, forwarding Range", async () => {
    const s = setup({}, { redirectDownloads: true });
    const name = await finishedOp(s);
    const response = await s.provider.content(name, { variant: "video", range: "bytes=0-9" });
    expect(response.status).toBe(206);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(
      patternBytes(64 * 1024).slice(0, 10),
    );
    const last = s.fake.requests.at(-1)!;
    expect(last.url.origin).toBe(STORAGE_ORIGIN);
    expect(last.headers.has("x-goog-api-key")).toBe(false);
    expect(last.headers.get("range")).toBe("bytes=0-9");
  });

  it("refuses a redirect that leaves Google", async () => {
    const s = setup();
    const name = await finishedOp(s);
    s.fake.script({
      path: "/v1beta/files/file1:download",
      respond: () =>
        new Response(null, { status: 302, headers: { location: "https://evil.example/x" } }),
    });
    const error = await providerError(s.provider.content(name, { variant: "video", range: null }));
    expect(error.kind).toBe("bad_response");
    expect(s.fake.requests.every((r) => r.url.hostname !== "evil.example")).toBe(true);
  });

  it.each([
    "https://evil.example/v1beta/files/f:download?alt=media",
    "http://generativelanguage.googleapis.com/v1beta/files/f:download?alt=media",
    "https://generativelanguage.googleapis.com.evil.example/v1beta/files/f",
    "https://generativelanguage.googleapis.com:8443/v1beta/files/f",
    "https://user@generativelanguage.googleapis.com/v1beta/files/f",
    "https://generativelanguage.googleapis.com/v1beta/files/f:download?alt=media&key=x",
    "https://storage.googleapis.com/bucket/f.mp4",
    "not a url",
  ])("refuses to fetch a video URI %s", async (uri) => {
    const { fake, provider } = setup();
    const name = `models/${MODEL}/operations/op1`;
    fake.script({
      respond: () =>
        Response.json({
          done: true,
          response: { generateVideoResponse: { generatedSamples: [{ video: { uri } }] } },
        }),
    });
    const error = await providerError(provider.content(name, { variant: "video", range: null }));
    expect(error.kind).toBe("bad_response");
    expect(fake.requests).toHaveLength(1);
  });

  it.each(["thumbnail", "spritesheet"] as const)(
    "has no %s: not_found without a request",
    async (variant) => {
      const { fake, provider } = setup();
      const error = await providerError(
        provider.content(`models/${MODEL}/operations/op1`, { variant, range: null }),
      );
      expect(error.kind).toBe("not_found");
      expect(fake.requests).toEqual([]);
    },
  );

  it("answers not_found while the operation is still running", async () => {
    const s = setup();
    const name = await createdOp(s);
    const error = await providerError(s.provider.content(name, { variant: "video", range: null }));
    expect(error.kind).toBe("not_found");
  });

  it("maps a file past its two days (403 'may not exist') to not_found", async () => {
    const s = setup();
    const name = await finishedOp(s);
    s.fake.failNext(403, {
      path: "/v1beta/files/file1:download",
      grpc: "PERMISSION_DENIED",
      message: "You do not have permission to access the File file1 or it may not exist.",
    });
    const error = await providerError(s.provider.content(name, { variant: "video", range: null }));
    expect(error.kind).toBe("not_found");
  });

  it("retries a download that fails before answering", async () => {
    const s = setup();
    const name = await finishedOp(s);
    s.fake.failNext(502, { path: "/v1beta/files/file1:download" });
    const response = await s.provider.content(name, { variant: "video", range: "bytes=0-9" });
    expect(response.status).toBe(206);
    expect(s.sleeps).toHaveLength(1);
  });
});

describe("verifyWebhook", () => {
  const OP_NAME = `models/${MODEL}/operations/op0000000001`;

  function delivery(
    payload: unknown,
    opts: { id?: string; secret?: string; at?: Date; body?: string; signature?: string } = {},
  ): Request {
    const raw = JSON.stringify(payload);
    const id = opts.id ?? "msg_2xY7";
    const at = opts.at ?? new Date(NOW);
    const signature = opts.signature ?? new Webhook(opts.secret ?? WHSEC).sign(id, at, raw);
    return new Request("https://worker.example.test/webhooks/veo", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": signature,
      },
      body: opts.body ?? raw,
    });
  }

  const event = (data: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    type: "video.generated",
    version: "v1",
    timestamp: new Date(NOW).toISOString(),
    data,
    ...extra,
  });

  const verifier = () =>
    setup({ webhook_secret_secret: "GEMINI_WEBHOOK_SECRET" }, {}, { webhookSecret: WHSEC });

  it("is offered only with both the secret's name and its value", () => {
    expect(setup().provider.verifyWebhook).toBeUndefined();
    expect(setup({}, {}, { webhookSecret: WHSEC }).provider.verifyWebhook).toBeUndefined();
    expect(setup({ webhook_secret_secret: "S" }).provider.verifyWebhook).toBeUndefined();
    expect(verifier().provider.verifyWebhook).toBeTypeOf("function");
  });

  it("verifies a delivery and names its operation, the same way on a retry", async () => {
    const { provider, fake } = verifier();
    const payload = event({
      id: OP_NAME,
      output_file_uri:
        "https://generativelanguage.googleapis.com/v1beta/files/f:download?alt=media",
      file_name: "files/f",
    });
    const first = await provider.verifyWebhook!(delivery(payload));
    const again = await provider.verifyWebhook!(delivery(payload));
    expect(first).toEqual({ deliveryId: "msg_2xY7", upstreamId: OP_NAME });
    expect(again).toEqual(first);
    expect(fake.requests).toEqual([]);
  });

  it.each([
    ["data.name", event({ id: "op0000000001", name: OP_NAME })],
    ["data.operation", event({ operation: OP_NAME })],
    ["a top-level name", { ...event({ id: "x" }), name: OP_NAME }],
    ["a nested object", event({ id: "x", result: { operation: { name: OP_NAME } } })],
    ["a v1beta/ prefix", event({ id: `v1beta/${OP_NAME}` })],
    ["the full API URL", event({ id: `${BASE}/${OP_NAME}` })],
    ["an event without a type", { data: { id: OP_NAME } }],
  ])("finds the operation name in %s", async (_, payload) => {
    const { provider } = verifier();
    expect((await provider.verifyWebhook!(delivery(payload))).upstreamId).toBe(OP_NAME);
  });

  it.each([
    [
      "a tampered body",
      { body: JSON.stringify(event({ id: `models/${MODEL}/operations/other` })) },
    ],
    ["a tampered signature", { signature: "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=" }],
    ["a stale timestamp (6 minutes old)", { at: new Date(NOW - 6 * 60 * 1000) }],
    ["a timestamp from the future", { at: new Date(NOW + 6 * 60 * 1000) }],
    ["the wrong secret", { secret: `whsec_${btoa("some-other-secret-entirely")}` }],
  ])("rejects %s", async (_, opts) => {
    const { provider } = verifier();
    const error = await providerError(
      provider.verifyWebhook!(delivery(event({ id: OP_NAME }), opts)),
    );
    expect(error.kind).toBe("input_rejected");
  });

  it.each([
    ["a bare operation id", event({ id: "op0000000001" })],
    ["no data at all", { type: "video.generated" }],
    ["a batch event", { type: "batch.succeeded", data: { id: OP_NAME } }],
  ])("rejects %s as naming no video job", async (_, payload) => {
    const { provider } = verifier();
    const error = await providerError(provider.verifyWebhook!(delivery(payload)));
    expect(error.kind).toBe("input_rejected");
  });
});

describe("the API key", () => {
  it("never shows up in errors, responses or log lines, whatever the upstream echoes", async () => {
    const logged: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation((...args) => void logged.push(args.join(" ")));
    }
    const seen: string[] = [];
    const s = setup(
      { webhook_secret_secret: "GEMINI_WEBHOOK_SECRET" },
      { pollsToComplete: 1 },
      { webhookSecret: WHSEC },
    );

    // Create failures that echo the key in every field Google has.
    s.fake.failNext(400, {
      grpc: "INVALID_ARGUMENT",
      message: `Bad request from key ${KEY}`,
      details: [{ reason: KEY, metadata: { key: KEY } }],
    });
    const errors = [await providerError(s.provider.create(input()))];
    s.fake.failNext(429, { grpc: "RESOURCE_EXHAUSTED", message: `x-goog-api-key: ${KEY}` });
    errors.push(await providerError(s.provider.create(input())));
    s.fake.script({ respond: () => new Response(`{"name":"${KEY}"`, { status: 200 }) });
    errors.push(await providerError(s.provider.create(input())));

    // A failed operation whose message carries the key: the public message and the log line.
    const failing = await createdOp(s);
    s.fake.failOperation(failing, { code: 7, message: `key=${KEY} denied ${KEY}` });
    seen.push(JSON.stringify(await s.provider.retrieve(failing)));
    const filtered = await createdOp(s);
    s.fake.filterOperation(filtered, 1, [`reason mentioning ${KEY}`]);
    seen.push(JSON.stringify(await s.provider.retrieve(filtered)));

    // Retrieve failures after retries, and a download whose headers echo the key.
    s.fake.failNext(500, { times: 3, message: `upstream saw ${KEY}` });
    errors.push(await providerError(s.provider.retrieve(failing)));
    const done = await createdOp(s);
    await s.provider.retrieve(done);
    s.fake.script({
      path: /:download$/,
      respond: () =>
        new Response("video-bytes", {
          headers: { "content-type": "video/mp4", "x-echo-key": KEY },
        }),
    });
    const response = await s.provider.content(done, { variant: "video", range: null });
    for (const [name, value] of response.headers) seen.push(`${name}: ${value}`);
    seen.push(new TextDecoder().decode(await response.arrayBuffer()));
    s.fake.failNext(403, { path: /:download$/, message: `no access for ${KEY}` });
    errors.push(await providerError(s.provider.content(done, { variant: "video", range: null })));

    // A webhook whose payload carries the key still verifies without repeating it.
    const body = JSON.stringify({ type: "video.generated", data: { id: done, note: KEY } });
    const at = new Date(s.clock.now);
    const webhook = new Request("https://worker.example.test/webhooks/veo", {
      method: "POST",
      headers: {
        "webhook-id": "msg_1",
        "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
        "webhook-signature": new Webhook(WHSEC).sign("msg_1", at, body),
      },
      body,
    });
    seen.push(JSON.stringify(await s.provider.verifyWebhook!(webhook)));

    for (const e of errors) seen.push(e.message, e.publicMessage, e.detail ?? "", e.stack ?? "");
    expect(logged.length).toBeGreaterThan(0);
    const everything = [...seen, ...logged].join("\n");
    expect(everything).not.toContain(KEY);
    expect(everything).not.toContain("FAKEKEY");
    // The key did go where it belongs: the header, on Google's host only.
    for (const r of s.fake.requests) {
      expect(r.url.href).not.toContain("FAKEKEY");
      if (r.url.origin === API_ORIGIN) expect(r.headers.get("x-goog-api-key")).toBe(KEY);
    }
  });
});

describe("the API key, when it looks like no known token", () => {
  it("is still scrubbed by value from errors and log lines", async () => {
    const shortKey = "FAKEKEY-gem-77";
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((...args) => void lines.push(args.join(" ")));
    const s = setup({}, { apiKey: shortKey, pollsToComplete: 1 }, { apiKey: shortKey });
    s.fake.failNext(400, { grpc: "INVALID_ARGUMENT", message: `bad key ${shortKey}` });
    const error = await providerError(s.provider.create(input()));
    expect(error.detail).toContain("[redacted]");
    const name = await createdOp(s);
    s.fake.failOperation(name, { code: 13, message: `failed for ${shortKey}` });
    const state = await s.provider.retrieve(name);
    expect(JSON.stringify(state)).not.toContain(shortKey);
    expect(lines.join("\n")).toContain("[redacted]");
    expect(lines.join("\n")).not.toContain(shortKey);
  });
});

describe("FakeVeo (the contract fake itself)", () => {
  const create = `${BASE}/models/${MODEL}:predictLongRunning`;
  const json = (body: unknown, headers: Record<string, string> = { "x-goog-api-key": KEY }) => ({
    method: "POST",
    headers: { ...headers, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const ok = {
    instances: [{ prompt: "p" }],
    parameters: { aspectRatio: "16:9", durationSeconds: 8, resolution: "720p" },
  };

  it.each([
    ["an undocumented route", `${BASE}/models/${MODEL}:generateVideos`, json(ok)],
    ["the key in the URL", `${create}?key=${KEY}`, json(ok, {})],
    [
      "durationSeconds as a string",
      create,
      json({ ...ok, parameters: { ...ok.parameters, durationSeconds: "8" } }),
    ],
    [
      "a Vertex-only generateAudio",
      create,
      json({ ...ok, parameters: { ...ok.parameters, generateAudio: false } }),
    ],
    [
      "a per-request webhookConfig",
      create,
      json({ ...ok, parameters: { ...ok.parameters, webhookConfig: {} } }),
    ],
    [
      "an image by gcsUri",
      create,
      json({
        ...ok,
        instances: [{ prompt: "p", image: { gcsUri: "gs://b/i.png", mimeType: "image/png" } }],
      }),
    ],
    [
      "an Authorization header",
      create,
      json(ok, { "x-goog-api-key": KEY, authorization: `Bearer ${KEY}` }),
    ],
    [
      "a download that follows redirects",
      `${BASE}/files/file1:download?alt=media`,
      { headers: { "x-goog-api-key": KEY } },
    ],
  ])("records and throws on %s", async (_, url, init: RequestInit) => {
    const fake = new FakeVeo({ apiKey: KEY });
    await expect(fake.fetch(url, init)).rejects.toBeInstanceOf(ContractViolation);
    expect(fake.violations).toHaveLength(1);
    expect(() => fake.assertClean()).toThrow(/Contract violations/);
  });

  it("answers the documented refusals with Google's envelope", async () => {
    const fake = new FakeVeo({ apiKey: KEY });
    const short1080 = await fake.fetch(
      create,
      json({ ...ok, parameters: { ...ok.parameters, resolution: "1080p", durationSeconds: 4 } }),
    );
    expect(short1080.status).toBe(400);
    expect(await short1080.json()).toMatchObject({
      error: { code: 400, status: "INVALID_ARGUMENT" },
    });
    const badKey = await fake.fetch(create, json(ok, { "x-goog-api-key": "wrong" }));
    expect(await badKey.json()).toMatchObject({
      error: { details: [{ reason: "API_KEY_INVALID" }] },
    });
    fake.assertClean();
  });
});
