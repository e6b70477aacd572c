/**
 * Faults in our own storage lose nothing and say so clearly: KV, the ledger Durable Object and
 * R2 failing under a paid job. Each answers OpenAI's envelope with a status and Retry-After a
 * client can act on; nothing is spent or started that the fault would leave dangling; and once
 * the fault clears the same job is whole and finishes.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { RELAY_ROUTE } from "../../fixtures/routes";
import { FakeOpenAI } from "../../helpers/fakes/openai";
import { harness, todayUtcAt, type Harness } from "../../helpers/harness";
import { reservationOf, usageOn, withoutBrakes } from "../../helpers/ledger";
import { createForm, post } from "../../helpers/requests";
import { simulatorMedia } from "../../../worker/providers/simulator/media";
import { createRelayJob, pathOf, untilCompleted } from "./jobs";

const API_KEY = "sk-test-FAKEKEY-storage-faults-0123456789ab";
const NOON = todayUtcAt(12);

const CLIP = new Uint8Array(simulatorMedia("1280x720", "4", "video")!.bytes);

type Envelope = { error: { message: string; type: string; code: string | null } };

function setup() {
  // A real MP4, so the watcher's copy to R2 takes it (it checks what it stores).
  const fake = new FakeOpenAI({
    apiKey: API_KEY,
    pollsToComplete: 2,
    media: { video: { bytes: CLIP, type: "video/mp4" } },
  });
  const h = harness({
    clock: { ms: NOON },
    routes: [RELAY_ROUTE],
    fetch: fake.fetch,
    vars: { RELAY_KEY: API_KEY },
  });
  withoutBrakes(h);
  return { fake, h };
}

const outage = () => Promise.reject(new Error("storage is down"));

/** Swaps one binding for one whose `methods` fail (the rest still work); returns the undo. */
function breakBinding(h: Harness, name: "JOBS" | "RESULTS", methods: string[]): () => void {
  const real = h.env[name] as unknown as Record<string | symbol, unknown>;
  const broken = new Proxy(real, {
    get(target, prop) {
      if (typeof prop === "string" && methods.includes(prop)) return outage;
      const value = target[prop];
      return typeof value === "function" ? (value as Function).bind(target) : value;
    },
  });
  Object.assign(h.env, { [name]: broken });
  return () => Object.assign(h.env, { [name]: real });
}

/** The ledger binding answering every call with a failure (as when its object is unreachable). */
function breakLedger(h: Harness): () => void {
  const real = h.env.LEDGER;
  const stub = new Proxy({}, { get: () => outage });
  Object.assign(h.env, {
    LEDGER: { idFromName: (n: string) => real.idFromName(n), get: () => stub },
  });
  return () => Object.assign(h.env, { LEDGER: real });
}

async function expectUnavailable(response: Response) {
  expect(response.status).toBe(503);
  expect(Number(response.headers.get("retry-after"))).toBeGreaterThan(0);
  const body = (await response.json()) as Envelope;
  expect(body.error.code).toBe("storage_unavailable");
  expect(body.error.message).not.toMatch(/storage is down|Error:|at /); // nothing internal
}

describe("our own storage failing", () => {
  it("KV down on a poll: a 503 with Retry-After, and the job is whole once it is back", async () => {
    const { h } = setup();
    const id = await createRelayJob(h);
    const restore = breakBinding(h, "JOBS", ["get"]);
    await expectUnavailable(await h.server(`/v1/videos/${id}`));
    await expectUnavailable(await h.server("/v1/videos"));
    restore();
    const done = await untilCompleted(h, id);
    expect(done.id).toBe(id);
    expect((await reservationOf(id))?.state).toBe("settled");
  });

  it("the ledger down on a create: a 503, no upstream call, nothing stored or reserved", async () => {
    const { fake, h } = setup();
    const restore = breakLedger(h);
    const response = await h.server("/v1/videos", post(createForm({ model: "relay" })));
    expect(response.status).toBe(503);
    expect(((await response.json()) as Envelope).error.code).toMatch(/unavailable/);
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(0);
    restore();
    expect((await env.JOBS.list({ prefix: "v1:job:" })).keys).toEqual([]);
    expect(await usageOn(NOON)).toEqual({});
    // Once it is back, the same create goes through and is reserved once.
    expect((await h.server("/v1/videos", post(createForm({ model: "relay" })))).status).toBe(200);
    expect((await usageOn(NOON))["key:backend"]).toEqual({ microUsd: 400_000, count: 1 });
  });

  it("the ledger down on a poll: a 503 (a deletion cannot be ruled out), then the job as it was", async () => {
    const { h } = setup();
    const id = await createRelayJob(h);
    const restore = breakLedger(h);
    await expectUnavailable(await h.server(`/v1/videos/${id}`));
    restore();
    expect((await untilCompleted(h, id)).id).toBe(id);
  });

  it("R2 down on a download of our copy: served from the provider meanwhile, then from R2 again", async () => {
    const { fake, h } = setup();
    const id = await createRelayJob(h);
    const done = await untilCompleted(h, id);
    await h.runAlarm(id); // the watcher makes our copy
    const path = pathOf(done.content_urls!.video);
    const fromProvider = () => fake.requests.filter((r) => r.path.endsWith("/content")).length;
    const copied = await h.call(path);
    expect(new Uint8Array(await copied.arrayBuffer())).toEqual(CLIP);
    const before = fromProvider();
    const restore = breakBinding(h, "RESULTS", ["get", "head"]);
    const meanwhile = await h.call(path);
    expect(meanwhile.status).toBe(200);
    expect(new Uint8Array(await meanwhile.arrayBuffer())).toEqual(CLIP);
    expect(fromProvider()).toBe(before + 1); // the provider's copy stood in
    restore();
    const again = await h.call(path);
    expect(new Uint8Array(await again.arrayBuffer())).toEqual(CLIP);
    expect(fromProvider()).toBe(before + 1); // and our copy is what serves again
  });
});
