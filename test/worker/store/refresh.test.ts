import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { Provider, UpstreamState } from "../../../worker/providers/types";
import { JobStore, type JobRecord } from "../../../worker/store/jobs";
import { JobRefresher, merge } from "../../../worker/store/refresh";

/** A provider whose retrieve answers from a script and counts calls; slow enough to overlap. */
function scriptedProvider(states: UpstreamState[]) {
  const provider = {
    calls: 0,
    kind: "scripted",
    async retrieve(): Promise<UpstreamState> {
      const state = states[Math.min(provider.calls, states.length - 1)]!;
      provider.calls++;
      await new Promise((resolve) => setTimeout(resolve, 20));
      return state;
    },
    create: () => Promise.reject(new Error("unused")),
    content: () => Promise.reject(new Error("unused")),
  };
  return provider satisfies Provider;
}

/** Counts KV writes by wrapping the real (isolated) namespace. */
function countingKv() {
  const kv = { writes: 0 } as { writes: number } & KVNamespace;
  const real = env.JOBS;
  return new Proxy(kv, {
    get(target, prop) {
      if (prop === "writes") return target.writes;
      if (prop === "put")
        return (...args: Parameters<KVNamespace["put"]>) => (target.writes++, real.put(...args));
      const value = Reflect.get(real, prop) as unknown;
      return typeof value === "function" ? value.bind(real) : value;
    },
  });
}

const state = (status: UpstreamState["status"], progress: number): UpstreamState => ({
  status,
  progress,
  error: null,
  expiresAt: null,
});

function record(now: number): JobRecord {
  return {
    v: 1,
    id: "video_aaaaaaaaaaaaaaaaaaaaaaaaaa",
    owner: "key:backend",
    route: "r",
    upstream_id: "u1",
    status: "queued",
    progress: 0,
    error: null,
    prompt: "p",
    size: "1280x720",
    seconds: "4",
    remixed_from_video_id: null,
    created_at: Math.floor(now / 1000),
    completed_at: null,
    upstream_expires_at: null,
    record_expires_at: Math.floor(now / 1000) + 3600,
    checked_at: now,
  };
}

describe("JobRefresher", () => {
  it("shares one provider call among concurrent polls of one job", async () => {
    let now = Date.now();
    const kv = countingKv();
    const store = new JobStore(kv, () => now);
    const provider = scriptedProvider([state("in_progress", 30)]);
    const refresher = new JobRefresher();
    const job = record(now);
    now += 5000;
    const options = { store, provider, now: () => now, intervalMs: 2000, timeoutMs: 600_000 };
    const results = await Promise.all(
      Array.from({ length: 10 }, () => refresher.refresh(job, options)),
    );
    expect(provider.calls).toBe(1);
    expect(results.every((r) => r.status === "in_progress" && r.progress === 30)).toBe(true);
    expect(kv.writes).toBe(1);
  });

  it("asks the provider at most once per interval, and writes KV only on a visible change", async () => {
    let now = Date.now();
    const kv = countingKv();
    const store = new JobStore(kv, () => now);
    const progress = [21, 23, 25, 27, 29, 31, 33, 100];
    const provider = scriptedProvider(
      progress.map((p) => (p === 100 ? state("completed", 100) : state("in_progress", p))),
    );
    const refresher = new JobRefresher();
    const options = { store, provider, now: () => now, intervalMs: 2000, timeoutMs: 600_000 };
    let current = record(now);
    current = { ...current, status: "in_progress", progress: 20 };
    // 40 polls, one every 500 ms: 20 s of polling, so at most ~10 provider calls.
    for (let i = 0; i < 40 && current.status !== "completed"; i++) {
      now += 500;
      current = await refresher.refresh(current, options);
    }
    expect(current.status).toBe("completed");
    expect(provider.calls).toBe(progress.length);
    // Buckets: 20s → 30s (at 31), then completed: two writes, not eight.
    expect(kv.writes).toBe(2);
    const stored = await store.get(current.id);
    expect(stored).toMatchObject({ status: "completed", progress: 100 });
  });

  it("serves the last known state when the provider fails, and never moves progress backwards", async () => {
    let now = Date.now();
    const store = new JobStore(env.JOBS, () => now);
    const refresher = new JobRefresher();
    const failing: Provider = {
      ...scriptedProvider([]),
      retrieve: () => Promise.reject(new Error("boom")),
    };
    const job = { ...record(now), status: "in_progress" as const, progress: 50 };
    now += 3000;
    expect(
      await refresher.refresh(job, {
        store,
        provider: failing,
        now: () => now,
        intervalMs: 2000,
        timeoutMs: 600_000,
      }),
    ).toEqual(job);
    now += 3000;
    const backwards = scriptedProvider([state("in_progress", 10)]);
    const next = await refresher.refresh(job, {
      store,
      provider: backwards,
      now: () => now,
      intervalMs: 2000,
      timeoutMs: 600_000,
    });
    expect(next.progress).toBe(50);
  });

  it("gives up on a job still unfinished after the timeout, without asking the provider", async () => {
    let now = Date.now();
    const store = new JobStore(env.JOBS, () => now);
    const provider = scriptedProvider([state("in_progress", 40)]);
    const job = { ...record(now), status: "in_progress" as const, progress: 40 };
    now += 31 * 60 * 1000;
    const options = {
      store,
      provider,
      now: () => now,
      intervalMs: 2000,
      timeoutMs: 30 * 60 * 1000,
    };
    const next = await new JobRefresher().refresh(job, options);
    expect(next).toMatchObject({ status: "failed", error: { code: "timeout" } });
    expect(provider.calls).toBe(0);
    expect(await store.get(job.id)).toMatchObject({ status: "failed" });
  });

  it("reports a job's finish once, to the refresh that saw it (settling its spend)", async () => {
    let now = Date.now();
    const finished: JobRecord[] = [];
    const provider = scriptedProvider([state("in_progress", 50), state("completed", 100)]);
    const refresher = new JobRefresher();
    const options = {
      store: new JobStore(env.JOBS, () => now),
      provider,
      now: () => now,
      intervalMs: 2000,
      timeoutMs: 600_000,
      onFinished: async (r: JobRecord) => finished.push(r) > 0,
    };
    let job = record(now);
    for (let i = 0; i < 4; i++) {
      now += 5000;
      job = await refresher.refresh(job, options);
    }
    expect(job.status).toBe("completed");
    expect(finished).toHaveLength(1);
    expect(finished[0]).toMatchObject({ id: job.id, status: "completed" });
    // What the callback answered is stored with the finished job.
    expect(job.spend_settled).toBe(true);
    const stored = await new JobStore(env.JOBS, () => now).get(job.id);
    expect(stored?.spend_settled).toBe(true);
  });

  it("never moves a job backwards when the provider answers out of order", () => {
    const now = Date.now();
    const started = merge(record(now), state("in_progress", 40), now);
    expect(merge(started, state("queued", 0), now + 1)).toMatchObject({
      status: "in_progress",
      progress: 40,
    });
    const done = merge(started, state("completed", 100), now + 2);
    const late = merge(done, state("in_progress", 60), now + 3);
    expect(late).toMatchObject({
      status: "completed",
      progress: 100,
      completed_at: done.completed_at,
    });
    expect(
      merge(
        done,
        { ...state("failed", 0), error: { code: "provider_error", message: "x" } },
        now + 4,
      ),
    ).toMatchObject({ status: "completed", error: null });
  });
});
