/**
 * Faults on the poll path lose nothing. A paid job on an OpenAI-compatible upstream (the
 * contract fake) meets each fault a provider really shows on its status calls — 500, 502,
 * 503 and 429 with Retry-After, a body that is not JSON, a connection reset, an answer that
 * never comes — for several polls in a row. For each: every poll still answers 200 with the job
 * as last known (never a 5xx the client must handle), the record stays whole, and once the
 * fault clears the job completes, its media downloads and its money is settled exactly once
 * (not left reserved, not refunded for a video that was made).
 */
import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { RELAY_PROVIDER, RELAY_ROUTE } from "../../fixtures/routes";
import { FakeOpenAI } from "../../helpers/fakes/openai";
import { harness, todayUtcAt } from "../../helpers/harness";
import { reservationOf, usageOn, withoutBrakes } from "../../helpers/ledger";
import { createRelayJob, pathOf, pollOnce, untilCompleted } from "./jobs";

const API_KEY = "sk-test-FAKEKEY-faults-0123456789abcdefghijk";
const NOON = todayUtcAt(12);
/** $0.10 a second: a 4 s video costs $0.40. */
const RELAY = { ...RELAY_ROUTE, provider: { ...RELAY_PROVIDER, timeout_ms: 1000 } };

/** How each fault looks to the adapter, scripted for the next `times` status calls. */
const FAULTS: Record<string, (fake: FakeOpenAI, times: number) => void> = {
  "500": (fake, times) => fake.failNext(500, { method: "GET", path: /^\/videos\/[^/]+$/, times }),
  "502": (fake, times) => fake.failNext(502, { method: "GET", path: /^\/videos\/[^/]+$/, times }),
  "503 with Retry-After": (fake, times) =>
    fake.failNext(503, {
      method: "GET",
      path: /^\/videos\/[^/]+$/,
      times,
      headers: { "retry-after": "7" },
    }),
  "429 with Retry-After": (fake, times) =>
    fake.failNext(429, {
      method: "GET",
      path: /^\/videos\/[^/]+$/,
      times,
      headers: { "retry-after": "3" },
    }),
  "a body that is not JSON": (fake, times) =>
    fake.script({
      method: "GET",
      path: /^\/videos\/[^/]+$/,
      times,
      respond: () =>
        new Response('{"id": "video_', { headers: { "content-type": "application/json" } }),
    }),
  "a status from another schema": (fake, times) =>
    fake.script({
      method: "GET",
      path: /^\/videos\/[^/]+$/,
      times,
      respond: () => Response.json({ id: 42, status: "exploded", progress: "lots" }),
    }),
  "a connection reset": (fake, times) =>
    fake.resetNext({ method: "GET", path: /^\/videos\/[^/]+$/, times }),
  "an answer that never comes": (fake, times) => {
    for (let i = 0; i < times; i++) fake.hangNext({ method: "GET", path: /^\/videos\/[^/]+$/ });
  },
};

function setup() {
  const fake = new FakeOpenAI({ apiKey: API_KEY, pollsToComplete: 2 });
  const h = harness({
    clock: { ms: NOON },
    routes: [RELAY],
    fetch: fake.fetch,
    vars: { RELAY_KEY: API_KEY, REFRESH_INTERVAL_MS: "2000" },
  });
  withoutBrakes(h);
  return { fake, h };
}

/** The record as KV holds it: present and whole (it parses, and it is still this job). */
async function storedRecord(id: string) {
  const record = await env.JOBS.get<{ id: string; status: string }>(`v1:job:${id}`, "json");
  expect(record?.id).toBe(id);
  return record!;
}

describe("a fault on the status calls of a paid job", () => {
  it.each(Object.keys(FAULTS))(
    "%s: polls answer the last known state, then the job completes and is billed once",
    async (name) => {
      const { fake, h } = setup();
      const id = await createRelayJob(h);
      expect((await usageOn(NOON))["key:backend"]).toEqual({ microUsd: 400_000, count: 1 });

      FAULTS[name]!(fake, 3);
      const seen: string[] = [];
      for (let i = 0; i < 3; i++) seen.push((await pollOnce(h, id)).status);
      // Nothing moved while the provider could not be read, and nothing was invented.
      expect(seen.every((status) => status === "queued")).toBe(true);
      expect((await storedRecord(id)).status).toBe("queued");

      const video = await untilCompleted(h, id);
      expect((await storedRecord(id)).status).toBe("completed");
      const media = await h.call(pathOf(video.content_urls!.video));
      expect(media.status).toBe(200);
      expect((await media.arrayBuffer()).byteLength).toBe(64 * 1024);

      // Billed once: the reservation is settled, the day's usage counts the one job.
      expect((await reservationOf(id))?.state).toBe("settled");
      expect((await usageOn(NOON))["key:backend"]).toEqual({ microUsd: 400_000, count: 1 });
      fake.assertClean();
    },
  );
});

describe("statuses out of order", () => {
  it("a completed job stays completed when the upstream later reports it running again", async () => {
    const { fake, h } = setup();
    const id = await createRelayJob(h);
    const video = await untilCompleted(h, id);
    fake.script({
      method: "GET",
      path: /^\/videos\/[^/]+$/,
      times: 3,
      respond: () =>
        Response.json({
          ...fake.videos.values().next().value,
          status: "in_progress",
          progress: 40,
        }),
    });
    for (let i = 0; i < 3; i++) expect((await pollOnce(h, id)).status).toBe("completed");
    expect((await storedRecord(id)).status).toBe("completed");
    expect((await reservationOf(id))?.state).toBe("settled");
  });

  it("a job the upstream reports in_progress after queued never goes back to queued", async () => {
    const { fake, h } = setup();
    const id = await createRelayJob(h);
    const upstream = () => fake.videos.values().next().value!;
    fake.script({
      method: "GET",
      path: /^\/videos\/[^/]+$/,
      respond: () => Response.json({ ...upstream(), status: "in_progress", progress: 50 }),
    });
    const running = await pollOnce(h, id);
    expect(running).toMatchObject({ status: "in_progress" });
    fake.script({
      method: "GET",
      path: /^\/videos\/[^/]+$/,
      respond: () => Response.json({ ...upstream(), status: "queued", progress: 0 }),
    });
    const after = await pollOnce(h, id);
    expect(after.status).toBe("in_progress");
    expect(after.progress).toBeGreaterThanOrEqual(running.progress);
  });
});

describe("a download cut off mid-stream", () => {
  it("ends that response early, and the next download is whole: nothing is marked gone", async () => {
    const { fake, h } = setup();
    const id = await createRelayJob(h);
    const video = await untilCompleted(h, id);
    const path = pathOf(video.content_urls!.video);
    fake.script({
      method: "GET",
      path: /^\/videos\/[^/]+\/content$/,
      respond: () => {
        // 16 KiB arrive, then the connection drops.
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(new Uint8Array(16 * 1024));
          },
          pull(controller) {
            controller.error(new TypeError("Network connection lost."));
          },
        });
        return new Response(body, {
          headers: { "content-type": "video/mp4", "content-length": String(64 * 1024) },
        });
      },
    });
    const cut = await h.call(path);
    const read = await cut.arrayBuffer().then(
      (bytes) => bytes.byteLength,
      () => -1,
    );
    expect(read).not.toBe(64 * 1024); // a short or failed read, never a "whole" truncated file
    const whole = await h.call(path);
    expect(whole.status).toBe(200);
    expect((await whole.arrayBuffer()).byteLength).toBe(64 * 1024);
    expect((await storedRecord(id)).status).toBe("completed");
  });
});
