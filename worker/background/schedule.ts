/**
 * When a job's watcher looks next (pure: times in, a delay out).
 *
 * Unfinished: first soon after the provider's expected finish (its `typical_seconds`, or the
 * simulator's `duration_ms`), then backing off — 5 s, 10 s, 20 s … at most a minute apart — so
 * a late job is seen promptly and a hung one costs a call a minute until the route's job
 * timeout fails it. Finishing work that failed (the ledger down, R2 or the provider's media
 * unavailable) is retried from 30 s to an hour apart.
 */
import type { Route } from "../config";

const FIRST_LOOK_MS = 5_000;
const MAX_POLL_MS = 60_000;
const RETRY_MIN_MS = 30_000;
const RETRY_MAX_MS = 3_600_000;
/** A provider block with no expected duration is first looked at after this. */
const DEFAULT_EXPECTED_MS = 60_000;

/** How long the route's provider usually takes, from its options. */
export function expectedMs(route: Route): number {
  const provider = route.provider as { typical_seconds?: unknown; duration_ms?: unknown };
  if (typeof provider.typical_seconds === "number") return provider.typical_seconds * 1000;
  if (typeof provider.duration_ms === "number") return provider.duration_ms;
  return DEFAULT_EXPECTED_MS;
}

/** Delay before the next look at an unfinished job, `elapsedMs` after it was created. */
export function nextPollMs(elapsedMs: number, expected: number, looks: number): number {
  const untilExpected = expected - elapsedMs;
  if (untilExpected > 0) return Math.max(FIRST_LOOK_MS, untilExpected + 1_000);
  return Math.min(MAX_POLL_MS, FIRST_LOOK_MS * 2 ** Math.max(0, looks));
}

/** Delay before retrying finishing work after `failures` failed attempts. */
export function retryMs(failures: number): number {
  return Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.max(0, failures - 1));
}
