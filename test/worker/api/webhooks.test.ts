/**
 * `POST /webhooks/{provider}` through the whole worker, with Replicate's contract fake: a
 * verified delivery re-reads the job from the provider and stores it; tampered, stale and
 * wrongly signed deliveries are refused; a replay is acknowledged without effect. Also: one
 * provider's outage never touches another route's jobs.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FakeReplicate } from "../../helpers/fake-replicate";
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

const polls = (fake: FakeReplicate) =>
  fake.requests.filter((r) => r.method === "GET" && r.url.pathname.startsWith("/v1/predictions/"))
    .length;

describe("POST /webhooks/{provider}", () => {
  it("asks the provider to call this deployment's webhook URL", async () => {
    const { fake, h } = setup();
    await createJob(h, "veo-replicate");
    expect(fake.requests[0]!.json).toMatchObject({ webhook: `${ORIGIN}/webhooks/replicate` });
  });

  it("re-reads the job from the provider on a verified delivery and stores the change", async () => {
    const { fake, h } = setup();
    const video = await createJob(h, "veo-replicate");
    const upstreamId = [...fake.predictions.keys()][0]!;
    const delivery = await fake.signedDelivery(`${ORIGIN}/webhooks/replicate`, upstreamId, {
      secret: SECRET,
    });
    const response = await h.call("/webhooks/replicate", delivery);
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
    const url = `${ORIGIN}/webhooks/replicate`;
    const first = await fake.signedDelivery(url, upstreamId, { secret: SECRET, msgId: "msg_1" });
    const again = await fake.signedDelivery(url, upstreamId, { secret: SECRET, msgId: "msg_1" });
    expect((await h.call("/webhooks/replicate", first)).status).toBe(200);
    const replay = await h.call("/webhooks/replicate", again);
    expect(await replay.json()).toEqual({ received: true, duplicate: true });
    expect(polls(fake)).toBe(1);
  });

  it("refuses tampered, stale and wrongly signed deliveries with 401 and does nothing", async () => {
    const { fake, h } = setup();
    await createJob(h, "veo-replicate");
    const upstreamId = [...fake.predictions.keys()][0]!;
    const url = `${ORIGIN}/webhooks/replicate`;

    const genuine = await fake.signedDelivery(url, upstreamId, { secret: SECRET });
    const tampered = new Request(genuine, {
      body: (await genuine.text()).replace("starting", "succeeded"),
    });
    const stale = await fake.signedDelivery(url, upstreamId, {
      secret: SECRET,
      timestamp: Math.floor(h.clock.ms / 1000) - 600,
    });
    const forged = await fake.signedDelivery(url, upstreamId, {
      secret: `whsec_${btoa("not-the-secret-at-all")}`,
    });
    const unsigned = new Request(url, { method: "POST", body: "{}" });
    for (const delivery of [tampered, stale, forged, unsigned]) {
      const response = await h.call("/webhooks/replicate", delivery);
      expect(response.status).toBe(401);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        "invalid_signature",
      );
    }
    expect(polls(fake)).toBe(0);
  });

  it("answers 404 for a provider with no webhook receiver here", async () => {
    const { h } = setup();
    expect((await h.call("/webhooks/simulator", { method: "POST", body: "{}" })).status).toBe(404);
    expect((await h.call("/webhooks/fal", { method: "POST", body: "{}" })).status).toBe(404);
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
