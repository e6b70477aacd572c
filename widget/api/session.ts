/**
 * The visitor's session token: cached per endpoint + site key (in storage and in memory),
 * renewed about a minute before it expires, and shared by concurrent callers so a burst of
 * requests opens one session, not one each.
 */
import { abortedProblem, isRecord, throwIfAborted, unexpected } from "./problem";
import { withRetry } from "./retry";

/** A visitor session; `expiresAt` is in unix seconds like every timestamp of the API. */
export interface Session {
  token: string;
  visitorId: string;
  expiresAt: number;
}

/** The part of `Storage` the widget uses, so tests and embedders can pass their own. */
export type Store = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** What {@link SessionKeeper} needs from the client. */
export interface SessionOptions {
  storage: Store | null;
  /** The storage key, one per endpoint + site key. */
  key: string;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Sends `POST /v1/sessions`, with `previous` as Bearer when there is one; the raw answer. */
  open: (previous: string | undefined, signal: AbortSignal) => Promise<unknown>;
}

/** A session request shared by concurrent callers; aborted only when every waiter has left. */
interface SharedRenewal {
  promise: Promise<Session>;
  controller: AbortController;
  waiters: number;
}

const RENEW_BEFORE_MS = 60_000;

/** Hands out a valid session, renewing it when it is about to expire. */
export class SessionKeeper {
  readonly #options: SessionOptions;
  /** Also kept in memory: storage may throw or be unavailable (Safari private mode). */
  #memory: Session | null = null;
  #renewal: SharedRenewal | null = null;

  constructor(options: SessionOptions) {
    this.#options = options;
  }

  /** The cached session while it has more than ~60 s left, else a renewed one. */
  async session(signal?: AbortSignal): Promise<Session> {
    throwIfAborted(signal);
    const current = this.#cached();
    if (current && current.expiresAt * 1000 - this.#options.now() > RENEW_BEFORE_MS)
      return { ...current };
    return this.#joinRenewal(signal);
  }

  /** Marks the token stale but keeps it as the renewal credential (keeps the visitor's id). */
  invalidate(token: string): void {
    const current = this.#cached();
    if (current?.token === token) this.#save({ ...current, expiresAt: 0 });
  }

  #joinRenewal(signal: AbortSignal | undefined): Promise<Session> {
    let shared = this.#renewal;
    if (!shared) {
      const controller = new AbortController();
      const promise = withRetry(() => this.#start(controller.signal), controller.signal);
      shared = { promise, controller, waiters: 0 };
      this.#renewal = shared;
      const done = () => this.#renewal === shared && (this.#renewal = null);
      promise.then(done, done);
    }
    const renewal = shared;
    renewal.waiters++;
    return new Promise<Session>((resolve, reject) => {
      const leave = () => {
        reject(abortedProblem(signal?.reason));
        if (--renewal.waiters > 0) return;
        if (this.#renewal === renewal) this.#renewal = null;
        renewal.controller.abort();
      };
      signal?.addEventListener("abort", leave, { once: true });
      renewal.promise.then(
        (session) => (signal?.removeEventListener("abort", leave), resolve({ ...session })),
        (error: unknown) => (signal?.removeEventListener("abort", leave), reject(error)),
      );
    });
  }

  async #start(signal: AbortSignal): Promise<Session> {
    // The previous token, even expired, lets the worker keep this visitor's id and so its jobs.
    const session = asSession(await this.#options.open(this.#cached()?.token, signal));
    this.#save(session);
    return session;
  }

  #cached(): Session | null {
    let stored: Session | null = null;
    try {
      const raw = this.#options.storage?.getItem(this.#options.key);
      stored = raw ? asSession(JSON.parse(raw), true) : null;
    } catch {
      // Unreadable or corrupted storage: the memory copy (or a new session) will do.
    }
    const memory = this.#memory;
    if (!stored) return memory;
    return memory && memory.expiresAt > stored.expiresAt ? memory : stored;
  }

  #save(session: Session): void {
    this.#memory = session;
    try {
      this.#options.storage?.setItem(this.#options.key, JSON.stringify(session));
    } catch {
      // Quota or private mode: the session lives as long as the page.
    }
  }
}

/** `localStorage` when the page may use it, else null (the caller then keeps things in memory). */
export function defaultStorage(): Store | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // sandboxed iframes throw on access
  }
}

/** Reads a session from the worker's answer (snake_case) or from storage (`stored`, camelCase). */
function asSession(body: unknown, stored = false): Session {
  const token = isRecord(body) ? body.token : undefined;
  const visitorId = isRecord(body) ? (stored ? body.visitorId : body.visitor_id) : undefined;
  const expiresAt = isRecord(body) ? (stored ? body.expiresAt : body.expires_at) : undefined;
  if (typeof token !== "string" || typeof visitorId !== "string" || typeof expiresAt !== "number")
    throw unexpected();
  return { token, visitorId, expiresAt };
}
