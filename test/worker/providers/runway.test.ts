import { afterEach, describe, expect, it, vi } from "vitest";
import { ProviderError } from "../../../worker/providers/errors";
import {
  createRunwayProvider,
  RUNWAY_DEFAULT_OUTPUT_HOSTS,
  runwayProviderOptions,
  type RunwayProviderOptions,
} from "../../../worker/providers/runway";
import type { CreateInput, EditInput, InputImage, Provider } from "../../../worker/providers/types";
import { patternBytes } from "../../helpers/fakes/base";
import {
  ContractViolation,
  FakeRunway,
  RUNWAY_BASE,
  RUNWAY_CDN,
  type FakeRunwayOptions,
  type FakeTaskState,
} from "../../helpers/fakes/runway";
import { wholeSecondNow } from "../../helpers/clock";
import { expectProviderError } from "../../helpers/provider-error";

const KEY = `key_FAKEKEY${"9f3a".repeat(16)}`;
// The fake clock starts at the real now: webhook timestamps are judged against it.
const NOW = wholeSecondNow();
const UNKNOWN_TASK = "11111111-2222-4333-8444-555555555555";

const fakes: FakeRunway[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.assertClean();
});

interface Setup {
  fake: FakeRunway;
  provider: Provider;
  /** Every backoff the adapter asked for, in ms; sleeping is instant. */
  sleeps: number[];
}

function setup(
  block: Partial<Record<keyof RunwayProviderOptions, unknown>> = {},
  fakeOptions: Partial<FakeRunwayOptions> = {},
  apiKey = KEY,
): Setup {
  const options = runwayProviderOptions.parse({ type: "runway", ...block });
  const fake = new FakeRunway({ apiKey: KEY, baseUrl: options.base_url, ...fakeOptions });
  fakes.push(fake);
  const sleeps: number[] = [];
  const sleep = async (ms: number) => void sleeps.push(ms);
  const provider = createRunwayProvider(options, {
    fetch: fake.fetch,
    now: () => NOW,
    apiKey,
    sleep,
  });
  return { fake, provider, sleeps };
}

/** An `ftyp` box followed by padding: what the fake checks a source video's bytes start with. */
function mp4(length: number): Uint8Array {
  const bytes = patternBytes(length);
  bytes.set([0, 0, 0, 16, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0]);
  return bytes;
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
    jobId: "job_abc123",
    model: "gen4.5",
    prompt: "A cat turns its head",
    seconds: "5",
    size: "1280x720",
    image: png(1280, 720),
    ...overrides,
  };
}

const providerError = (promise: Promise<unknown>) => expectProviderError(promise, "FAKEKEY");

async function completed(s: Setup): Promise<string> {
  const { upstreamId } = await s.provider.create(input());
  for (let i = 0; i < 5; i++) await s.provider.retrieve(upstreamId);
  return upstreamId;
}

/** A task created, then pinned to `state`, read once. */
async function stateOf(state: FakeTaskState, startedAt?: number) {
  const s = setup();
  const { upstreamId } = await s.provider.create(input());
  s.fake.setState(upstreamId, state);
  return s.provider.retrieve(upstreamId, { startedAt });
}

describe("runwayProviderOptions", () => {
  it("fills the defaults", () => {
    expect(runwayProviderOptions.parse({ type: "runway" })).toEqual({
      type: "runway",
      api_key_secret: "RUNWAYML_API_SECRET",
      base_url: RUNWAY_BASE,
      typical_seconds: 60,
      timeout_ms: 30_000,
      max_retries: 2,
      edit_model: null,
      output_hosts: [...RUNWAY_DEFAULT_OUTPUT_HOSTS],
    });
  });

  it.each([
    ["a lowercase secret name", { api_key_secret: "runway_key" }],
    ["an http base URL", { base_url: "http://api.dev.runwayml.com" }],
    ["a base URL with credentials", { base_url: "https://u:p@proxy.example.test" }],
    ["a shared hosting parent as output host", { output_hosts: ["cloudfront.net"] }],
    ["an output host with a scheme", { output_hosts: ["https://cdn.example.test"] }],
    ["an empty output host list", { output_hosts: [] }],
    ["an unknown threshold", { public_figure_threshold: "none" }],
    ["an unknown field", { webhook_secret_secret: "RUNWAY_WEBHOOK" }],
  ])("refuses %s", (_, block) => {
    expect(runwayProviderOptions.safeParse({ type: "runway", ...block }).success).toBe(false);
  });
});

describe("create", () => {
  it("posts the documented JSON body with auth and version headers", async () => {
    const { fake, provider } = setup();
    const image = png(1280, 720);
    const job = await provider.create(input({ image }));
    expect(job).toEqual({
      upstreamId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      status: "queued",
      progress: 0,
      error: null,
      expiresAt: null,
    });
    const request = fake.requests[0]!;
    expect(request.method).toBe("POST");
    expect(request.url.href).toBe(`${RUNWAY_BASE}/v1/image_to_video`);
    expect(request.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(request.headers.get("x-runway-version")).toBe("2024-11-06");
    expect(request.headers.get("content-type")).toBe("application/json");
    expect(request.body).toEqual({
      model: "gen4.5",
      promptImage: `data:image/png;base64,${btoa(String.fromCharCode(...image.bytes))}`,
      promptText: "A cat turns its head",
      ratio: "1280:720",
      duration: 5,
    });
  });

  it.each([
    ["gen4.5", "832x1104", "2", undefined, { ratio: "832:1104", duration: 2 }],
    ["gen4_turbo", "1584x672", "10", undefined, { ratio: "1584:672", duration: 10 }],
    ["veo3.1", "1080x1920", "8", true, { ratio: "1080:1920", duration: 8, audio: true }],
    ["veo3.1_fast", "1920x1080", "4", false, { ratio: "1920:1080", duration: 4, audio: false }],
    ["veo3", "720x1280", "8", true, { ratio: "720:1280", duration: 8 }],
    ["gemini_omni_flash", "720x1280", "3", undefined, { ratio: "720:1280", duration: 3 }],
  ])("maps %s at %s for %ss (audio %s)", async (model, size, seconds, audio, expected) => {
    const { fake, provider } = setup();
    await provider.create(input({ model, size, seconds, audio }));
    const body = fake.requests[0]!.body!;
    expect(body).toMatchObject({ model, ...expected });
    expect("audio" in body).toBe("audio" in expected);
    expect(typeof body.duration).toBe("number");
  });

  it("sends the public figure threshold to gen4 models only", async () => {
    const { fake, provider } = setup({ public_figure_threshold: "low" });
    await provider.create(input());
    await provider.create(input({ model: "veo3.1", seconds: "8" }));
    expect(fake.requests[0]!.body!.contentModeration).toEqual({ publicFigureThreshold: "low" });
    expect(fake.requests[1]!.body!).not.toHaveProperty("contentModeration");
  });

  it("leaves promptText out when the prompt is empty", async () => {
    const { fake, provider } = setup();
    await provider.create(input({ prompt: "" }));
    expect(fake.requests[0]!.body!).not.toHaveProperty("promptText");
  });

  it.each([
    ["gen4.5", "1920x1080", "1280x720, 720x1280, 1104x832, 960x960, 832x1104, 1584x672"],
    ["gen4.5", "1024x1024", "1280x720, 720x1280, 1104x832, 960x960, 832x1104, 1584x672"],
    ["veo3.1", "960x960", "1280x720, 720x1280, 1080x1920, 1920x1080"],
    ["veo3", "1920x1080", "1280x720, 720x1280"],
    ["gemini_omni_flash", "1080x1920", "1280x720, 720x1280"],
  ])("refuses %s at %s, listing %s, without a request", async (model, size, list) => {
    const { fake, provider } = setup();
    const seconds = model === "veo3" || model === "veo3.1" ? "8" : "5";
    const error = await providerError(provider.create(input({ model, size, seconds })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toBe(`${model} accepts these sizes: ${list}.`);
    expect(fake.requests).toEqual([]);
  });

  it.each([
    ["gen4.5", "1", "2, 3, 4, 5, 6, 7, 8, 9, 10"],
    ["gen4.5", "12", "2, 3, 4, 5, 6, 7, 8, 9, 10"],
    ["veo3.1", "5", "4, 6, 8"],
    ["veo3", "4", "8"],
    ["gemini_omni_flash", "2", "3, 4, 5, 6, 7, 8, 9, 10"],
  ])("refuses %s for %ss, listing %s, without a request", async (model, seconds, list) => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input({ model, seconds })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toBe(`${model} accepts these durations in seconds: ${list}.`);
    expect(fake.requests).toEqual([]);
  });

  it.each([
    ["gen4.5", "5", true],
    ["veo3", "8", false],
    ["gemini_omni_flash", "5", true],
    ["gemini_omni_flash", "5", false],
  ])("refuses %s with audio %s (no switch) without a request", async (model, seconds, audio) => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input({ model, seconds, audio })));
    expect(error).toMatchObject({
      kind: "input_rejected",
      publicMessage: expect.stringMatching(/no audio switch/),
    });
    expect(fake.requests).toEqual([]);
  });

  it("counts the prompt limit in UTF-16 units, as Runway does", async () => {
    const { fake, provider } = setup();
    await provider.create(input({ prompt: "🐈".repeat(500) })); // 1000 units
    const error = await providerError(provider.create(input({ prompt: `${"🐈".repeat(500)}a` })));
    expect(error).toMatchObject({
      kind: "input_rejected",
      publicMessage: expect.stringMatching(/1000/),
    });
    expect(fake.requests).toHaveLength(1);
  });

  it("sends an image whose data URI is just under 5 MB and refuses one over, naming the limit", async () => {
    const { fake, provider } = setup();
    // 22 header characters + 4/3 of the bytes: 3,749,970 bytes → 4,999,982 characters.
    await provider.create(input({ image: png(1280, 720, 3_749_970) }));
    expect((fake.requests[0]!.body!.promptImage as string).length).toBe(4_999_982);
    const error = await providerError(provider.create(input({ image: png(1280, 720, 3_750_000) })));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toMatch(/5 MB/);
    expect(fake.requests).toHaveLength(1);
  });

  it("refuses a job without an input image", async () => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input({ image: undefined })));
    expect(error).toMatchObject({
      kind: "input_rejected",
      publicMessage: "gen4.5 on Runway needs an input image.",
    });
    expect(fake.requests).toEqual([]);
  });

  it.each(["seedance2", "__proto__", "gen3a_turbo"])(
    "fails a route with model %s as misconfigured",
    async (model) => {
      const { fake, provider } = setup();
      const error = await providerError(provider.create(input({ model })));
      expect(error.kind).toBe("misconfigured");
      expect(fake.requests).toEqual([]);
    },
  );

  it("maps a 400 to input_rejected with Runway's reason", async () => {
    const { fake, provider } = setup();
    fake.failNext(400, {
      error: "Invalid asset aspect ratio. width / height ratio must be between 0.5 and 2.",
    });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toMatch(/aspect ratio/);
  });

  it("maps a 400 that speaks of moderation to policy_violation", async () => {
    const { fake, provider } = setup();
    fake.failNext(400, { error: "Your prompt text did not pass content moderation." });
    expect((await providerError(provider.create(input()))).kind).toBe("policy_violation");
  });

  it("maps a rejected key (401) to misconfigured", async () => {
    const { provider } = setup({}, {}, "key_wrong");
    expect((await providerError(provider.create(input()))).kind).toBe("misconfigured");
  });

  it("maps the daily quota (429) to rate_limited with Retry-After and never retries", async () => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(429, { error: "Daily task limit reached.", headers: { "retry-after": "3600" } });
    const error = await providerError(provider.create(input()));
    expect(error).toMatchObject({ kind: "rate_limited", retryAfter: 3600 });
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("maps a 429 without Retry-After to rate_limited without a delay", async () => {
    const { fake, provider } = setup();
    fake.failNext(429, { error: "Too many requests." });
    const error = await providerError(provider.create(input()));
    expect(error).toMatchObject({ kind: "rate_limited", retryAfter: undefined });
  });

  it("maps a 503 to unavailable and sends the create exactly once", async () => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(503, { times: 3 });
    expect((await providerError(provider.create(input()))).kind).toBe("unavailable");
    expect(fake.requests).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it.each([
    ["a non-UUID id", '{"id":"../../admin"}'],
    ["no id", '{"task":"x"}'],
    ["not JSON", "<html>"],
  ])("answers bad_response to %s", async (_, text) => {
    const { fake, provider } = setup();
    fake.script({ respond: () => new Response(text) });
    expect((await providerError(provider.create(input()))).kind).toBe("bad_response");
  });
});

describe("edit (video_to_video)", () => {
  const clip = (seconds: number, bytes = mp4(4096)): EditInput => ({
    jobId: "video_test",
    model: "gen4.5",
    prompt: "make it snow",
    seconds: String(Math.ceil(seconds)),
    source: {
      upstreamId: null,
      size: "1280x720",
      durationSeconds: seconds,
      bytes: async () => bytes,
    },
  });

  it("is offered only when the route names an edit model", () => {
    expect(setup().provider.edit).toBeUndefined();
    expect(setup({ edit_model: "gen4_aleph" }).provider.edit).toBeTypeOf("function");
  });

  it("sends the source inline to POST /v1/video_to_video and polls the task like any other", async () => {
    const { fake, provider } = setup({ edit_model: "gen4_aleph", public_figure_threshold: "low" });
    const source = mp4(10_000);
    const created = await provider.edit!(clip(4.5, source));
    expect(created).toMatchObject({ status: "queued", progress: 0 });
    expect(fake.edited).toEqual([{ model: "gen4_aleph", video: source, prompt: "make it snow" }]);
    const sent = fake.requests.find((r) => r.url.pathname === "/v1/video_to_video")!;
    expect(sent.body).toMatchObject({ contentModeration: { publicFigureThreshold: "low" } });
    expect(Object.keys(sent.body!)).not.toContain("ratio"); // deprecated and ignored (§4a)
    let state = await provider.retrieve(created.upstreamId);
    for (let i = 0; i < 5 && state.status !== "completed"; i++) {
      state = await provider.retrieve(created.upstreamId);
    }
    expect(state.status).toBe("completed");
    const media = await provider.content(created.upstreamId, { variant: "video", range: null });
    expect(media.status).toBe(200);
    await media.body?.cancel();
  });

  it("refuses, before reading or sending anything, what the model cannot edit", async () => {
    const { fake, provider } = setup({ edit_model: "gen4_aleph" });
    let reads = 0;
    const counted = (input: EditInput): EditInput => ({
      ...input,
      source: { ...input.source, bytes: async () => (reads++, mp4(100)) },
    });
    expect(await expectProviderError(provider.edit!(counted(clip(8))), KEY)).toMatchObject({
      kind: "input_rejected",
      publicMessage: expect.stringMatching(
        /gen4_aleph on Runway edits videos of 1–5 s; this one is 8 s/,
      ),
    });
    expect(
      await expectProviderError(provider.edit!(counted({ ...clip(4), prompt: "" })), KEY),
    ).toMatchObject({
      kind: "input_rejected",
      publicMessage: expect.stringMatching(/needs a prompt/),
    });
    expect(reads).toBe(0);
    expect(fake.requests).toEqual([]);
    // aleph2 takes a longer source and no prompt.
    const two = setup({ edit_model: "aleph2" });
    await two.provider.edit!({ ...clip(20), prompt: "" });
    expect(two.fake.edited).toMatchObject([{ model: "aleph2", prompt: undefined }]);
  });

  it("refuses a source too large for a data URI without sending it", async () => {
    const { fake, provider } = setup({ edit_model: "gen4_aleph" });
    expect(await expectProviderError(provider.edit!(clip(4, mp4(12_500_000))), KEY)).toMatchObject({
      kind: "input_rejected",
      publicMessage: expect.stringMatching(/at most 16 MB once encoded/),
    });
    expect(fake.requests).toEqual([]);
  });

  it("keeps an ambiguous answer ambiguous: a 500 to the start is never retried", async () => {
    const { fake, provider } = setup({ edit_model: "gen4_aleph" });
    fake.failNext(500, { path: "/v1/video_to_video" });
    expect(await expectProviderError(provider.edit!(clip(4)), KEY)).toMatchObject({
      kind: "upstream_failed",
    });
    expect(fake.requests.filter((r) => r.url.pathname === "/v1/video_to_video")).toHaveLength(1);
  });
});

describe("retrieve", () => {
  it("walks PENDING → THROTTLED → RUNNING → SUCCEEDED as queued → in_progress → completed", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    const states = [];
    for (let i = 0; i < 5; i++)
      states.push(await provider.retrieve(upstreamId, { startedAt: NOW }));
    expect(states.map((s) => [s.status, s.progress])).toEqual([
      ["queued", 0],
      ["queued", 0],
      ["in_progress", 30],
      ["in_progress", 70],
      ["completed", 100],
    ]);
    const progress = states.map((s) => s.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(states.slice(0, 4).every((s) => s.progress < 100 && s.expiresAt === null)).toBe(true);
    expect(states[4]!.expiresAt).toBe(NOW / 1000 + 24 * 3600);
    const poll = fake.requests[1]!;
    expect(poll.method).toBe("GET");
    expect(poll.url.href).toBe(`${RUNWAY_BASE}/v1/tasks/${upstreamId}`);
    expect(poll.headers.get("authorization")).toBe(`Bearer ${KEY}`);
    expect(poll.headers.get("x-runway-version")).toBe("2024-11-06");
  });

  it.each([
    [0, 0],
    [0.005, 0],
    [0.426, 42],
    [0.999, 99],
    [1, 99],
    [42.5, 42],
    [100, 99],
    [-3, 0],
  ])(
    "reads RUNNING progress %s as %s (0–1 scale, or a percentage above 1)",
    async (raw, expected) => {
      expect(await stateOf({ status: "RUNNING", progress: raw })).toMatchObject({
        status: "in_progress",
        progress: expected,
      });
    },
  );

  it("estimates progress from startedAt when RUNNING carries none", async () => {
    const state = await stateOf({ status: "RUNNING" }, NOW - 60_000);
    expect(state.status).toBe("in_progress");
    expect(state.progress).toBeGreaterThan(50);
    expect(state.progress).toBeLessThan(100);
  });

  it.each([
    [
      "SAFETY.INPUT.IMAGE",
      "The input image was flagged by content moderation.",
      "policy_violation",
    ],
    ["SAFETY.INPUT.TEXT", "Prompt text was flagged.", "policy_violation"],
    ["SAFETY.OUTPUT.VIDEO", "The output was flagged by content moderation.", "policy_violation"],
    ["ASSET.INVALID", "The input image could not be processed.", "input_rejected"],
    ["INTERNAL.BAD_OUTPUT", "The generated output was unusable.", "provider_error"],
    ["INTERNAL", "An internal error occurred.", "provider_error"],
  ])("maps FAILED %s to %s with Runway's words", async (failureCode, failure, code) => {
    const state = await stateOf({
      status: "FAILED",
      failureCode,
      failure: `${failure} See https://x.test/?t=abc`,
    });
    expect(state).toMatchObject({ status: "failed", error: { code } });
    expect(state.error!.message).toBe(`${failure} See [url]`);
    expect(state.progress).toBeLessThan(100);
  });

  it("gives a plain message when a failure has no text", async () => {
    const state = await stateOf({ status: "FAILED", failureCode: "SAFETY.OUTPUT.VIDEO" });
    expect(state.error).toEqual({
      code: "policy_violation",
      message: "The video provider was refused on content safety grounds.",
    });
  });

  it("maps CANCELLED to failed/cancelled", async () => {
    expect((await stateOf({ status: "CANCELLED" })).error).toMatchObject({ code: "cancelled" });
  });

  it("maps SUCCEEDED without an output to a provider_error failure", async () => {
    const state = await stateOf({ status: "SUCCEEDED", output: [] });
    expect(state).toMatchObject({ status: "failed", error: { code: "provider_error" } });
  });

  it("keeps polling an unknown status as in_progress", async () => {
    const state = await stateOf({ status: "WARMING_UP" as "RUNNING" }, NOW);
    expect(state).toMatchObject({ status: "in_progress", progress: 0, error: null });
  });

  it("is retried on 502 and on 429", async () => {
    const { fake, provider, sleeps } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failNext(502, { method: "GET" });
    fake.failNext(429, { method: "GET", headers: { "retry-after": "2" } });
    expect((await provider.retrieve(upstreamId)).status).toBe("queued");
    expect(fake.requests.filter((r) => r.method === "GET")).toHaveLength(3);
    expect(sleeps).toHaveLength(2);
    expect(sleeps[1]).toBe(2000);
  });

  it("reports upstream_failed once the retries on 500 are spent", async () => {
    const { fake, provider } = setup();
    fake.failNext(500, { times: 3 });
    expect((await providerError(provider.retrieve(UNKNOWN_TASK))).kind).toBe("upstream_failed");
    expect(fake.requests).toHaveLength(3);
  });

  it("maps an unknown task (404) to not_found", async () => {
    const { provider } = setup();
    expect((await providerError(provider.retrieve(UNKNOWN_TASK))).kind).toBe("not_found");
  });

  it.each([
    "../v1/organization",
    "00000000-0000-4000-8000-00000000000",
    "00000000-0000-4000-8000-000000000001/",
    "00000000-0000-4000-8000-00000000000g",
    "video_1",
    "",
    "00000000-0000-4000-8000-000000000001?x=1",
  ])("refuses the upstream id %j without sending anything", async (id) => {
    const { fake, provider } = setup();
    expect((await providerError(provider.retrieve(id))).kind).toBe("not_found");
    expect(
      (await providerError(provider.content(id, { variant: "video", range: null }))).kind,
    ).toBe("not_found");
    expect((await providerError(provider.delete!(id))).kind).toBe("not_found");
    expect(fake.requests).toEqual([]);
  });
});

describe("content", () => {
  it("re-reads the task and streams the signed URL with Range, without the key: 206, exact bytes", async () => {
    const s = setup();
    const id = await completed(s);
    const before = s.fake.requests.length;
    const response = await s.provider.content(id, { variant: "video", range: "bytes=100-199" });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-199/${64 * 1024}`);
    expect(response.headers.get("content-length")).toBe("100");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(
      patternBytes(64 * 1024).slice(100, 200),
    );
    const [poll, download] = s.fake.requests.slice(before);
    expect(poll!.url.pathname).toBe(`/v1/tasks/${id}`);
    expect(download!.url.hostname).toBe(RUNWAY_CDN);
    expect(download!.headers.get("range")).toBe("bytes=100-199");
    expect([...download!.headers.keys()]).toEqual(["range"]);
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

  it("gets a fresh signed URL after the old ones expired", async () => {
    const s = setup();
    const id = await completed(s);
    s.fake.expireUrls();
    const response = await s.provider.content(id, { variant: "video", range: "bytes=0-9" });
    expect(response.status).toBe(206);
  });

  it("passes a 416 for an unsatisfiable range through", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: "bytes=999999-" });
    expect(response.status).toBe(416);
  });

  it.each(["thumbnail", "spritesheet"] as const)(
    "refuses the %s variant without a request",
    async (variant) => {
      const { fake, provider } = setup();
      expect(
        (await providerError(provider.content(UNKNOWN_TASK, { variant, range: null }))).kind,
      ).toBe("not_found");
      expect(fake.requests).toEqual([]);
    },
  );

  it("answers not_found while the task is still running", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    const error = await providerError(
      provider.content(upstreamId, { variant: "video", range: null }),
    );
    expect(error.kind).toBe("not_found");
    expect(fake.requests.every((r) => r.url.hostname !== RUNWAY_CDN)).toBe(true);
  });

  it.each([
    ["another host", "https://evil.example.test/v.mp4"],
    ["a look-alike host", `https://${RUNWAY_CDN}.evil.test/v.mp4`],
    ["a shared parent", "https://d111111abcdef8.cloudfront.net/v.mp4"],
    ["plain http", `http://${RUNWAY_CDN}/v.mp4`],
    ["a port", `https://${RUNWAY_CDN}:8443/v.mp4`],
    ["credentials", `https://user:pw@${RUNWAY_CDN}/v.mp4`],
    ["no URL at all", "not a url"],
  ])("refuses a result URL on %s without fetching it", async (_, url) => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    fake.setState(upstreamId, { status: "SUCCEEDED", output: [url] });
    const error = await providerError(
      provider.content(upstreamId, { variant: "video", range: null }),
    );
    expect(error.kind).toBe("bad_response");
    expect(error.detail).not.toContain("v.mp4");
    if (url.includes("evil")) expect(error.detail).toMatch(/host \S*evil\S* over https/);
    expect(fake.requests).toHaveLength(2);
  });

  it("downloads from a host added to output_hosts", async () => {
    const { fake, provider } = setup(
      { output_hosts: ["media.proxy.example.test"] },
      { cdnHost: "media.proxy.example.test" },
    );
    const { upstreamId } = await provider.create(input());
    for (let i = 0; i < 5; i++) await provider.retrieve(upstreamId);
    const response = await provider.content(upstreamId, { variant: "video", range: "bytes=0-0" });
    expect(response.status).toBe(206);
    expect(fake.requests.at(-1)!.url.hostname).toBe("media.proxy.example.test");
  });

  it("maps a refused download (403) to not_found and does not follow a redirect", async () => {
    const s = setup();
    const id = await completed(s);
    s.fake.setState(id, {
      status: "SUCCEEDED",
      output: [`https://${RUNWAY_CDN}/${id}.mp4?_jwt=stale`],
    });
    const gone = await providerError(s.provider.content(id, { variant: "video", range: null }));
    expect(gone.kind).toBe("not_found");
    const redirecting: typeof fetch = async (request, init) => {
      const r = new Request(request, init);
      if (r.url.includes(RUNWAY_CDN)) {
        expect(r.redirect).toBe("manual");
        return new Response(null, {
          status: 302,
          headers: { location: "https://evil.example.test/" },
        });
      }
      return s.fake.fetch(r);
    };
    const options = runwayProviderOptions.parse({ type: "runway" });
    const provider = createRunwayProvider(options, {
      fetch: redirecting,
      now: () => NOW,
      apiKey: KEY,
    });
    s.fake.setState(id, { status: "SUCCEEDED" });
    expect(
      (await providerError(provider.content(id, { variant: "video", range: null }))).kind,
    ).toBe("bad_response");
  });
});

describe("delete", () => {
  it("sends DELETE /v1/tasks/{id} with auth and version headers", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    await provider.delete!(upstreamId);
    expect(fake.tasks.has(upstreamId)).toBe(false);
    const request = fake.requests.at(-1)!;
    expect(request.method).toBe("DELETE");
    expect(request.url.href).toBe(`${RUNWAY_BASE}/v1/tasks/${upstreamId}`);
    expect(request.headers.get("x-runway-version")).toBe("2024-11-06");
  });

  it("treats an unknown task (404) as success", async () => {
    const { provider } = setup();
    await expect(provider.delete!(UNKNOWN_TASK)).resolves.toBeUndefined();
  });

  it("is retried on 503", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failNext(503, { method: "DELETE" });
    await provider.delete!(upstreamId);
    expect(fake.requests.filter((r) => r.method === "DELETE")).toHaveLength(2);
  });
});

describe("webhooks", () => {
  it("are not offered: Runway has none, jobs are polled", () => {
    expect(setup().provider.verifyWebhook).toBeUndefined();
  });
});

describe("the API key", () => {
  it("never appears in errors, responses or log lines across every call", async () => {
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
      s.fake.failNext(400, { error: `Bad key ${KEY} in Authorization: Bearer ${KEY}` });
      await catchError(s.provider.create(input()));
      s.fake.failNext(429, { error: `quota for ${KEY}` });
      await catchError(s.provider.create(input()));
      s.fake.script({ respond: () => new Response(`{"id":"${KEY}"`) });
      await catchError(s.provider.create(input()));
      const id = await completed(s);
      s.fake.failNext(500, { times: 3, error: `upstream saw ${KEY}` });
      await catchError(s.provider.retrieve(id));
      const other = (await s.provider.create(input())).upstreamId;
      s.fake.setState(other, {
        status: "FAILED",
        failureCode: "INTERNAL",
        failure: `crashed with ${KEY}`,
      });
      const failed = await s.provider.retrieve(other);
      const response = await s.provider.content(id, { variant: "video", range: "bytes=0-99" });
      const body = new TextDecoder().decode(await response.arrayBuffer());
      s.fake.failNext(500, { times: 3, method: "DELETE", error: KEY });
      await catchError(s.provider.delete!(id));
      await catchError(
        createRunwayProvider(runwayProviderOptions.parse({ type: "runway" }), {
          fetch: s.fake.fetch,
          now: () => NOW,
          apiKey: `${KEY}\n`,
        }).create(input()),
      );

      expect(errors).toHaveLength(6);
      expect(failed.error!.message).toContain("[redacted]");
      const surfaces = [
        JSON.stringify(failed),
        body,
        [...response.headers].join("\n"),
        ...errors.flatMap((e) => [e.message, e.detail ?? "", e.stack ?? ""]),
        ...logged,
      ];
      for (const text of surfaces) expect(text).not.toContain("FAKEKEY");
      // Only the API ever saw it; the CDN download went without.
      const cdn = s.fake.requests.filter((r) => r.url.hostname === RUNWAY_CDN);
      expect(cdn.length).toBeGreaterThan(0);
      for (const r of cdn) expect([...r.headers].join()).not.toContain("FAKEKEY");
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe("FakeRunway (the contract fake itself)", () => {
  const auth = { authorization: `Bearer ${KEY}` };
  const version = { "x-runway-version": "2024-11-06" };
  const create = (body: unknown) => ({
    method: "POST",
    headers: { ...auth, ...version, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const image = `data:image/png;base64,${btoa(String.fromCharCode(...png(1280, 720).bytes))}`;
  const good = { model: "gen4.5", promptImage: image, ratio: "1280:720", duration: 5 };

  it.each([
    [
      "a call without X-Runway-Version",
      `${RUNWAY_BASE}/v1/tasks/${UNKNOWN_TASK}`,
      { headers: auth },
    ],
    ["a call without auth", `${RUNWAY_BASE}/v1/tasks/${UNKNOWN_TASK}`, { headers: version }],
    ["an undocumented route", `${RUNWAY_BASE}/v1/videos`, { headers: { ...auth, ...version } }],
    ["another host", "https://api.runwayml.example.test/v1/tasks", { headers: auth }],
    [
      "a duration as a string",
      `${RUNWAY_BASE}/v1/image_to_video`,
      create({ ...good, duration: "5" }),
    ],
    [
      "a ratio the model lacks",
      `${RUNWAY_BASE}/v1/image_to_video`,
      create({ ...good, ratio: "1080:1920" }),
    ],
    ["audio on gen4.5", `${RUNWAY_BASE}/v1/image_to_video`, create({ ...good, audio: true })],
    [
      "an image URL",
      `${RUNWAY_BASE}/v1/image_to_video`,
      create({ ...good, promptImage: "https://x.test/a.png" }),
    ],
    [
      "a mislabelled image",
      `${RUNWAY_BASE}/v1/image_to_video`,
      create({ ...good, promptImage: image.replace("png", "jpeg") }),
    ],
    [
      "a key sent to the CDN",
      `https://${RUNWAY_CDN}/${UNKNOWN_TASK}.mp4?_jwt=x`,
      { headers: auth },
    ],
  ])("records and throws on %s", async (_, url, init: RequestInit) => {
    const fake = new FakeRunway({ apiKey: KEY });
    await expect(fake.fetch(url, init)).rejects.toBeInstanceOf(ContractViolation);
    expect(fake.violations).toHaveLength(1);
    expect(() => fake.assertClean()).toThrow(/Contract violations/);
  });

  it("accepts the documented body and serves a task", async () => {
    const fake = new FakeRunway({ apiKey: KEY });
    const { id } = (await (
      await fake.fetch(`${RUNWAY_BASE}/v1/image_to_video`, create(good))
    ).json()) as { id: string };
    const task = await fake.fetch(`${RUNWAY_BASE}/v1/tasks/${id}`, {
      headers: { ...auth, ...version },
    });
    expect(await task.json()).toMatchObject({ id, status: "PENDING" });
    fake.assertClean();
  });
});
