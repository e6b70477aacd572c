/**
 * `POST /webhooks/{route_id}` through the whole worker, with Replicate's contract fake: a
 * verified delivery re-reads the job from the provider and stores it; tampered, stale and
 * wrongly signed deliveries are refused; a replay — even copies racing in together — is acted on
 * once; each route verifies with its own secret and moves only its own jobs. Also: one
 * provider's outage never touches another route's jobs.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FakeReplicate } from "../../helpers/fakes/replicate";
import { REPLICATE_ROUTE } from "../../fixtures/routes";
import { harness, ORIGIN, SIM_ROUTE, testClock } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

const KEY = "r8_FAKEKEY0123456789abcdefghijKLMNOP";
const SECRET = `whsec_${btoa("a-very-secret-signing-key-0123456789")}`;

function setup() {
  const clock = testClock();
  const fake = new FakeReplicate({ apiKey: KEY, pollsToComplete: 3, now: () => clock.ms });
  const h = harness({
    clock,
    routes: [REPLICATE_ROUTE, SIM_ROUTE],
    fetch: fake.fetch,
    vars: { REPLICATE_API_TOKEN: KEY, REPLICATE_WEBHOOK_SECRET: SECRET },
  });
  return { fake, h };
}

async function createJob(h: ReturnType<typeof setup>["h"], model: string) {
  const response = await h.server("/v1/videos", post(createForm({ model })));
  expect(response.status).toBe(200);
  return (await response.json()) as { id: string; status: string };
}

const polls = (fake: FakeReplicate, upstreamId?: string) =>
  fake.requests.filter(
    (r) =>
      r.method === "GET" &&
      r.url.pathname.startsWith("/v1/predictions/") &&
      (!upstreamId || r.url.pathname.endsWith(`/${upstreamId}`)),
  ).length;

const HOOK = "/webhooks/veo-replicate";
const HOOK_URL = `${ORIGIN}${HOOK}`;

describe("POST /webhooks/{route_id}", () => {
  it("asks the provider to call this deployment's webhook URL for the route", async () => {
    const { fake, h } = setup();
    await createJob(h, "veo-replicate");
    expect(fake.requests[0]!.json).toMatchObject({ webhook: HOOK_URL });
  });

  it("re-reads the job from the provider on a verified delivery and stores the change", async () => {
    const { fake, h } = setup();
    const video = await createJob(h, "veo-replicate");
    const upstreamId = [...fake.predictions.keys()][0]!;
    const delivery = await fake.signedDelivery(HOOK_URL, upstreamId, { secret: SECRET });
    const response = await h.call(HOOK, delivery);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: true });
    expect(polls(fake)).toBe(1);
    const stored = (await env.JOBS.get(`v1:job:${video.id}`, "json")) as { status: string };
    expect(stored.status).toBe("in_progress");
    fake.assertClean();
  });

  it("acknowledges a replayed delivery without asking the provider again", async () => {
    const { fake, h } = setup();
    await createJob(h, "veo-replicate");
    const upstreamId = [...fake.predictions.keys()][0]!;
    const first = await fake.signedDelivery(HOOK_URL, upstreamId, { secret: SECRET, msgId: "m1" });
    const again = await fake.signedDelivery(HOOK_URL, upstreamId, { secret: SECRET, msgId: "m1" });
    expect((await h.call(HOOK, first)).status).toBe(200);
    const replay = await h.call(HOOK, again);
    expect(await replay.json()).toEqual({ received: true, duplicate: true });
    expect(polls(fake)).toBe(1);
  });

  it("acts on exactly one of several copies of a delivery sent at the same time", async () => {
    const { fake, h } = setup();
    await createJob(h, "veo-replicate");
    const upstreamId = [...fake.predictions.keys()][0]!;
    const copies = await Promise.all(
      Array.from({ length: 6 }, () =>
        fake.signedDelivery(HOOK_URL, upstreamId, { secret: SECRET, msgId: "msg_race" }),
      ),
    );
    const answers = await Promise.all(
      copies.map(async (copy) => (await h.call(HOOK, copy)).json()),
    );
    expect(answers.filter((a) => JSON.stringify(a) === '{"received":true}')).toHaveLength(1);
    expect(answers.filter((a) => (a as { duplicate?: boolean }).duplicate)).toHaveLength(5);
    expect(polls(fake)).toBe(1);
  });

  it("refuses tampered, stale and wrongly signed deliveries with 401 and does nothing", async () => {
    const { fake, h } = setup();
    await createJob(h, "veo-replicate");
    const upstreamId = [...fake.predictions.keys()][0]!;

    const genuine = await fake.signedDelivery(HOOK_URL, upstreamId, { secret: SECRET });
    const tampered = new Request(genuine, {
      body: (await genuine.text()).replace("starting", "succeeded"),
    });
    const stale = await fake.signedDelivery(HOOK_URL, upstreamId, {
      secret: SECRET,
      timestamp: Math.floor(h.clock.ms / 1000) - 600,
    });
    const forged = await fake.signedDelivery(HOOK_URL, upstreamId, {
      secret: `whsec_${btoa("not-the-secret-at-all")}`,
    });
    const unsigned = new Request(HOOK_URL, { method: "POST", body: "{}" });
    for (const delivery of [tampered, stale, forged, unsigned]) {
      const response = await h.call(HOOK, delivery);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        "invalid_signature",
      );
    }
    expect(polls(fake)).toBe(0);
  });

  it("answers 404 for a route that is unknown or receives no webhooks", async () => {
    const { h } = setup();
    for (const path of ["/webhooks/sim", "/webhooks/nope", "/webhooks/replicate"]) {
      const response = await h.call(path, { method: "POST", body: "{}" });
      expect(response.status, path).toBe(404);
    }
  });

  it("gives a delivery back when the provider cannot be asked, so its retry is acted on", async () => {
    const { fake, h } = setup();
    const video = await createJob(h, "veo-replicate");
    const upstreamId = [...fake.predictions.keys()][0]!;
    const send = async () =>
      h.call(HOOK, await fake.signedDelivery(HOOK_URL, upstreamId, { secret: SECRET, msgId: "m" }));
    fake.failNext(500, { method: "GET", times: 3 });
    const failed = await send();
    expect(failed.status).toBe(503);
    expect(failed.headers.get("retry-after")).toBe("30");
    const retried = await send();
    expect(await retried.json()).toEqual({ received: true });
    const stored = (await env.JOBS.get(`v1:job:${video.id}`, "json")) as { status: string };
    expect(stored.status).toBe("in_progress");
  });
});

describe("webhooks for two routes of one provider", () => {
  const OTHER_SECRET = `whsec_${btoa("the-eu-route-signs-with-this-0123456")}`;
  const EU_ROUTE = {
    ...REPLICATE_ROUTE,
    id: "veo-replicate-eu",
    label: "Veo 3.1 (Replicate, EU account)",
    provider: { ...REPLICATE_ROUTE.provider, webhook_secret_secret: "REPLICATE_EU_WEBHOOK_SECRET" },
  };

  function twoRoutes() {
    const clock = testClock();
    const fake = new FakeReplicate({ apiKey: KEY, pollsToComplete: 3, now: () => clock.ms });
    const h = harness({
      clock,
      routes: [REPLICATE_ROUTE, EU_ROUTE],
      fetch: fake.fetch,
      vars: {
        REPLICATE_API_TOKEN: KEY,
        REPLICATE_WEBHOOK_SECRET: SECRET,
        REPLICATE_EU_WEBHOOK_SECRET: OTHER_SECRET,
      },
    });
    return { fake, h };
  }

  it("verifies each route's deliveries with that route's own secret", async () => {
    const { fake, h } = twoRoutes();
    await createJob(h, "veo-replicate");
    await createJob(h, "veo-replicate-eu");
    const [first, second] = [...fake.predictions.keys()] as [string, string];
    expect(fake.requests.filter((r) => r.method === "POST").map((r) => r.json)).toMatchObject([
      { webhook: HOOK_URL },
      { webhook: `${ORIGIN}/webhooks/veo-replicate-eu` },
    ]);
    const eu = `${ORIGIN}/webhooks/veo-replicate-eu`;
    const genuine = await fake.signedDelivery(eu, second, { secret: OTHER_SECRET });
    expect((await h.call("/webhooks/veo-replicate-eu", genuine)).status).toBe(200);
    expect(polls(fake, second)).toBe(1);
    const mine = await fake.signedDelivery(HOOK_URL, first, { secret: SECRET });
    expect((await h.call(HOOK, mine)).status).toBe(200);
    expect(polls(fake, first)).toBe(1);
  });

  it("refuses a delivery signed with one route's secret on the other route, with no effect", async () => {
    const { fake, h } = twoRoutes();
    await createJob(h, "veo-replicate");
    await createJob(h, "veo-replicate-eu");
    const [first, second] = [...fake.predictions.keys()] as [string, string];
    const eu = `${ORIGIN}/webhooks/veo-replicate-eu`;
    const crossed = [
      ["/webhooks/veo-replicate-eu", await fake.signedDelivery(eu, second, { secret: SECRET })],
      [HOOK, await fake.signedDelivery(HOOK_URL, first, { secret: OTHER_SECRET })],
    ] as const;
    for (const [path, delivery] of crossed) {
      const response = await h.call(path, delivery);
      expect(response.status, path).toBe(401);
    }
    expect(polls(fake)).toBe(0);
  });

  it("moves no job of another route, even with a genuine signature", async () => {
    const { fake, h } = twoRoutes();
    await createJob(h, "veo-replicate");
    await createJob(h, "veo-replicate-eu");
    const second = [...fake.predictions.keys()][1]!;
    // Signed correctly for the first route, but about the EU route's job: acknowledged (so the
    // sender stops), and the EU job is not re-read.
    const delivery = await fake.signedDelivery(HOOK_URL, second, { secret: SECRET });
    const response = await h.call(HOOK, delivery);
    expect(response.status).toBe(200);
    expect(polls(fake, second)).toBe(0);
  });
});

describe("provider isolation", () => {
  it("keeps other routes' jobs moving while one provider is down", async () => {
    const { fake, h } = setup();
    const live = await createJob(h, "veo-replicate");
    const simulated = await createJob(h, "sim");
    fake.failNext(503, { method: "GET", times: 20 });
    h.advance(11_000);
    const liveNow = await h.server(`/v1/videos/${live.id}`);
    expect(liveNow.status).toBe(200);
    expect(((await liveNow.json()) as { status: string }).status).toBe("queued");
    const simNow = (await (await h.server(`/v1/videos/${simulated.id}`)).json()) as {
      status: string;
    };
    expect(simNow.status).toBe("completed");
  });
});

describe("polls, webhooks and the watcher together", () => {
  it("converge on one terminal state, with no look asking the provider twice", async () => {
    const { fake, h } = setup(); // three status reads to completion
    const video = await createJob(h, "veo-replicate");
    const upstreamId = [...fake.predictions.keys()][0]!;
    const deliver = async () =>
      h.call(HOOK, await fake.signedDelivery(HOOK_URL, upstreamId, { secret: SECRET }));
    const statuses: string[] = [];
    const look = async () => {
      const shown = (await (await h.server(`/v1/videos/${video.id}`)).json()) as {
        status: string;
      };
      statuses.push(shown.status);
    };
    // Interleaved: the watcher's alarm, a delivery, polls in and out of the interval.
    h.advance(60_000);
    await h.runAlarm(video.id);
    await look();
    expect((await deliver()).status).toBe(200);
    await Promise.all([look(), look(), look()]); // within the interval: no provider call
    h.advance(3_000);
    await Promise.all([look(), deliver(), h.runAlarm(video.id)]);
    h.advance(3_000);
    for (let i = 0; i < 3; i++) await look();
    const statusReads = polls(fake, upstreamId); // before the copy, which reads the outputs
    await h.runAlarm(video.id);
    await look();
    // Forwards only, ending completed; and the provider saw 3 status reads, not one per look.
    const order = ["queued", "in_progress", "completed"];
    const ranks = statuses.map((status) => order.indexOf(status));
    expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
    expect(statuses.at(-1)).toBe("completed");
    // Eight looks, two deliveries and two alarms before the finish: one read per alarm and per
    // delivery (the look that raced the second delivery shared its read), none for a look
    // within the interval — the fake finishes on its fourth read.
    expect(statusReads).toBe(4);
    const stored = (await env.JOBS.get(`v1:job:${video.id}`, "json")) as { status: string };
    expect(stored.status).toBe("completed");
  });
});
