/**
 * Load, bounded and on loopback only: visitors polling their jobs hard while other jobs are
 * created and finished videos are downloaded, all against one workerd (createTestHarness) and
 * an OpenAI-shaped upstream in its own process whose jobs run a few seconds before finishing.
 *
 * It checks what must hold under load, not how fast: no answer is a 5xx; no job is lost (each
 * one polled to completion, and listed by its owner); the upstream's status calls per job do not
 * grow with the number of pollers (one job is polled by 24 connections, another by one); and
 * every download is byte-identical to what the upstream sent.
 *
 *   npm run bench -- bench/load-workerd.bench.ts     # results: docs/benchmarks.md
 */
import { createHash } from "node:crypto";
import { Pool } from "undici";
import { createTestHarness } from "wrangler";
import { afterAll, expect, test } from "vitest";
import { relayRoutes, RELAY_KEY, ROOT, startUpstream, stillmotionWorker } from "./relay-harness";

const RUNNING_MS = 6000;
const SITE_KEY = "pk_dev_local";
const PAGE = "http://localhost:8787";
const VISITORS = 6;

const upstream = await startUpstream(RUNNING_MS);
const server = createTestHarness({
  root: ROOT,
  workers: [
    stillmotionWorker(
      { MODEL_ROUTES: relayRoutes(upstream.url), REFRESH_INTERVAL_MS: "2000" },
      { RELAY_KEY },
    ),
  ],
});
afterAll(async () => {
  await server.close();
  upstream.stop();
});

/** The upstream's 40 MB file (bench/stream-upstream.mjs), hashed as it would be sent. */
function expectedSha256(size: number): string {
  const chunk = new Uint8Array(64 * 1024).map((_, i) => (i * 7 + 3) % 251);
  const first = chunk.slice();
  first.set([0, 0, 0, 16, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0]);
  const hash = createHash("sha256");
  for (let sent = 0; sent < size; sent += chunk.length) {
    const piece = sent === 0 ? first : chunk;
    hash.update(piece.subarray(0, Math.min(piece.length, size - sent)));
  }
  return hash.digest("hex");
}

test(
  "many pollers, creates and downloads at once: no 5xx, no lost job, flat provider calls, identical bytes",
  { timeout: 280_000 },
  async () => {
    const { url } = await server.listen();
    const pool = new Pool(url.origin, { connections: 48 });
    const statuses = new Map<number, number>();
    const call = async (
      path: string,
      headers: Record<string, string>,
      method = "GET",
      body?: string,
    ) => {
      const response = await pool.request({ path, method, headers, body });
      statuses.set(response.statusCode, (statuses.get(response.statusCode) ?? 0) + 1);
      return { status: response.statusCode, body: response.body };
    };
    const json = async <T>(
      path: string,
      headers: Record<string, string>,
      method = "GET",
      body?: string,
    ) => {
      const answer = await call(path, headers, method, body);
      const text = await answer.body.text();
      if (answer.status !== 200)
        throw new Error(`${method} ${path}: HTTP ${answer.status} ${text.slice(0, 200)}`);
      return JSON.parse(text) as T;
    };

    // Visitors, each with a session and one job.
    const visitors: { headers: Record<string, string>; id: string }[] = [];
    for (let i = 0; i < VISITORS; i++) {
      const session = await json<{ token: string }>(
        "/v1/sessions",
        { origin: PAGE, "content-type": "application/json" },
        "POST",
        JSON.stringify({ site_key: SITE_KEY }),
      );
      const headers = { authorization: `Bearer ${session.token}`, origin: PAGE };
      const job = await json<{ id: string }>(
        "/v1/videos",
        { ...headers, "content-type": "application/json" },
        "POST",
        JSON.stringify({ model: "relay", prompt: "copy", seconds: "4" }),
      );
      visitors.push({ headers, id: job.id });
    }
    // Job 0 is polled by 24 loops at once, the others by one each, until all are finished.
    const done = new Set<string>();
    const pollUntilDone = async (v: { headers: Record<string, string>; id: string }) => {
      while (!done.has(v.id)) {
        const video = await json<{ status: string }>(`/v1/videos/${v.id}`, v.headers);
        if (video.status === "completed") done.add(v.id);
        else await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };
    const loops = [
      ...Array.from({ length: 24 }, () => pollUntilDone(visitors[0]!)),
      ...visitors.slice(1).map((v) => pollUntilDone(v)),
    ];
    await Promise.all(loops);

    // Then downloads of every video (twice each) while the pollers keep going and new jobs start.
    const expected = expectedSha256(40 * 1024 * 1024);
    let downloading = true;
    const background = [
      ...visitors.map(async (v) => {
        while (downloading) await json(`/v1/videos/${v.id}`, v.headers);
      }),
      (async () => {
        for (let i = 0; i < 3; i++) {
          const v = visitors[i]!;
          await json(
            "/v1/videos",
            { ...v.headers, "content-type": "application/json" },
            "POST",
            JSON.stringify({ model: "relay", prompt: "copy", seconds: "4" }),
          );
        }
      })(),
    ];
    const hashes = await Promise.all(
      visitors.flatMap((v) =>
        [0, 1].map(async () => {
          const answer = await call(`/v1/videos/${v.id}/content`, v.headers);
          const hash = createHash("sha256");
          for await (const chunk of answer.body) hash.update(chunk as Uint8Array);
          return { status: answer.status, sha256: hash.digest("hex") };
        }),
      ),
    );
    downloading = false;
    await Promise.all(background);

    // No job lost: every visitor lists its own jobs, the first three with the one made later.
    for (const [i, v] of visitors.entries()) {
      const list = await json<{ data: { id: string }[] }>("/v1/videos", v.headers);
      expect(list.data.map((video) => video.id)).toContain(v.id);
      expect(list.data).toHaveLength(i < 3 ? 2 : 1);
    }
    const calls = await upstream.stats();
    const perJob = Object.entries(calls).sort();
    const heavy = calls["video_bench1"]!;
    const light = Math.max(...visitors.slice(1).map((_, i) => calls[`video_bench${i + 2}`] ?? 0));
    console.log(
      [
        `${VISITORS} visitors; job 1 polled by 24 connections, jobs 2–${VISITORS} by one each; ${RUNNING_MS / 1000} s jobs, refresh interval 2 s`,
        `answers by status: ${JSON.stringify(Object.fromEntries(statuses))}`,
        `upstream status calls per job: ${perJob.map(([id, n]) => `${id}=${n}`).join(" ")}`,
        `downloads: ${hashes.length}, all byte-identical: ${hashes.every((h) => h.sha256 === expected)}`,
      ].join("\n"),
    );
    expect([...statuses.keys()].filter((status) => status >= 500)).toEqual([]);
    expect(hashes.every((h) => h.status === 200 && h.sha256 === expected)).toBe(true);
    // 24 pollers ask the upstream no more than one poller does (a little slack for timing).
    expect(heavy).toBeLessThanOrEqual(light + 2);
    await pool.close();
  },
);
