/**
 * A create's (or remix's) spend, start to end, for the route handlers:
 *
 *   startSpend  → reserve the price and claim the Idempotency-Key before the provider is called;
 *                 a repeat of an earlier request returns that request's job instead
 *   failed      → the provider call threw: refund if it promises nothing started; otherwise
 *                 (the outcome is unknown) keep the money and hold the key until the route's
 *                 job timeout has passed
 *   lost        → the job started but could not be stored: keep the money, free the key
 *   recorded    → the job is stored: attach it to the key (and settle at once if it finished)
 */
import type { Context } from "hono";
import type { Route } from "../config";
import type { AppEnv } from "../context";
import type { WorkerEnv } from "../env";
import { ApiError } from "../errors";
import { log } from "../log";
import { ProviderError, type ProviderErrorKind } from "../providers/errors";
import { jobStore, refreshed } from "../routes/shared";
import type { JobRecord } from "../store/jobs";
import {
  budgetError,
  capsFor,
  finishSpend,
  ledgerFor,
  ledgerUnavailable,
  priceMicroUsd,
  scopesFor,
} from "./budget";
import { spendingNetwork } from "../middleware/rate-limit";
import { readIdempotencyKey, requestHash, type RequestFingerprint } from "./idempotency";
import type { ReserveResult } from "./schema";

type C = Context<AppEnv>;

/** The request's `Idempotency-Key`, checked before any work is done (400 when malformed). */
export const idempotencyKeyOf = (c: C) => readIdempotencyKey(c.req.header("idempotency-key"));

export interface SpendRequest {
  /** The id the new job will get; also makes the reservation itself safe to retry. */
  videoId: string;
  route: Route;
  idempotencyKey: string | undefined;
  fingerprint: RequestFingerprint;
  /** Per-second price when not the route's (an extension's or edit's own). */
  perSecondUsd?: number;
}

export type SpendStart = { replay: JobRecord } | { reservation: Reservation };

/** Reserves the job's price under every cap, or throws the 429/409 that explains why not. */
export async function startSpend(c: C, request: SpendRequest): Promise<SpendStart> {
  const { config, principal, deps } = c.var;
  const amountMicroUsd = priceMicroUsd(
    request.route,
    request.fingerprint.seconds,
    request.perSecondUsd,
  );
  const now = deps.now();
  const idempotency = request.idempotencyKey
    ? {
        owner: principal.owner,
        key: request.idempotencyKey,
        bodyHash: await requestHash(request.fingerprint),
      }
    : undefined;
  let result: ReserveResult;
  try {
    result = await ledgerFor(c.env).reserve({
      key: request.videoId,
      scopes: scopesFor(principal, spendingNetwork(c)),
      amountMicroUsd,
      now,
      caps: capsFor(config.spend),
      idempotency,
    });
  } catch (error) {
    throw ledgerUnavailable(error);
  }

  if (!result.ok) {
    if (result.reason === "idempotency_conflict") throw keyReused();
    log("warn", "budget_exceeded", {
      scope: result.scope,
      limit: result.limit,
      owner: principal.owner,
      route: request.route.id,
      price_micro_usd: amountMicroUsd,
    });
    throw budgetError(result, amountMicroUsd, now);
  }
  if ("pending" in result) {
    throw result.heldUntil === undefined ? inProgress() : outcomeUnknown(result.heldUntil, now);
  }
  if (result.replay) return { replay: await replayed(c, result.replay.videoId) };
  return {
    reservation: new Reservation(c.env, result.reservationId, amountMicroUsd, {
      now: deps.now,
      holdMs: config.limits.jobTimeoutSeconds * 1000,
    }),
  };
}

/** Provider refusals that promise nothing was started upstream, so nothing can be billed. */
const NOTHING_STARTED: ReadonlySet<ProviderErrorKind> = new Set([
  "input_rejected",
  "policy_violation",
  "rate_limited",
  "unavailable",
  "not_found",
  "unsupported",
  "misconfigured",
]);

/** How a reservation whose create had an unknown outcome is held. */
export interface HoldPolicy {
  now: () => number;
  /** How long the key stays held: the route's job timeout, after which upstream gave up too. */
  holdMs: number;
}

/** An open reservation; each step logs (never throws) when the ledger cannot be reached. */
export class Reservation {
  constructor(
    private readonly env: WorkerEnv,
    readonly id: string,
    readonly amountMicroUsd: number,
    private readonly hold: HoldPolicy,
  ) {}

  /**
   * The provider call threw. A definite refusal gives the money back and frees the key, so a
   * retry can go through. An unknown outcome (`upstream_failed`, `timeout`, a reset, an
   * unreadable answer, a bug) keeps the money reserved — the job may be running and billing —
   * and holds the key, so a repeat cannot start a second job while the first may run.
   */
  async failed(error: unknown): Promise<void> {
    const refund = error instanceof ProviderError && NOTHING_STARTED.has(error.kind);
    if (refund) return this.step("refund");
    return this.step("hold");
  }

  /** The provider accepted but the record could not be stored: the job runs, the key is freed. */
  async lost(): Promise<void> {
    await this.step("release");
  }

  /** The job is stored: a replay of the key now returns it. */
  async recorded(record: JobRecord): Promise<void> {
    await this.step("attach", record.id);
    await finishSpend(this.env, record); // a provider may answer "completed" (or failed) at once
  }

  private async step(
    what: "refund" | "release" | "attach" | "hold",
    videoId?: string,
  ): Promise<void> {
    try {
      const ledger = ledgerFor(this.env);
      if (what === "attach") await ledger.attach(this.id, videoId!);
      else if (what === "hold") {
        const now = this.hold.now();
        await ledger.hold(this.id, now + this.hold.holdMs, now);
      } else await ledger[what](this.id);
    } catch (error) {
      log("error", "ledger_step_failed", { step: what, video_id: videoId, error: String(error) });
    }
  }
}

/** The job an earlier request with the same key and body made, as it is now. */
async function replayed(c: C, videoId: string): Promise<JobRecord> {
  const record = await jobStore(c).get(videoId);
  if (!record || record.owner !== c.var.principal.owner) {
    throw new ApiError(
      404,
      "The video made with this Idempotency-Key no longer exists (it was deleted or has expired). Send the request again with a new key.",
      { code: "not_found" },
    );
  }
  c.header("idempotent-replayed", "true");
  return refreshed(c, record);
}

const keyReused = () =>
  new ApiError(
    409,
    "This Idempotency-Key was already used with a different request. Use a new key for a new video.",
    { code: "idempotency_key_reused", headers: { "x-should-retry": "false" } },
  );

/**
 * The key's create reached the provider but its answer could not be read: the job may exist.
 * Retrying with the same key cannot help until the hold ends (so `x-should-retry: false`); a
 * new key starts a new — paid — video.
 */
function outcomeUnknown(heldUntil: number, now: number): ApiError {
  const seconds = Math.max(1, Math.ceil((heldUntil - now) / 1000));
  const at = new Date(heldUntil).toISOString().replace(/\.\d{3}Z$/, "Z");
  return new ApiError(
    409,
    `An earlier request with this Idempotency-Key reached the video provider, but its outcome is not known, so its cost stays reserved. The key is held until ${at}; after that it can be used again. To start another video now, send a new key.`,
    {
      code: "idempotency_outcome_unknown",
      headers: { "x-should-retry": "false", "retry-after": String(seconds) },
    },
  );
}

const inProgress = () =>
  new ApiError(
    409,
    "A request with this Idempotency-Key is still being processed. Try again in a moment.",
    { code: "idempotency_request_in_progress", headers: { "retry-after": "1" } },
  );
