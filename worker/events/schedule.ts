/**
 * When a failed delivery is tried again: the example schedule of the Standard Webhooks spec
 * ("Deliverability and reliability"), exponential at first and then spread over days, so a
 * receiver down for a weekend still gets its events. Ten attempts span about 75 hours.
 */
const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/** The wait after the n-th failed attempt is `RETRY_DELAYS_MS[n - 1]`; none left: give up. */
export const RETRY_DELAYS_MS = [
  5 * SECOND,
  5 * MINUTE,
  30 * MINUTE,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  14 * HOUR,
  20 * HOUR,
  24 * HOUR,
] as const;

/** The first attempt (immediately) plus one per delay. */
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/**
 * Up to 10% is added at random, as the spec recommends, so receivers that failed together are
 * not retried together. 10% keeps every delay longer than the one before it.
 */
const JITTER = 0.1;

/** A receiver's Retry-After is honoured when longer than our wait, up to a day. */
const MAX_RETRY_AFTER_MS = 24 * HOUR;

/**
 * How long to wait after `failedAttempts` attempts have failed, or null to give up.
 * `retryAfterMs` is the receiver's Retry-After, if it sent one.
 */
export function retryDelayMs(
  failedAttempts: number,
  retryAfterMs: number | null = null,
  random: number = Math.random(),
): number | null {
  const base = RETRY_DELAYS_MS[failedAttempts - 1];
  if (base === undefined) return null;
  const delay = base + Math.floor(base * JITTER * random);
  return retryAfterMs === null
    ? delay
    : Math.max(delay, Math.min(retryAfterMs, MAX_RETRY_AFTER_MS));
}
