/**
 * A paid video is never lost: a job nobody polls is finished by its watcher, copied into R2
 * byte for byte, and served from there — ranges, ETags, 304s — after the provider has deleted
 * its own copy. Deleted means deleted: a delete mid-copy leaves nothing behind.
 */
import { runDurableObjectAlarm } from "cloudflare:test";
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { outboxFor } from "../../../worker/events/announce";
import { installBackgroundDeps } from "../../../worker/background/deps";
import type { JobRecord } from "../../../worker/store/jobs";
import { FakeOpenAI } from "../../helpers/fakes/openai";
import { patternBytes } from "../../helpers/fakes/base";
import { RELAY_ROUTE } from "../../fixtures/routes";
import { harness } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

const API_KEY = "sk-test-FAKEKEY-relay-0123456789abcdefghij";
const VIDEO = patternBytes(300 * 1024);
const THUMB = patternBytes(700);

type Video = {
  id: string;
  status: string;
  expires_at: number;
  content_variants: string[] | null;
};

function setup(options: { pollsToComplete?: number } = {}) {
  const fake = new FakeOpenAI({
    apiKey: API_KEY,
    pollsToComplete: options.pollsToComplete ?? 1,
    media: media(),
  });
  const h = harness({ routes: [RELAY_ROUTE], fetch: fake.fetch, vars: { RELAY_KEY: API_KEY } });
  return { fake, h };
}

/** The provider's files: a video and a thumbnail that sniff as what they are; no spritesheet. */
const media = () => ({
  video: { bytes: mp4(VIDEO), type: "video/mp4" },
  thumbnail: { bytes: webp(THUMB), type: "image/webp" },
});

/** Bytes that sniff as the expected type (media-type.ts checks the leading signature). */
function mp4(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body);
  out.set([0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d]); // ....ftypisom
  return out;
}
function webp(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(body);
  out.set([0x52, 0x49, 0x46, 0x46, 0, 0, 0, 0, 0x57, 0x45, 0x42, 0x50]); // RIFF....WEBP
  return out;
}

async function create(h: ReturnType<typeof harness>): Promise<Video> {
  const response = await h.server("/v1/videos", post(createForm({ model: "relay" })));
  expect(response.status).toBe(200);
  return (await response.json()) as Video;
}

async function stored(h: ReturnType<typeof harness>, id: string): Promise<JobRecord> {
  return (await h.env.JOBS.get(`v1:job:${id}`, "json")) as JobRecord;
}

const contentCalls = (fake: FakeOpenAI) =>
  fake.requests.filter((r) => r.path.endsWith("/content")).length;

afterEach(() => installBackgroundDeps(null));

const HOOK_URL = "https://hooks.shop.example/stillmotion";
const HOOK_SECRET = `whsec_${btoa("durable-HOOK-secret-Qw3Er5Ty7Ui9Op1As")}`;

describe("a job nobody polls, announced", () => {
  function announcing() {
    const fake = new FakeOpenAI({ apiKey: API_KEY, pollsToComplete: 1, media: media() });
    // Read where it arrives: a body belongs to the object that sent it (the outbox).
    const received: Array<{ body: string; headers: Record<string, string> }> = [];
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const request = new Request(input, init);
      if (!request.url.startsWith(HOOK_URL)) return fake.fetch(request);
      received.push({ body: await request.text(), headers: Object.fromEntries(request.headers) });
      return new Response(null, { status: 204 });
    };
    const endpoints = [{ url: HOOK_URL, secret: "HOOK_SECRET", events: ["video.completed"] }];
    const h = harness({
      routes: [RELAY_ROUTE],
      fetch,
      vars: { RELAY_KEY: API_KEY, HOOK_SECRET, EVENT_ENDPOINTS: JSON.stringify(endpoints) },
    });
    return { h, received };
  }

  it("is not sent once the video is deleted, whatever was queued", async () => {
    const { h, received } = announcing();
    const video = await create(h);
    h.advance(61_000);
    await h.runAlarm(video.id); // finished and announced: the event waits in the outbox
    expect((await h.server(`/v1/videos/${video.id}`, { method: "DELETE" })).status).toBe(200);
    await runDurableObjectAlarm(outboxFor(h.env, HOOK_URL));
    expect(received).toEqual([]);
  });

  it("reaches the owner as one signed event that verifies, and a tampered one does not", async () => {
    const { h, received } = announcing();
    const video = await create(h);
    h.advance(61_000);
    await h.runAlarm(video.id); // finished, copied, announced (enqueued)
    await h.runAlarm(video.id); // the retention alarm: announcing twice would be a bug
    expect(received).toHaveLength(0); // enqueued only: delivery is the outbox's own work
    await runDurableObjectAlarm(outboxFor(h.env, HOOK_URL));
    expect(received).toHaveLength(1);
    const { body, headers } = received[0]!;
    const event = new Webhook(HOOK_SECRET).verify(body, headers) as {
      type: string;
      data: { id: string; status: string; owner: unknown; content_variants: string[] };
    };
    expect(event.type).toBe("video.completed");
    expect(event.data).toMatchObject({
      id: video.id,
      status: "completed",
      owner: { server_key: "backend" },
      content_variants: ["video", "thumbnail"],
    });
    expect(() =>
      new Webhook(HOOK_SECRET).verify(body.replace("completed", "failed"), headers),
    ).toThrow();
    // Nothing left to send: another alarm delivers nothing new.
    await runDurableObjectAlarm(outboxFor(h.env, HOOK_URL));
    expect(received).toHaveLength(1);
  });
});

describe("a job nobody polls", () => {
  it("is looked at once the provider could have finished, finished, copied and kept", async () => {
    const { fake, h } = setup();
    const video = await create(h);
    // First look: after the route's expected time (no typical_seconds: a minute), not at once.
    expect(await h.nextAlarmIn(video.id)).toBe(61_000);
    const polls = () =>
      fake.requests.filter((r) => r.method === "GET" && !r.path.endsWith("/content")).length;
    expect(polls()).toBe(0);

    h.advance(61_000);
    // One alarm sees it complete and does the rest: settle, copy (and announce, if configured).
    expect(await h.runAlarm(video.id)).toBe(true);
    const record = await stored(h, video.id);
    expect(record.status).toBe("completed");
    expect(record.result?.variants.video?.size).toBe(VIDEO.byteLength);
    expect(record.result?.variants.thumbnail?.size).toBe(THUMB.byteLength);
    expect(record.result?.variants.spritesheet).toBeUndefined();
    expect(record.spend_settled).toBe(true);
    // Retention is ours: 30 days from the copy, and the record lives as long.
    const nowS = Math.floor(h.clock.ms / 1000);
    expect(record.result!.expires_at).toBe(nowS + 30 * 86_400);
    expect(record.record_expires_at).toBe(record.result!.expires_at);
    // What is left is the retention alarm.
    expect(await h.nextAlarmIn(video.id)).toBe(30 * 86_400_000);
    expect(polls()).toBe(1);

    const shown = (await (await h.server(`/v1/videos/${video.id}`)).json()) as Video;
    expect(shown.content_variants).toEqual(["video", "thumbnail"]);
    expect(shown.expires_at).toBe(record.result!.expires_at);
    fake.assertClean();
  });

  it("still plays and seeks from our copy after the provider deleted its own", async () => {
    const { fake, h } = setup();
    const video = await create(h);
    h.advance(61_000);
    await h.runAlarm(video.id);
    fake.videos.clear(); // the provider's retention ran out
    const before = contentCalls(fake);
    const get = (headers: Record<string, string> = {}, query = "") =>
      h.server(`/v1/videos/${video.id}/content${query}`, { headers });

    const whole = await get();
    expect(whole.status).toBe(200);
    expect(whole.headers.get("content-type")).toBe("video/mp4");
    expect(whole.headers.get("accept-ranges")).toBe("bytes");
    expect(whole.headers.get("content-length")).toBe(String(VIDEO.byteLength));
    expect(new Uint8Array(await whole.arrayBuffer())).toEqual(mp4(VIDEO));
    const etag = whole.headers.get("etag")!;
    expect(etag).toMatch(/^"/);

    const first = await get({ range: "bytes=0-99" });
    expect(first.status).toBe(206);
    expect(first.headers.get("content-range")).toBe(`bytes 0-99/${VIDEO.byteLength}`);
    expect(new Uint8Array(await first.arrayBuffer())).toEqual(mp4(VIDEO).slice(0, 100));

    const middle = await get({ range: "bytes=150000-150009" });
    expect(middle.status).toBe(206);
    expect(new Uint8Array(await middle.arrayBuffer())).toEqual(VIDEO.slice(150000, 150010));

    const suffix = await get({ range: "bytes=-10" });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(VIDEO.slice(-10));

    const beyond = await get({ range: `bytes=${VIDEO.byteLength}-` });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${VIDEO.byteLength}`);

    const unchanged = await get({ "if-none-match": etag });
    expect(unchanged.status).toBe(304);
    expect(await unchanged.text()).toBe("");

    // If-Range with another validator: the whole file, never a splice of two.
    const stale = await get({ range: "bytes=0-9", "if-range": '"something-else"' });
    expect(stale.status).toBe(200);
    expect((await stale.arrayBuffer()).byteLength).toBe(VIDEO.byteLength);
    const fresh = await get({ range: "bytes=0-9", "if-range": etag });
    expect(fresh.status).toBe(206);
    await fresh.arrayBuffer();

    const saved = await get({}, "?download=1");
    expect(saved.headers.get("content-disposition")).toBe(`attachment; filename="${video.id}.mp4"`);
    await saved.arrayBuffer();
    const thumb = await get({}, "?variant=thumbnail");
    expect(thumb.headers.get("content-type")).toBe("image/webp");
    expect(new Uint8Array(await thumb.arrayBuffer())).toEqual(webp(THUMB));

    const unclear = await get({}, "?download=maybe");
    expect(unclear.status).toBe(400);
    expect(((await unclear.json()) as { error: { param: string } }).error.param).toBe("download");
    // A variant the provider never made is a clear 404, not a provider round trip.
    const sprite = await get({}, "?variant=spritesheet");
    expect(sprite.status).toBe(404);
    expect(((await sprite.json()) as { error: { code: string } }).error.code).toBe(
      "content_not_found",
    );
    expect(contentCalls(fake)).toBe(before); // never asked the provider again
  });

  it("writes KV only when its state changes, however often it is polled", async () => {
    const { h } = setup();
    const puts: string[] = [];
    const kv = h.env.JOBS;
    // The watcher works with the harness's env object, so it writes through this too.
    h.env.JOBS = new Proxy(kv, {
      get: (target, prop) =>
        prop === "put"
          ? (key: string, ...rest: unknown[]) => {
              puts.push(key.split(":")[1]!);
              return (target.put as (...a: unknown[]) => Promise<void>)(key, ...rest);
            }
          : (Reflect.get(target, prop) as (...a: unknown[]) => unknown).bind(target),
    });
    const video = await create(h);
    expect(puts).toEqual(["job", "owner"]); // created
    for (let i = 0; i < 5; i++) await h.server(`/v1/videos/${video.id}`); // before it is due
    h.advance(61_000);
    for (let i = 0; i < 5; i++) await h.server(`/v1/videos/${video.id}`); // one sees it finish
    await h.runAlarm(video.id); // copied: the expiry moves, so the index entry moves with it
    for (let i = 0; i < 5; i++) {
      h.advance(10_000);
      await h.server(`/v1/videos/${video.id}`);
      await (await h.server(`/v1/videos/${video.id}/content`)).arrayBuffer();
    }
    expect(puts).toEqual(["job", "owner", "job", "job", "owner"]);
  });

  it("stays in its owner's list as long as our copy is kept", async () => {
    const { h } = setup();
    const video = await create(h);
    h.advance(61_000);
    await h.runAlarm(video.id);
    const owner = (await h.env.JOBS.list({ prefix: "v1:owner:" })).keys[0]!;
    const record = await stored(h, video.id);
    // Listed with the record's new expiry, not the job TTL's 7 days.
    expect(owner.expiration).toBeGreaterThanOrEqual(Math.floor(Date.now() / 1000) + 29 * 86_400);
    expect(record.record_expires_at).toBe(record.result!.expires_at);
  });

  it("retries a video the provider does not have yet, never recording it as missing", async () => {
    const { fake, h } = setup();
    const video = await create(h);
    h.advance(61_000);
    fake.failNext(404, { path: /\/content$/ }); // just finished: the file is not there yet
    await h.runAlarm(video.id);
    expect((await stored(h, video.id)).result).toBeUndefined();
    expect(await h.nextAlarmIn(video.id)).toBe(30_000);
    await h.runAlarm(video.id);
    const record = await stored(h, video.id);
    expect(Object.keys(record.result!.variants)).toEqual(["video", "thumbnail"]);
    expect(record.spend_settled).toBe(true); // settled before the copy, not after it
  });

  it("is served from the provider until the copy exists", async () => {
    const { fake, h } = setup();
    const video = await create(h);
    h.advance(61_000);
    // A poll sees it finish; the copy is the watcher's next alarm, not yet run.
    expect(((await (await h.server(`/v1/videos/${video.id}`)).json()) as Video).status).toBe(
      "completed",
    );
    expect(await h.nextAlarmIn(video.id)).toBe(0);
    const response = await h.server(`/v1/videos/${video.id}/content`, {
      headers: { range: "bytes=0-9" },
    });
    expect(response.status).toBe(206);
    await response.arrayBuffer();
    expect(contentCalls(fake)).toBe(1);
    expect((await stored(h, video.id)).result).toBeUndefined();
  });
});

describe("deleting", () => {
  it("removes our copies and the watcher's state at once", async () => {
    const { h } = setup();
    const video = await create(h);
    h.advance(61_000);
    await h.runAlarm(video.id);
    expect((await h.env.RESULTS.list({ prefix: `v1/${video.id}/` })).objects).toHaveLength(2);
    expect((await h.server(`/v1/videos/${video.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await h.env.RESULTS.list({ prefix: `v1/${video.id}/` })).objects).toHaveLength(0);
    expect(await h.nextAlarmIn(video.id)).toBeNull();
    expect(await h.runAlarm(video.id)).toBe(false);
  });

  it("mid-copy leaves nothing behind", async () => {
    const { fake, h } = setup();
    const video = await create(h);
    h.advance(61_000);
    await h.server(`/v1/videos/${video.id}`); // a poll sees it finish; the alarm will copy
    // The thumbnail download hangs: the copy is in flight when the delete arrives.
    // A flag, not a promise: the copy runs in the watcher object, and a promise made here and
    // awaited there would cross request contexts (workerd forbids it).
    let held = true;
    fake.script({
      path: /\/content$/,
      times: 2,
      respond: async (r) => {
        if (r.url.searchParams.get("variant") === "thumbnail") {
          while (held) await new Promise((resolve) => setTimeout(resolve, 5));
        }
        return new Response(
          r.url.searchParams.get("variant") === "thumbnail" ? webp(THUMB) : mp4(VIDEO),
          {
            headers: { "content-type": "application/octet-stream" },
          },
        );
      },
    });
    const copying = h.runAlarm(video.id);
    await until(
      async () => (await h.env.RESULTS.list({ prefix: `v1/${video.id}/` })).objects.length === 1,
    );
    expect((await h.server(`/v1/videos/${video.id}`, { method: "DELETE" })).status).toBe(200);
    held = false;
    await copying;
    expect((await h.env.RESULTS.list({ prefix: `v1/${video.id}/` })).objects).toHaveLength(0);
    expect((await h.server(`/v1/videos/${video.id}`)).status).toBe(404);
    expect(await h.nextAlarmIn(video.id)).toBeNull();
  });
});

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error("the condition never held");
}
