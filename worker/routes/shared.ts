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
import { watcherFor, type WatchReply } from "../background/watcher";
import { log } from "../log";
import { rememberPrompt } from "../log-prompts";
import type { Provider } from "../providers/types";
import { DeletedError, StorageError, type JobRecord, type JobStore } from "../store/jobs";
import { isTerminal, type RefreshOutcome } from "../store/refresh";
import { jobStoreOf, providerOf, routeOfRecord, type JobRuntime } from "../store/runtime";

type C = Context<AppEnv>;

/** What working on a job needs, from this request (worker/store/runtime.ts). */
export function runtimeOf(c: C): JobRuntime {
  const { fetch, now } = c.var.deps;
  return { env: c.env, config: c.var.config, fetch, now };
}

/** The job store, with deletions recorded in the spend ledger so they hold everywhere at once. */
export function jobStore(c: C): JobStore {
  return jobStoreOf(runtimeOf(c));
}

export function providerFor(c: C, route: Route): Provider {
  return providerOf(runtimeOf(c), route);
}

/**
 * The route a stored job was made with; it may since have been removed from the config. `param`
 * names the field that pointed at the job (a derived job's `video`).
 */
export function routeOf(c: C, record: JobRecord, param = "model"): Route {
  const route = routeOfRecord(runtimeOf(c), record);
  if (!route) {
    throw invalidRequest(
      `The model ${record.route} of this video is no longer offered.`,
      param,
      "model_removed",
    );
  }
  return route;
}

/** `param` is the field the id came in: the path's `video_id`, or a derived job's `video`. */
export function checkVideoId(id: string, param = "video_id"): string {
  if (!isVideoId(id)) {
    throw invalidRequest(
      "That is not a video id from this API (they look like video_…).",
      param,
      "invalid_id",
    );
  }
  return id;
}

/** Loads a job the caller owns. Someone else's job is indistinguishable from a missing one. */
export async function loadOwned(c: C, id: string, param = "video_id"): Promise<JobRecord> {
  const record = await jobStore(c).get(checkVideoId(id, param));
  if (!record || record.owner !== c.var.principal.owner) throw notFound("video", param);
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

/**
 * `refreshed`, saying also whether the provider answered (see `JobRefresher.outcome`). The
 * provider is asked by the job's watcher (worker/background/watcher.ts), at most once per
 * interval for all isolates together; this isolate's refresher keeps its own polls to one call.
 */
export async function refreshOutcome(
  c: C,
  record: JobRecord,
  force = false,
): Promise<RefreshOutcome> {
  const route = routeOfRecord(runtimeOf(c), record);
  // Finished and settled: nothing to ask anyone. Otherwise the watcher settles what is open
  // (the ledger was down at the finish, or the route was removed and nothing can ask again).
  if (isTerminal(record) || !route) {
    if (!record.reservation_id || record.spend_settled) return { record, reached: true };
    return viaWatcher(c, record, (watcher) => watcher.settle(record));
  }
  const { refresher, now } = c.var.deps;
  return refresher.outcome(record, {
    now,
    intervalMs: force ? 0 : c.var.config.limits.refreshIntervalMs,
    ask: (known) => viaWatcher(c, known, (watcher) => watcher.refresh(known, force)),
  });
}

/**
 * One call to the job's watcher. Its refusals come back as values (an error loses its class
 * across the RPC boundary); an unreachable watcher serves what we know, like a provider outage.
 */
async function viaWatcher(
  c: C,
  record: JobRecord,
  call: (watcher: ReturnType<typeof watcherFor>) => Promise<WatchReply>,
): Promise<RefreshOutcome> {
  let reply: WatchReply;
  try {
    reply = await call(watcherFor(c.env, record.id));
  } catch (error) {
    log("warn", "watcher_unavailable", { video_id: record.id, error: String(error) });
    return { record, reached: false };
  }
  if (reply.ok) return reply.outcome;
  if (reply.reason === "deleted") throw new DeletedError(record.id);
  throw new StorageError(`the watcher of ${record.id} could not reach storage`);
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
