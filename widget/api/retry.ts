/**
 * Retrying safe calls (GETs and the session request) after transient failures, so a brief
 * network blip or a busy provider does not reach the visitor. Create and remix never come here:
 * the element resends those itself with the same Idempotency-Key.
 */
import { abortedProblem, ApiProblem, throwIfAborted } from "./problem";

/** Waits before the 1st, 2nd and 3rd retry; a fourth failure is final. */
const RETRY_DELAYS_MS = [500, 1000, 2000];
/** The longest single wait, even when `Retry-After` asks for more. */
const MAX_RETRY_DELAY_MS = 20_000;

/** Runs `attempt`, retrying transient problems with back-off (or as long as `Retry-After` says). */
export async function withRetry<T>(
  attempt: () => Promise<T>,
  signal: AbortSignal | undefined,
): Promise<T> {
  for (let retry = 0; ; retry++) {
    try {
      return await attempt();
    } catch (error) {
      const delay = RETRY_DELAYS_MS[retry];
      if (!(error instanceof ApiProblem) || !error.transient || delay === undefined) throw error;
      const wanted = error.retryAfter === null ? delay : error.retryAfter * 1000;
      await sleep(Math.min(wanted, MAX_RETRY_DELAY_MS), signal);
    }
  }
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    throwIfAborted(signal);
    const onAbort = () => (clearTimeout(timer), reject(abortedProblem(signal?.reason)));
    const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
