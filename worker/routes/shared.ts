/**
 * Small helpers the route files share: the job store, the provider of a job's route, the
 * owner-checked job lookup and the view used to render Videos.
 */
import type { Context } from "hono";
import type { VideoView } from "../api/video";
import type { Route } from "../config";
import type { AppEnv } from "../context";
import { invalidRequest, notFound } from "../errors";
import { isVideoId } from "../ids";
import { log } from "../log";
import { rememberPrompt } from "../log-prompts";
import { finishSpend, ledgerFor } from "../ledger/budget";
import { createProvider } from "../providers/registry";
import type { Provider } from "../providers/types";
import { DeletedError, JobStore, type JobRecord } from "../store/jobs";
import { isTerminal, type RefreshOutcome } from "../store/refresh";

type C = Context<AppEnv>;

/** The job store, with deletions recorded in the spend ledger so they hold everywhere at once. */
export function jobStore(c: C): JobStore {
  return new JobStore(c.env.JOBS, c.var.deps.now, {
    markDeleted: (id, reservation, now) => ledgerFor(c.env).markDeleted(id, reservation, now),
    deletedAmong: (ids) => ledgerFor(c.env).deletedAmong(ids),
  });
}

export function providerFor(c: C, route: Route): Provider {
  const { fetch, now } = c.var.deps;
  return createProvider(route.provider, { fetch, now }, c.var.config.providerKeys);
}

/** The route a stored job was made with; it may since have been removed from the config. */
export function routeOf(c: C, record: JobRecord): Route {
  const route = c.var.config.routes.find((r) => r.id === record.route);
  if (!route) {
    throw invalidRequest(
      `The model ${record.route} of this video is no longer offered.`,
      "model",
      "model_removed",
    );
  }
  return route;
}

export function checkVideoId(id: string): string {
  if (!isVideoId(id)) {
    throw invalidRequest(
      "That is not a video id from this API (they look like video_…).",
      "video_id",
      "invalid_id",
    );
  }
  return id;
}

/** Loads a job the caller owns. Someone else's job is indistinguishable from a missing one. */
export async function loadOwned(c: C, id: string): Promise<JobRecord> {
  const record = await jobStore(c).get(checkVideoId(id));
  if (!record || record.owner !== c.var.principal.owner) throw notFound();
  rememberPrompt(record.prompt); // any path may log an upstream quoting it (delete, content)
  return record;
}

/**
 * Freshens an unfinished job from its provider (at most once per refresh interval, or now when
 * `force`d — a verified webhook says something changed).
 */
export async function refreshed(c: C, record: JobRecord, force = false): Promise<JobRecord> {
  return (await refreshOutcome(c, record, force)).record;
}

/** `refreshed`, saying also whether the provider answered (see `JobRefresher.outcome`). */
export async function refreshOutcome(
  c: C,
  record: JobRecord,
  force = false,
): Promise<RefreshOutcome> {
  const route = c.var.config.routes.find((r) => r.id === record.route);
  // Its route was removed from the config: serve what we know, and settle what it reserved
  // (the provider may have billed it; nothing can ask any more).
  if (!route) return { record: await settleOnSight(c, record, true), reached: true };
  if (isTerminal(record)) return { record: await settleOnSight(c, record), reached: true };
  const { refresher, now } = c.var.deps;
  return refresher.outcome(record, {
    store: jobStore(c),
    provider: providerFor(c, route),
    now,
    intervalMs: force ? 0 : c.var.config.limits.refreshIntervalMs,
    timeoutMs: c.var.config.limits.jobTimeoutSeconds * 1000,
    onFinished: (finished) => finishSpend(c.env, finished),
  });
}

/**
 * A finished job whose reservation the ledger has not confirmed (it was unreachable when the job
 * finished), or a job whose route is gone (`orphaned`): settle or refund it now, and remember
 * that it was done. Best effort: a failure leaves it for the next sight.
 */
async function settleOnSight(c: C, record: JobRecord, orphaned = false): Promise<JobRecord> {
  if (!record.reservation_id || record.spend_settled) return record;
  if (!orphaned && !isTerminal(record)) return record;
  // An orphan that never finished is settled as spent: the provider may have billed it.
  const finished: JobRecord = isTerminal(record) ? record : { ...record, status: "completed" };
  if (!(await finishSpend(c.env, finished))) return record;
  const settled = { ...record, spend_settled: true };
  try {
    await jobStore(c).put(settled);
  } catch (error) {
    // Settling again next time is harmless: only an open reservation changes.
    if (error instanceof DeletedError) throw error;
    log("warn", "kv_write_failed", { video_id: record.id, error: String(error) });
  }
  return settled;
}

export function view(c: C): VideoView {
  return {
    config: c.var.config,
    origin: new URL(c.req.url).origin,
    nowSeconds: Math.floor(c.var.deps.now() / 1000),
  };
}

/**
 * Where this route's provider sends its webhooks: this deployment, as the caller reached it, at
 * a path naming the route — so each route verifies with its own secret, and a delivery can only
 * concern jobs that route started.
 */
export function webhookUrl(c: C, route: Route): string {
  return `${new URL(c.req.url).origin}/webhooks/${encodeURIComponent(route.id)}`;
}
