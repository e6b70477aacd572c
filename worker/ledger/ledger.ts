/**
 * The spend ledger: one SQLite-backed Durable Object for the whole deployment
 * (docs/decisions/0010-spend-ledger.md). A Durable Object runs one call at a time and every
 * method here is a single synchronous transaction, so two creates racing at a cap are decided one
 * after the other and the cap is never overshot — which KV (eventually consistent, no atomic
 * increment) cannot promise.
 *
 *   usage(day, scope)      → micro-USD and videos reserved or settled that UTC day
 *   reservations(id)       → one per paid-or-free create: amount, scopes, state, video id
 *   idempotency(owner,key) → the request hash and the job it made, kept 24 h; a key whose
 *                            create had an unknown outcome is held until `held_until`
 *   deliveries(route,id)   → webhook deliveries seen in the last 10 minutes, so a replay (or
 *                            two copies sent at once) is acted on exactly once
 *   admissions(scope,hour) → new visitors per site and per network in the current clock hour
 *   visitors(owner)        → each visitor identity's current token id, the one it replaced, and
 *                            whether it was revoked (docs/decisions/0003)
 *   deleted(video id)      → tombstones: a deleted video stays deleted, whatever write of it
 *                            was in flight in any isolate (docs/decisions/0014)
 */
import { DurableObject } from "cloudflare:workers";
import { z } from "zod";
import { backgroundDeps } from "../background/deps";
import { firstRefusal, type Used } from "./caps";
import { migrate, usageKeys, utcDay } from "./sql";
import {
  deliveryInput,
  nowInput,
  reservationId,
  admitInput,
  reserveInput,
  visitorTokenInput,
  videoIdInput,
  type AdmitInput,
  type AdmitResult,
  type ReserveInput,
  type ReserveResult,
  type UsageRow,
} from "./schema";

const HOUR_MS = 3_600_000;
/** How long an Idempotency-Key is remembered. */
export const IDEMPOTENCY_TTL_MS = 24 * HOUR_MS;
/**
 * A key whose create never reported back (the worker was cut off mid-request) is freed after
 * this: longer than any provider create may take (timeouts ≤ 300 s per call).
 */
export const PENDING_LEASE_MS = 10 * 60_000;
/**
 * How long a webhook delivery id is remembered: longer than the five-minute window in which a
 * signed delivery verifies at all, so a replay is either stale or remembered.
 */
export const DELIVERY_WINDOW_MS = 10 * 60_000;
/** Reservations and usage rows are kept this long, for late settles and for the operator. */
const KEEP_MS = 35 * 24 * HOUR_MS;
/** How long the token a renewal replaced keeps working: two tabs renewing at once both win. */
const ROTATION_GRACE_MS = 60_000;
/** New visitors per network per hour that a full site bucket still admits (see admitVisitor). */
const FAIR_SHARE = 2;
/** Tombstones outlive the longest a job record can live (JOB_TTL_SECONDS ≤ 90 days). */
const DELETED_KEEP_MS = 91 * 24 * HOUR_MS;
/** Visitor rows outlive the longest identity (VISITOR_MAX_AGE_SECONDS ≤ 365 days). */
const VISITOR_KEEP_MS = 366 * 24 * HOUR_MS;

// Schemas built once: zod constructs (and JIT-compiles) a schema per `z.…()` call, which on a
// method every poll reaches was a measurable share of its CPU (docs/benchmarks.md, poll).
const VIDEO_ID_LIST = z.array(videoIdInput).max(100);
const SCOPE_LIST = z.array(z.string());

type Idem = {
  body_hash: string;
  reservation_id: string;
  video_id: string | null;
  created_at: number;
  held_until: number | null;
};
type Reservation = { day: string; scopes: string; amount: number; state: string };

export class SpendLedger extends DurableObject<Env> {
  private readonly sql: SqlStorage;
  private prunedAt = 0;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql);
  }

  /** Checks the caps and the Idempotency-Key, then reserves `amountMicroUsd`: all or nothing. */
  reserve(input: ReserveInput): ReserveResult {
    const request = reserveInput.parse(input);
    return this.ctx.storage.transactionSync(() => this.reserveNow(request));
  }

  /**
   * Admits a new visitor of `site` from `network`, unless either has had its hour's share of new
   * visitors: minting identities is what a script does to dodge the visitor caps, and each new
   * identity would also get a fresh visitor allowance. Counted in clock hours (the caller's
   * clock); both counts move together or not at all.
   */
  admitVisitor(input: AdmitInput): AdmitResult {
    const { site, network, now, caps } = admitInput.parse(input);
    const hour = Math.floor(now / HOUR_MS);
    const retryAfterSeconds = Math.max(1, Math.ceil(((hour + 1) * HOUR_MS - now) / 1000));
    return this.ctx.storage.transactionSync(() => {
      this.sql.exec("DELETE FROM admissions WHERE hour < ?", hour - 1);
      const scopes = [
        { scope: "site" as const, key: `site:${site}`, cap: caps.site },
        { scope: "network" as const, key: `net:${network}`, cap: caps.network },
      ];
      const used = scopes.map(
        ({ key }) =>
          this.one<{ count: number }>(
            "SELECT count FROM admissions WHERE scope = ? AND hour = ?",
            key,
            hour,
          )?.count ?? 0,
      );
      const [siteUsed, networkUsed] = used as [number, number];
      if (networkUsed + 1 > caps.network) {
        return { ok: false, scope: "network", cap: caps.network, retryAfterSeconds };
      }
      // A network's first few new visitors an hour pass even when the site's bucket is full, so
      // filling it from many networks cannot lock out the people who come one at a time.
      if (siteUsed + 1 > caps.site && networkUsed >= FAIR_SHARE) {
        return { ok: false, scope: "site", cap: caps.site, retryAfterSeconds };
      }
      for (const { key } of scopes) {
        this.sql.exec(
          `INSERT INTO admissions (scope, hour, count) VALUES (?, ?, 1)
           ON CONFLICT (scope, hour) DO UPDATE SET count = count + 1`,
          key,
          hour,
        );
      }
      this.sql.exec(
        "INSERT OR REPLACE INTO visitors (owner, jti, started_at) VALUES (?, ?, ?)",
        input.owner,
        input.jti,
        now,
      );
      return { ok: true };
    });
  }

  /**
   * Trades a visitor's current token (`jti`) for a new one (`next`), retiring the old: a token
   * renews once. The token it replaced may still renew for ROTATION_GRACE_MS (two tabs renewing
   * together) and gets the current id back, so both hold a valid token. Null: not the current
   * token, revoked, or unknown — the caller then starts a new visitor. A retired token renewed
   * after that minute revokes the identity: someone is replaying it.
   */
  renewVisitor(owner: string, jti: string, next: string, now: number): string | null {
    visitorTokenInput.parse({ owner, jti, now });
    visitorTokenInput.parse({ owner, jti: next, now });
    return this.ctx.storage.transactionSync(() => {
      const row = this.visitor(owner);
      if (!row || row.revoked_at !== null) return null;
      if (row.jti === jti) {
        this.sql.exec(
          "UPDATE visitors SET jti = ?, prev_jti = ?, rotated_at = ? WHERE owner = ?",
          next,
          jti,
          now,
          owner,
        );
        return next;
      }
      const recent = row.prev_jti === jti && now - (row.rotated_at ?? 0) <= ROTATION_GRACE_MS;
      if (recent) return row.jti;
      // A validly signed but retired token is being replayed: either its owner or a thief has
      // renewed before. Which one cannot be told, so the identity ends for both (refresh-token
      // reuse detection); the rightful visitor starts afresh, the thief keeps nothing.
      this.sql.exec("UPDATE visitors SET revoked_at = ? WHERE owner = ?", now, owner);
      return null;
    });
  }

  /** True while `jti` is the visitor's current token (or the one it just replaced) and not revoked. */
  visitorTokenValid(owner: string, jti: string, now: number): boolean {
    visitorTokenInput.parse({ owner, jti, now });
    const row = this.visitor(owner);
    if (!row || row.revoked_at !== null) return false;
    return (
      row.jti === jti || (row.prev_jti === jti && now - (row.rotated_at ?? 0) <= ROTATION_GRACE_MS)
    );
  }

  /** Ends a visitor identity: every token of it stops working at once, renewal included. */
  revokeVisitor(owner: string, now: number): boolean {
    visitorTokenInput.parse({ owner, jti: "-", now });
    const { rowsWritten } = this.sql.exec(
      "UPDATE visitors SET revoked_at = ? WHERE owner = ? AND revoked_at IS NULL",
      now,
      owner,
    );
    return rowsWritten > 0;
  }

  private visitor(owner: string) {
    return this.one<{
      jti: string;
      prev_jti: string | null;
      rotated_at: number | null;
      revoked_at: number | null;
    }>("SELECT jti, prev_jti, rotated_at, revoked_at FROM visitors WHERE owner = ?", owner);
  }

  /** Records the job a reservation paid for; a replay of its Idempotency-Key now returns it. */
  attach(id: string, videoId: string): boolean {
    reservationId.parse(id);
    videoIdInput.parse(videoId);
    return this.ctx.storage.transactionSync(() => {
      const changed = this.sql.exec(
        "UPDATE reservations SET video_id = ? WHERE id = ?",
        videoId,
        id,
      ).rowsWritten;
      this.sql.exec("UPDATE idempotency SET video_id = ? WHERE reservation_id = ?", videoId, id);
      return changed > 0;
    });
  }

  /** The job completed (or failed in a way that may be billed): the money stays spent. */
  settle(id: string): boolean {
    reservationId.parse(id);
    const { rowsWritten } = this.sql.exec(
      "UPDATE reservations SET state = 'settled' WHERE id = ? AND state = 'reserved'",
      id,
    );
    return rowsWritten > 0;
  }

  /**
   * Nothing was billed: gives the money and the video back to every scope of the reservation's
   * day, and frees its Idempotency-Key when no job was made. A no-op unless still reserved.
   */
  refund(id: string): boolean {
    reservationId.parse(id);
    return this.ctx.storage.transactionSync(() => {
      const row = this.one<Reservation>(
        "SELECT day, scopes, amount, state FROM reservations WHERE id = ?",
        id,
      );
      if (!row || row.state !== "reserved") return false;
      this.sql.exec("UPDATE reservations SET state = 'refunded' WHERE id = ?", id);
      for (const scope of SCOPE_LIST.parse(JSON.parse(row.scopes))) {
        this.sql.exec(
          "UPDATE usage SET micro_usd = micro_usd - ?, count = count - 1 WHERE day = ? AND scope = ?",
          row.amount,
          row.day,
          scope,
        );
      }
      this.release(id);
      return true;
    });
  }

  /**
   * Frees the Idempotency-Key of a create that made no job we know of, but keeps the money
   * reserved: used when the provider's answer was lost, so it may still be running (and billing).
   */
  release(id: string): boolean {
    reservationId.parse(id);
    const { rowsWritten } = this.sql.exec(
      "DELETE FROM idempotency WHERE reservation_id = ? AND video_id IS NULL",
      id,
    );
    return rowsWritten > 0;
  }

  /**
   * The provider's answer to a create was ambiguous (a 5xx after the request may have started,
   * a reset, a timeout): the job may be running and billing. The money stays reserved and the
   * Idempotency-Key stays held — a repeat gets "outcome unknown", never a second job — until
   * `untilMs`, by when the route's job timeout has passed and the provider has either run the job
   * or given up on it. Then the key is free again and the reservation is settled as spent (none
   * of the providers can be asked by a reference of ours, so "it may have run" is the outcome
   * that never lets a cap be overshot). `now` is the caller's clock, the one `untilMs` is on;
   * the alarm that settles it is set as a delay from it. Answers whether a key is held.
   */
  async hold(id: string, untilMs: number, now: number): Promise<boolean> {
    reservationId.parse(id);
    nowInput.parse(untilMs);
    nowInput.parse(now);
    this.sql.exec(
      "UPDATE reservations SET held_until = ? WHERE id = ? AND state = 'reserved' AND video_id IS NULL",
      untilMs,
      id,
    );
    const { rowsWritten } = this.sql.exec(
      "UPDATE idempotency SET held_until = ? WHERE reservation_id = ? AND video_id IS NULL",
      untilMs,
      id,
    );
    await this.wakeWithin(untilMs - now);
    return rowsWritten > 0;
  }

  /** Settles the holds that have lapsed by `now`, then waits for the next one. */
  override async alarm(): Promise<void> {
    const now = backgroundDeps().now();
    this.settleLapsedHolds(now);
    const next = this.one<{ at: number | null }>(
      "SELECT MIN(held_until) AS at FROM reservations WHERE state = 'reserved' AND held_until IS NOT NULL",
    )?.at;
    if (next !== null && next !== undefined) await this.wakeWithin(next - now);
  }

  /** Ambiguous creates whose hold has passed with no job known: their money stays spent. */
  private settleLapsedHolds(now: number): number {
    return this.sql.exec(
      `UPDATE reservations SET state = 'settled'
       WHERE state = 'reserved' AND video_id IS NULL AND held_until IS NOT NULL AND held_until <= ?`,
      now,
    ).rowsWritten;
  }

  /** An alarm no later than `delayMs` from now (the platform's clock; see background/deps.ts). */
  private async wakeWithin(delayMs: number): Promise<void> {
    const at = Date.now() + Math.max(0, delayMs);
    const held = backgroundDeps().alarms === "held";
    const current = await this.ctx.storage.getAlarm();
    if (held) {
      if (current === null) await this.ctx.storage.setAlarm(Date.now() + 24 * HOUR_MS);
      return;
    }
    if (current === null || current > at) await this.ctx.storage.setAlarm(at);
  }

  /**
   * Claims a verified webhook delivery for a route: true for the first claim, false for every
   * other within the window. One INSERT in a single-threaded object, so two copies racing in
   * are decided one after the other (KV's get-then-put let both through). `now` is the
   * caller's clock, the same one that judged the delivery's signed timestamp.
   */
  claimDelivery(route: string, id: string, now: number): boolean {
    deliveryInput.parse({ route, id });
    nowInput.parse(now);
    this.sql.exec("DELETE FROM deliveries WHERE seen_at <= ?", now - DELIVERY_WINDOW_MS);
    const { rowsWritten } = this.sql.exec(
      "INSERT OR IGNORE INTO deliveries (route, id, seen_at) VALUES (?, ?, ?)",
      route,
      id,
      now,
    );
    return rowsWritten > 0;
  }

  /**
   * Gives a claimed delivery back: acting on it failed (the provider could not be asked), so the
   * provider's own retry of it must be acted on rather than dropped as a replay.
   */
  releaseDelivery(route: string, id: string): boolean {
    deliveryInput.parse({ route, id });
    const { rowsWritten } = this.sql.exec(
      "DELETE FROM deliveries WHERE route = ? AND id = ?",
      route,
      id,
    );
    return rowsWritten > 0;
  }

  /**
   * Records that a video was deleted, before its KV keys go, and settles its reservation if it
   * was still open: the job may have run (or still run) upstream, so its price stays spent, and
   * nothing will ever observe its end to settle it later.
   */
  markDeleted(videoId: string, reservation: string | null, now: number): void {
    videoIdInput.parse(videoId);
    nowInput.parse(now);
    if (reservation !== null) reservationId.parse(reservation);
    this.ctx.storage.transactionSync(() => {
      this.sql.exec(
        "INSERT OR IGNORE INTO deleted (video_id, deleted_at) VALUES (?, ?)",
        videoId,
        now,
      );
      if (reservation !== null) {
        this.sql.exec(
          "UPDATE reservations SET state = 'settled' WHERE id = ? AND state = 'reserved'",
          reservation,
        );
      }
    });
  }

  /** The ids among `videoIds` that `markDeleted` ran for (kept as long as any record lives). */
  deletedAmong(videoIds: string[]): string[] {
    const ids = VIDEO_ID_LIST.parse(videoIds);
    if (ids.length === 0) return [];
    const marks = ids.map(() => "?").join(", ");
    return this.sql
      .exec<{ video_id: string }>(
        `SELECT video_id FROM deleted WHERE video_id IN (${marks})`,
        ...ids,
      )
      .toArray()
      .map((row) => row.video_id);
  }

  /** One reservation as the ledger holds it (for the operator and the tests), or null. */
  reservation(
    id: string,
  ): { state: string; amountMicroUsd: number; videoId: string | null } | null {
    const row = this.one<{ state: string; amount: number; video_id: string | null }>(
      "SELECT state, amount, video_id FROM reservations WHERE id = ?",
      reservationId.parse(id),
    );
    return row && { state: row.state, amountMicroUsd: row.amount, videoId: row.video_id };
  }

  /** The UTC day's usage per scope (`global`, `site:<id>`, `visitor:<owner>`, `key:<name>`). */
  usage(now: number): UsageRow[] {
    const day = utcDay(nowInput.parse(now));
    return this.sql
      .exec<{ scope: string; micro_usd: number; count: number }>(
        "SELECT scope, micro_usd, count FROM usage WHERE day = ? ORDER BY scope",
        day,
      )
      .toArray()
      .map((r) => ({ scope: r.scope, microUsd: r.micro_usd, count: r.count }));
  }

  private reserveNow(request: z.output<typeof reserveInput>): ReserveResult {
    const { now, idempotency } = request;
    this.prune(now);
    const again = this.one<{ id: string }>(
      "SELECT id FROM reservations WHERE key = ?",
      request.key,
    );
    if (again) return { ok: true, reservationId: again.id };

    if (idempotency) {
      const seen = this.idempotent(idempotency.owner, idempotency.key, now);
      if (seen) {
        if (seen.body_hash !== idempotency.bodyHash) {
          return { ok: false, reason: "idempotency_conflict" };
        }
        if (seen.video_id === null) {
          return seen.held_until === null
            ? { ok: true, pending: true }
            : { ok: true, pending: true, heldUntil: seen.held_until };
        }
        return { ok: true, reservationId: seen.reservation_id, replay: { videoId: seen.video_id } };
      }
    }

    const day = utcDay(now);
    const keys = usageKeys(request.scopes);
    const refusal = firstRefusal(request, keys, (key) => {
      const used = this.one<Used>(
        "SELECT micro_usd, count FROM usage WHERE day = ? AND scope = ?",
        day,
        key,
      );
      return used ?? { micro_usd: 0, count: 0 };
    });
    if (refusal) return refusal;

    const id = `rsv_${crypto.randomUUID()}`;
    this.sql.exec(
      "INSERT INTO reservations (id, key, day, scopes, amount, state, created_at) VALUES (?, ?, ?, ?, ?, 'reserved', ?)",
      id,
      request.key,
      day,
      JSON.stringify(keys.map((k) => k.key)),
      request.amountMicroUsd,
      now,
    );
    for (const { key } of keys) {
      this.sql.exec(
        `INSERT INTO usage (day, scope, micro_usd, count) VALUES (?, ?, ?, 1)
         ON CONFLICT (day, scope) DO UPDATE SET micro_usd = micro_usd + excluded.micro_usd, count = count + 1`,
        day,
        key,
        request.amountMicroUsd,
      );
    }
    if (idempotency) {
      this.sql.exec(
        "INSERT OR REPLACE INTO idempotency (owner, key, body_hash, reservation_id, video_id, created_at) VALUES (?, ?, ?, ?, NULL, ?)",
        idempotency.owner,
        idempotency.key,
        idempotency.bodyHash,
        id,
        now,
      );
    }
    return { ok: true, reservationId: id };
  }

  /**
   * The remembered use of a key, or null when it is new, expired, its create was cut off (the
   * pending lease ran out), or its ambiguous outcome's hold has passed.
   */
  private idempotent(owner: string, key: string, now: number): Idem | null {
    const row = this.one<Idem>(
      "SELECT body_hash, reservation_id, video_id, created_at, held_until FROM idempotency WHERE owner = ? AND key = ?",
      owner,
      key,
    );
    if (!row) return null;
    const age = now - row.created_at;
    const live =
      row.video_id !== null ||
      (row.held_until !== null ? now < row.held_until : age < PENDING_LEASE_MS);
    if (age < IDEMPOTENCY_TTL_MS && live) return row;
    this.sql.exec("DELETE FROM idempotency WHERE owner = ? AND key = ?", owner, key);
    return null;
  }

  /** Drops expired keys and old rows, at most once an hour (cheap: all by indexed time). */
  private prune(now: number): void {
    if (now - this.prunedAt < HOUR_MS) return;
    this.prunedAt = now;
    this.sql.exec("DELETE FROM idempotency WHERE created_at < ?", now - IDEMPOTENCY_TTL_MS);
    this.sql.exec("DELETE FROM reservations WHERE created_at < ?", now - KEEP_MS);
    this.sql.exec("DELETE FROM usage WHERE day < ?", utcDay(now - KEEP_MS));
    this.sql.exec("DELETE FROM deleted WHERE deleted_at < ?", now - DELETED_KEEP_MS);
    this.sql.exec("DELETE FROM visitors WHERE started_at < ?", now - VISITOR_KEEP_MS);
    this.settleLapsedHolds(now); // should its alarm have been lost
  }

  private one<T extends Record<string, SqlStorageValue>>(
    query: string,
    ...bindings: unknown[]
  ): T | null {
    return this.sql.exec<T>(query, ...bindings).toArray()[0] ?? null;
  }
}
