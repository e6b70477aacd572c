import { afterEach, describe, expect, it, vi } from "vitest";
import {
  MAX_INLINE_IMAGE_BYTES,
  createReplicateProvider,
  replicateProviderOptions,
} from "../../../worker/providers/replicate";
import type { CreateInput, InputImage, Provider } from "../../../worker/providers/types";
import { patternBytes } from "../../helpers/fakes/base";
import {
  API_BASE,
  ContractViolation,
  DELIVERY_ORIGIN,
  FakeReplicate,
  GEN4_ALEPH_SCHEMA,
  VEO_31_SCHEMA,
  WAN_27_I2V_SCHEMA,
  problem,
  publicPrediction,
  type FakeReplicateOptions,
} from "../../helpers/fakes/replicate";
import { REPLICATE_VEO_PROVIDER } from "../../fixtures/routes";
import { wholeSecondNow } from "../../helpers/clock";
import { expectProviderError } from "../../helpers/provider-error";

const KEY = "r8_FAKEKEY0123456789abcdefghijKLMNOP";
const SECRET = `whsec_${btoa("a-very-secret-signing-key-0123456789")}`;
const HOOK = "https://stillmotion.example.test/webhooks/replicate";
// The fake clock starts at the real now: webhook timestamps are judged against it.
const NOW = wholeSecondNow();
const VEO = REPLICATE_VEO_PROVIDER;

const fakes: FakeReplicate[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.assertClean();
});

interface Setup {
  fake: FakeReplicate;
  provider: Provider;
  sleeps: number[];
  /** Moves the shared clock (the fake's timestamps and the adapter's `now`). */
  clock: { now: number };
}

function setup(
  block: Record<string, unknown> = {},
  extra: { fake?: Partial<FakeReplicateOptions>; apiKey?: string; webhookSecret?: string } = {},
): Setup {
  const options = replicateProviderOptions.parse({ ...VEO, ...block });
  const clock = { now: NOW };
  const fake = new FakeReplicate({ apiKey: KEY, now: () => clock.now, ...extra.fake });
  fakes.push(fake);
  const sleeps: number[] = [];
  const provider = createReplicateProvider(options, {
    fetch: fake.fetch,
    now: () => clock.now,
    apiKey: extra.apiKey ?? KEY,
    sleep: async (ms) => void sleeps.push(ms),
    ...(extra.webhookSecret === undefined ? {} : { webhookSecret: extra.webhookSecret }),
  });
  return { fake, provider, sleeps, clock };
}

/** A PNG header is all the fake looks at: signature and IHDR. */
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

const providerError = (promise: Promise<unknown>) => expectProviderError(promise, "FAKEKEY");

async function completed(s: Setup): Promise<string> {
  const { upstreamId } = await s.provider.create(input());
  for (let i = 0; i < 3; i++) await s.provider.retrieve(upstreamId);
  return upstreamId;
}

describe("replicateProviderOptions", () => {
  it("fills the defaults", () => {
    const options = replicateProviderOptions.parse({
      type: "replicate",
      model: "lightricks/ltx-2-fast",
      durations: [6],
    });
    expect(options).toEqual({
      type: "replicate",
      model: "lightricks/ltx-2-fast",
      api_key_secret: "REPLICATE_API_TOKEN",
      image_field: "image",
      duration_field: "duration",
      durations: [6],
      extra_input: {},
      edit: null,
      extend: null,
      typical_seconds: 120,
      timeout_ms: 30_000,
      max_retries: 2,
    });
  });

  it.each([
    ["no model", { model: undefined }],
    ["a model that is not owner/name", { model: "google/veo/3.1" }],
    ["a version hash instead of a model", { model: "5c7d5dc6dd8bf75c1acaa85657" }],
    ["no durations", { durations: [] }],
    ["fractional durations", { durations: [4.5] }],
    ["aspect_field without aspect_ratios", { aspect_ratios: undefined }],
    ["resolution_field without resolutions", { resolutions: undefined }],
    ["a field name that could reach the prototype", { image_field: "__proto__" }],
    ["extra_input shadowing the prompt", { extra_input: { prompt: "x" } }],
    ["extra_input shadowing a mapped field", { extra_input: { generate_audio: true } }],
    ["an object in extra_input", { extra_input: { seed: { x: 1 } } }],
    ["a lowercase secret name", { webhook_secret_secret: "replicate_whsec" }],
    ["an unknown key (typo)", { base_url: "https://evil.example.test/v1" }],
    ["an edit model that is not owner/name", { edit: { model: "aleph" } }],
    [
      "an edit's extra_input shadowing its video",
      { edit: { model: "a/b", extra_input: { video: "x" } } },
    ],
    ["an extension's unknown key", { extend: { model: "a/b", seconds_field: "d" } }],
  ])("rejects %s", (_, block) => {
    expect(replicateProviderOptions.safeParse({ ...VEO, ...block }).success).toBe(false);
  });
});

describe("edit and extend (their own models, the source through the Files API)", () => {
  const ALEPH = { model: "runwayml/gen4-aleph", aspect_field: "aspect_ratio" };
  const WAN = { model: "wan-video/wan-2.7-i2v", resolution_field: "resolution" };
  const models = {
    "google/veo-3.1": VEO_31_SCHEMA,
    "runwayml/gen4-aleph": GEN4_ALEPH_SCHEMA,
    "wan-video/wan-2.7-i2v": WAN_27_I2V_SCHEMA,
  };
  const source = (bytes: Uint8Array, size = "720x1280") => ({
    upstreamId: null,
    size,
    durationSeconds: 5,
    bytes: async () => bytes,
  });

  it("offers only what the route names", () => {
    expect(setup().provider.edit).toBeUndefined();
    expect(setup().provider.extend).toBeUndefined();
    const both = setup({ edit: ALEPH, extend: WAN }, { fake: { models } }).provider;
    expect([typeof both.edit, typeof both.extend]).toEqual(["function", "function"]);
  });

  it("edits: uploads the source, names it by its file URL, keeps its aspect ratio", async () => {
    const { fake, provider } = setup({ edit: ALEPH }, { fake: { models } });
    const bytes = patternBytes(5000);
    const job = await provider.edit!({
      jobId: "video_e1",
      model: "google/veo-3.1",
      prompt: "make it snow",
      seconds: "5",
      source: source(bytes),
    });
    const [url, file] = [...fake.uploads.entries()][0]!;
    expect(file).toEqual({ bytes, type: "video/mp4" });
    const create = fake.requests.find((r) => r.url.pathname.endsWith("/predictions"))!;
    expect(create.url.href).toBe(`${API_BASE}/models/runwayml/gen4-aleph/predictions`);
    expect(create.json).toEqual({
      input: { prompt: "make it snow", video: url, aspect_ratio: "9:16" },
    });
    // Polled and downloaded like any prediction.
    let state = await provider.retrieve(job.upstreamId);
    while (state.status !== "completed") state = await provider.retrieve(job.upstreamId);
    const media = await provider.content(job.upstreamId, { variant: "video", range: null });
    expect(media.status).toBe(200);
    await media.body?.cancel();
  });

  it("extends: the model's duration is the stitched total (Wan 2.7), at the source's resolution", async () => {
    const { fake, provider } = setup({ extend: WAN }, { fake: { models } });
    await provider.extend!({
      jobId: "video_x1",
      model: "google/veo-3.1",
      prompt: "the tide comes in",
      seconds: "5",
      totalSeconds: "10",
      source: source(patternBytes(100), "1280x720"),
    });
    const create = fake.requests.find((r) => r.url.pathname.endsWith("/predictions"))!;
    expect(create.json!.input).toMatchObject({ duration: 10, resolution: "720p" });
    const segment = setup({ extend: { ...WAN, duration_is: "segment" } }, { fake: { models } });
    await segment.provider.extend!({
      jobId: "video_x2",
      model: "google/veo-3.1",
      prompt: "more",
      seconds: "5",
      totalSeconds: "10",
      source: source(patternBytes(100), "1280x720"),
    });
    const second = segment.fake.requests.find((r) => r.url.pathname.endsWith("/predictions"))!;
    expect(second.json!.input).toMatchObject({ duration: 5 });
  });

  it("sends nothing with no token, and a failed upload starts nothing", async () => {
    const none = setup({ edit: ALEPH }, { fake: { models }, apiKey: "" });
    let reads = 0;
    const counted = { ...source(patternBytes(10)), bytes: async () => (reads++, patternBytes(10)) };
    const edit = { jobId: "video_e2", model: "m", prompt: "p", seconds: "5", source: counted };
    expect(await expectProviderError(none.provider.edit!(edit), KEY)).toMatchObject({
      kind: "misconfigured",
    });
    expect([reads, none.fake.requests.length]).toEqual([0, 0]);
    const { fake, provider } = setup({ edit: ALEPH }, { fake: { models } });
    // A 500 to the upload leaves no prediction behind: nothing is generating, so it is a
    // definite "unavailable" (the money goes back), not an ambiguous upstream failure.
    for (const status of [503, 500]) {
      fake.failNext(status, { url: `${API_BASE}/files` });
      expect(await expectProviderError(provider.edit!(edit), KEY)).toMatchObject({
        kind: "unavailable",
      });
    }
    expect(fake.predictions.size).toBe(0);
  });
});

describe("create", () => {
  it("posts {input} to the model's route with the mapped fields and the image as a data URI", async () => {
    const { fake, provider } = setup();
    const image = png(1920, 1080);
    const job = await provider.create(input({ image, audio: false }));

    expect(job).toEqual({
      upstreamId: expect.stringMatching(/^[a-z0-9]{26}$/),
      status: "queued",
      progress: 0,
      error: null,
      expiresAt: NOW / 1000 + 3600,
    });
    expect(fake.requests).toHaveLength(1);
    const [request] = fake.requests;
    expect(request!.method).toBe("POST");
    expect(request!.url.href).toBe(`${API_BASE}/models/google/veo-3.1/predictions`);
    expect(request!.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(request!.headers.get("content-type")).toBe("application/json");
    expect(request!.headers.get("prefer")).toBeNull();
    expect(request!.json).toEqual({
      input: {
        prompt: "A cat turns its head",
        image: `data:image/png;base64,${btoa(String.fromCharCode(...image.bytes))}`,
        duration: 8,
        aspect_ratio: "16:9",
        resolution: "1080p",
        generate_audio: false,
      },
    });
  });

  it("maps a portrait 720p size and leaves audio and the image out when not given", async () => {
    const { fake, provider } = setup();
    await provider.create(input({ size: "720x1280", seconds: "4" }));
    expect(fake.requests[0]!.json!.input).toEqual({
      prompt: "A cat turns its head",
      duration: 4,
      aspect_ratio: "9:16",
      resolution: "720p",
    });
  });

  it("uses the configured field names and merges extra_input", async () => {
    const { fake, provider } = setup(
      {
        image_field: "last_frame",
        duration_field: "duration",
        resolution_field: undefined,
        resolutions: undefined,
        extra_input: { negative_prompt: "blur", seed: 42 },
      },
      {},
    );
    await provider.create(input({ image: png(1280, 720), size: "1280x720", audio: true }));
    const sent = fake.requests[0]!.json!.input as Record<string, unknown>;
    expect(Object.keys(sent).sort()).toEqual([
      "aspect_ratio",
      "duration",
      "generate_audio",
      "last_frame",
      "negative_prompt",
      "prompt",
      "seed",
    ]);
    expect(sent).toMatchObject({ negative_prompt: "blur", seed: 42, generate_audio: true });
  });

  it("asks for a completed-only webhook when a signing secret is configured", async () => {
    const { fake, provider } = setup({}, { webhookSecret: SECRET });
    await provider.create(input({ webhookUrl: HOOK }));
    expect(fake.requests[0]!.json).toMatchObject({
      webhook: HOOK,
      webhook_events_filter: ["completed"],
    });
  });

  it.each([
    ["no signing secret is configured", {}, HOOK],
    [
      "the receiver is a local http URL",
      { webhookSecret: SECRET },
      "http://localhost:8787/webhooks/replicate",
    ],
  ])("sends no webhook when %s", async (_, extra, webhookUrl) => {
    const { fake, provider } = setup({}, extra);
    await provider.create(input({ webhookUrl }));
    expect(Object.keys(fake.requests[0]!.json!)).toEqual(["input"]);
  });

  it.each([
    [
      "seconds the model cannot do",
      { seconds: "5" },
      "google/veo-3.1 accepts durations (seconds): 4, 6, 8",
    ],
    ["a square size", { size: "1080x1080" }, "google/veo-3.1 accepts aspect ratios: 16:9, 9:16"],
    ["a 4k size", { size: "3840x2160" }, "google/veo-3.1 accepts resolutions: 720p, 1080p"],
  ])("refuses %s with the allowed list and sends nothing", async (_, overrides, message) => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input(overrides)));
    expect(error).toMatchObject({ kind: "input_rejected", publicMessage: message });
    expect(fake.requests).toEqual([]);
  });

  it("refuses audio on a model without an audio switch, sending nothing", async () => {
    const { fake, provider } = setup({ audio_field: undefined });
    const error = await providerError(provider.create(input({ audio: true })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toContain("no audio switch");
    expect(fake.requests).toEqual([]);
  });

  it("refuses an image over the 10 MB inline limit, naming the limit, and sends nothing", async () => {
    const { fake, provider } = setup();
    const image = png(1920, 1080, MAX_INLINE_IMAGE_BYTES + 1);
    const error = await providerError(provider.create(input({ image })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toBe(
      "Replicate accepts input images up to 10 MB; this one is 10.0 MB",
    );
    expect(fake.requests).toEqual([]);
  });

  it("maps Replicate's 422 input validation to input_rejected with its reason", async () => {
    // The route claims a duration the model does not have: Replicate itself refuses.
    const { provider } = setup({ durations: [5] });
    const error = await providerError(provider.create(input({ seconds: "5" })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toContain("duration must be one of: 4, 6, 8");
    expect(error.detail).toContain("Input validation failed");
  });

  it("maps a safety refusal at create to policy_violation", async () => {
    const { fake, provider } = setup();
    fake.failNext(422, {
      title: "Input validation failed",
      detail: "The input image was flagged as NSFW.",
    });
    expect((await providerError(provider.create(input()))).kind).toBe("policy_violation");
  });

  it("maps an unknown model (404) to not_found", async () => {
    const { provider } = setup({ model: "nobody/nothing" });
    expect((await providerError(provider.create(input()))).kind).toBe("not_found");
  });

  it("maps a 401 to misconfigured", async () => {
    const { provider } = setup({}, { apiKey: "r8_WRONGKEY0123456789abcdefghijKLMNOP" });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("misconfigured");
    expect(error.detail).toContain("Unauthenticated");
    expect(error.detail).not.toContain("WRONGKEY");
  });

  it("maps a 429 with Retry-After to rate_limited and sends the create only once", async () => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(429, {
      title: "Request was throttled.",
      detail: "Request was throttled. Expected available in 9 seconds.",
      headers: { "retry-after": "9" },
    });
    expect(await providerError(provider.create(input()))).toMatchObject({
      kind: "rate_limited",
      retryAfter: 9,
    });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it.each([
    [500, "upstream_failed"],
    [503, "unavailable"],
  ])("is not retried on %i: %s after exactly one request", async (status, kind) => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(status, { times: 3, detail: "Internal server error" });
    expect((await providerError(provider.create(input()))).kind).toBe(kind);
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("reports an unknown outcome (timeout) when the connection drops during a create", async () => {
    const options = replicateProviderOptions.parse(VEO);
    const provider = createReplicateProvider(options, {
      fetch: async () => {
        throw new TypeError("Network connection lost.");
      },
      now: () => NOW,
      apiKey: KEY,
    });
    expect((await providerError(provider.create(input()))).kind).toBe("timeout");
  });

  it.each([
    ["not JSON", "<html>Bad gateway</html>"],
    ["JSON without an id", JSON.stringify({ status: "starting" })],
    ["an id unfit for a URL", JSON.stringify({ id: "../../account", status: "starting" })],
  ])("treats a 201 that is %s as bad_response", async (_, body) => {
    const { fake, provider } = setup();
    fake.script({ respond: () => new Response(body, { status: 201 }) });
    expect((await providerError(provider.create(input()))).kind).toBe("bad_response");
  });
});

describe("retrieve", () => {
  it("follows starting → processing → succeeded with estimated progress, monotone and < 100", async () => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    const startedAt = NOW;
    const states = [];
    for (let i = 0; i < 3; i++) {
      s.clock.now += 50_000;
      states.push(await s.provider.retrieve(upstreamId, { startedAt }));
    }
    expect(states.map((x) => x.status)).toEqual(["in_progress", "in_progress", "completed"]);
    const [first, second, done] = states;
    expect(first!.progress).toBeGreaterThan(0);
    expect(second!.progress).toBeGreaterThan(first!.progress);
    expect(second!.progress).toBeLessThan(100);
    expect(done).toEqual({
      status: "completed",
      progress: 100,
      error: null,
      expiresAt: NOW / 1000 + 3600,
    });
    expect(s.fake.requests.slice(1).map((r) => `${r.method} ${r.url.href}`)).toEqual(
      Array(3).fill(`GET ${API_BASE}/predictions/${upstreamId}`),
    );
  });

  it("reports a starting prediction as queued with progress 0", async () => {
    const { fake, provider } = setup();
    fake.script({ respond: () => Response.json({ id: "abcdefgh12345678", status: "starting" }) });
    expect(await provider.retrieve("abcdefgh12345678")).toEqual({
      status: "queued",
      progress: 0,
      error: null,
      expiresAt: null,
    });
  });

  it("estimates from the prediction's created_at when startedAt is not given", async () => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    s.clock.now += 120_000; // the typical 120 s
    const state = await s.provider.retrieve(upstreamId);
    expect(state).toMatchObject({ status: "in_progress", progress: 69 });
  });

  it("never lets the estimate reach 100 however long processing takes", async () => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    s.clock.now += 10 * 3600_000;
    expect((await s.provider.retrieve(upstreamId, { startedAt: NOW })).progress).toBeLessThan(100);
  });

  it("completes with an output given as an array of URLs", async () => {
    const s = setup({}, { fake: { outputAsArray: true } });
    const id = await completed(s);
    expect((await s.provider.retrieve(id)).status).toBe("completed");
    const response = await s.provider.content(id, { variant: "video", range: null });
    expect(response.status).toBe(200);
  });

  it.each([
    [
      "failed",
      "NSFW content detected. Try running it again, or try a different prompt.",
      "policy_violation",
    ],
    ["failed", "The output was flagged as sensitive (E005)", "policy_violation"],
    ["failed", "Prompt blocked by the safety filter", "policy_violation"],
    ["failed", "Prediction timed out after 30 minutes", "timeout"],
    ["failed", "The input image could not be decoded", "input_rejected"],
    ["failed", "CUDA out of memory", "provider_error"],
    ["aborted", "Prediction deadline exceeded before it started", "timeout"],
    ["aborted", null, "provider_error"],
    ["canceled", null, "cancelled"],
  ] as const)("maps status %s with error %j to %s", async (status, error, code) => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    fake.endPrediction(upstreamId, status, error);
    const state = await provider.retrieve(upstreamId);
    expect(state).toMatchObject({ status: "failed", error: { code } });
    expect(state.error!.message.length).toBeGreaterThan(10);
    if (error && status === "failed") expect(state.error!.message).toBe(error);
  });

  it("strips URLs and tokens from a failure reason", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    fake.endPrediction(upstreamId, "failed", {
      message: `Upload to https://storage.example.test/x?sig=abc failed, token=tok_123`,
    });
    const { error } = await provider.retrieve(upstreamId);
    expect(error!.code).toBe("provider_error");
    expect(error!.message).toContain("Upload to");
    expect(error!.message).not.toMatch(/https:|tok_123/);
  });

  it("fails as expired when an hour has passed and Replicate removed the output", async () => {
    const s = setup();
    const id = await completed(s);
    s.fake.expire(id, true);
    s.clock.now += 3600_000;
    const state = await s.provider.retrieve(id);
    expect(state.error).toEqual({
      code: "expired",
      message: "Replicate keeps results for one hour; this one was deleted.",
    });
  });

  it.each([
    ["on another host", "https://evil.example.test/out.mp4"],
    ["over http", "http://replicate.delivery/xezq/out.mp4"],
    ["on a look-alike host", "https://replicate.delivery.evil.example.test/out.mp4"],
    ["with credentials", "https://user:pw@replicate.delivery/out.mp4"],
  ])("does not accept an output %s", async (_, output) => {
    const { fake, provider } = setup();
    fake.script({
      respond: () => Response.json({ id: "abcdefgh12345678", status: "succeeded", output }),
      times: 2,
    });
    expect((await provider.retrieve("abcdefgh12345678")).error?.code).toBe("provider_error");
    const content = provider.content("abcdefgh12345678", { variant: "video", range: null });
    expect((await providerError(content)).kind).toBe("not_found");
    expect(fake.requests.every((r) => r.url.href.startsWith(API_BASE))).toBe(true);
  });

  it("rebuilds every URL from the fixed base, never following urls.get from the payload", async () => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    const evil = { get: "https://evil.example.test/steal", cancel: "https://evil.example.test/c" };
    s.fake.script({
      times: 3,
      respond: () => {
        const p = publicPrediction(s.fake.predictions.get(upstreamId)!);
        return Response.json({ ...p, status: "processing", urls: evil });
      },
    });
    await s.provider.retrieve(upstreamId);
    await s.provider.retrieve(upstreamId);
    await s.provider.delete!(upstreamId);
    expect(s.fake.requests.map((r) => r.url.origin)).toEqual(
      Array(4).fill("https://api.replicate.com"),
    );
  });

  it("treats a status it does not know as still running", async () => {
    const { fake, provider } = setup();
    fake.script({
      respond: () => Response.json({ id: "abcdefgh12345678", status: "warming", extra: 1 }),
    });
    expect((await provider.retrieve("abcdefgh12345678")).status).toBe("in_progress");
  });

  it("is retried on 5xx and 429, waiting as Retry-After says", async () => {
    const { fake, provider, sleeps } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failNext(503, { detail: "Service Unavailable", headers: { "retry-after": "2" } });
    fake.failNext(429, { detail: "Request was throttled.", headers: { "retry-after": "1" } });
    expect((await provider.retrieve(upstreamId)).status).toBe("in_progress");
    expect(fake.requests).toHaveLength(4);
    expect(sleeps).toEqual([2000, 1000]);
  });

  it("maps an unknown prediction (404) to not_found", async () => {
    const { provider } = setup();
    expect((await providerError(provider.retrieve("abcdefgh12345678"))).kind).toBe("not_found");
  });

  it.each(["../predictions", "abc", "a/b/cdefgh", "abcdefgh%2F", "x".repeat(65), "abcdéfgh1", ""])(
    "refuses the upstream id %j without sending anything",
    async (id) => {
      const { fake, provider } = setup();
      expect((await providerError(provider.retrieve(id))).kind).toBe("not_found");
      const content = provider.content(id, { variant: "video", range: null });
      expect((await providerError(content)).kind).toBe("not_found");
      expect((await providerError(provider.delete!(id))).kind).toBe("not_found");
      expect(fake.requests).toEqual([]);
    },
  );
});

describe("content", () => {
  it("streams the output from the delivery host with Range, without the token, 206 bytes exact", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: "bytes=100-199" });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-199/${64 * 1024}`);
    expect(response.headers.get("content-length")).toBe("100");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(
      patternBytes(64 * 1024).slice(100, 200),
    );
    const [lookup, download] = s.fake.requests.slice(-2);
    expect(lookup!.url.href).toBe(`${API_BASE}/predictions/${id}`);
    expect(lookup!.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(download!.url.href).toBe(`${DELIVERY_ORIGIN}/xezq/${id}/output.mp4`);
    expect(download!.headers.get("range")).toBe("bytes=100-199");
    expect(download!.headers.get("authorization")).toBeNull();
  });

  it("returns the whole file with only whitelisted headers", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: null });
    expect(response.status).toBe(200);
    expect([...response.headers.keys()].sort()).toEqual([
      "accept-ranges",
      "content-length",
      "content-type",
      "etag",
      "last-modified",
    ]);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(patternBytes(64 * 1024));
  });

  it("passes a 416 for an unsatisfiable range through", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: "bytes=999999-" });
    expect(response.status).toBe(416);
  });

  it.each([
    ["404", false, 404],
    ["410", false, 410],
  ])(
    "says Replicate keeps results for one hour when the file answers %s",
    async (_, removeData, status) => {
      const s = setup();
      const id = await completed(s);
      s.fake.expire(id, removeData);
      if (status === 410)
        s.fake.script({
          url: /replicate\.delivery/,
          respond: () => new Response("Gone", { status }),
        });
      const error = await providerError(s.provider.content(id, { variant: "video", range: null }));
      expect(error.kind).toBe("not_found");
      expect(error.publicMessage).toContain("Replicate keeps results for one hour");
    },
  );

  it("says the same when the prediction's output was already removed", async () => {
    const s = setup();
    const id = await completed(s);
    s.fake.expire(id, true);
    const error = await providerError(s.provider.content(id, { variant: "video", range: null }));
    expect(error.publicMessage).toContain("Replicate keeps results for one hour");
  });

  it("refuses a video that is not ready yet", async () => {
    const { provider } = setup();
    const { upstreamId } = await provider.create(input());
    const error = await providerError(
      provider.content(upstreamId, { variant: "video", range: null }),
    );
    expect(error).toMatchObject({ kind: "not_found", publicMessage: "The video is not ready." });
  });

  it.each(["thumbnail", "spritesheet"] as const)(
    "has no %s, and asks nothing upstream",
    async (variant) => {
      const { fake, provider } = setup();
      const error = await providerError(
        provider.content("abcdefgh12345678", { variant, range: null }),
      );
      expect(error.kind).toBe("not_found");
      expect(fake.requests).toEqual([]);
    },
  );

  it("retries a delivery that fails before answering", async () => {
    const s = setup();
    const id = await completed(s);
    s.fake.failNext(502, { url: /replicate\.delivery/ });
    const response = await s.provider.content(id, { variant: "video", range: "bytes=0-9" });
    expect(response.status).toBe(206);
    expect(s.sleeps).toHaveLength(1);
  });
});

describe("delete", () => {
  it("cancels the prediction, which then reads as cancelled", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    await provider.delete!(upstreamId);
    const cancel = fake.requests.at(-1)!;
    expect(`${cancel.method} ${cancel.url.href}`).toBe(
      `POST ${API_BASE}/predictions/${upstreamId}/cancel`,
    );
    expect(cancel.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect((await provider.retrieve(upstreamId)).error?.code).toBe("cancelled");
  });

  it("treats an unknown prediction (404) as done", async () => {
    const { provider } = setup();
    await expect(provider.delete!("abcdefgh12345678")).resolves.toBeUndefined();
  });

  it("is retried on 503", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failNext(503, { method: "POST", url: /cancel$/ });
    await provider.delete!(upstreamId);
    expect(fake.requests.filter((r) => r.url.pathname.endsWith("/cancel"))).toHaveLength(2);
  });
});

describe("verifyWebhook", () => {
  async function delivered(opts: { msgId?: string; timestamp?: number; secret?: string } = {}) {
    const s = setup({}, { webhookSecret: SECRET });
    const id = await completed(s);
    const request = await s.fake.signedDelivery(HOOK, id, {
      secret: opts.secret ?? SECRET,
      ...opts,
    });
    return { ...s, id, request };
  }

  it("is not offered without a signing secret", () => {
    expect(setup().provider.verifyWebhook).toBeUndefined();
  });

  it("accepts a valid delivery and names the delivery and the prediction", async () => {
    const { provider, id, request } = await delivered({ msgId: "msg_2abc" });
    expect(await provider.verifyWebhook!(request)).toEqual({
      deliveryId: "msg_2abc",
      upstreamId: id,
    });
  });

  it("verifies a retried delivery again with the same deliveryId (the route drops the replay)", async () => {
    const { provider, request } = await delivered();
    const first = await provider.verifyWebhook!(request.clone());
    expect(await provider.verifyWebhook!(request)).toEqual(first);
  });

  it("refuses a tampered body", async () => {
    const { provider, request } = await delivered();
    const body = (await request.text()).replace('"succeeded"', '"failed"');
    const tampered = new Request(request, { body });
    expect((await providerError(provider.verifyWebhook!(tampered))).kind).toBe("input_rejected");
  });

  it("refuses a tampered signature", async () => {
    const { provider, request } = await delivered();
    const headers = new Headers(request.headers);
    const signature = headers.get("webhook-signature")!;
    headers.set("webhook-signature", `${signature.slice(0, -6)}AAAAA=`);
    const tampered = new Request(request, { headers });
    expect((await providerError(provider.verifyWebhook!(tampered))).kind).toBe("input_rejected");
  });

  it("refuses a timestamp older than five minutes", async () => {
    const stale = Math.floor(NOW / 1000) - 6 * 60;
    const { provider, request } = await delivered({ timestamp: stale });
    const error = await providerError(provider.verifyWebhook!(request));
    expect(error.kind).toBe("input_rejected");
  });

  it("refuses a delivery signed with another secret", async () => {
    const { provider, request } = await delivered({
      secret: `whsec_${btoa("someone-else-entirely-0123456")}`,
    });
    expect((await providerError(provider.verifyWebhook!(request))).kind).toBe("input_rejected");
  });

  it("refuses unsigned deliveries", async () => {
    const { provider } = setup({}, { webhookSecret: SECRET });
    const unsigned = new Request(HOOK, { method: "POST", body: '{"id":"abcdefgh12345678"}' });
    expect((await providerError(provider.verifyWebhook!(unsigned))).kind).toBe("input_rejected");
  });

  it("refuses a verified body that names no valid prediction", async () => {
    const { fake, provider } = setup({}, { webhookSecret: SECRET });
    const { upstreamId } = await provider.create(input());
    fake.predictions.get(upstreamId)!.id = "../admin";
    const request = await fake.signedDelivery(HOOK, upstreamId, { secret: SECRET });
    expect((await providerError(provider.verifyWebhook!(request))).kind).toBe("input_rejected");
  });

  it.each(["", "not-a-whsec-secret"])(
    "fails as misconfigured when the secret is %j",
    async (secret) => {
      const { provider } = setup({}, { webhookSecret: secret });
      const request = new Request(HOOK, { method: "POST", body: "{}" });
      expect((await providerError(provider.verifyWebhook!(request))).kind).toBe("misconfigured");
    },
  );
});

describe("the API token", () => {
  it("never appears in errors, logs, or what content returns, even when Replicate echoes it", async () => {
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((m) =>
      vi.spyOn(console, m).mockImplementation(() => {}),
    );
    try {
      const s = setup({}, { webhookSecret: SECRET });
      const echo = `Bearer ${KEY}`;
      s.fake.failNext(422, { title: `bad ${KEY}`, detail: `token ${KEY} is not allowed: ${echo}` });
      await providerError(s.provider.create(input()));
      s.fake.failNext(500, { times: 3, detail: `upstream saw Authorization: ${echo}` });
      await providerError(s.provider.retrieve("abcdefgh12345678"));
      s.fake.script({ respond: () => new Response(`{"id":"${KEY}"`, { status: 201 }) });
      await providerError(s.provider.create(input()));
      const id = await completed(s);
      s.fake.endPrediction(id, "failed", `key ${KEY} rejected`);
      const state = await s.provider.retrieve(id);
      expect(JSON.stringify(state)).not.toContain("FAKEKEY");
      const done = await completed(s);
      s.fake.script({
        url: /replicate\.delivery/,
        respond: () =>
          new Response(`bytes`, { headers: { "x-echo": echo, "content-type": "video/mp4" } }),
      });
      const response = await s.provider.content(done, { variant: "video", range: null });
      for (const [name, value] of response.headers) expect(`${name}: ${value}`).not.toContain(KEY);
      expect(new TextDecoder().decode(await response.arrayBuffer())).not.toContain(KEY);
      s.fake.expire(done, true);
      await providerError(s.provider.content(done, { variant: "video", range: null }));
      const tampered = await s.fake.signedDelivery(HOOK, done, { secret: SECRET, timestamp: 1 });
      await providerError(s.provider.verifyWebhook!(tampered));
      const outbound = s.fake.requests.filter((r) => r.url.origin !== "https://api.replicate.com");
      for (const r of outbound) expect([...r.headers.values()].join(" ")).not.toContain(KEY);
      for (const spy of spies)
        for (const call of spy.mock.calls) expect(JSON.stringify(call)).not.toContain("FAKEKEY");
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("is scrubbed by value even when it looks like no known token", async () => {
    const short = "FAKEKEY-r8-77";
    const { fake, provider } = setup({}, { apiKey: short, fake: { apiKey: short } });
    fake.failNext(400, { title: short, detail: `bad token ${short}` });
    const error = await providerError(provider.create(input()));
    expect(error.detail).toContain("[redacted]");
  });

  it("fails every call as misconfigured, without a request, when the secret is empty", async () => {
    const { fake, provider } = setup({}, { apiKey: "" });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("misconfigured");
    expect(error.detail).toContain("REPLICATE_API_TOKEN");
    expect(fake.requests).toEqual([]);
  });
});

describe("FakeReplicate (the contract fake itself)", () => {
  const auth = { authorization: `Bearer ${KEY}`, "content-type": "application/json" };
  const create = `${API_BASE}/models/google/veo-3.1/predictions`;
  const post = (body: unknown): RequestInit => ({
    method: "POST",
    headers: auth,
    body: JSON.stringify(body),
  });

  it.each([
    ["an undocumented route", `${API_BASE}/deployments/x/y/predictions`, post({ input: {} })],
    [
      "a URL on another host",
      "https://api.replicate.example.test/v1/predictions",
      { headers: auth },
    ],
    ["an unknown body field", create, post({ input: { prompt: "p" }, version: "abc" })],
    ["an unknown input field", create, post({ input: { prompt: "p", size: "1280x720" } })],
    ["duration as a string", create, post({ input: { prompt: "p", duration: "8" } })],
    [
      "an image that is a URL to fetch",
      create,
      post({ input: { prompt: "p", image: "https://x.test/a.png" } }),
    ],
    [
      "an image whose bytes are not its type",
      create,
      post({ input: { prompt: "p", image: "data:image/png;base64,AAAA" } }),
    ],
    [
      "a filter without a webhook",
      create,
      post({ input: { prompt: "p" }, webhook_events_filter: ["completed"] }),
    ],
    ["the token on the delivery host", `${DELIVERY_ORIGIN}/xezq/a/output.mp4`, { headers: auth }],
  ])("records and throws on %s", async (_, url, init: RequestInit) => {
    const fake = new FakeReplicate({ apiKey: KEY });
    await expect(fake.fetch(url, init)).rejects.toBeInstanceOf(ContractViolation);
    expect(fake.violations).toHaveLength(1);
    expect(() => fake.assertClean()).toThrow(/Contract violations/);
  });

  it("answers a value outside an enum with Replicate's 422 problem body", async () => {
    const fake = new FakeReplicate({ apiKey: KEY });
    const response = await fake.fetch(create, post({ input: { prompt: "p", duration: 5 } }));
    expect(response.status).toBe(422);
    expect(await response.json()).toMatchObject({ title: "Input validation failed", status: 422 });
    fake.assertClean();
  });

  it("answers a wrong token with 401 Unauthenticated", async () => {
    const fake = new FakeReplicate({ apiKey: KEY });
    const init = post({ input: { prompt: "p" } });
    const response = await fake.fetch(create, {
      ...init,
      headers: { "content-type": "application/json" },
    });
    expect(response.status).toBe(401);
    expect(await response.json()).toEqual(
      await problem(401, "Unauthenticated", "You did not pass a valid authentication token").json(),
    );
  });
});
