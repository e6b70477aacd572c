/**
 * One Durable Object per job (`JOB_WATCH`, named by the video id): the job's one writer after
 * its creation, and the reason a paid video is never lost (docs/decisions/0016).
 *
 * - Polls and webhooks that need the provider's word ask here (`refresh`): one object per job
 *   runs one call at a time, so the provider is asked once per interval whatever the number of
 *   pollers and isolates, and no stale answer can move the job backwards.
 * - Nobody has to be watching: an alarm looks at the job on a schedule that follows the
 *   provider's expected time (schedule.ts) until it finishes or times out.
 * - Once finished, the alarm does what a finish needs, each step recorded so a retry resumes
 *   it: the spend is settled or refunded, the media is copied into R2 (worker/results/), and
 *   the owner's endpoints are told (worker/events/). Then one last alarm deletes the copies
 *   when their retention ends.
 * - A delete stops it at once (`stop`): a copy in flight is abandoned and removed.
 *
 * Alarms are set as the platform's `Date.now()` plus a delay computed from the job's times by
 * the worker's clock; the runtime judges an alarm by the real clock (docs/decisions/0012).
 */
import { DurableObject } from "cloudflare:workers";
import { toVideo } from "../api/video";
import { configFor } from "../config";
import type { WorkerEnv } from "../env";
import { announce, type EventOwner } from "../events/announce";
import { finishSpend, ledgerFor } from "../ledger/budget";
import { log } from "../log";
import { rememberPrompt } from "../log-prompts";
import { ProviderError } from "../providers/errors";
import { VARIANTS } from "../providers/types";
import { copyToResults } from "../results/copy";
import { deleteResults, resultKey } from "../results/keys";
import { DeletedError, jobRecord, StorageError, type JobRecord } from "../store/jobs";
import { askProvider, isTerminal, type RefreshOutcome } from "../store/refresh";
import {
  askOptionsOf,
  jobStoreOf,
  providerOf,
  routeOfRecord,
  type JobRuntime,
} from "../store/runtime";
import { backgroundDeps } from "./deps";
import { expectedMs, nextPollMs, retryMs } from "./schedule";

/** What `refresh` answers across the RPC boundary (errors lose their class on the way). */
export type WatchReply =
  { ok: true; outcome: RefreshOutcome } | { ok: false; reason: "deleted" | "storage" };

/** The watcher's own progress through a job, beside the record it keeps. */
interface Progress {
  /** Looks at the unfinished job so far (for the backoff). */
  looks: number;
  /** Failed attempts at the finishing work in a row. */
  failures: number;
  announced: boolean;
  /** Set once everything a finish needs is done: only the retention alarm is left. */
  kept: boolean;
}

/** Failed finishing attempts (30 s doubling to an hour apart: about a day) before giving up. */
const MAX_FAILURES = 30;
const FRESH: Progress = { looks: 0, failures: 0, announced: false, kept: false };
const HELD_ALARM_MS = 24 * 3_600_000;
const RESULT_DAY_S = 86_400;

export function watcherFor(env: WorkerEnv, videoId: string) {
  return env.JOB_WATCH.get(env.JOB_WATCH.idFromName(videoId)) as DurableObjectStub<JobWatcher>;
}

export class JobWatcher extends DurableObject<Env> {
  private inflight: Promise<RefreshOutcome> | null = null;
  private copying: AbortController | null = null;
  /** Set by `stop`: an alarm still running must not write anything back. */
  private stopped = false;

  /** A new job: remember it, and look at it once the provider could have finished. */
  async start(input: JobRecord): Promise<void> {
    const record = jobRecord.parse(input);
    const rt = this.runtime();
    // A poll or webhook may have reached the watcher first: what it stored is newer.
    if (await this.ctx.storage.get<JobRecord>("record")) return this.wakeIfIdle(0);
    await this.ctx.storage.put({ record, progress: FRESH });
    const route = routeOfRecord(rt, record);
    const elapsed = rt.now() - record.created_at * 1000;
    await this.wake(isTerminal(record) || !route ? 0 : nextPollMs(elapsed, expectedMs(route), 0));
  }

  /**
   * The freshest state of the job, asking the provider when what is known is older than the
   * refresh interval (or now, when `force`d by a verified webhook). Concurrent calls share one.
   */
  async refresh(input: JobRecord, force: boolean): Promise<WatchReply> {
    const rt = this.runtime();
    // A webhook says something changed after a read already in flight began: let that read
    // land, then ask again, rather than share an answer that may predate the change.
    if (force && this.inflight) await this.inflight.catch(() => {});
    const record = await this.latest(jobRecord.parse(input));
    if (isTerminal(record)) return { ok: true, outcome: { record, reached: true } };
    const interval = force ? 0 : rt.config.limits.refreshIntervalMs;
    if (rt.now() - record.checked_at < interval) {
      return { ok: true, outcome: { record, reached: true } };
    }
    try {
      return { ok: true, outcome: await this.shared(rt, record) };
    } catch (error) {
      if (error instanceof DeletedError) return { ok: false, reason: "deleted" };
      if (error instanceof StorageError) return { ok: false, reason: "storage" };
      throw error;
    }
  }

  /**
   * A finished job whose spend the ledger has not confirmed (it was down when the job
   * finished), or one whose route is gone: settle it now and say what is stored. The caller
   * saw it and serves it; the rest of the finishing work is the alarm's.
   */
  async settle(input: JobRecord): Promise<WatchReply> {
    const rt = this.runtime();
    let record = await this.latest(jobRecord.parse(input));
    const orphan = routeOfRecord(rt, record) === undefined;
    if (record.reservation_id && !record.spend_settled && (orphan || isTerminal(record))) {
      // An orphan that never finished is settled as spent: the provider may have billed it.
      const billed = isTerminal(record) ? record : { ...record, status: "completed" as const };
      if (await finishSpend(rt.env, billed)) {
        // Re-read: the alarm may have stored more (our copy) while the ledger answered.
        record = { ...(await this.latest(record)), spend_settled: true };
        try {
          await this.save(rt, record);
        } catch (error) {
          if (error instanceof DeletedError) return { ok: false, reason: "deleted" };
          log("warn", "kv_write_failed", { video_id: record.id, error: String(error) });
        }
      }
    }
    await this.wakeIfIdle(0);
    return { ok: true, outcome: { record, reached: true } };
  }

  /** The job was deleted: stop, abandon any copy, and remove every copy and all state. */
  async stop(videoId: string): Promise<void> {
    this.stopped = true;
    this.copying?.abort(new Error("deleted"));
    // The copies first: if R2 fails, the alarm and state stay, and the next alarm retries.
    await deleteResults(this.runtime().env.RESULTS, videoId);
    await this.ctx.storage.deleteAlarm();
    await this.ctx.storage.deleteAll();
  }

  override async alarm(): Promise<void> {
    const record = await this.ctx.storage.get<JobRecord>("record");
    if (!record) return;
    const progress = (await this.ctx.storage.get<Progress>("progress")) ?? FRESH;
    const rt = this.runtime();
    rememberPrompt(record.prompt);
    try {
      const next = await this.advance(rt, record, progress);
      if (next !== null) await this.wake(next);
    } catch (error) {
      // Deleted meanwhile (the copy was cut off, or finished after the delete): nothing stays.
      if (error instanceof DeletedError || this.stopped) return this.stop(record.id);
      const failures = progress.failures + 1;
      log("warn", "watch_failed", { video_id: record.id, failures, error: String(error) });
      if (failures >= MAX_FAILURES) {
        // About a day of retries: give up on what is left (the provider serves it while it can).
        log("error", "watch_abandoned", { video_id: record.id, error: String(error) });
        await this.ctx.storage.put("progress", { ...progress, failures, kept: true });
        return this.wake(Math.max(0, record.record_expires_at * 1000 - rt.now()));
      }
      await this.ctx.storage.put("progress", { ...progress, failures });
      await this.wake(retryMs(failures));
    }
  }

  /** One step for the job; the delay until the next, or null when nothing is left to do. */
  private async advance(
    rt: JobRuntime,
    record: JobRecord,
    progress: Progress,
  ): Promise<number | null> {
    if (await this.deleted(rt, record.id)) {
      await this.stop(record.id);
      return null;
    }
    const nowMs = rt.now();
    if (progress.kept) {
      if (record.result && nowMs < record.result.expires_at * 1000) {
        return record.result.expires_at * 1000 - nowMs;
      }
      // Retention is over: our copies go; KV drops the record at its own expiry.
      await deleteResults(rt.env.RESULTS, record.id);
      await this.ctx.storage.deleteAll();
      return null;
    }
    const route = routeOfRecord(rt, record);
    if (!isTerminal(record) && route) {
      const { record: seen } = await this.shared(rt, record);
      if (!isTerminal(seen)) {
        const looks = progress.looks + 1;
        await this.ctx.storage.put("progress", { ...progress, looks });
        return nextPollMs(nowMs - seen.created_at * 1000, expectedMs(route), looks);
      }
      return this.finish(rt, seen, progress);
    }
    return this.finish(rt, record, progress);
  }

  /**
   * Everything a finished job needs, each step skipped once done: spend, copy, announcement.
   * A job whose route was removed is settled as spent (the provider may have billed it) and
   * left as it is: nothing can ask about it any more.
   */
  private async finish(rt: JobRuntime, record: JobRecord, progress: Progress): Promise<number> {
    let next = record;
    if (next.reservation_id && !next.spend_settled) {
      const billed = isTerminal(next) ? next : { ...next, status: "completed" as const };
      if (!(await finishSpend(rt.env, billed))) throw new Error("the ledger could not settle");
      next = { ...next, spend_settled: true };
      await this.save(rt, next); // before the copy, which may take long or fail
    }
    const route = routeOfRecord(rt, next);
    if (route && next.status === "completed" && !next.result) {
      next = { ...next, result: await this.copy(rt, next) };
      // Kept as long as its copies: a record that expired first would orphan them.
      next.record_expires_at = Math.max(next.record_expires_at, next.result!.expires_at);
      if (await this.deleted(rt, next.id)) throw new DeletedError(next.id);
    }
    if (next.result !== record.result) await this.save(rt, next, { extended: true });
    if (!progress.announced && isTerminal(next)) {
      await this.announce(rt, next);
      progress = { ...progress, announced: true };
    }
    await this.ctx.storage.put("progress", { ...progress, failures: 0, kept: true });
    const expiresMs = (next.result?.expires_at ?? next.record_expires_at) * 1000;
    return Math.max(0, expiresMs - rt.now());
  }

  /**
   * Copies each variant the provider has, resuming after a failure with what was already
   * stored. The video is required: a provider that has none yet (a 404 just after the finish)
   * or fails is retried. A thumbnail or spritesheet it lacks, or cannot serve, is left out
   * rather than hold the video back.
   */
  private async copy(rt: JobRuntime, record: JobRecord): Promise<NonNullable<JobRecord["result"]>> {
    const provider = providerOf(rt, routeOfRecord(rt, record)!);
    type Variants = NonNullable<JobRecord["result"]>["variants"];
    const variants: Variants = (await this.ctx.storage.get<Variants>("copied")) ?? {};
    this.copying = new AbortController();
    try {
      for (const variant of VARIANTS) {
        if (variants[variant]) continue;
        try {
          const upstream = await provider.content(record.upstream_id, {
            variant,
            range: null,
            signal: this.copying.signal,
          });
          const key = resultKey(record.id, variant);
          variants[variant] = await copyToResults(
            rt.env.RESULTS,
            key,
            upstream,
            variant,
            record.id,
          );
          await this.ctx.storage.put("copied", variants);
        } catch (error) {
          if (variant === "video" || this.stopped) throw error;
          const missing = error instanceof ProviderError && error.kind === "not_found";
          if (!missing)
            log("warn", "copy_skipped", { video_id: record.id, variant, error: String(error) });
        }
      }
    } finally {
      this.copying = null;
    }
    const days = rt.config.limits.resultRetentionDays;
    return { expires_at: Math.floor(rt.now() / 1000) + days * RESULT_DAY_S, variants };
  }

  private async announce(rt: JobRuntime, record: JobRecord): Promise<void> {
    if (rt.config.events.length === 0) return;
    const video = await toVideo(record, {
      config: rt.config,
      origin: record.origin ?? "",
      nowSeconds: Math.floor(rt.now() / 1000),
    });
    const type = record.status === "completed" ? "video.completed" : "video.failed";
    await announce(rt.env, rt.config.events, { type, video, owner: ownerOf(record.owner) });
  }

  /** The provider read in flight, or a new one: polls, webhooks and the alarm share it. */
  private shared(rt: JobRuntime, record: JobRecord): Promise<RefreshOutcome> {
    this.inflight ??= this.ask(rt, record).finally(() => (this.inflight = null));
    return this.inflight;
  }

  private async ask(rt: JobRuntime, record: JobRecord): Promise<RefreshOutcome> {
    const route = routeOfRecord(rt, record);
    if (!route) return { record, reached: true };
    const outcome = await askProvider(record, askOptionsOf(rt, route));
    if (outcome.reached) await this.ctx.storage.put("record", outcome.record);
    if (isTerminal(outcome.record))
      await this.wake(0); // the finishing work, now
    else await this.wakeIfIdle(nextPollMs(0, 0, 0));
    return outcome;
  }

  /**
   * The stored record; the caller's only when none is stored (a job created before watchers,
   * or whose `start` has not arrived) or it is further along — never one that is behind.
   */
  private async latest(given: JobRecord): Promise<JobRecord> {
    const stored = await this.ctx.storage.get<JobRecord>("record");
    if (stored && !isAhead(given, stored)) return stored;
    await this.ctx.storage.put("record", given);
    return given;
  }

  private async save(rt: JobRuntime, record: JobRecord, how = { extended: false }): Promise<void> {
    const store = jobStoreOf(rt);
    await (how.extended ? store.putExtended(record) : store.put(record));
    await this.ctx.storage.put("record", record);
  }

  private async deleted(rt: JobRuntime, id: string): Promise<boolean> {
    return (await ledgerFor(rt.env).deletedAmong([id])).length > 0;
  }

  private async wake(delayMs: number): Promise<void> {
    const held = backgroundDeps().alarms === "held";
    await this.ctx.storage.put("next_in_ms", delayMs);
    await this.ctx.storage.setAlarm(Date.now() + (held ? HELD_ALARM_MS : delayMs));
  }

  private async wakeIfIdle(delayMs: number): Promise<void> {
    if ((await this.ctx.storage.getAlarm()) === null) await this.wake(delayMs);
  }

  private runtime(): JobRuntime {
    const deps = backgroundDeps();
    const env = (deps.env ?? this.env) as WorkerEnv;
    return { env, config: configFor(env), fetch: deps.fetch, now: deps.now };
  }
}

/** True when `a` is further along than `b`: a later status, or more progress in the same one. */
function isAhead(a: JobRecord, b: JobRecord): boolean {
  const rank = (r: JobRecord) => (isTerminal(r) ? 2 : r.status === "in_progress" ? 1 : 0);
  return rank(a) > rank(b) || (rank(a) === rank(b) && !isTerminal(a) && a.progress > b.progress);
}

/** The owner as events name it: the site and visitor, or the server key's name. */
function ownerOf(owner: string): EventOwner {
  const visitor = /^site:([^:]+):(.+)$/.exec(owner);
  if (visitor) return { site_id: visitor[1]!, visitor_id: visitor[2]! };
  return { server_key: owner.replace(/^key:/, "") };
}
