/**
 * The event outbox: a SQLite-backed Durable Object that delivers signed events (docs/events.md)
 * at least once, retrying on the Standard Webhooks schedule (schedule.ts), never on a request's
 * path — `enqueue` only stores, an alarm delivers.
 *
 * One instance per endpoint URL (`idFromName(url)`, see announce.ts), not one for the deployment:
 * a receiver that is down or slow then costs only its own alarm runs, and the events of every
 * other endpoint go out on time. An alarm handles at most BATCH deliveries, PARALLEL at a time,
 * each bounded by the endpoint's timeout, then sets the next alarm at the next due row.
 *
 *   deliveries(event id, url) → one per event and endpoint: the exact body, attempts, next_at.
 *                               Kept for KEEP_DONE_MS after it ends (without the body), so
 *                               announcing the same event again is a no-op
 *
 * No secret is stored: each run reads the endpoint (secret, timeout) from the configuration, so
 * a rotated secret signs the very next attempt, and an endpoint taken out of EVENT_ENDPOINTS gets
 * nothing more.
 *
 * Every time here is the platform clock (`Date.now()`): alarms and receivers judge time by it
 * (docs/decisions/0012-one-clock.md), and every delay is relative to it.
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { backgroundDeps } from "../background/deps";
import { ConfigError, configFor } from "../config";
import type { WorkerEnv } from "../env";
import { ledgerFor } from "../ledger/budget";
import { log } from "../log";
import { VIDEO_EVENT_TYPES, type EventEndpoint } from "./config";
import { deliver } from "./deliver";
import { retryDelayMs } from "./schedule";
import { signedHeaders } from "./sign";

/** Deliveries per alarm run, and how many are in flight at once. */
const BATCH = 25;
const PARALLEL = 5;
/**
 * A row being attempted is due again only after this: longer than a whole run (5 waves of at
 * most 30 s), so an overlapping run cannot pick it, and an attempt cut off by an eviction is
 * retried instead of lost.
 */
const LEASE_MS = 5 * 60_000;
/** With the configuration broken, nothing can be signed: look again after this. */
const CONFIG_RETRY_MS = 5 * 60_000;
/** Test harnesses hold alarms (background/deps.ts): set a day out, fired when a test says. */
const HELD_ALARM_MS = 24 * 3_600_000;
/** How long a finished row remembers its event id (the dedupe window for re-announcements). */
export const KEEP_DONE_MS = 30 * 24 * 3_600_000;

export const enqueueInput = z.object({
  eventId: z.string().regex(/^msg_[0-9a-f]{32}$/),
  type: z.enum(VIDEO_EVENT_TYPES),
  videoId: z.string().min(1).max(200),
  body: z
    .string()
    .min(2)
    .max(256 * 1024),
  url: z.url({ protocol: /^https?$/ }),
});
export type EnqueueInput = z.input<typeof enqueueInput>;

type DueRow = {
  event_id: string;
  url: string;
  type: string;
  video_id: string;
  payload: string;
  attempts: number;
};

export class EventOutbox extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql);
  }

  /**
   * Stores one event for one endpoint and makes sure an alarm will deliver it. True when new;
   * false when this event was already stored for this endpoint (then nothing changes).
   */
  async enqueue(input: EnqueueInput): Promise<boolean> {
    const { eventId, type, videoId, body, url } = enqueueInput.parse(input);
    const now = Date.now();
    const { rowsWritten } = this.sql.exec(
      `INSERT INTO deliveries (event_id, url, type, video_id, payload, state, attempts, next_at,
         created_at) VALUES (?, ?, ?, ?, ?, 'pending', 0, ?, ?)
       ON CONFLICT (event_id, url) DO NOTHING`,
      eventId,
      url,
      type,
      videoId,
      body,
      now,
      now,
    );
    this.prune(now);
    await this.schedule(false);
    return rowsWritten > 0;
  }

  override async alarm(): Promise<void> {
    const endpoints = this.endpoints();
    if (!endpoints) {
      await this.setAlarm(Date.now() + CONFIG_RETRY_MS);
      return;
    }
    const now = Date.now();
    const due = this.sql
      .exec<DueRow>(
        `SELECT event_id, url, type, video_id, payload, attempts FROM deliveries
         WHERE state = 'pending' AND next_at <= ? ORDER BY next_at LIMIT ?`,
        now,
        BATCH,
      )
      .toArray();
    if (due.length > 0) {
      this.ctx.storage.transactionSync(() => {
        for (const row of due) {
          this.sql.exec(
            "UPDATE deliveries SET attempts = attempts + 1, next_at = ? WHERE event_id = ? AND url = ?",
            now + LEASE_MS,
            row.event_id,
            row.url,
          );
        }
      });
      // Should this run be cut off, the leased rows still get an alarm.
      await this.setAlarm(now + LEASE_MS);
      const queue = await this.withoutDeleted(due);
      await Promise.all(
        Array.from({ length: PARALLEL }, async () => {
          for (let row = queue.shift(); row; row = queue.shift()) {
            await this.attempt(row, endpoints.get(row.url));
          }
        }),
      );
    }
    this.prune(Date.now());
    await this.schedule(true);
  }

  /**
   * Deleted means deleted everywhere: an event about a video deleted since it was announced is
   * dropped, not sent (it carries the prompt). Should the ledger be unreachable, the rows wait
   * for the next run rather than go out unchecked.
   */
  private async withoutDeleted(rows: DueRow[]): Promise<DueRow[]> {
    const env = (backgroundDeps().env ?? this.env) as WorkerEnv;
    const ids = [...new Set(rows.map((row) => row.video_id))];
    let deleted: Set<string>;
    try {
      deleted = new Set(await ledgerFor(env).deletedAmong(ids));
    } catch (err) {
      log("warn", "event_outbox_ledger_unavailable", { error: String(err) });
      return [];
    }
    for (const row of rows.filter((r) => deleted.has(r.video_id))) {
      this.finish(row, "abandoned", Date.now(), "video deleted");
      log("info", "event_dropped", { event_id: row.event_id, video_id: row.video_id });
    }
    return rows.filter((row) => !deleted.has(row.video_id));
  }

  /** The configured endpoints by URL, or null (logged) while the configuration is broken. */
  private endpoints(): Map<string, EventEndpoint> | null {
    const env = (backgroundDeps().env ?? this.env) as WorkerEnv;
    try {
      return new Map(configFor(env).events.map((e) => [e.url, e]));
    } catch (err) {
      if (!(err instanceof ConfigError)) throw err;
      log("error", "event_outbox_config_error", { error: err.message });
      return null;
    }
  }

  private async attempt(row: DueRow, endpoint: EventEndpoint | undefined): Promise<void> {
    const attempt = row.attempts + 1;
    const fields = {
      event_id: row.event_id,
      video_id: row.video_id,
      kind: row.type,
      endpoint: logged(row.url),
      attempt,
    };
    if (!endpoint) {
      this.finish(row, "abandoned", Date.now(), "endpoint removed");
      log("warn", "event_delivery_abandoned", {
        ...fields,
        why: "the endpoint is no longer in EVENT_ENDPOINTS",
      });
      return;
    }
    const headers = signedHeaders(endpoint.secret, row.event_id, row.payload, Date.now());
    const outcome = await deliver(row.url, headers, row.payload, endpoint.timeoutMs);
    const now = Date.now();
    if (outcome.ok) {
      this.finish(row, "delivered", now, null);
      log("info", "event_delivered", { ...fields, status: outcome.status });
      return;
    }
    const delay = outcome.gone ? null : retryDelayMs(attempt, outcome.retryAfterMs);
    if (delay === null) {
      this.finish(row, "abandoned", now, outcome.reason);
      log("error", "event_delivery_abandoned", {
        ...fields,
        status: outcome.status,
        error: outcome.reason,
        why: outcome.gone
          ? "the endpoint answered 410 Gone"
          : `no success after ${attempt} attempts`,
      });
      return;
    }
    this.sql.exec(
      `UPDATE deliveries SET next_at = ?, last_attempt_at = ?, last_error = ?
       WHERE event_id = ? AND url = ?`,
      now + delay,
      now,
      outcome.reason,
      row.event_id,
      row.url,
    );
    log("warn", "event_delivery_failed", {
      ...fields,
      status: outcome.status,
      error: outcome.reason,
      retry_in_seconds: Math.round(delay / 1000),
    });
  }

  /** A finished row keeps its id for dedupe, not its body (the prompt is personal data). */
  private finish(row: DueRow, state: "delivered" | "abandoned", now: number, error: string | null) {
    this.sql.exec(
      `UPDATE deliveries SET state = ?, payload = '', next_at = NULL, done_at = ?,
         last_attempt_at = ?, last_error = ? WHERE event_id = ? AND url = ?`,
      state,
      now,
      now,
      error,
      row.event_id,
      row.url,
    );
  }

  private prune(now: number): void {
    this.sql.exec(
      "DELETE FROM deliveries WHERE state != 'pending' AND done_at < ?",
      now - KEEP_DONE_MS,
    );
  }

  /**
   * The alarm at the next due row. `replace`: from the alarm itself, which knows it is the only
   * run; an enqueue only ever brings the alarm forward.
   */
  private async schedule(replace: boolean): Promise<void> {
    const [next] = this.sql
      .exec<{ at: number | null }>(
        "SELECT MIN(next_at) AS at FROM deliveries WHERE state = 'pending'",
      )
      .toArray();
    const at = next?.at ?? null;
    if (at === null) {
      if (replace) await this.ctx.storage.deleteAlarm();
      return;
    }
    const current = replace ? null : await this.ctx.storage.getAlarm();
    if (current === null || at < current) await this.setAlarm(at);
  }

  private async setAlarm(at: number): Promise<void> {
    const held = backgroundDeps().alarms === "held";
    await this.ctx.storage.setAlarm(held ? Date.now() + HELD_ALARM_MS : at);
  }
}

/** The endpoint as logs show it: origin and path, never the query (it may carry a token). */
function logged(url: string): string {
  const { origin, pathname } = new URL(url);
  return `${origin}${pathname}`;
}

function migrate(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS deliveries (
      event_id TEXT NOT NULL,
      url TEXT NOT NULL,
      type TEXT NOT NULL,
      video_id TEXT NOT NULL,
      payload TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'abandoned')),
      attempts INTEGER NOT NULL,
      next_at INTEGER,
      created_at INTEGER NOT NULL,
      last_attempt_at INTEGER,
      last_error TEXT,
      done_at INTEGER,
      PRIMARY KEY (event_id, url)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries (next_at) WHERE state = 'pending';
    CREATE INDEX IF NOT EXISTS deliveries_done ON deliveries (done_at) WHERE state != 'pending';
  `);
}
