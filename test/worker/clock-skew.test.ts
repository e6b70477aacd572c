/**
 * The guard against tests (and deployments) that depend on the date: whole flows run with the
 * worker's clock a year ahead of and a year behind the real clock that KV, the ledger's storage
 * and the Rate Limiting bindings go by. Anything the worker derives from its clock and hands to
 * a real service as an absolute time (a KV `expiration`, an alarm, a token checked by a library
 * against `Date.now()`) makes these fail, whatever the date they run on.
 */
import { describe, expect, it } from "vitest";
import { REPLICATE_ROUTE } from "../fixtures/routes";
import { FakeReplicate } from "../helpers/fakes/replicate";
import { harness, ORIGIN, SIM_ROUTE, SITES, testClock, type Harness } from "../helpers/harness";
import { usageOn, withoutBrakes } from "../helpers/ledger";
import { createForm, post } from "../helpers/requests";

const YEAR_MS = 365 * 86_400_000;
const PAID = { ...SIM_ROUTE, id: "paid", price_per_second_usd: 0.1 };
const REPLICATE_KEY = "r8_test_FAKEKEY_clockskew_0123456789abcdef";
const WEBHOOK_SECRET = `whsec_${btoa("clock-skew-webhook-secret-0123456789")}`;

type Video = {
  id: string;
  status: string;
  created_at: number;
  content_urls: { video: string; thumbnail: string } | null;
};

const body = async <T>(response: Response, status = 200): Promise<T> => {
  expect(response.status, await response.clone().text()).toBe(status);
  return (await response.json()) as T;
};

/** A signed media URL as a path the harness can call (no credentials but the URL's token). */
const pathOf = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

async function pollUntilDone(h: Harness, id: string, token?: string): Promise<Video> {
  for (let i = 0; i < 20; i++) {
    h.advance(1000);
    const response = token
      ? await h.asVisitor(token, `/v1/videos/${id}`)
      : await h.server(`/v1/videos/${id}`);
    const video = await body<Video>(response);
    if (video.status === "completed") return video;
  }
  throw new Error(`video ${id} never completed`);
}

describe.each([
  ["a year ahead of", YEAR_MS],
  ["a year behind", -YEAR_MS],
])("with the worker's clock %s the real clock", (_, offsetMs) => {
  it("creates, polls, lists, streams, remixes and deletes a paid job with an Idempotency-Key", async () => {
    const clock = testClock(offsetMs);
    const h = harness({ clock, routes: [PAID], vars: { SPEND_CAP_GLOBAL_USD_PER_DAY: "5" } });
    withoutBrakes(h);
    const init = { ...post(createForm({ model: "paid" })), headers: { "idempotency-key": "k1" } };
    const created = await body<Video>(await h.server("/v1/videos", init));
    expect(created.created_at).toBe(Math.floor(clock.ms / 1000));
    const replay = await body<Video>(
      await h.server("/v1/videos", {
        ...post(createForm({ model: "paid" })),
        headers: init.headers,
      }),
    );
    expect(replay.id).toBe(created.id);
    expect((await usageOn(clock.ms)).global).toEqual({ microUsd: 400_000, count: 1 });

    const done = await pollUntilDone(h, created.id);
    const list = await body<{ data: Video[] }>(await h.server("/v1/videos"));
    expect(list.data.map((v) => v.id)).toEqual([created.id]);

    const media = await h.call(pathOf(done.content_urls!.video), {
      headers: { range: "bytes=0-99" },
    });
    expect(media.status).toBe(206);
    expect((await media.arrayBuffer()).byteLength).toBe(100);
    expect((await h.server(`/v1/videos/${created.id}/content?variant=thumbnail`)).status).toBe(200);

    const remix = await body<Video>(
      await h.server(`/v1/videos/${created.id}/remix`, post({ prompt: "now at dusk" })),
    );
    await pollUntilDone(h, remix.id);

    expect((await h.server(`/v1/videos/${created.id}`, { method: "DELETE" })).status).toBe(200);
    expect((await h.server(`/v1/videos/${created.id}`)).status).toBe(404);
  });

  it("starts a visitor session, renews it, and lets the visitor create and watch", async () => {
    const h = harness({ clock: testClock(offsetMs) });
    const origin = SITES[0]!.origins[0]!;
    const first = await h.session();
    expect(first.expires_at).toBeGreaterThan(Math.floor(h.clock.ms / 1000));
    const created = await body<Video>(
      await h.as(first.token, "/v1/videos", { ...post(createForm()), headers: { origin } }),
    );
    const done = await pollUntilDone(h, created.id, first.token);
    expect((await h.call(pathOf(done.content_urls!.video))).status).toBe(200);

    const renewed = await body<{ token: string; visitor_id: string }>(
      await h.call("/v1/sessions", {
        method: "POST",
        headers: {
          "content-type": "application/json",
          authorization: `Bearer ${first.token}`,
          origin,
        },
        body: JSON.stringify({ site_key: SITES[0]!.publishable_key }),
      }),
    );
    expect(renewed.visitor_id).toBe(first.visitor_id);
    expect((await h.asVisitor(renewed.token, `/v1/videos/${created.id}`)).status).toBe(200);
  });

  it("accepts a provider's signed webhook stamped by the same clock, and refuses a stale one", async () => {
    const clock = testClock(offsetMs);
    const fake = new FakeReplicate({
      apiKey: REPLICATE_KEY,
      pollsToComplete: 3,
      now: () => clock.ms,
    });
    const h = harness({
      clock,
      routes: [REPLICATE_ROUTE],
      fetch: fake.fetch,
      vars: { REPLICATE_API_TOKEN: REPLICATE_KEY, REPLICATE_WEBHOOK_SECRET: WEBHOOK_SECRET },
    });
    const created = await body<Video>(
      await h.server("/v1/videos", post(createForm({ model: "veo-replicate" }))),
    );
    const upstreamId = [...fake.predictions.keys()][0]!;
    const url = `${ORIGIN}/webhooks/veo-replicate`;
    const stale = await fake.signedDelivery(url, upstreamId, {
      secret: WEBHOOK_SECRET,
      timestamp: Math.floor(clock.ms / 1000) - 600,
    });
    expect((await h.call("/webhooks/veo-replicate", stale)).status).toBe(401);
    const fresh = await fake.signedDelivery(url, upstreamId, { secret: WEBHOOK_SECRET });
    expect((await h.call("/webhooks/veo-replicate", fresh)).status).toBe(200);
    expect((await body<Video>(await h.server(`/v1/videos/${created.id}`))).status).not.toBe(
      "queued",
    );
  });
});
