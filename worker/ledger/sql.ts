/**
 * The ledger's tables and the small pure helpers around them (UTC days, usage keys). Tables are
 * created on first use; a change of shape gets a new table or column here, never a rewrite.
 */
import type { ReserveInput, Scope } from "./schema";

export function migrate(sql: SqlStorage): void {
  sql.exec(`
    CREATE TABLE IF NOT EXISTS usage (
      day TEXT NOT NULL,
      scope TEXT NOT NULL,
      micro_usd INTEGER NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (day, scope)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS reservations (
      id TEXT PRIMARY KEY,
      key TEXT NOT NULL UNIQUE,
      day TEXT NOT NULL,
      scopes TEXT NOT NULL,
      amount INTEGER NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('reserved', 'settled', 'refunded')),
      video_id TEXT,
      created_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS reservations_created_at ON reservations (created_at);
    CREATE TABLE IF NOT EXISTS idempotency (
      owner TEXT NOT NULL,
      key TEXT NOT NULL,
      body_hash TEXT NOT NULL,
      reservation_id TEXT NOT NULL,
      video_id TEXT,
      created_at INTEGER NOT NULL,
      PRIMARY KEY (owner, key)
    );
    CREATE INDEX IF NOT EXISTS idempotency_reservation ON idempotency (reservation_id);
    CREATE INDEX IF NOT EXISTS idempotency_created_at ON idempotency (created_at);
    CREATE TABLE IF NOT EXISTS deliveries (
      route TEXT NOT NULL,
      id TEXT NOT NULL,
      seen_at INTEGER NOT NULL,
      PRIMARY KEY (route, id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS deliveries_seen_at ON deliveries (seen_at);
    CREATE TABLE IF NOT EXISTS admissions (
      scope TEXT NOT NULL,
      hour INTEGER NOT NULL,
      count INTEGER NOT NULL,
      PRIMARY KEY (scope, hour)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS visitors (
      owner TEXT PRIMARY KEY,
      jti TEXT NOT NULL,
      prev_jti TEXT,
      rotated_at INTEGER,
      started_at INTEGER NOT NULL,
      revoked_at INTEGER
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS visitors_started_at ON visitors (started_at);
    CREATE TABLE IF NOT EXISTS deleted (
      video_id TEXT PRIMARY KEY,
      deleted_at INTEGER NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS deleted_at ON deleted (deleted_at);
  `);
  addColumn(sql, "idempotency", "held_until", "INTEGER");
  // An ambiguous create's reservation: settled as spent once this passes (ledger.ts `hold`).
  addColumn(sql, "reservations", "held_until", "INTEGER");
}

/**
 * Adds a column to a table made by an earlier version (SQLite has no ADD COLUMN IF NOT EXISTS);
 * the new column is nullable, so rows already there keep their meaning.
 */
function addColumn(sql: SqlStorage, table: string, column: string, type: string): void {
  const columns = sql.exec<{ name: string }>(`PRAGMA table_info(${table})`).toArray();
  if (!columns.some((c) => c.name === column)) {
    sql.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
  }
}

/** A scope a reservation counts against, and its row key in `usage`. */
export interface UsageKey {
  scope: Scope;
  key: string;
}

/** The deployment-wide row plus one per scope the caller belongs to. */
export function usageKeys(scopes: ReserveInput["scopes"]): UsageKey[] {
  const keys: UsageKey[] = [{ scope: "global", key: "global" }];
  if (scopes.site !== undefined) keys.push({ scope: "site", key: `site:${scopes.site}` });
  if (scopes.network !== undefined) {
    keys.push({ scope: "network", key: `net:${scopes.network}` });
  }
  if (scopes.serverKey !== undefined) {
    keys.push({ scope: "serverKey", key: `key:${scopes.serverKey}` });
  }
  if (scopes.visitor !== undefined)
    keys.push({ scope: "visitor", key: `visitor:${scopes.visitor}` });
  return keys;
}

/** `YYYY-MM-DD` of the UTC day containing `ms`. */
export const utcDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

/** The first UTC midnight after `ms`: when a daily cap resets. */
export function nextUtcMidnight(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1);
}
