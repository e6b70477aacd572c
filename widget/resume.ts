/**
 * Remembers the visitor's unfinished and recent jobs across reloads, so the widget can resume
 * polling a job started before a reload. Only ids and statuses are kept: the worker stays the
 * source of truth, and the list is small enough to live under one key per endpoint + site.
 */
import type { Store } from "./api/session";
import type { Video } from "./api/types";

/** One remembered job; `createdAt` is the Video's `created_at` (unix seconds). */
export interface RememberedJob {
  id: string;
  status: Video["status"];
  createdAt: number;
}

const MAX_JOBS = 10;
const MAX_AGE_SECONDS = 7 * 86_400;
const STATUSES: ReadonlySet<string> = new Set(["queued", "in_progress", "completed", "failed"]);

/** The visitor's last jobs, newest first; tolerant of corrupted or throwing storage. */
export class JobMemory {
  readonly #storage: Store | null;
  readonly #key: string;
  readonly #now: () => number;
  /** Used when storage refuses writes (Safari private mode, quota), so the page still works. */
  #fallback: RememberedJob[] | null = null;

  /** The storage key for one endpoint + site key, so two widgets on a page never mix jobs. */
  static keyFor(endpoint: string, siteKey: string): string {
    return `stillmotion:jobs:${endpoint.replace(/\/+$/, "")}#${siteKey}`;
  }

  /** `now` (milliseconds) is injectable for tests; it defaults to `Date.now`. */
  constructor(storage: Store | null | undefined, key: string, now: () => number = Date.now) {
    this.#storage = storage ?? null;
    this.#key = key;
    this.#now = now;
  }

  /** Adds the job or updates its status. */
  remember(video: Video): void {
    const others = this.#read().filter((job) => job.id !== video.id);
    this.#write([{ id: video.id, status: video.status, createdAt: video.created_at }, ...others]);
  }

  forget(id: string): void {
    this.#write(this.#read().filter((job) => job.id !== id));
  }

  /** Newest first, at most 10, none older than 7 days. */
  list(): RememberedJob[] {
    return this.#read();
  }

  #read(): RememberedJob[] {
    if (this.#fallback) return this.#prune(this.#fallback);
    let parsed: unknown = null;
    try {
      const raw = this.#storage?.getItem(this.#key);
      parsed = raw ? JSON.parse(raw) : null;
    } catch {
      // Corrupted JSON or storage that throws on read: start from an empty memory.
    }
    return this.#prune(Array.isArray(parsed) ? parsed.filter(isJob) : []);
  }

  #prune(jobs: RememberedJob[]): RememberedJob[] {
    const oldest = this.#now() / 1000 - MAX_AGE_SECONDS;
    return jobs
      .filter((job) => job.createdAt >= oldest)
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, MAX_JOBS)
      .map((job) => ({ ...job }));
  }

  #write(jobs: RememberedJob[]): void {
    const kept = this.#prune(jobs);
    try {
      if (!this.#storage) throw new Error("no storage");
      if (kept.length === 0) this.#storage.removeItem(this.#key);
      else this.#storage.setItem(this.#key, JSON.stringify(kept));
      this.#fallback = null;
    } catch {
      this.#fallback = kept;
    }
  }
}

function isJob(value: unknown): value is RememberedJob {
  if (typeof value !== "object" || value === null) return false;
  const job = value as Record<string, unknown>;
  return (
    typeof job.id === "string" &&
    typeof job.status === "string" &&
    STATUSES.has(job.status) &&
    typeof job.createdAt === "number" &&
    Number.isFinite(job.createdAt)
  );
}
