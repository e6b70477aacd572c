/**
 * Keeps unfinished jobs fresh without hammering anyone (docs/decisions/0004-refresh.md).
 *
 * - A retrieve asks the provider only when what we know is older than the refresh interval.
 * - Concurrent polls of one job share one call (single flight per isolate); across isolates
 *   the call goes to the job's watcher (worker/background/watcher.ts), one object per job, so
 *   the provider is asked once per interval however many isolates poll.
 * - KV is written only when something a client can see changed: status, error, expiry or the
 *   10 % progress bucket — never once per poll. Between writes, the freshest state is kept in
 *   this isolate's memory, so polls still see smooth progress.
 * - A provider failure never loses the job: the last known state is served and logged.
 * - A job never moves backwards: a provider answering out of order cannot undo a finish or
 *   turn `in_progress` back into `queued`.
 * - The refresh that sees a job finish reports it (`onFinished`), so its spend is settled.
 */
import { log } from "../log";
import { rememberPrompt } from "../log-prompts";
import type { Provider, UpstreamState } from "../providers/types";
import { DeletedError, type JobRecord, type JobStore } from "./jobs";

const MEMORY_LIMIT = 1000;

/** What asking the provider about one job needs (`askProvider`). */
export interface AskOptions {
  store: JobStore;
  provider: Provider;
  now: () => number;
  /** A job unfinished this long after creation is failed with `timeout` (providers do hang). */
  timeoutMs: number;
  /**
   * Called when this refresh sees the job finish, before it is stored: settles or refunds its
   * spend and answers whether that worked (stored as `spend_settled`). Never throws.
   */
  onFinished?: (record: JobRecord) => Promise<boolean>;
}

/**
 * Either how to ask the provider here, or `ask`: who asks instead (the job's watcher object).
 * `now` and `intervalMs` gate how often either is used.
 */
export type RefreshOptions = { now: () => number; intervalMs: number } & (
  AskOptions | { ask: (record: JobRecord) => Promise<RefreshOutcome> }
);

/** A refresh's result, and whether the provider was asked and answered (`reached`). */
export interface RefreshOutcome {
  record: JobRecord;
  /** False when the provider was asked and failed; true when it answered or was not needed. */
  reached: boolean;
}

export class JobRefresher {
  private readonly inflight = new Map<string, Promise<RefreshOutcome>>();
  /** Freshest known record per job: `checked_at` tells when the provider was last asked. */
  private readonly recent = new Map<string, JobRecord>();

  /** Returns the freshest record, asking the provider at most once per interval per job. */
  async refresh(record: JobRecord, options: RefreshOptions): Promise<JobRecord> {
    return (await this.outcome(record, options)).record;
  }

  /**
   * `refresh`, saying also whether the provider could be asked — a webhook delivery whose
   * re-read failed must be retried by the provider, not acknowledged as done. A caller that
   * joins a refresh already in flight shares its outcome.
   */
  async outcome(record: JobRecord, options: RefreshOptions): Promise<RefreshOutcome> {
    if (isTerminal(record)) return { record, reached: true };
    const known = this.recent.get(record.id);
    const best = known && known.checked_at > record.checked_at ? known : record;
    if (isTerminal(best) || options.now() - best.checked_at < options.intervalMs) {
      return { record: best, reached: true };
    }

    const pending = this.inflight.get(record.id);
    if (pending) return pending;
    const work = this.ask(best, options).finally(() => this.inflight.delete(record.id));
    this.inflight.set(record.id, work);
    return work;
  }

  /** Forgets a job (after delete), so memory never resurrects it. */
  forget(id: string): void {
    this.recent.delete(id);
  }

  private async ask(record: JobRecord, options: RefreshOptions): Promise<RefreshOutcome> {
    let outcome: RefreshOutcome;
    try {
      outcome = await ("ask" in options ? options.ask(record) : askProvider(record, options));
    } catch (error) {
      if (error instanceof DeletedError) this.forget(record.id);
      throw error;
    }
    // A failed ask is remembered as an attempt, so this isolate backs off for one interval.
    this.remember(
      outcome.reached ? outcome.record : { ...outcome.record, checked_at: options.now() },
    );
    return outcome;
  }

  private remember(record: JobRecord): void {
    this.recent.delete(record.id);
    this.recent.set(record.id, record);
    if (this.recent.size > MEMORY_LIMIT) this.recent.delete(this.recent.keys().next().value!);
  }
}

/**
 * Asks the provider about a job once and stores what changed (the KV write only on a visible
 * change). Throws `DeletedError` when the job was deleted meanwhile (its write was undone).
 */
export async function askProvider(record: JobRecord, options: AskOptions): Promise<RefreshOutcome> {
  const { store, provider, now } = options;
  rememberPrompt(record.prompt); // an upstream may quote it in an error this logs
  let state: UpstreamState;
  try {
    state =
      now() - record.created_at * 1000 > options.timeoutMs
        ? { status: "failed", progress: record.progress, error: TIMED_OUT, expiresAt: null }
        : await provider.retrieve(record.upstream_id, { startedAt: record.created_at * 1000 });
  } catch (error) {
    // Serve the last known state; the caller remembers the attempt and backs off.
    log("warn", "refresh_failed", {
      video_id: record.id,
      route: record.route,
      error: String(error),
    });
    return { record, reached: false };
  }
  let next = merge(record, state, now());
  if (isTerminal(next) && options.onFinished) {
    next = { ...next, spend_settled: await options.onFinished(next) };
  }
  if (materiallyChanged(record, next)) {
    try {
      await store.put(next);
    } catch (error) {
      if (error instanceof DeletedError) throw error; // deleted while we asked: it stays gone
      log("error", "kv_write_failed", { video_id: record.id, error: String(error) });
    }
  }
  return { record: next, reached: true };
}

export const isTerminal = (r: Pick<JobRecord, "status">) =>
  r.status === "completed" || r.status === "failed";

/** Applies a provider state to a record. Progress never goes backwards nor claims 100 early. */
export function merge(record: JobRecord, state: UpstreamState, nowMs: number): JobRecord {
  // A finished job stays as it finished; a started one is not queued again.
  if (isTerminal(record)) return { ...record, checked_at: Math.max(record.checked_at, nowMs) };
  if (RANK[state.status] < RANK[record.status]) state = { ...state, status: record.status };
  const terminal = state.status === "completed" || state.status === "failed";
  const progress =
    state.status === "completed" ? 100 : Math.min(99, Math.max(record.progress, state.progress));
  return {
    ...record,
    status: state.status,
    progress: state.status === "failed" ? Math.min(record.progress, 99) : progress,
    error: state.status === "failed" ? (state.error ?? genericFailure) : null,
    upstream_expires_at: state.expiresAt ?? record.upstream_expires_at,
    completed_at: terminal ? (record.completed_at ?? Math.floor(nowMs / 1000)) : null,
    checked_at: nowMs,
  };
}

const RANK: Record<JobRecord["status"], number> = {
  queued: 0,
  in_progress: 1,
  completed: 2,
  failed: 2,
};

const TIMED_OUT = {
  code: "timeout" as const,
  message: "The video took too long to generate and was given up. Try again.",
};

const genericFailure = {
  code: "provider_error" as const,
  message: "The video could not be generated. Try again.",
};

/** True when a client could tell the difference: the only reason to spend a KV write. */
export function materiallyChanged(before: JobRecord, after: JobRecord): boolean {
  return (
    before.status !== after.status ||
    before.error?.code !== after.error?.code ||
    before.upstream_expires_at !== after.upstream_expires_at ||
    Math.floor(before.progress / 10) !== Math.floor(after.progress / 10)
  );
}
