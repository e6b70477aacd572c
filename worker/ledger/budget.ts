/**
 * The worker's side of the spend ledger: who a caller counts against, what a job costs, the
 * message a refused create gets, and whether a finished job is settled or refunded.
 */
import type { Route, SpendConfig } from "../config";
import type { Principal } from "../context";
import type { WorkerEnv } from "../env";
import { ApiError } from "../errors";
import { log } from "../log";
import type { FailureCode } from "../providers/types";
import type { JobRecord } from "../store/jobs";
import type { BudgetRefusal, ReserveInput } from "./schema";

/** The one ledger of the deployment: a single instance, so every cap is exact. */
export function ledgerFor(env: WorkerEnv) {
  return env.LEDGER.get(env.LEDGER.idFromName("global"));
}

/**
 * Price per second × seconds, in integer micro-USD (prices have at most 6 decimals that matter).
 * The per-second price is the route's, or its extension's or edit's own when it sets one.
 */
export function priceMicroUsd(
  route: Route,
  seconds: string,
  perSecondUsd = route.price_per_second_usd,
): number {
  return Math.round(perSecondUsd * 1_000_000) * Number(seconds);
}

/** What a second of `operation` costs on `route`. */
export function perSecondUsd(route: Route, operation: "create" | "extension" | "edit"): number {
  const block = operation === "extension" ? route.extend : operation === "edit" ? route.edit : null;
  return block?.price_per_second_usd ?? route.price_per_second_usd;
}

/**
 * A visitor counts against its site, the network it calls from and itself: a script can mint
 * visitors without end, not networks. A server key counts against its own name only (its
 * backend calls for many users from one address).
 */
export function scopesFor(principal: Principal, network: string): ReserveInput["scopes"] {
  return principal.kind === "visitor"
    ? { site: principal.siteId, network, visitor: principal.owner }
    : { serverKey: principal.name };
}

export function capsFor(spend: SpendConfig): ReserveInput["caps"] {
  return { killSwitch: spend.killSwitch, ...spend.caps };
}

/** Failures that providers do not bill: the model refused or never started. */
const NOT_BILLED: ReadonlySet<FailureCode> = new Set([
  "policy_violation",
  "input_rejected",
  "cancelled",
]);

/**
 * Settles or refunds a finished job's reservation (docs/decisions/0010-spend-ledger.md). Safe to
 * call more than once: only a reservation still open changes. Never fails the request: a lost
 * call leaves the money reserved, which errs on the side of spending less, and answers false so
 * the caller leaves `spend_settled` unset and the next sight of the job tries again.
 */
export async function finishSpend(env: WorkerEnv, record: JobRecord): Promise<boolean> {
  const id = record.reservation_id;
  if (!id) return true;
  if (record.status !== "completed" && record.status !== "failed") return false;
  const refund = record.status === "failed" && record.error && NOT_BILLED.has(record.error.code);
  try {
    const ledger = ledgerFor(env);
    await (refund ? ledger.refund(id) : ledger.settle(id));
    return true;
  } catch (error) {
    log("error", "ledger_finish_failed", { video_id: record.id, refund, error: String(error) });
    return false;
  }
}

const WHOSE: Record<BudgetRefusal["scope"], string> = {
  kill_switch: "the operator's",
  global: "this service's",
  site: "this site's",
  network: "your network's",
  serverKey: "this API key's",
  visitor: "your",
};

/** 429 `budget_exceeded`, naming the cap and when it resets (UTC midnight). */
export function budgetError(refusal: BudgetRefusal, amountMicroUsd: number, nowMs: number) {
  const headers = { "x-should-retry": "false" }; // the OpenAI SDK would otherwise retry a 429
  if (refusal.scope === "kill_switch" || refusal.resetsAt === null) {
    return new ApiError(
      429,
      "New paid videos are paused by the operator of this service. Try again later.",
      { code: "budget_exceeded", headers: { ...headers, "retry-after": "3600" } },
    );
  }
  const seconds = Math.max(1, Math.ceil((refusal.resetsAt - nowMs) / 1000));
  const when = `It resets at ${new Date(refusal.resetsAt).toISOString().replace(".000Z", "Z")} (${inTime(seconds)}).`;
  let message: string;
  if (refusal.limit === "count") {
    message = `You have reached your daily limit of ${refusal.cap} videos. ${when}`;
  } else if (refusal.cap === 0) {
    message = `Paid videos are switched off: ${WHOSE[refusal.scope]} daily spending limit is 0.`;
  } else if (amountMicroUsd > refusal.cap) {
    message = `This video costs more than ${WHOSE[refusal.scope]} daily spending limit allows. Choose a shorter duration or another model.`;
  } else {
    const whose = WHOSE[refusal.scope];
    message = `${whose[0]!.toUpperCase()}${whose.slice(1)} daily spending limit for videos has been reached. ${when}`;
  }
  return new ApiError(429, message, {
    code: "budget_exceeded",
    headers: { ...headers, "retry-after": String(seconds) },
  });
}

function inTime(seconds: number): string {
  if (seconds < 3600) {
    const minutes = Math.ceil(seconds / 60);
    return `in ${minutes} minute${minutes === 1 ? "" : "s"}`;
  }
  const hours = Math.round(seconds / 3600);
  return `in ${hours} hour${hours === 1 ? "" : "s"}`;
}

/** Fail closed: without the ledger nothing paid may start. */
export function ledgerUnavailable(error: unknown): ApiError {
  log("error", "ledger_unavailable", { error: String(error) });
  return new ApiError(503, "Video creation is briefly unavailable. Try again in a moment.", {
    type: "server_error",
    code: "ledger_unavailable",
    headers: { "retry-after": "5" },
  });
}
