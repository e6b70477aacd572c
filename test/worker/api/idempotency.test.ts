/**
 * `Idempotency-Key` on create and remix: a retry returns the first job without asking the
 * provider again; another body under the key is a 409; so is a retry while the first request is
 * still running; a create that made no job frees its key.
 */
import { describe, expect, it } from "vitest";
import { FakeOpenAI } from "../../helpers/fakes/openai";
import {
  harness,
  OTHER_SERVER_KEY,
  SIM_ROUTE,
  todayUtcAt,
  type Harness,
} from "../../helpers/harness";
import { usageOn, withoutBrakes } from "../../helpers/ledger";
import { createForm, images, post, type CreateFields } from "../../helpers/requests";

const API_KEY = "sk-test-FAKEKEY-relay-0123456789abcdefghij";
const RELAY = {
  ...SIM_ROUTE,
  id: "relay",
  provider: { type: "openai", base_url: "https://relay.example.test/v1", api_key_secret: "K" },
  upstream_model: "sora-2",
  price_per_second_usd: 0.1,
};
const NOON = todayUtcAt(12);

interface Envelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}
type Video = { id: string; status: string };

function relay(
  vars: Record<string, string> = {},
  fetch?: (f: FakeOpenAI) => typeof globalThis.fetch,
) {
  const fake = new FakeOpenAI({ apiKey: API_KEY, pollsToComplete: 2 });
  const h = harness({
    clock: { ms: NOON },
    routes: [RELAY],
    fetch: fetch?.(fake) ?? fake.fetch,
    vars: { K: API_KEY, ...vars },
  });
  const creates = () => fake.requests.filter((r) => r.method === "POST" && r.path === "/videos");
  return { fake, h, creates };
}

function create(h: Harness, key: string | null, fields: CreateFields = {}, token?: string) {
  const init = post(createForm(fields));
  if (key !== null) init.headers = { "idempotency-key": key };
  return token ? h.as(token, "/v1/videos", init) : h.server("/v1/videos", init);
}

async function expectError(response: Response, status: number, code: string) {
  expect(response.status).toBe(status);
  const { error } = (await response.json()) as Envelope;
  expect(error.code).toBe(code);
  return error;
}

describe("Idempotency-Key on POST /v1/videos", () => {
  it("returns the first job for a retry with the same key and body, asking the provider once", async () => {
    const { h, creates } = relay();
    const first = await create(h, "key-1");
    expect(first.status).toBe(200);
    const video = (await first.json()) as Video;
    expect(first.headers.get("idempotent-replayed")).toBeNull();

    const again = await create(h, "key-1");
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotent-replayed")).toBe("true");
    expect(((await again.json()) as Video).id).toBe(video.id);

    // The same request as JSON with the image as a data: URL is the same request.
    const b64 = btoa(String.fromCharCode(...images.landscapeJpeg));
    const json = await h.server("/v1/videos", {
      method: "POST",
      headers: { "content-type": "application/json", "idempotency-key": "key-1" },
      body: JSON.stringify({
        prompt: "a slow dolly in on the lighthouse",
        input_reference: { image_url: `data:image/jpeg;base64,${b64}` },
      }),
    });
    expect(((await json.json()) as Video).id).toBe(video.id);

    expect(creates()).toHaveLength(1);
    expect((await usageOn(NOON)).global).toEqual({ microUsd: 400_000, count: 1 });
  });

  it("starts a new job for every create without a key", async () => {
    const { h, creates } = relay();
    const a = (await (await create(h, null)).json()) as Video;
    const b = (await (await create(h, null)).json()) as Video;
    expect(a.id).not.toBe(b.id);
    expect(creates()).toHaveLength(2);
  });

  it.each([
    ["prompt", { prompt: "another prompt" }],
    ["seconds", { seconds: "8" }],
    ["image", { image: images.portraitWebp, imageType: "image/webp" }],
  ])("answers 409 idempotency_key_reused when the %s differs", async (_, fields) => {
    const { h, creates } = relay();
    expect((await create(h, "key-1")).status).toBe(200);
    const response = await create(h, "key-1", fields);
    expect(response.headers.get("x-should-retry")).toBe("false");
    const error = await expectError(response, 409, "idempotency_key_reused");
    expect(error).toMatchObject({ type: "conflict_error", param: null });
    expect(error.message).toMatch(/different request\. Use a new key/);
    expect(creates()).toHaveLength(1);
  });

  it("keeps each caller's keys apart", async () => {
    const { h, creates } = relay();
    const mine = (await (await create(h, "key-1")).json()) as Video;
    const init = { ...post(createForm()), headers: { "idempotency-key": "key-1" } };
    const theirs = await h.as(OTHER_SERVER_KEY, "/v1/videos", init);
    expect(theirs.status).toBe(200);
    expect(((await theirs.json()) as Video).id).not.toBe(mine.id);
    expect(creates()).toHaveLength(2);
  });

  it("answers 409 idempotency_request_in_progress with Retry-After 1 while the first runs", async () => {
    let reached!: () => void;
    let release!: () => void;
    const arrived = new Promise<void>((resolve) => (reached = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const { h, creates } = relay({}, (fake) => async (input, init) => {
      const request = new Request(input, init);
      if (request.method === "POST") {
        reached();
        await gate;
      }
      return fake.fetch(request);
    });

    const first = create(h, "key-1");
    await arrived;
    const during = await create(h, "key-1");
    expect(during.headers.get("retry-after")).toBe("1");
    await expectError(during, 409, "idempotency_request_in_progress");
    release();
    const video = (await (await first).json()) as Video;
    expect(((await (await create(h, "key-1")).json()) as Video).id).toBe(video.id);
    expect(creates()).toHaveLength(1);
  });

  it("frees the key when the create failed before a job existed, so the retry goes through", async () => {
    const { fake, h, creates } = relay();
    fake.failNext(503, { method: "POST", path: "/videos" });
    await expectError(await create(h, "key-1"), 503, "provider_unavailable");
    const retry = await create(h, "key-1");
    expect(retry.status).toBe(200);
    expect(creates()).toHaveLength(2);
    expect((await usageOn(NOON)).global).toEqual({ microUsd: 400_000, count: 1 });
  });

  it("returns the first job even when the cap is reached since", async () => {
    const { h } = relay({ SPEND_CAP_GLOBAL_USD_PER_DAY: "0.40" });
    const video = (await (await create(h, "key-1")).json()) as Video;
    expect((await create(h, "key-2")).status).toBe(429);
    expect(((await (await create(h, "key-1")).json()) as Video).id).toBe(video.id);
  });

  it("answers 404 when the job the key made has been deleted", async () => {
    const { h } = relay();
    const video = (await (await create(h, "key-1")).json()) as Video;
    await h.server(`/v1/videos/${video.id}`, { method: "DELETE" });
    const error = await expectError(await create(h, "key-1"), 404, "not_found");
    expect(error.message).toMatch(/no longer exists.*new key/);
  });

  it("forgets a key after 24 hours", async () => {
    const { h, creates } = relay();
    await create(h, "key-1");
    h.advance(24 * 3_600_000 + 1000);
    expect((await create(h, "key-1", { prompt: "another prompt" })).status).toBe(200);
    expect(creates()).toHaveLength(2);
  });

  it.each([
    ["an empty key", ""],
    ["256 characters", "k".repeat(256)],
    ["a space", "my key"],
    ["a tab", "my\tkey"],
    ["a control character", "my\x7fkey"],
  ])("refuses %s with 400 invalid_idempotency_key, before anything is spent", async (_, key) => {
    const { h, creates } = relay();
    const error = await expectError(await create(h, key), 400, "invalid_idempotency_key");
    expect(error.param).toBeNull();
    expect(creates()).toHaveLength(0);
    expect(await usageOn(NOON)).toEqual({});
  });

  it("accepts 255 visible ASCII characters", async () => {
    const { h } = relay();
    expect((await create(h, "~!".repeat(127) + "Z")).status).toBe(200);
  });
});

describe("Idempotency-Key on POST /v1/videos/{id}/remix", () => {
  const remix = (h: Harness, id: string, key: string, prompt = "the same, at night") =>
    h.server(`/v1/videos/${id}/remix`, {
      ...post({ prompt }),
      headers: { "content-type": "application/json", "idempotency-key": key },
    });

  it("replays a remix, and refuses a create's key for a remix", async () => {
    const h = harness({ clock: { ms: NOON } });
    withoutBrakes(h);
    const source = (await (await create(h, "create-1")).json()) as Video;
    h.advance(11_000);
    expect(((await (await h.server(`/v1/videos/${source.id}`)).json()) as Video).status).toBe(
      "completed",
    );
    const first = (await (await remix(h, source.id, "remix-1")).json()) as Video;
    const again = await remix(h, source.id, "remix-1");
    expect(((await again.json()) as Video).id).toBe(first.id);
    await expectError(await remix(h, source.id, "remix-1", "other"), 409, "idempotency_key_reused");
    await expectError(await remix(h, source.id, "create-1"), 409, "idempotency_key_reused");
    expect((await usageOn(NOON))["key:backend"]!.count).toBe(2);
  });
});
