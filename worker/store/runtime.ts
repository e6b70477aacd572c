/**
 * What working on a job needs, without Hono: the bindings, the parsed configuration and the
 * injected I/O. A request builds it from its context (routes/shared.ts); a job's watcher
 * object builds it from its own env (background/watcher.ts). Both then reach KV, the ledger
 * and the providers through the same functions, so a poll and an alarm cannot drift apart.
 */
import type { Config, Route } from "../config";
import type { WorkerEnv } from "../env";
import { finishSpend, ledgerFor } from "../ledger/budget";
import { createProvider } from "../providers/registry";
import type { Provider } from "../providers/types";
import { JobStore, type JobRecord } from "./jobs";
import type { AskOptions } from "./refresh";

export interface JobRuntime {
  env: WorkerEnv;
  config: Config;
  fetch: typeof fetch;
  /** Milliseconds since the epoch: the worker's (or the test's) clock. */
  now: () => number;
}

/** The job store, with deletions recorded in the spend ledger so they hold everywhere at once. */
export function jobStoreOf(rt: JobRuntime): JobStore {
  return new JobStore(rt.env.JOBS, rt.now, {
    markDeleted: (id, reservation, now) => ledgerFor(rt.env).markDeleted(id, reservation, now),
    deletedAmong: (ids) => ledgerFor(rt.env).deletedAmong(ids),
  });
}

export function providerOf(rt: JobRuntime, route: Route): Provider {
  return createProvider(route.provider, { fetch: rt.fetch, now: rt.now }, rt.config.providerKeys);
}

/** The route a stored job was made with, or undefined once it was removed from the config. */
export function routeOfRecord(rt: JobRuntime, record: JobRecord): Route | undefined {
  return rt.config.routes.find((r) => r.id === record.route);
}

/** How to ask a job's provider (`askProvider`), with its spend settled when it finishes. */
export function askOptionsOf(rt: JobRuntime, route: Route): AskOptions {
  return {
    store: jobStoreOf(rt),
    provider: providerOf(rt, route),
    now: rt.now,
    timeoutMs: rt.config.limits.jobTimeoutSeconds * 1000,
    onFinished: (finished) => finishSpend(rt.env, finished),
  };
}
