/**
 * What crosses the boundary into the spend ledger (worker/ledger/ledger.ts). Inputs are parsed
 * with zod inside the Durable Object too: an RPC argument is input like any other. Money is
 * integer micro-USD (1 USD = 1,000,000) so sums are exact; days are UTC.
 */
import { z } from "zod";

/** The scopes a reservation counts against besides the deployment-wide one. */
export const SCOPES = ["global", "site", "network", "visitor", "serverKey"] as const;
export type Scope = (typeof SCOPES)[number];

const id = z.string().min(1).max(300);
const microUsd = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

/** A daily limit for one scope; either part may be absent (no limit of that kind). */
const capSchema = z.object({ microUsd: microUsd.optional(), count: microUsd.optional() }).strict();
export type Cap = z.infer<typeof capSchema>;

export const reserveInput = z
  .object({
    /** Caller-chosen and unique per attempt (the new video id): reserving it again is a no-op. */
    key: id,
    scopes: z
      .object({
        site: id.optional(),
        /** The caller's network (IPv4 address or IPv6 /64): one client, however many visitors. */
        network: id.optional(),
        visitor: id.optional(),
        serverKey: id.optional(),
      })
      .strict(),
    amountMicroUsd: microUsd,
    /** The caller's clock (ms): decides the UTC day and the idempotency window. */
    now: z.number().int().min(0),
    caps: z
      .object({
        killSwitch: z.boolean().default(false),
        global: capSchema.optional(),
        site: capSchema.optional(),
        network: capSchema.optional(),
        visitor: capSchema.optional(),
        serverKey: capSchema.optional(),
      })
      .strict(),
    idempotency: z
      .object({ owner: id, key: z.string().min(1).max(255), bodyHash: z.string().min(1).max(128) })
      .strict()
      .optional(),
  })
  .strict();
export type ReserveInput = z.input<typeof reserveInput>;

/** The one scope (and kind of limit) that refused a reservation, and when it resets. */
export interface BudgetRefusal {
  ok: false;
  reason: "budget_exceeded";
  scope: Scope | "kill_switch";
  limit: "money" | "count";
  /** The cap that was hit, in micro-USD or videos (0 for the kill switch). */
  cap: number;
  /** Next UTC midnight (ms), or null when only the operator can lift it (kill switch). */
  resetsAt: number | null;
}

export type ReserveResult =
  | { ok: true; reservationId: string; replay?: { videoId: string } }
  /** The key's first request is still running, or its outcome upstream is unknown until `heldUntil` (ms). */
  | { ok: true; pending: true; heldUntil?: number }
  | BudgetRefusal
  | { ok: false; reason: "idempotency_conflict" };

/** A new visitor's admission: counted per site and per network in the current hour. */
export const admitInput = z
  .object({
    site: id,
    network: id,
    /** The new visitor (`site:<id>:<visitor>`) and its first token's id, recorded if admitted. */
    owner: id,
    jti: z.string().min(1).max(64),
    now: z.number().int().min(0),
    caps: z.object({ site: microUsd, network: microUsd }).strict(),
  })
  .strict();
export type AdmitInput = z.input<typeof admitInput>;
export type AdmitResult =
  { ok: true } | { ok: false; scope: "site" | "network"; cap: number; retryAfterSeconds: number };

/** A visitor token's identity as the ledger checks it. */
export const visitorTokenInput = z
  .object({ owner: id, jti: z.string().min(1).max(64), now: z.number().int().min(0) })
  .strict();

export const reservationId = z.string().regex(/^rsv_[0-9a-f-]{36}$/);
export const videoIdInput = z.string().min(1).max(100);
export const nowInput = z.number().int().min(0);
/** A webhook delivery: the route it came in on and the id its provider gave it (or we derived). */
export const deliveryInput = z
  .object({ route: z.string().min(1).max(64), id: z.string().min(1).max(300) })
  .strict();

/** One row of a day's usage: what is reserved or settled (refunds are taken out). */
export interface UsageRow {
  scope: string;
  microUsd: number;
  count: number;
}
