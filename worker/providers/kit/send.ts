/**
 * The one way provider adapters speak HTTP: every request to an upstream goes through
 * `fetchWithRetry`, which owns retries, per-attempt timeouts and redirects.
 *
 * - Retries mirror the official OpenAI SDK (docs/providers/openai.md, "Retry policy"):
 *   exponential 0.5 s → 8 s with up to 25 % jitter, honouring `retry-after-ms` / `retry-after`;
 *   calls that start work are never retried (docs/decisions/0005-provider-seam.md).
 * - Redirects are never followed by the runtime (`redirect: "manual"`), because the runtime
 *   forwards custom credential headers (`api-key`, `x-goog-api-key`) and request bodies to
 *   whatever host a redirect names. Our own loop (`redirects.ts`) follows a hop to the same
 *   origin as sent, and a GET for media to another https origin only stripped down to an
 *   allow-list of harmless headers; anything else is refused.
 */
import { ProviderError } from "../errors";
import { parseRetryAfter } from "./errors";
import { sanitizeUpstreamText } from "./sanitize";
import { fetchFollowingRedirects, type RedirectPolicy } from "./redirects";

export interface RetryOptions {
  /** Extra attempts after the first; only used when `idempotent`. */
  retries: number;
  /** False for calls that start work upstream (create, remix): those are sent exactly once. */
  idempotent: boolean;
  /** Injected so tests run instantly; defaults to an abortable `setTimeout`. */
  sleep?: (ms: number) => Promise<void>;
  /** Milliseconds since the epoch, for HTTP-date `retry-after`. */
  now?: () => number;
  /** Per attempt, until the response headers arrive (a media body may stream for longer). */
  timeoutMs?: number;
  /** The caller's signal: aborts the attempt in flight and any wait between attempts. */
  signal?: AbortSignal;
  /** A server asking us to wait longer than this is not retried: its 429/503 goes to the caller. */
  maxRetryDelayMs?: number;
  /** Where redirects may lead; by default only to the origin the request was sent to. */
  redirects?: RedirectPolicy;
  /**
   * The adapter's secrets: a failed fetch's own message (a runtime or proxy may quote the
   * request, headers included) is masked with them before it becomes an error's detail.
   */
  redact?: readonly string[];
}

const RETRY_STATUSES = new Set([408, 429]);
const BASE_DELAY_MS = 500;
const MAX_BACKOFF_MS = 8_000;
const DEFAULT_MAX_RETRY_DELAY_MS = 30_000;

/**
 * Sends a request, retrying idempotent calls on 408, 429, 5xx, per-attempt timeouts and network
 * errors. Returns the last response (which may be a failure: map it with
 * `providerErrorFromResponse`); throws only `ProviderError` (`timeout` or `unavailable`).
 * Pass a factory when the body is a stream: each attempt needs a fresh one.
 */
export function fetchWithRetry(
  fetchFn: typeof fetch,
  request: () => Request,
  options: RetryOptions,
): Promise<Response>;
export function fetchWithRetry(
  fetchFn: typeof fetch,
  url: string,
  init: RequestInit,
  options: RetryOptions,
): Promise<Response>;
export async function fetchWithRetry(
  fetchFn: typeof fetch,
  ...args: [() => Request, RetryOptions] | [string, RequestInit, RetryOptions]
): Promise<Response> {
  const [make, options] = args.length === 3 ? [() => new Request(args[0], args[1]), args[2]] : args;
  const { signal, now = Date.now } = options;
  const sleep = options.sleep ?? ((ms: number) => abortableSleep(ms, signal));
  const maxAttempts = options.idempotent ? Math.max(0, options.retries) + 1 : 1;

  for (let attempt = 1; ; attempt++) {
    const last = attempt >= maxAttempts;
    const outcome = await attemptOnce(fetchFn, make, options, signal);
    let waitMs: number | null = null;
    if (outcome instanceof Response) {
      if (!isRetryableStatus(outcome.status) || last) return outcome;
      waitMs = parseRetryAfter(outcome.headers, now());
      if (waitMs !== null && waitMs > (options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS)) {
        return outcome;
      }
      await outcome.body?.cancel(); // free the connection before the next attempt
    } else if (last || signal?.aborted) {
      throw outcome.toProviderError(options.idempotent, options.redact);
    }
    await sleep(waitMs ?? backoffMs(attempt));
    if (signal?.aborted) throw new AttemptFailure("cancelled", "").toProviderError(true);
  }
}

/** Why an attempt produced no response at all. */
class AttemptFailure {
  constructor(
    readonly reason: "timeout" | "cancelled" | "network",
    readonly message: string,
  ) {}

  toProviderError(idempotent: boolean, redact: readonly string[] = []): ProviderError {
    const detail = sanitizeUpstreamText(this.message, redact) || this.reason;
    if (this.reason === "network" && idempotent) {
      return new ProviderError("unavailable", "The video provider could not be reached.", detail);
    }
    // A create that died mid-flight may have started a job: the outcome is unknown, which is
    // what `timeout` means in errors.ts (`unavailable` promises nothing was started).
    return new ProviderError("timeout", "The video provider did not answer in time.", detail);
  }
}

async function attemptOnce(
  fetchFn: typeof fetch,
  make: () => Request,
  options: RetryOptions,
  signal: AbortSignal | undefined,
): Promise<Response | AttemptFailure> {
  const { timeoutMs } = options;
  // A controller (not AbortSignal.timeout) so the timer can be cleared once headers arrive:
  // a long video download must not be cut off by a timeout meant for a slow answer.
  const controller = new AbortController();
  const onAbort = () => controller.abort(signal?.reason);
  if (signal?.aborted) return new AttemptFailure("cancelled", "aborted by caller");
  signal?.addEventListener("abort", onAbort, { once: true });
  let timedOut = false;
  const timer =
    timeoutMs === undefined
      ? undefined
      : setTimeout(() => {
          timedOut = true;
          controller.abort(new DOMException("attempt timed out", "TimeoutError"));
        }, timeoutMs);
  const release = () => signal?.removeEventListener("abort", onAbort);
  try {
    // The caller's abort stays wired on success: it must still cancel a body that is streaming.
    return await fetchFollowingRedirects(fetchFn, make, controller.signal, options.redirects);
  } catch (error) {
    release();
    if (error instanceof ProviderError) throw error; // a refused redirect: not worth a retry
    if (timedOut) return new AttemptFailure("timeout", `no response within ${timeoutMs} ms`);
    if (signal?.aborted) return new AttemptFailure("cancelled", "aborted by caller");
    return new AttemptFailure("network", error instanceof Error ? error.message : String(error));
  } finally {
    if (timer !== undefined) clearTimeout(timer);
  }
}

function isRetryableStatus(status: number): boolean {
  return RETRY_STATUSES.has(status) || status >= 500;
}

/** Exponential backoff for attempt n (1-based), minus up to 25 % jitter, as the OpenAI SDK does. */
function backoffMs(attempt: number): number {
  const base = Math.min(BASE_DELAY_MS * 2 ** (attempt - 1), MAX_BACKOFF_MS);
  return base * (1 - Math.random() * 0.25);
}

function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}

/** The injected I/O every adapter context carries. */
export interface SenderContext {
  fetch: typeof fetch;
  now: () => number;
  sleep?: (ms: number) => Promise<void>;
}

/** The option fragment every HTTP provider block has (`max_retries`, `timeout_ms`). */
export interface SenderOptions {
  max_retries: number;
  timeout_ms: number;
}

/**
 * An adapter's one `send`, made from its context and options: `idempotent` calls are retried;
 * `redirects` opts a media read into following redirects to other origins (without
 * credentials); everything else stays on origin. `redact` is required, not optional, so a new
 * adapter cannot forget that a failed connection's message may quote its key.
 */
export function sender(ctx: SenderContext, options: SenderOptions, redact: readonly string[]) {
  return (
    request: () => Request,
    idempotent: boolean,
    signal?: AbortSignal,
    redirects?: RedirectPolicy,
  ): Promise<Response> =>
    fetchWithRetry(ctx.fetch, request, {
      retries: options.max_retries,
      idempotent,
      sleep: ctx.sleep,
      now: ctx.now,
      timeoutMs: options.timeout_ms,
      signal,
      redirects,
      redact,
    });
}
