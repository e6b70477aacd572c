/**
 * Starting a job, shared by create, remix, extensions and edits: the provider is called under a spend reservation
 * that was made first, the job is stored as soon as the provider has accepted it (retrying the
 * write, docs/decisions/0006), and the reservation then learns which job it paid for.
 */
import type { Context } from "hono";
import type { Route } from "../config";
import type { AppEnv } from "../context";
import { ApiError, fromProviderError } from "../errors";
import type { Reservation } from "../ledger/spend";
import { log } from "../log";
import { rememberPrompt } from "../log-prompts";
import { ProviderError } from "../providers/errors";
import type { CreatedUpstreamJob, Provider } from "../providers/types";
import type { JobRecord } from "../store/jobs";
import { isTerminal } from "../store/refresh";
import { watcherFor } from "../background/watcher";
import { jobStore } from "./shared";

type C = Context<AppEnv>;

export interface NewJob {
  id: string;
  route: Route;
  prompt: string;
  size: string;
  seconds: string;
  remixOf: string | null;
  /** What an extension or edit was made from (worker/routes/derive.ts). */
  source?: JobRecord["source"];
}

export interface StartOptions {
  reservation: Reservation;
  provider: Provider;
  /** The provider call that starts the job. */
  call: () => Promise<CreatedUpstreamJob>;
  /** The field a refusal of the input names (`input_reference` for create, `prompt` for remix). */
  param: string;
  /** The field a content-policy refusal names, when not `param` (an edit's is its prompt). */
  policyParam?: string;
}

/** Starts the job upstream and stores it; whatever fails on the way settles the reservation. */
export async function startJob(c: C, job: NewJob, options: StartOptions): Promise<JobRecord> {
  const { reservation, provider } = options;
  rememberPrompt(job.prompt); // before anything could log an upstream quoting it
  let created: CreatedUpstreamJob;
  try {
    created = await options.call();
  } catch (error) {
    await reservation.failed(error);
    throw refusal(error, options.param, options.policyParam ?? options.param);
  }
  const record = newRecord(c, job, created, reservation.id);
  try {
    await persist(c, record, provider.verifyWebhook !== undefined);
  } catch (error) {
    await reservation.lost();
    throw error;
  }
  await reservation.recorded(record);
  await watch(c, record);
  log("info", "job_created", {
    video_id: record.id,
    route: record.route,
    owner: record.owner,
    seconds: record.seconds,
    size: record.size,
    remix: job.remixOf !== null,
    operation: job.source?.type ?? (job.remixOf !== null ? "remix" : "create"),
    price_micro_usd: reservation.amountMicroUsd,
  });
  return record;
}

/**
 * A provider's refusal to start a job becomes an envelope naming `param`; anything else as is.
 * The log keeps the provider's detail; log() masks any prompt it quotes (worker/log-prompts.ts).
 */
function refusal(error: unknown, param: string, policyParam: string): unknown {
  if (!(error instanceof ProviderError)) return error;
  log("warn", "provider_refused", { kind: error.kind, detail: error.detail });
  const named = { input_rejected: param, policy_violation: policyParam } as const;
  return fromProviderError(
    error,
    Object.hasOwn(named, error.kind) ? named[error.kind as keyof typeof named] : null,
  );
}

function newRecord(
  c: C,
  job: NewJob,
  created: CreatedUpstreamJob,
  reservationId: string,
): JobRecord {
  const nowMs = c.var.deps.now();
  const nowSeconds = Math.floor(nowMs / 1000);
  return {
    v: 1,
    id: job.id,
    owner: c.var.principal.owner,
    route: job.route.id,
    upstream_id: created.upstreamId,
    status: created.status,
    progress: created.status === "completed" ? 100 : Math.min(99, created.progress),
    error: created.error,
    prompt: job.prompt,
    size: job.size,
    seconds: job.seconds,
    remixed_from_video_id: job.remixOf,
    ...(job.source ? { source: job.source } : {}),
    created_at: nowSeconds,
    completed_at: isTerminal(created) ? nowSeconds : null,
    upstream_expires_at: created.expiresAt,
    record_expires_at: nowSeconds + c.var.config.limits.jobTtlSeconds,
    checked_at: nowMs,
    reservation_id: reservationId,
    origin: new URL(c.req.url).origin,
  };
}

/**
 * Hands the stored job to its watcher, which sees it through with nobody polling. Not fatal:
 * the job is stored, and the first poll or webhook that reaches the watcher starts it too.
 */
async function watch(c: C, record: JobRecord): Promise<void> {
  try {
    await watcherFor(c.env, record.id).start(record);
  } catch (error) {
    log("warn", "watcher_unavailable", { video_id: record.id, error: String(error) });
  }
}

/**
 * Stores a job the provider has accepted. The provider may already be spending money, so a
 * failed KV write is retried before giving up — and then logged with everything needed to
 * reconcile by hand (never the key).
 */
async function persist(c: C, record: JobRecord, webhooks: boolean): Promise<void> {
  const store = jobStore(c);
  for (let attempt = 1; ; attempt++) {
    try {
      await store.put(record, { webhooks });
      return;
    } catch (error) {
      if (attempt >= 3) {
        log("error", "job_not_stored", {
          video_id: record.id,
          route: record.route,
          owner: record.owner,
          upstream_id: record.upstream_id,
          reservation_id: record.reservation_id,
          error: String(error),
        });
        throw new ApiError(
          503,
          "The video was started but could not be recorded. Try again in a moment.",
          { code: "storage_unavailable" },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
