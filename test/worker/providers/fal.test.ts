import { afterEach, describe, expect, it, vi } from "vitest";
import {
  createFalProvider,
  falProviderOptions,
  type FalProviderOptions,
} from "../../../worker/providers/fal";
import { FalJwksCache } from "../../../worker/providers/fal/webhooks";
import type {
  CreateInput,
  ExtendInput,
  InputImage,
  Provider,
} from "../../../worker/providers/types";
import { patternBytes } from "../../helpers/fakes/base";
import {
  CDN,
  ContractViolation,
  FakeFal,
  JWKS_URL,
  QUEUE,
  REST,
  VIDEO_BYTES,
  modelError,
  requestError,
  signedDelivery,
  type FakeFalOptions,
} from "../../helpers/fakes/fal";
import { images } from "../../helpers/requests";
import { wholeSecondNow } from "../../helpers/clock";
import { expectProviderError } from "../../helpers/provider-error";

const KEY = "5f0c1e2a-FAKEFALKEY-4b1d:9d8c7b6a5f4e3d2c1b0a99887766554433221100";
// The fake clock starts at the real now: webhook timestamps are judged against it.
const NOW = wholeSecondNow();
const KLING = "fal-ai/kling-video/v3/standard/image-to-video";
const VEO = "fal-ai/veo3.1/image-to-video";

/** Kling 3.x on fal: `start_image_url`, duration "3".."15", no aspect on i2v (§2). */
const KLING_BLOCK = {
  type: "fal",
  model_path: KLING,
  image_field: "start_image_url",
  durations: [5, 10],
  audio_field: "generate_audio",
};
const KLING_INPUTS: FakeFalOptions["inputs"] = {
  prompt: "string",
  start_image_url: "image",
  duration: ["3", "4", "5", "6", "7", "8", "9", "10", "11", "12", "13", "14", "15"],
  generate_audio: "boolean",
  negative_prompt: "string",
};
/** Veo 3.1 on fal: duration "4s"/"6s"/"8s", aspect, resolution, generate_audio (§2). */
const VEO_BLOCK = {
  type: "fal",
  model_path: VEO,
  durations: [4, 6, 8],
  duration_format: "seconds_s",
  aspect_field: "aspect_ratio",
  aspect_ratios: ["16:9", "9:16"],
  resolution_field: "resolution",
  resolutions: ["720p", "1080p"],
  audio_field: "generate_audio",
  extra_input: { negative_prompt: "blurry, distorted" },
};
const VEO_INPUTS: FakeFalOptions["inputs"] = {
  prompt: "string",
  image_url: "image",
  duration: ["4s", "6s", "8s"],
  aspect_ratio: ["16:9", "9:16", "auto"],
  resolution: ["720p", "1080p"],
  generate_audio: "boolean",
  negative_prompt: "string",
};

const fakes: FakeFal[] = [];
afterEach(() => {
  for (const fake of fakes.splice(0)) fake.assertClean();
});

interface Setup {
  fake: FakeFal;
  provider: Provider;
  sleeps: number[];
  clock: { now: number };
}

function setup(
  block: Record<string, unknown> = KLING_BLOCK,
  fakeOptions: Partial<FakeFalOptions> = {},
  apiKey = KEY,
): Setup {
  const options = falProviderOptions.parse(block);
  const fake = new FakeFal({
    apiKey: KEY,
    modelPath: options.model_path,
    inputs: options.model_path === VEO ? VEO_INPUTS : KLING_INPUTS,
    required: ["prompt", options.image_field],
    ...fakeOptions,
  });
  fakes.push(fake);
  const sleeps: number[] = [];
  const clock = { now: NOW };
  const provider = createFalProvider(options, {
    fetch: fake.fetch,
    now: () => clock.now,
    apiKey,
    sleep: async (ms) => void sleeps.push(ms),
    jwksCache: new FalJwksCache(),
  });
  return { fake, provider, sleeps, clock };
}

const jpeg: InputImage = {
  bytes: images.landscapeJpeg,
  mime: "image/jpeg",
  width: 1280,
  height: 720,
};

function input(overrides: Partial<CreateInput> = {}): CreateInput {
  return {
    jobId: "video_abc123",
    model: KLING,
    prompt: "The lighthouse beam sweeps across the fog",
    seconds: "5",
    size: "1280x720",
    image: jpeg,
    ...overrides,
  };
}

const providerError = (promise: Promise<unknown>) =>
  expectProviderError(promise, KEY, "FAKEFALKEY");

/** Creates a job and polls it to completion (2 queued, 2 running, then completed). */
async function completed(s: Setup): Promise<string> {
  const { upstreamId } = await s.provider.create(input());
  for (let i = 0; i < 5; i++) await s.provider.retrieve(upstreamId, { startedAt: NOW });
  return upstreamId;
}

describe("falProviderOptions", () => {
  it("fills the defaults", () => {
    expect(falProviderOptions.parse({ type: "fal", model_path: KLING, durations: [5] })).toEqual({
      type: "fal",
      model_path: KLING,
      api_key_secret: "FAL_KEY",
      typical_seconds: 120,
      timeout_ms: 30_000,
      max_retries: 2,
      durations: [5],
      duration_field: "duration",
      duration_format: "seconds",
      image_field: "image_url",
      image_transport: "upload",
      aspect_field: null,
      aspect_ratios: null,
      resolution_field: null,
      resolutions: null,
      audio_field: null,
      extra_input: {},
      webhook_user_id: null,
      extend_path: null,
      edit_path: null,
      video_field: "video_url",
      media_expiration_seconds: null,
    });
  });

  it("accepts the Veo block", () => {
    expect(falProviderOptions.safeParse(VEO_BLOCK).success).toBe(true);
  });

  it.each([
    ["a one-segment model path", { model_path: "kling" }],
    ["a path with ..", { model_path: "fal-ai/../admin" }],
    ["a full URL as model path", { model_path: "https://queue.fal.run/fal-ai/x" }],
    ["a query in the model path", { model_path: "fal-ai/x?fal_webhook=y" }],
    ["a workflows/ app", { model_path: "workflows/me/flow" }],
    ["no durations", { durations: [] }],
    ["an unknown key (typo)", { image_fields: "x" }],
    ["a lowercase secret name", { api_key_secret: "fal_key" }],
    ["an unknown transport", { image_transport: "r2" }],
    ["an odd field name", { image_field: "image-url" }],
    ["extra_input overriding the prompt", { extra_input: { prompt: "x" } }],
    ["extra_input overriding the image field", { extra_input: { start_image_url: "x" } }],
    ["an aspect that is no ratio", { aspect_ratios: ["wide"] }],
  ])("rejects %s", (_, change) => {
    expect(falProviderOptions.safeParse({ ...KLING_BLOCK, ...change }).success).toBe(false);
  });
});

describe("create", () => {
  it("uploads the image to fal storage, then submits the model's own input with the key", async () => {
    const { fake, provider } = setup();
    const job = await provider.create(input({ audio: true }));

    expect(job).toEqual({
      upstreamId: expect.stringMatching(/^0b7c/),
      status: "queued",
      progress: 3,
      error: null,
      expiresAt: null,
    });
    const [initiate, put, submit] = fake.requests;
    expect(fake.requests).toHaveLength(3);
    expect(initiate!.url.href).toBe(`${REST}/storage/upload/initiate?storage_type=fal-cdn-v3`);
    expect(initiate!.headers.get("authorization")).toBe(`Key ${KEY}`);
    expect(initiate!.json).toEqual({ content_type: "image/jpeg", file_name: "input.jpg" });
    expect(put!.method).toBe("PUT");
    expect(put!.url.origin).toBe(CDN);
    expect(put!.headers.get("authorization")).toBeNull();
    expect(put!.headers.get("content-type")).toBe("image/jpeg");
    expect(put!.bytes).toEqual(images.landscapeJpeg);

    expect(submit!.method).toBe("POST");
    expect(submit!.url.href).toBe(`${QUEUE}/${KLING}`);
    expect(submit!.headers.get("authorization")).toBe(`Key ${KEY}`);
    expect(submit!.headers.get("content-type")).toBe("application/json");
    expect(submit!.json).toEqual({
      prompt: "The lighthouse beam sweeps across the fog",
      start_image_url: `${CDN}/files/tok1/input.jpg`,
      duration: "5",
      generate_audio: true,
    });
  });

  it("maps size, seconds and audio onto Veo's fields and merges extra_input", async () => {
    const { fake, provider } = setup(VEO_BLOCK);
    await provider.create(input({ model: VEO, seconds: "8", size: "1080x1920", audio: false }));
    expect(fake.requests.at(-1)!.json).toEqual({
      negative_prompt: "blurry, distorted",
      prompt: "The lighthouse beam sweeps across the fog",
      image_url: `${CDN}/files/tok1/input.jpg`,
      duration: "8s",
      aspect_ratio: "9:16",
      resolution: "1080p",
      generate_audio: false,
    });
  });

  it("sends duration as an integer when told to", async () => {
    const { fake, provider } = setup(
      { ...KLING_BLOCK, duration_format: "integer" },
      { inputs: { ...KLING_INPUTS, duration: "integer" } },
    );
    await provider.create(input({ seconds: "10" }));
    expect((fake.requests.at(-1)!.json as { duration: unknown }).duration).toBe(10);
  });

  it("leaves audio out when it is not given, and on models without the flag", async () => {
    const { fake, provider } = setup();
    await provider.create(input());
    expect(fake.requests.at(-1)!.json).not.toHaveProperty("generate_audio");

    const plain = setup({ ...KLING_BLOCK, audio_field: null });
    await plain.provider.create(input({ audio: true }));
    expect(plain.fake.requests.at(-1)!.json).not.toHaveProperty("generate_audio");
  });

  it("sends the image inline as a data URI when image_transport is data_uri", async () => {
    const { fake, provider } = setup(
      { ...KLING_BLOCK, image_transport: "data_uri" },
      { acceptsDataUri: true },
    );
    await provider.create(input());
    expect(fake.requests).toHaveLength(1);
    const sent = (fake.requests[0]!.json as { start_image_url: string }).start_image_url;
    expect(sent.startsWith("data:image/jpeg;base64,")).toBe(true);
    const decoded = Uint8Array.from(atob(sent.split(",")[1]!), (c) => c.charCodeAt(0));
    expect(decoded).toEqual(images.landscapeJpeg);
  });

  it("surfaces a model's refusal of a data URI as input_rejected", async () => {
    const { provider } = setup({ ...KLING_BLOCK, image_transport: "data_uri" });
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toContain("Failed to load the image");
  });

  it("submits without an image field when there is no image", async () => {
    const { fake, provider } = setup(KLING_BLOCK, { required: ["prompt"] });
    await provider.create(input({ image: undefined }));
    expect(fake.requests).toHaveLength(1);
    expect(fake.requests[0]!.json).not.toHaveProperty("start_image_url");
  });

  it("asks for a webhook with ?fal_webhook= on an https URL only", async () => {
    const { fake, provider } = setup();
    await provider.create(input({ webhookUrl: "https://api.example.com/webhooks/fal" }));
    const url = fake.requests.at(-1)!.url;
    expect(url.searchParams.get("fal_webhook")).toBe("https://api.example.com/webhooks/fal");
    expect(url.href).toContain("fal_webhook=https%3A%2F%2Fapi.example.com%2Fwebhooks%2Ffal");

    await provider.create(input({ webhookUrl: "http://localhost:8787/webhooks/fal" }));
    expect(fake.requests.at(-1)!.url.search).toBe("");
  });

  it("asks fal to expire outputs and reports when, if media_expiration_seconds is set", async () => {
    const s = setup({ ...KLING_BLOCK, media_expiration_seconds: 86_400 });
    const { upstreamId } = await s.provider.create(input());
    expect(
      JSON.parse(s.fake.requests.at(-1)!.headers.get("x-fal-object-lifecycle-preference")!),
    ).toEqual({ expiration_duration_seconds: 86_400 });
    let state;
    for (let i = 0; i < 5; i++) state = await s.provider.retrieve(upstreamId, { startedAt: NOW });
    expect(state).toMatchObject({ status: "completed", expiresAt: NOW / 1000 + 86_400 });
  });

  it.each([
    ["seconds", { seconds: "4" }, "accepts these durations (seconds): 5, 10"],
    ["seconds", { seconds: "12" }, "accepts these durations (seconds): 5, 10"],
  ])("refuses unsupported %s with the allowed list, sending nothing", async (_, change, text) => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input(change)));
    expect(error.kind).toBe("input_rejected");
    expect(error.publicMessage).toBe(`${KLING} ${text}`);
    expect(fake.requests).toEqual([]);
  });

  it.each([
    [{ size: "1024x1024" }, "accepts these aspect ratios: 16:9, 9:16"],
    [{ size: "640x360" }, "accepts these resolutions: 720p, 1080p"],
    [{ seconds: "5" }, "accepts these durations (seconds): 4, 6, 8"],
  ])("refuses %j on Veo with the allowed list, sending nothing", async (change, text) => {
    const { fake, provider } = setup(VEO_BLOCK);
    const error = await providerError(
      provider.create(input({ model: VEO, seconds: "8", ...change })),
    );
    expect(error).toMatchObject({ kind: "input_rejected", publicMessage: `${VEO} ${text}` });
    expect(fake.requests).toEqual([]);
  });

  it("accepts any size where the model takes the aspect from the image", async () => {
    const { fake, provider } = setup();
    await provider.create(input({ size: "1024x1024" }));
    expect(fake.requests.at(-1)!.json).not.toHaveProperty("aspect_ratio");
  });

  it("refuses, as misconfigured and without a request, a route whose model differs", async () => {
    const { fake, provider } = setup();
    const error = await providerError(provider.create(input({ model: VEO })));
    expect(error.kind).toBe("misconfigured");
    expect(fake.requests).toEqual([]);
  });

  it.each([
    [
      "a content policy refusal",
      () =>
        modelError(
          422,
          "prompt",
          "The content was flagged by a content checker.",
          "content_policy_violation",
        ),
      "policy_violation",
    ],
    [
      "a too small image",
      () =>
        modelError(422, "start_image_url", "Image too small: at least 300 px.", "image_too_small"),
      "input_rejected",
    ],
    [
      "a legacy string detail",
      () => Response.json({ detail: "duration must be 5 or 10" }, { status: 422 }),
      "input_rejected",
    ],
    [
      "a locked account (403)",
      () =>
        Response.json({ detail: "User is locked. Reason: Exhausted balance." }, { status: 403 }),
      "misconfigured",
    ],
    [
      "a gateway timeout",
      () =>
        Response.json(
          { detail: "Request timed out", error_type: "request_timeout" },
          { status: 504 },
        ),
      "timeout",
    ],
  ])("maps %s at submit", async (_, respond, kind) => {
    const { fake, provider } = setup();
    fake.script({ method: "POST", url: /queue\.fal\.run/, respond });
    expect((await providerError(provider.create(input()))).kind).toBe(kind);
  });

  it("gives an input refusal fal's reason, sanitised", async () => {
    const { fake, provider } = setup();
    fake.script({
      method: "POST",
      url: /queue\.fal\.run/,
      respond: () =>
        modelError(
          422,
          "start_image_url",
          "Image too small, see https://docs.fal.ai/x?sig=1",
          "image_too_small",
        ),
    });
    const error = await providerError(provider.create(input()));
    expect(error.publicMessage).toContain("Image too small");
    expect(error.publicMessage).not.toContain("https://");
  });

  it("maps a wrong key (401) to misconfigured", async () => {
    const { provider } = setup(KLING_BLOCK, {}, "5f0c1e2a-WRONGKEY-4b1d:00");
    expect((await providerError(provider.create(input()))).kind).toBe("misconfigured");
  });

  it("maps an unknown model endpoint (404) to misconfigured", async () => {
    const { fake, provider } = setup();
    fake.failNext(404, { method: "POST", url: /queue/, body: { detail: "Application not found" } });
    expect((await providerError(provider.create(input()))).kind).toBe("misconfigured");
  });

  it("maps a 429 to rate_limited with retryAfter and submits only once", async () => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(429, { method: "POST", url: /queue/, headers: { "retry-after": "9" } });
    const error = await providerError(provider.create(input()));
    expect(error).toMatchObject({ kind: "rate_limited", retryAfter: 9 });
    expect(fake.requests.filter((r) => r.url.origin === QUEUE)).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it("is not retried on 503: exactly one submit", async () => {
    const { fake, provider } = setup();
    fake.failNext(503, { method: "POST", url: /queue/, times: 3 });
    expect((await providerError(provider.create(input()))).kind).toBe("unavailable");
    expect(fake.requests.filter((r) => r.url.origin === QUEUE)).toHaveLength(1);
  });

  it("retries the storage calls, which start nothing", async () => {
    const { fake, provider, sleeps } = setup();
    fake.failNext(502, { url: /initiate/ });
    fake.failNext(503, { method: "PUT" });
    await provider.create(input());
    expect(fake.requests.map((r) => r.method)).toEqual(["POST", "POST", "PUT", "PUT", "POST"]);
    expect(sleeps).toHaveLength(2);
  });

  it("refuses an upload URL off fal's hosts without sending the image there", async () => {
    const { fake, provider } = setup();
    fake.script({
      url: /initiate/,
      respond: () =>
        Response.json({
          upload_url: "https://attacker.example.test/upload",
          file_url: `${CDN}/files/x/input.jpg`,
        }),
    });
    expect((await providerError(provider.create(input()))).kind).toBe("bad_response");
    expect(fake.requests).toHaveLength(1);
  });

  it.each([
    ["not JSON", "<html>502</html>"],
    ["JSON without a request_id", JSON.stringify({ status: "IN_QUEUE" })],
    ["a request_id unfit for a URL", JSON.stringify({ request_id: "../../admin" })],
  ])("treats a submit answer that is %s as bad_response", async (_, body) => {
    const { fake, provider } = setup();
    fake.script({ method: "POST", url: /queue/, respond: () => new Response(body) });
    expect((await providerError(provider.create(input()))).kind).toBe("bad_response");
  });

  it("fails as misconfigured, before uploading, when the secret is empty", async () => {
    const { fake, provider } = setup(KLING_BLOCK, {}, "");
    const error = await providerError(provider.create(input()));
    expect(error.kind).toBe("misconfigured");
    expect(error.detail).toContain("FAL_KEY");
    expect(fake.requests).toEqual([]);
  });
});

describe("extend and edit", () => {
  const VEO_EXTEND = "fal-ai/veo3.1/extend-video";
  const KLING_EDIT = "fal-ai/kling-video/o1/video-to-video/edit";
  const endpoints = {
    [VEO_EXTEND]: {
      inputs: {
        prompt: "string",
        video_url: "video",
        duration: ["7s"],
        aspect_ratio: ["auto", "16:9", "9:16"],
        resolution: ["720p"],
        generate_audio: "boolean",
      },
      required: ["prompt", "video_url"],
    },
    [KLING_EDIT]: {
      inputs: { prompt: "string", video_url: "video", keep_audio: "boolean" },
      required: ["prompt", "video_url"],
    },
  } satisfies FakeFalOptions["endpoints"];
  const mp4 = patternBytes(4096);
  const source = (bytes = mp4) => ({
    upstreamId: null,
    size: "1280x720",
    durationSeconds: 8,
    bytes: async () => bytes,
  });
  const extension = (): ExtendInput => ({
    jobId: "video_ext",
    model: VEO,
    prompt: "The gulls keep circling",
    seconds: "7",
    totalSeconds: "15",
    source: source(),
  });

  it("uploads the source to fal storage and submits it to extend_path with the added length", async () => {
    const s = setup({ ...VEO_BLOCK, extend_path: VEO_EXTEND }, { endpoints });
    const created = await s.provider.extend!(extension());
    expect(created.status).toBe("queued");
    const job = s.fake.jobs.get(created.upstreamId)!;
    expect(job.endpoint).toBe(VEO_EXTEND);
    expect(job.input).toEqual({
      prompt: "The gulls keep circling",
      video_url: expect.stringMatching(/^https:\/\/v3\.fal\.media\/files\/tok\d+\/input\.mp4$/),
      duration: "7s",
    });
    expect(s.fake.files.get(job.input.video_url as string)).toEqual({
      type: "video/mp4",
      bytes: mp4,
    });
    // Polled under the shared owner/app, like any job of the route.
    for (let i = 0; i < 5; i++) await s.provider.retrieve(created.upstreamId, { startedAt: NOW });
    expect((await s.provider.retrieve(created.upstreamId)).status).toBe("completed");
  });

  it("submits an edit to edit_path with the prompt and the source only", async () => {
    const s = setup({ ...KLING_BLOCK, edit_path: KLING_EDIT }, { endpoints });
    const created = await s.provider.edit!({
      jobId: "video_edit",
      model: KLING,
      prompt: "Make it snow",
      seconds: "8",
      source: source(),
    });
    const job = s.fake.jobs.get(created.upstreamId)!;
    expect(job.endpoint).toBe(KLING_EDIT);
    expect(Object.keys(job.input).sort()).toEqual(["prompt", "video_url"]);
  });

  it("fails as misconfigured, uploading nothing, when the route has no endpoint for it", async () => {
    const s = setup(VEO_BLOCK, { endpoints });
    expect(await providerError(s.provider.extend!(extension()))).toMatchObject({
      kind: "misconfigured",
    });
    expect(s.fake.requests).toHaveLength(0);
  });

  it("requires extend_path and edit_path under model_path's owner/app", () => {
    expect(
      falProviderOptions.safeParse({ ...VEO_BLOCK, extend_path: "fal-ai/other/extend" }).success,
    ).toBe(false);
    expect(falProviderOptions.safeParse({ ...VEO_BLOCK, extend_path: VEO_EXTEND }).success).toBe(
      true,
    );
  });
});

describe("retrieve", () => {
  it("follows IN_QUEUE → IN_PROGRESS → COMPLETED with progress rising and < 100 until done", async () => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    const states = [];
    for (const elapsed of [5, 30, 90, 150, 200]) {
      s.clock.now = NOW + elapsed * 1000;
      states.push(await s.provider.retrieve(upstreamId, { startedAt: NOW }));
    }
    expect(states.map((x) => x.status)).toEqual([
      "queued",
      "queued",
      "in_progress",
      "in_progress",
      "completed",
    ]);
    const progress = states.map((x) => x.progress);
    expect(progress[0]).toBe(4);
    expect(progress[1]).toBe(5);
    expect(progress.at(-1)).toBe(100);
    for (let i = 1; i < progress.length; i++) expect(progress[i]).toBeGreaterThan(progress[i - 1]!);
    for (const p of progress.slice(0, -1)) expect(p).toBeLessThan(100);
    expect(states.at(-1)).toEqual({
      status: "completed",
      progress: 100,
      error: null,
      expiresAt: null,
    });
  });

  it("rebuilds status and result URLs from owner/app, ignoring the URLs fal returned", async () => {
    const s = setup(KLING_BLOCK, { returnedUrlBase: "https://evil.example.test" });
    const id = await completed(s);
    const queued = s.fake.requests.filter((r) => r.url.origin === QUEUE).slice(1);
    expect(queued.map((r) => `${r.method} ${r.url.href}`)).toEqual([
      ...Array(5).fill(`GET ${QUEUE}/fal-ai/kling-video/requests/${id}/status`),
      `GET ${QUEUE}/fal-ai/kling-video/requests/${id}`,
    ]);
    for (const r of queued) expect(r.headers.get("authorization")).toBe(`Key ${KEY}`);
  });

  const failures: Array<[string, Parameters<FakeFal["finish"]>[1], string, string]> = [
    [
      "a content policy refusal",
      {
        kind: "result",
        status: 422,
        body: {
          detail: [
            {
              loc: ["body", "prompt"],
              msg: "The content was flagged by a content checker.",
              type: "content_policy_violation",
              url: "https://docs.fal.ai/errors#content_policy_violation",
            },
          ],
        },
      },
      "policy_violation",
      "The content was flagged by a content checker.",
    ],
    [
      "a face detection failure",
      {
        kind: "result",
        status: 422,
        body: {
          detail: [
            {
              loc: ["body", "start_image_url"],
              msg: "No face detected in the image.",
              type: "face_detection_error",
            },
          ],
        },
      },
      "input_rejected",
      "No face detected in the image.",
    ],
    [
      "an image that could not be downloaded",
      {
        kind: "result",
        status: 422,
        body: {
          detail: [
            {
              loc: ["body", "image_url"],
              msg: "Failed to download the file.",
              type: "file_download_error",
            },
          ],
        },
      },
      "input_rejected",
      "Failed to download the file.",
    ],
    [
      "a request timeout",
      requestError(504, "Request timed out", "request_timeout"),
      "timeout",
      "Request timed out",
    ],
    [
      "a startup timeout",
      requestError(504, "Runner did not start in time", "startup_timeout"),
      "timeout",
      "Runner did not start in time",
    ],
    [
      "an internal error",
      requestError(500, "Internal server error", "internal_error"),
      "provider_error",
      "Internal server error",
    ],
    [
      "a scheduling failure",
      requestError(503, "No runner available", "runner_scheduling_failure"),
      "provider_error",
      "No runner available",
    ],
    [
      "a cancelled request",
      requestError(499, "Request cancelled by the client", "client_cancelled"),
      "cancelled",
      "The job was cancelled at the video provider.",
    ],
    [
      "a FAILED status word",
      {
        kind: "status",
        status: "FAILED",
        error: "Generation failed",
        error_type: "internal_error",
      },
      "provider_error",
      "Generation failed",
    ],
    [
      "a CANCELED status word",
      { kind: "status", status: "CANCELED" },
      "cancelled",
      "The job was cancelled at the video provider.",
    ],
    [
      "a result without a video",
      { kind: "result", status: 200, body: { images: [] } },
      "provider_error",
      "The video provider finished without a usable video.",
    ],
    [
      "a video off fal's hosts",
      { kind: "video", url: "https://attacker.example.test/v.mp4" },
      "provider_error",
      "The video provider finished without a usable video.",
    ],
    [
      "a result that is gone (404)",
      { kind: "result", status: 404, body: { detail: "Request not found" } },
      "expired",
      "The video provider no longer has this result.",
    ],
  ];

  it.each(failures)("maps %s to a failed job", async (_, outcome, code, message) => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    s.fake.finish(upstreamId, outcome);
    let state;
    for (let i = 0; i < 5; i++) state = await s.provider.retrieve(upstreamId, { startedAt: NOW });
    expect(state).toEqual({
      status: "failed",
      progress: 0,
      error: { code, message },
      expiresAt: null,
    });
  });

  it("does not fail the job for a bare 5xx from the edge: it throws upstream_failed after retrying", async () => {
    const s = setup();
    const id = await completed(s);
    s.fake.script({
      method: "GET",
      url: new RegExp(`requests/${id}$`),
      times: 3,
      respond: () => new Response("<html>Bad gateway</html>", { status: 502 }),
    });
    const error = await providerError(s.provider.retrieve(id, { startedAt: NOW }));
    expect(error.kind).toBe("upstream_failed");
    expect(s.sleeps).toHaveLength(2);
    expect(await s.provider.retrieve(id, { startedAt: NOW })).toMatchObject({
      status: "completed",
    });
  });

  it("is retried on 503 and then succeeds", async () => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    s.fake.failNext(503, { url: /status$/, headers: { "retry-after": "1" } });
    expect((await s.provider.retrieve(upstreamId)).status).toBe("queued");
    expect(s.sleeps).toEqual([1000]);
  });

  it("reads an unknown status word as still running", async () => {
    const s = setup();
    s.fake.script({
      url: /status$/,
      respond: () => Response.json({ status: "WARMING_UP" }, { status: 202 }),
    });
    const state = await s.provider.retrieve("0b7c0001-45d3-4afd-883e-ad3abe2a1c4d", {
      startedAt: NOW,
    });
    expect(state).toMatchObject({ status: "in_progress", error: null });
  });

  it("maps an unknown request (404) to not_found", async () => {
    const { provider } = setup();
    const error = await providerError(provider.retrieve("0b7c9999-45d3-4afd-883e-ad3abe2a1c4d"));
    expect(error.kind).toBe("not_found");
  });

  it.each(["../admin", "a/b", "0b7c 1", "", "x".repeat(80), "id?x=1", "https:"])(
    "refuses the upstream id %j without sending anything",
    async (id) => {
      const { fake, provider } = setup();
      expect((await providerError(provider.retrieve(id))).kind).toBe("not_found");
      expect(
        (await providerError(provider.content(id, { variant: "video", range: null }))).kind,
      ).toBe("not_found");
      expect((await providerError(provider.delete!(id))).kind).toBe("not_found");
      expect(fake.requests).toEqual([]);
    },
  );
});

describe("content", () => {
  it("streams a Range from the CDN as 206 with the exact bytes, sending the key only to the queue", async () => {
    const s = setup();
    const id = await completed(s);
    const before = s.fake.requests.length;
    const response = await s.provider.content(id, { variant: "video", range: "bytes=100-199" });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-199/${VIDEO_BYTES.length}`);
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(VIDEO_BYTES.slice(100, 200));
    const [result, media] = s.fake.requests.slice(before);
    expect(result!.url.href).toBe(`${QUEUE}/fal-ai/kling-video/requests/${id}`);
    expect(result!.headers.get("authorization")).toBe(`Key ${KEY}`);
    expect(media!.url.origin).toBe(CDN);
    expect(media!.headers.get("authorization")).toBeNull();
    expect(media!.headers.get("range")).toBe("bytes=100-199");
  });

  it("returns the whole video with only whitelisted headers", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: null });
    expect(response.status).toBe(200);
    expect([...response.headers.keys()].sort()).toEqual(
      ["accept-ranges", "content-length", "content-type", "etag"].sort(),
    );
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(VIDEO_BYTES);
  });

  it("passes a 416 through and ignores a multi-range", async () => {
    const s = setup();
    const id = await completed(s);
    const response = await s.provider.content(id, { variant: "video", range: "bytes=999999-" });
    expect(response.status).toBe(416);
    await s.provider.content(id, { variant: "video", range: "bytes=0-1,5-9" });
    expect(s.fake.requests.at(-1)!.headers.get("range")).toBeNull();
  });

  it("has no thumbnail or spritesheet, and asks nobody", async () => {
    const { fake, provider } = setup();
    for (const variant of ["thumbnail", "spritesheet"] as const) {
      const error = await providerError(
        provider.content("0b7c0001-45d3-4afd-883e-ad3abe2a1c4d", { variant, range: null }),
      );
      expect(error.kind).toBe("not_found");
    }
    expect(fake.requests).toEqual([]);
  });

  it("is not_found before the job completes and once the CDN no longer has the file", async () => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    expect(
      (await providerError(s.provider.content(upstreamId, { variant: "video", range: null }))).kind,
    ).toBe("not_found");

    const id = await completed(s);
    s.fake.failNext(404, { url: /fal\.media/ });
    expect(
      (await providerError(s.provider.content(id, { variant: "video", range: null }))).kind,
    ).toBe("not_found");
  });

  it("refuses a video URL off fal's hosts without fetching it", async () => {
    const s = setup();
    const { upstreamId } = await s.provider.create(input());
    for (let i = 0; i < 5; i++) await s.provider.retrieve(upstreamId);
    s.fake.finish(upstreamId, { kind: "video", url: "https://169.254.169.254/latest/meta-data" });
    const before = s.fake.requests.length;
    const error = await providerError(
      s.provider.content(upstreamId, { variant: "video", range: null }),
    );
    expect(error.kind).toBe("bad_response");
    expect(s.fake.requests).toHaveLength(before + 1);
  });
});

describe("delete", () => {
  it("cancels a queued request with PUT …/cancel", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    await provider.delete!(upstreamId);
    const request = fake.requests.at(-1)!;
    expect(`${request.method} ${request.url.href}`).toBe(
      `PUT ${QUEUE}/fal-ai/kling-video/requests/${upstreamId}/cancel`,
    );
    expect(fake.jobs.get(upstreamId)!.cancelled).toBe(true);
  });

  it("treats an already completed (400) or unknown (404) request as done", async () => {
    const s = setup();
    const id = await completed(s);
    await expect(s.provider.delete!(id)).resolves.toBeUndefined();
    await expect(
      s.provider.delete!("0b7c9999-45d3-4afd-883e-ad3abe2a1c4d"),
    ).resolves.toBeUndefined();
  });

  it("is retried on 503", async () => {
    const { fake, provider } = setup();
    const { upstreamId } = await provider.create(input());
    fake.failNext(503, { method: "PUT" });
    await provider.delete!(upstreamId);
    expect(fake.requests.filter((r) => r.url.pathname.endsWith("/cancel"))).toHaveLength(2);
  });
});

describe("verifyWebhook", () => {
  const REQUEST_ID = "024ca5b1-45d3-4afd-883e-ad3abe2a1c4d";
  const body = JSON.stringify({
    request_id: REQUEST_ID,
    gateway_request_id: "99aa5b10-45d3-4afd-883e-ad3abe2a1c4d",
    status: "OK",
    payload: { video: { url: `${CDN}/files/x/output.mp4` } },
    error: null,
  });

  async function keyPair(): Promise<{ privateKey: CryptoKey; jwk: JsonWebKey }> {
    const pair = (await crypto.subtle.generateKey({ name: "Ed25519" }, true, [
      "sign",
      "verify",
    ])) as CryptoKeyPair;
    const jwk = (await crypto.subtle.exportKey("jwk", pair.publicKey)) as JsonWebKey;
    return { privateKey: pair.privateKey, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x } };
  }

  /** Our fal account: deliveries are accepted only when fal signed them for it. */
  const ACCOUNT = "user_123";

  async function signed(
    overrides: { timestamp?: number; key?: CryptoKey; body?: string; userId?: string } = {},
  ) {
    const s = setup({ ...KLING_BLOCK, webhook_user_id: ACCOUNT });
    const { privateKey, jwk } = await keyPair();
    s.fake.jwks = [{ kty: "RSA", n: "abc", e: "AQAB" }, jwk];
    const delivery = await signedDelivery(overrides.key ?? privateKey, overrides.body ?? body, {
      requestId: REQUEST_ID,
      timestamp: overrides.timestamp ?? NOW / 1000,
      userId: overrides.userId ?? ACCOUNT,
    });
    return { s, delivery, privateKey };
  }

  it("is off without webhook_user_id: fal's keys sign every account's deliveries", () => {
    expect(setup().provider.verifyWebhook).toBeUndefined();
  });

  it("refuses a genuine delivery that fal signed for another account", async () => {
    const { s, delivery } = await signed({ userId: "user_someone_else" });
    const error = await providerError(s.provider.verifyWebhook!(delivery));
    expect(error.kind).toBe("input_rejected");
    expect(error.detail).toMatch(/another|not ours/);
  });

  it("refuses a delivery whose signed user id was swapped for ours", async () => {
    const { s, delivery } = await signed({ userId: "user_someone_else" });
    const headers = new Headers(delivery.headers);
    headers.set("x-fal-webhook-user-id", ACCOUNT);
    const swapped = new Request(delivery, { headers });
    expect((await providerError(s.provider.verifyWebhook!(swapped))).kind).toBe("input_rejected");
  });

  it("verifies a genuine delivery and names the queue request", async () => {
    const { s, delivery } = await signed();
    expect(await s.provider.verifyWebhook!(delivery)).toEqual({
      deliveryId: `${REQUEST_ID}.${NOW / 1000}`,
      upstreamId: REQUEST_ID,
    });
    const jwks = s.fake.requests.filter((r) => r.url.href === JWKS_URL);
    expect(jwks).toHaveLength(1);
    expect(jwks[0]!.headers.get("authorization")).toBeNull();
  });

  it("gives the same delivery the same id twice (the route drops the replay)", async () => {
    const { s, delivery } = await signed();
    const first = await s.provider.verifyWebhook!(delivery.clone());
    const second = await s.provider.verifyWebhook!(delivery);
    expect(second).toEqual(first);
  });

  it("refuses a tampered body", async () => {
    const { s, delivery } = await signed();
    const tampered = new Request(delivery, {
      body: body.replace(REQUEST_ID, "0b7c0001-45d3-4afd-883e-ad3abe2a1c4d"),
    });
    expect((await providerError(s.provider.verifyWebhook!(tampered))).kind).toBe("input_rejected");
  });

  it("refuses a tampered signature", async () => {
    const { s, delivery } = await signed();
    const headers = new Headers(delivery.headers);
    const sig = headers.get("x-fal-webhook-signature")!;
    headers.set("x-fal-webhook-signature", `${sig[0] === "0" ? "1" : "0"}${sig.slice(1)}`);
    const tampered = new Request(delivery, { headers });
    expect((await providerError(s.provider.verifyWebhook!(tampered))).kind).toBe("input_rejected");
  });

  it.each([
    ["older than five minutes", NOW / 1000 - 301],
    ["from the future", NOW / 1000 + 301],
  ])("refuses a timestamp %s", async (_, timestamp) => {
    const { s, delivery } = await signed({ timestamp });
    const error = await providerError(s.provider.verifyWebhook!(delivery));
    expect(error).toMatchObject({ kind: "input_rejected" });
    expect(error.detail).toContain("window");
  });

  it("refuses a delivery signed with a key fal does not publish", async () => {
    const other = await keyPair();
    const { s, delivery } = await signed({ key: other.privateKey });
    expect((await providerError(s.provider.verifyWebhook!(delivery))).kind).toBe("input_rejected");
    expect(s.fake.requests.filter((r) => r.url.href === JWKS_URL)).toHaveLength(1);
  });

  it.each(["x-fal-webhook-signature", "x-fal-webhook-request-id", "x-fal-webhook-timestamp"])(
    "refuses a delivery without %s",
    async (name) => {
      const { s, delivery } = await signed();
      const headers = new Headers(delivery.headers);
      headers.delete(name);
      const stripped = new Request(delivery, { headers });
      expect((await providerError(s.provider.verifyWebhook!(stripped))).kind).toBe(
        "input_rejected",
      );
    },
  );

  it("names the request from the header when the body has no request_id", async () => {
    const { s, privateKey } = await signed();
    const delivery = await signedDelivery(privateKey, '{"status":"OK"}', {
      requestId: REQUEST_ID,
      timestamp: NOW / 1000,
    });
    expect((await s.provider.verifyWebhook!(delivery)).upstreamId).toBe(REQUEST_ID);
  });

  it("refuses (as unavailable) while fal's keys cannot be fetched", async () => {
    const { s, delivery } = await signed();
    s.fake.failNext(503, { url: /jwks/, times: 2 });
    expect((await providerError(s.provider.verifyWebhook!(delivery))).kind).toBe("unavailable");
  });

  it("caches the keys for an hour, then fetches them again", async () => {
    const { s, privateKey } = await signed();
    const deliver = async () =>
      s.provider.verifyWebhook!(
        await signedDelivery(privateKey, body, {
          requestId: REQUEST_ID,
          timestamp: s.clock.now / 1000,
        }),
      );
    await deliver();
    s.clock.now += 30 * 60_000;
    await deliver();
    expect(s.fake.requests.filter((r) => r.url.href === JWKS_URL)).toHaveLength(1);
    s.clock.now += 31 * 60_000;
    await deliver();
    expect(s.fake.requests.filter((r) => r.url.href === JWKS_URL)).toHaveLength(2);
  });

  it("picks up a rotated key by refetching, at most once per five minutes", async () => {
    const { s, privateKey } = await signed();
    await s.provider.verifyWebhook!(
      await signedDelivery(privateKey, body, { requestId: REQUEST_ID, timestamp: NOW / 1000 }),
    );
    const rotated = await keyPair();
    s.fake.jwks = [rotated.jwk];
    s.clock.now += 10 * 60_000;
    const delivery = await signedDelivery(rotated.privateKey, body, {
      requestId: REQUEST_ID,
      timestamp: s.clock.now / 1000,
    });
    expect((await s.provider.verifyWebhook!(delivery)).upstreamId).toBe(REQUEST_ID);
    expect(s.fake.requests.filter((r) => r.url.href === JWKS_URL)).toHaveLength(2);
  });
});

describe("the API key", () => {
  it("never appears in errors, logs, response headers or bodies across every call", async () => {
    const logged: string[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        logged.push(
          args.map((a) => (a instanceof Error ? `${a.message} ${a.stack}` : String(a))).join(" "),
        );
      }),
    );
    try {
      const s = setup();
      const echo = (status: number) => () =>
        Response.json(
          { detail: `bad key Key ${KEY} (${KEY})`, error_type: KEY },
          { status, headers: { "x-echo": KEY } },
        );
      const texts: string[] = [];
      const capture = async (promise: Promise<unknown>) => {
        const e = await providerError(promise);
        texts.push(e.message, e.publicMessage, e.detail ?? "", e.stack ?? "");
      };

      s.fake.script({ method: "POST", url: /queue/, respond: echo(422) });
      await capture(s.provider.create(input()));
      s.fake.script({ url: /initiate/, respond: echo(403) });
      await capture(s.provider.create(input()));
      s.fake.script({ url: /status$/, times: 3, respond: echo(500) });
      await capture(s.provider.retrieve("0b7c0001-45d3-4afd-883e-ad3abe2a1c4d"));
      s.fake.script({
        method: "POST",
        url: /queue/,
        respond: () => new Response(`{"request_id":"${KEY}"`),
      });
      await capture(s.provider.create(input()));

      const { upstreamId } = await s.provider.create(input());
      s.fake.finish(upstreamId, {
        kind: "result",
        status: 422,
        body: { detail: [{ msg: `rejected ${KEY}`, type: "image_too_small" }] },
      });
      let state;
      for (let i = 0; i < 5; i++) state = await s.provider.retrieve(upstreamId, { startedAt: NOW });
      texts.push(JSON.stringify(state));

      const id = await completed(s);
      const response = await s.provider.content(id, { variant: "video", range: "bytes=0-9" });
      for (const [name, value] of response.headers) texts.push(`${name}: ${value}`);
      texts.push(new TextDecoder().decode(await response.arrayBuffer()));
      await s.provider.delete!(id);

      for (const text of [...texts, ...logged]) {
        expect(text).not.toContain(KEY);
        expect(text).not.toContain("FAKEFALKEY");
      }
      for (const r of s.fake.requests) expect(r.url.href).not.toContain("FAKEFALKEY");
      expect(state).toMatchObject({ status: "failed", error: { code: "input_rejected" } });
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });

  it("is sent only on requests that refuse to follow redirects", async () => {
    const redirects: string[] = [];
    const { fake } = setup();
    const options = falProviderOptions.parse(KLING_BLOCK);
    const provider = createFalProvider(options, {
      fetch: (input, init) => {
        const request = new Request(input, init);
        if (request.headers.has("authorization")) redirects.push(request.redirect);
        return fake.fetch(request);
      },
      now: () => NOW,
      apiKey: KEY,
    });
    const { upstreamId } = await provider.create(input());
    await provider.retrieve(upstreamId);
    expect(redirects).toEqual(["manual", "manual", "manual"]);
  });
});

describe("FakeFal (the contract fake itself)", () => {
  const auth = { authorization: `Key ${KEY}`, "content-type": "application/json" };
  const fake = () =>
    new FakeFal({ apiKey: KEY, modelPath: KLING, inputs: KLING_INPUTS, required: ["prompt"] });

  it.each([
    ["an undocumented route", `${QUEUE}/fal-ai/kling-video/requests`, { headers: auth }],
    [
      "Bearer auth",
      `${QUEUE}/${KLING}`,
      {
        method: "POST",
        headers: { ...auth, authorization: `Bearer ${KEY}` },
        body: '{"prompt":"p"}',
      },
    ],
    ["the key sent to the CDN", `${CDN}/files/out0001/output.mp4`, { headers: auth }],
    [
      "an unknown input field",
      `${QUEUE}/${KLING}`,
      { method: "POST", headers: auth, body: '{"prompt":"p","seconds":"5"}' },
    ],
    [
      "a numeric duration",
      `${QUEUE}/${KLING}`,
      { method: "POST", headers: auth, body: '{"prompt":"p","duration":5}' },
    ],
    [
      "a wrapped input",
      `${QUEUE}/${KLING}`,
      { method: "POST", headers: auth, body: '{"input":{"prompt":"p"}}' },
    ],
  ])("records and throws on %s", async (_, url, init: RequestInit) => {
    const f = fake();
    await expect(f.fetch(url, init)).rejects.toBeInstanceOf(ContractViolation);
    expect(f.violations).toHaveLength(1);
    expect(() => f.assertClean()).toThrow(/Contract violations/);
  });

  it("answers the result of an unfinished request with fal's 400", async () => {
    const f = fake();
    const created = await f.fetch(`${QUEUE}/${KLING}`, {
      method: "POST",
      headers: auth,
      body: '{"prompt":"p"}',
    });
    const { request_id } = (await created.json()) as { request_id: string };
    const early = await f.fetch(`${QUEUE}/fal-ai/kling-video/requests/${request_id}`, {
      headers: auth,
    });
    expect(early.status).toBe(400);
    f.assertClean();
  });
});
