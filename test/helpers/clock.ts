/**
 * Fake clocks for tests. They drive the worker's logic only: nothing the worker derives from
 * them may reach a real service (KV, the ledger's storage, a Rate Limiting binding) as an
 * absolute time. They start at the real now, so a test means the same thing on any date.
 */

/** A fake clock in ms since the epoch, mutable by the test. */
export interface TestClock {
  ms: number;
}

/** A fake clock starting at the real now (a whole second), or `offsetMs` away from it. */
export function testClock(offsetMs = 0): TestClock {
  return { ms: wholeSecondNow() + offsetMs };
}

/** The real now, rounded down to a whole second (Video timestamps are unix seconds). */
export function wholeSecondNow(): number {
  return Math.floor(Date.now() / 1000) * 1000;
}

/** `hh:mm:ss` UTC on the real current day: a fixed time of day for tests about daily resets. */
export function todayUtcAt(hours: number, minutes = 0, seconds = 0): number {
  const d = new Date();
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), hours, minutes, seconds);
}
