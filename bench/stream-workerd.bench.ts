/**
 * Streaming a video at wire speed: 40 MB and 200 MB downloaded by curl (its own process) from
 * the whole worker, against a bare Hono worker doing `return fetch(upstream)`, both run by one
 * workerd (wrangler's createTestHarness), from an OpenAI-shaped upstream in its own process
 * (bench/stream-upstream.mjs). The worker serves a finished video from our R2 copy (the
 * watcher makes it on completion, streamed), which is what every download after the first
 * minute meets; the baseline streams the upstream. workerd's resident memory is sampled during
 * each download: flat means streamed, growing with the size means buffered.
 *
 *   npm run bench -- bench/stream-workerd.bench.ts     # results: docs/benchmarks.md
 *
 * Without curl on the machine (or with BENCH_NO_CURL=1) the client is a Node process instead.
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { createTestHarness } from "wrangler";
import { afterAll, expect, test } from "vitest";
import {
  json,
  relayRoutes,
  RELAY_KEY,
  ROOT,
  startUpstream,
  stillmotionWorker,
} from "./relay-harness";
import { workerdRssBytes } from "./workerd-proc";

const run = promisify(execFile);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? (process.env.BENCH_QUICK === "1" ? 1 : 3));
const SERVER_KEY = "sk_dev_local";
const MB = 1024 * 1024;

const upstream = await startUpstream();
const UPSTREAM = upstream.url;

const server = createTestHarness({
  root: ROOT,
  workers: [
    stillmotionWorker({ MODEL_ROUTES: relayRoutes(UPSTREAM) }, { RELAY_KEY }),
    {
      config: {
        name: "bare",
        main: "./bench/pass-through-worker.ts",
        compatibility_date: "2026-11-01",
        routes: [{ pattern: "bare.bench.test/*", zone_name: "bench.test" }],
        vars: { UPSTREAM },
      },
    },
  ],
});
afterAll(async () => {
  await server.close();
  upstream.stop();
});

interface Download {
  mbPerSecond: number;
  bytes: number;
  /** workerd's resident memory at its highest during the download, above where it started. */
  growthMb: number | null;
}

/** curl to /dev/null, sampling workerd's memory meanwhile. */
async function download(url: string, headers: Record<string, string>): Promise<Download> {
  const before = workerdRssBytes();
  let peak = before ?? 0;
  const sampler = setInterval(() => (peak = Math.max(peak, workerdRssBytes() ?? 0)), 25);
  try {
    const { stdout } = await client(url, headers);
    const [status, bytes, seconds] = stdout.trim().split(" ").map(Number) as [
      number,
      number,
      number,
    ];
    if (status !== 200) throw new Error(`${url}: HTTP ${status}`);
    return {
      mbPerSecond: bytes / MB / seconds,
      bytes,
      growthMb: before === null ? null : (peak - before) / MB,
    };
  } finally {
    clearInterval(sampler);
  }
}

/**
 * curl, in its own process, printing `status bytes seconds`; where the machine has no curl, a
 * Node process doing the same (its own process still, reading and dropping the body).
 */
const HAS_CURL =
  process.env.BENCH_NO_CURL !== "1" &&
  (await run("curl", ["--version"]).then(
    () => true,
    () => false,
  ));
const NODE_CLIENT = `
const { request } = await import("undici"); // fetch cannot set Host, which picks the worker
const [url, headers] = [process.argv[1], JSON.parse(process.argv[2])];
const start = performance.now();
const { statusCode, body } = await request(url, { headers });
let bytes = 0;
for await (const chunk of body) bytes += chunk.length;
console.log(statusCode, bytes, (performance.now() - start) / 1000);`;

function client(url: string, headers: Record<string, string>) {
  if (!HAS_CURL) {
    const args = ["--input-type=module", "-e", NODE_CLIENT, url, JSON.stringify(headers)];
    return run(process.execPath, args, { cwd: new URL("..", import.meta.url).pathname });
  }
  const args = ["-s", "-o", "/dev/null", "-w", "%{http_code} %{size_download} %{time_total}"];
  for (const [name, value] of Object.entries(headers)) args.push("-H", `${name}: ${value}`);
  return run("curl", [...args, url]);
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

/** Creates a job and waits until it is finished and, unless `copy` is false, copied to R2. */
async function finishedJob(origin: string, seconds: string, copy: boolean): Promise<string> {
  const auth = { authorization: `Bearer ${SERVER_KEY}` };
  const job = await json<{ id: string }>(
    await fetch(`${origin}/v1/videos`, {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ model: "relay", prompt: copy ? "copy" : "pass-through", seconds }),
    }),
  );
  for (let i = 0; i < 300; i++) {
    const video = await json<{ status: string; content_variants: string[] | null }>(
      await fetch(`${origin}/v1/videos/${job.id}`, { headers: auth }),
    );
    if (video.status === "completed" && (!copy || video.content_variants !== null)) {
      // Without a copy: give the watcher a moment to start (and stall on) its copy first.
      if (!copy) await new Promise((resolve) => setTimeout(resolve, 1500));
      return job.id;
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`job ${job.id} did not finish`);
}

test(
  "streaming 40 MB and 200 MB: the whole worker against return fetch(upstream)",
  { timeout: 280_000 },
  async () => {
    const { url } = await server.listen();
    const origin = url.origin;
    const auth = { authorization: `Bearer ${SERVER_KEY}` };
    const rows: string[] = [];
    let upstreamJobs = 0;
    for (const [seconds, size] of [
      ["4", 40 * MB],
      ["8", 200 * MB],
    ] as const) {
      for (const copy of [false, true]) {
        const id = await finishedJob(origin, seconds, copy);
        // The upstream numbers its jobs in order: the baseline downloads the same file by that id.
        const upstreamId = `video_bench${++upstreamJobs}`;
        const ours: Download[] = [];
        const bare: Download[] = [];
        for (let round = 0; round < ROUNDS; round++) {
          const baseline = `${origin}/v1/videos/${upstreamId}/content`;
          bare.push(await download(baseline, { host: "bare.bench.test" }));
          ours.push(await download(`${origin}/v1/videos/${id}/content`, auth));
        }
        for (const d of [...ours, ...bare]) expect(d.bytes).toBe(size);
        // The gross regressions CI looks for (`npm run bench:quick`): memory that grows with the
        // video (buffering), or streaming at less than half the bare pass-through's speed.
        for (const d of ours) if (d.growthMb !== null) expect(d.growthMb).toBeLessThan(48);
        const s = median(ours.map((d) => d.mbPerSecond));
        const b = median(bare.map((d) => d.mbPerSecond));
        const growth = (list: Download[]) => {
          const values = list.map((d) => d.growthMb).filter((v): v is number => v !== null);
          return values.length ? `${Math.max(...values).toFixed(0)} MB` : "—";
        };
        expect(s / b, `${size / MB} MB: worker / bare`).toBeGreaterThan(0.45);
        const source = copy ? "our R2 copy" : "the upstream";
        rows.push(
          `| ${size / MB} MB from ${source} | ${s.toFixed(0)} MB/s | ${growth(ours)} | ${b.toFixed(0)} MB/s | ${growth(bare)} | ${(s / b).toFixed(2)}× |`,
        );
      }
    }
    console.log(
      [
        `${ROUNDS} downloads per side, medians; memory: workerd's largest RSS growth during a download`,
        "| video | Stillmotion | memory growth | bare `return fetch(upstream)` | memory growth | ratio |",
        "|---|---:|---:|---:|---:|---:|",
        ...rows,
      ].join("\n"),
    );
  },
);
