/**
 * A small closed-loop load generator for the workerd benchmarks: `connections` keep-alive
 * connections, each sending its next request as soon as the last answer's body is read, for a
 * fixed time. It reports throughput and latency percentiles, and fails on any answer other than
 * the expected status (a benchmark of errors measures nothing).
 *
 * undici's Pool is used rather than `fetch`: on a 2-core machine the client shares the CPU with
 * workerd, and fetch's own overhead would be a large, uneven part of every figure.
 */
import { Pool } from "undici";
import { workerdCpuNs } from "./workerd-proc";

export interface LoadOptions {
  origin: string;
  path: string;
  headers?: Record<string, string>;
  connections: number;
  durationMs: number;
  /** Requests sent and discarded first, so JIT warm-up and isolate start are not measured. */
  warmupMs?: number;
  expectStatus?: number;
}

export interface LoadResult {
  requests: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  /** workerd's CPU per request over the timed window (all its threads), or null without /proc. */
  cpuUsPerRequest: number | null;
}

export async function load(options: LoadOptions): Promise<LoadResult> {
  const pool = new Pool(options.origin, { connections: options.connections, pipelining: 1 });
  const expect = options.expectStatus ?? 200;
  const one = async (): Promise<number> => {
    const start = process.hrtime.bigint();
    const { statusCode, body } = await pool.request({
      method: "GET",
      path: options.path,
      headers: options.headers,
    });
    const text = await body.text();
    if (statusCode !== expect) {
      throw new Error(
        `${options.path}: HTTP ${statusCode} (expected ${expect}): ${text.slice(0, 200)}`,
      );
    }
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const run = async (ms: number, latencies: number[] | null) => {
    const until = performance.now() + ms;
    await Promise.all(
      Array.from({ length: options.connections }, async () => {
        while (performance.now() < until) {
          const latency = await one();
          latencies?.push(latency);
        }
      }),
    );
  };
  try {
    await run(options.warmupMs ?? 1000, null);
    const latencies: number[] = [];
    const cpuBefore = workerdCpuNs();
    const started = performance.now();
    await run(options.durationMs, latencies);
    const elapsed = performance.now() - started;
    const cpuAfter = workerdCpuNs();
    latencies.sort((a, b) => a - b);
    const at = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
    return {
      requests: latencies.length,
      perSecond: (latencies.length / elapsed) * 1000,
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      cpuUsPerRequest:
        cpuBefore === null || cpuAfter === null
          ? null
          : (cpuAfter - cpuBefore) / 1000 / latencies.length,
    };
  } finally {
    await pool.close();
  }
}
