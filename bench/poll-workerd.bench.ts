/**
 * What a poll costs in workerd: `GET /v1/videos/{id}` through the whole worker (middleware,
 * auth, KV, the deletion check, signing the media URLs, serialising) against a bare Hono worker
 * answering the same bytes, both served by the same workerd in the same run (wrangler's
 * createTestHarness: straight from workerd, no dev proxy), loaded by 32 keep-alive connections
 * from this process (bench/load.ts).
 *
 *   npm run bench -- bench/poll-workerd.bench.ts     # results: docs/benchmarks.md
 *
 * Cases: a finished job with a server key; an unfinished job polled inside its refresh
 * interval; a finished job with a visitor token (JWT check and token currency on the path).
 * Rounds alternate baseline and subject so drift in the machine's load hits both alike.
 */
import { createTestHarness } from "wrangler";
import { afterAll, expect, test } from "vitest";
import { load, type LoadResult } from "./load";
import { benchRoute, json, ROOT, stillmotionWorker } from "./relay-harness";

const QUICK = process.env.BENCH_QUICK === "1";
const CONNECTIONS = 32;
const DURATION_MS = Number(process.env.BENCH_SECONDS ?? (QUICK ? 1.5 : 5)) * 1000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const SERVER_KEY = "sk_dev_local";
/** The finished-job poll's throughput ratio recorded in docs/benchmarks.md. */
const RECORDED_RATIO = 0.35;
const SITE_KEY = "pk_dev_local";
/** The development site's page (`npm start`'s demo), which its visitor tokens are bound to. */
const PAGE = "http://localhost:8787";

/** A fast route that finishes in a second, and a slow one that stays `in_progress`. */
const ROUTES = [
  benchRoute("sim-fast", "Simulator (bench)", { type: "simulator", duration_ms: 1000 }),
  benchRoute("sim-slow", "Simulator (bench, slow)", { type: "simulator", duration_ms: 600_000 }),
];

const server = createTestHarness({
  root: ROOT,
  workers: [
    // A 60 s refresh interval keeps the running job inside its interval for the whole run.
    stillmotionWorker({ MODEL_ROUTES: JSON.stringify(ROUTES), REFRESH_INTERVAL_MS: "60000" }),
    {
      config: {
        name: "bare",
        main: "./bench/bare-worker.ts",
        compatibility_date: "2026-11-01",
        routes: [{ pattern: "bare.bench.test/*", zone_name: "bench.test" }],
      },
    },
  ],
});
afterAll(() => server.close());

async function createJob(origin: string, model: string, auth: Record<string, string>) {
  const response = await fetch(`${origin}/v1/videos`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: JSON.stringify({ model, prompt: "a slow dolly in" }),
  });
  return json<{ id: string; status: string }>(response);
}

async function waitDone(origin: string, id: string, auth: Record<string, string>) {
  for (let i = 0; i < 100; i++) {
    const video = await json<{ status: string }>(
      await fetch(`${origin}/v1/videos/${id}`, { headers: auth }),
    );
    if (video.status === "completed") return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`video ${id} never completed`);
}

interface Case {
  name: string;
  path: string;
  headers: Record<string, string>;
}

test(
  "poll of a job: the whole worker against a bare Hono worker",
  { timeout: 280_000 },
  async () => {
    const { url } = await server.listen();
    const origin = url.origin;
    const asServer = { authorization: `Bearer ${SERVER_KEY}` };

    const finished = await createJob(origin, "sim-fast", asServer);
    await waitDone(origin, finished.id, asServer);
    const running = await createJob(origin, "sim-slow", asServer);

    const session = await json<{ token: string }>(
      await fetch(`${origin}/v1/sessions`, {
        method: "POST",
        headers: { origin: PAGE, "content-type": "application/json" },
        body: JSON.stringify({ site_key: SITE_KEY }),
      }),
    );
    const asVisitor = { authorization: `Bearer ${session.token}`, origin: PAGE };
    const visitorJob = await createJob(origin, "sim-fast", asVisitor);
    await waitDone(origin, visitorJob.id, asVisitor);

    const cases: Case[] = [
      { name: "finished job, server key", path: `/v1/videos/${finished.id}`, headers: asServer },
      {
        name: "running job, inside its interval",
        path: `/v1/videos/${running.id}`,
        headers: asServer,
      },
      {
        name: "finished job, visitor token",
        path: `/v1/videos/${visitorJob.id}`,
        headers: asVisitor,
      },
    ];
    const rows: { name: string; subject: LoadResult[]; baseline: LoadResult[] }[] = [];
    for (const c of cases) {
      // The baseline answers the same bytes the subject does.
      const body = await (await fetch(`${origin}${c.path}`, { headers: c.headers })).text();
      const set = await server.fetch("http://bare.bench.test/body", { method: "PUT", body });
      if (!set.ok) {
        throw new Error(`the bare worker refused its body: HTTP ${set.status} ${await set.text()}`);
      }
      const row = { name: c.name, subject: [] as LoadResult[], baseline: [] as LoadResult[] };
      for (let round = 0; round < ROUNDS; round++) {
        row.baseline.push(
          await load({
            origin,
            path: `/v1/videos/bench`,
            headers: { host: "bare.bench.test" },
            connections: CONNECTIONS,
            durationMs: DURATION_MS,
          }),
        );
        row.subject.push(
          await load({
            origin,
            path: c.path,
            headers: c.headers,
            connections: CONNECTIONS,
            durationMs: DURATION_MS,
          }),
        );
      }
      rows.push(row);
    }
    report(rows);
    // The gross regression CI looks for (`npm run bench:quick`): the finished-job poll at less
    // than half of its recorded ratio to the bare worker (docs/benchmarks.md).
    const finishedRow = rows[0]!;
    const ratio =
      median(finishedRow.subject.map((r) => r.perSecond)) /
      median(finishedRow.baseline.map((r) => r.perSecond));
    expect(ratio, "finished-job poll / bare Hono").toBeGreaterThan(RECORDED_RATIO / 2);
  },
);

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

function report(rows: { name: string; subject: LoadResult[]; baseline: LoadResult[] }[]) {
  const lines = [
    `${CONNECTIONS} connections, ${ROUNDS} × ${DURATION_MS / 1000} s per side, medians:`,
    "| case | Stillmotion req/s | p50 / p99 ms | CPU µs/req | bare Hono req/s | p50 / p99 ms | CPU µs/req | throughput ratio |",
    "|---|---:|---:|---:|---:|---:|---:|---:|",
  ];
  const cpu = (results: LoadResult[]) => {
    const values = results.map((r) => r.cpuUsPerRequest).filter((v): v is number => v !== null);
    return values.length ? median(values).toFixed(0) : "—";
  };
  for (const row of rows) {
    const s = median(row.subject.map((r) => r.perSecond));
    const b = median(row.baseline.map((r) => r.perSecond));
    const sp = medianBy(row.subject, (r) => r.perSecond);
    const bp = medianBy(row.baseline, (r) => r.perSecond);
    lines.push(
      `| ${row.name} | ${s.toFixed(0)} | ${sp.p50Ms.toFixed(1)} / ${sp.p99Ms.toFixed(1)} | ${cpu(row.subject)} | ${b.toFixed(0)} | ${bp.p50Ms.toFixed(1)} / ${bp.p99Ms.toFixed(1)} | ${cpu(row.baseline)} | ${((s / b) * 100).toFixed(0)} % |`,
    );
  }
  console.log(lines.join("\n"));
}

function medianBy<T>(items: T[], key: (item: T) => number): T {
  return [...items].sort((a, b) => key(a) - key(b))[Math.floor(items.length / 2)]!;
}
