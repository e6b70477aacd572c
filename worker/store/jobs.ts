/**
 * Job records in Workers KV (docs/decisions/0002-kv-layout.md).
 *
 *   v1:job:<video id>                          → the record (JSON), one key per job
 *   v1:owner:<owner>:<inverted ms>:<video id>  → empty; lists an owner's jobs newest first
 *   v1:upstream:<route id>:<upstream id>       → video id; finds the job a webhook is about,
 *                                                only among jobs that route started
 *
 * Webhook replays are decided in the spend ledger Durable Object (atomic), not here: KV's
 * get-then-put let two copies of one delivery sent together both through.
 *
 * Every key of a job expires at the record's `record_expires_at`, so a job and its index entries
 * vanish together. KV is told a *relative* `expirationTtl` (the time left by our clock), never an
 * absolute `expiration`: KV judges an absolute time by its own clock and refuses one it thinks has
 * passed, so a deployment (or a test) whose clock and KV's disagree would lose every write. Records
 * past their expiry by our clock read as gone even before KV drops them. Records are parsed with
 * zod on the way out: a KV value is input like any other.
 */
import { z } from "zod";
import { FAILURE_CODES, VARIANTS, VIDEO_STATUSES } from "../providers/types";

const PREFIX = "v1";

/** One media file copied into R2: enough to answer conditional and range requests unread. */
const storedVariant = z.object({
  size: z.number().int().nonnegative(),
  /** R2's quoted ETag (`httpEtag`). */
  etag: z.string(),
  /** The type it is served as, decided when it was copied (worker/media/media-type.ts). */
  type: z.string(),
});

export const jobRecord = z.object({
  v: z.literal(1),
  id: z.string(),
  owner: z.string(),
  route: z.string(),
  upstream_id: z.string(),
  status: z.enum(VIDEO_STATUSES),
  progress: z.number().min(0).max(100),
  error: z.object({ code: z.enum(FAILURE_CODES), message: z.string() }).nullable(),
  prompt: z.string(),
  size: z.string(),
  seconds: z.string(),
  remixed_from_video_id: z.string().nullable(),
  /**
   * What an extension continued or an edit changed: one of the owner's videos (its id) or an
   * uploaded file (null). Absent on plain creates and remixes.
   */
  source: z
    .object({ type: z.enum(["extension", "edit"]), video_id: z.string().nullable() })
    .optional(),
  created_at: z.number(),
  completed_at: z.number().nullable(),
  /** When the provider's assets expire (unix seconds), if it said. */
  upstream_expires_at: z.number().nullable(),
  /** When KV drops this record (unix seconds). */
  record_expires_at: z.number(),
  /** Last time the provider was asked (ms). Stored only together with a real change. */
  checked_at: z.number(),
  /** The spend ledger's reservation for this job; absent on records made before the ledger. */
  reservation_id: z.string().optional(),
  /**
   * True once the ledger settled or refunded the reservation. A finished job without it is
   * retried on its next sight (the ledger was unreachable when it finished, or its route was
   * removed), so no reservation stays `reserved`.
   */
  spend_settled: z.boolean().optional(),
  /**
   * This deployment's origin as the creating caller reached it: the base of the media URLs in
   * events announced with nobody's request to take it from. Absent on older records.
   */
  origin: z.string().optional(),
  /** Our durable copy of the finished job's media in R2 (worker/results/), once made. */
  result: z
    .object({
      /** When our copies are deleted (unix seconds): RESULT_RETENTION_DAYS after the copy. */
      expires_at: z.number(),
      /** The variants the provider had, as stored; a variant missing here does not exist. */
      variants: z.partialRecord(z.enum(VARIANTS), storedVariant),
    })
    .optional(),
});
export type JobRecord = z.infer<typeof jobRecord>;
export type StoredVariant = z.infer<typeof storedVariant>;

const jobKey = (id: string) => `${PREFIX}:job:${id}`;
const ownerPrefix = (owner: string) => `${PREFIX}:owner:${owner}:`;
const upstreamKey = (routeId: string, upstreamId: string) =>
  `${PREFIX}:upstream:${routeId}:${upstreamId}`;
const MAX_MS = 9_999_999_999_999;
const ownerKey = (r: JobRecord) =>
  `${ownerPrefix(r.owner)}${String(MAX_MS - r.created_at * 1000).padStart(13, "0")}:${r.id}`;

export interface ListOptions {
  after?: string;
  limit: number;
  order: "asc" | "desc";
}

export interface ListPage {
  records: JobRecord[];
  hasMore: boolean;
}

/** Most index pages read for one list call (1,000 keys each): bounds the cost of `asc`/`after`. */
const MAX_INDEX_PAGES = 10;

/** KV's shortest `expirationTtl`, in seconds. */
const KV_MIN_TTL_SECONDS = 60;

/**
 * Where deletions are recorded with strong consistency (the spend ledger Durable Object): KV
 * alone cannot stop a write that was already in flight from bringing a deleted record back.
 */
export interface Tombstones {
  markDeleted(videoId: string, reservationId: string | null, now: number): Promise<void>;
  /** The ids among these (at most 100) that were deleted. */
  deletedAmong(videoIds: string[]): Promise<string[]>;
}

export class JobStore {
  /**
   * `now` is the worker's injected clock (ms), the one that set `record_expires_at`. Without
   * `tombstones` (unit tests of the store itself) a delete is only as strong as KV's.
   */
  constructor(
    private readonly kv: KVNamespace,
    private readonly now: () => number,
    private readonly tombstones?: Tombstones,
  ) {}

  /**
   * The job, or null when it never existed, expired or was deleted. A record KV still returns is
   * checked against the tombstones: KV is eventually consistent, so another location may serve a
   * deleted record for a minute after the delete; the ledger is not.
   */
  async get(id: string): Promise<JobRecord | null> {
    // Both at once: a poll waits for the slower of KV and the ledger, not for their sum.
    const [record, deleted] = await Promise.all([this.read(id), this.deletedAmong([id])]);
    if (record === null) return null;
    if (deleted.length === 0) return record;
    // Deleted, yet its keys are still here (the delete was cut off after its tombstone, or this
    // location lags): finish the removal, so nothing outlives the tombstone's retention.
    await this.removeKeys(record).catch(() => {});
    return null;
  }

  /** The record as KV holds it, without the tombstone check. */
  private async read(id: string): Promise<JobRecord | null> {
    const raw = await storage(() => this.kv.get(jobKey(id), "json"));
    if (raw === null) return null;
    const parsed = jobRecord.safeParse(raw);
    if (!parsed.success) return null; // an unreadable record is treated as gone
    return parsed.data.record_expires_at > this.nowSeconds() ? parsed.data : null;
  }

  private nowSeconds(): number {
    return Math.floor(this.now() / 1000);
  }

  /** Time left until the record expires, as KV takes it (at least its minimum). */
  private ttl(record: JobRecord): { expirationTtl: number } {
    const left = record.record_expires_at - this.nowSeconds();
    return { expirationTtl: Math.max(KV_MIN_TTL_SECONDS, left) };
  }

  /**
   * Writes the record with its expiration. A new job also gets its owner index entry and, on
   * routes whose provider sends webhooks, the (route, upstream id) → video id entry.
   *
   * An update of an existing job (a refresh, a webhook) may race a delete in another isolate:
   * it read the record before the delete and writes it back after. So the write is checked
   * *after* it lands: a delete marks its tombstone before removing the keys, hence either this
   * write came before the removal (and is removed with it) or the tombstone is already there and
   * the write is undone here. Checking before writing could not close that window.
   */
  async put(record: JobRecord, isNew: { webhooks?: boolean } | false = false): Promise<void> {
    const options = this.ttl(record);
    const writes = [this.kv.put(jobKey(record.id), JSON.stringify(record), options)];
    if (isNew) writes.push(this.kv.put(ownerKey(record), "", options));
    if (isNew && isNew.webhooks) {
      const key = upstreamKey(record.route, record.upstream_id);
      writes.push(this.kv.put(key, record.id, options));
    }
    await Promise.all(writes);
    if (!isNew) await this.undoIfDeleted(record);
  }

  /**
   * An update that moves the record's expiry later (our R2 copy is kept longer than the job
   * record would be): the owner index entry is written again with it, or the job would drop
   * out of its owner's list while still stored. Webhooks have arrived by then; the upstream
   * entry keeps its own expiry.
   */
  async putExtended(record: JobRecord): Promise<void> {
    const options = this.ttl(record);
    await Promise.all([
      this.kv.put(jobKey(record.id), JSON.stringify(record), options),
      this.kv.put(ownerKey(record), "", options),
    ]);
    await this.undoIfDeleted(record);
  }

  /** See `put`: a write that landed after a delete's tombstone is removed again. */
  private async undoIfDeleted(record: JobRecord): Promise<void> {
    if ((await this.deletedAmong([record.id])).length > 0) {
      await this.removeKeys(record);
      throw new DeletedError(record.id);
    }
  }

  /** The video id of the job `routeId` started as `upstreamId` upstream (for webhooks), or null. */
  videoIdForUpstream(routeId: string, upstreamId: string): Promise<string | null> {
    return storage(() => this.kv.get(upstreamKey(routeId, upstreamId)));
  }

  /**
   * Deletes a job for good: the tombstone first (and the job's open reservation settled with
   * it), then every key, so no write in flight anywhere can bring the record back (see `put`).
   */
  async delete(record: JobRecord): Promise<void> {
    const { tombstones } = this;
    if (tombstones) {
      await storage(() =>
        tombstones.markDeleted(record.id, record.reservation_id ?? null, this.now()),
      );
    }
    await this.removeKeys(record);
  }

  private async removeKeys(record: JobRecord): Promise<void> {
    await storage(() =>
      Promise.all([
        this.kv.delete(jobKey(record.id)),
        this.kv.delete(ownerKey(record)),
        this.kv.delete(upstreamKey(record.route, record.upstream_id)),
      ]),
    );
  }

  /** The owner's jobs in creation order, paginated by the id of the last job seen. */
  async list(owner: string, options: ListOptions): Promise<ListPage> {
    const ids = await this.indexedIds(owner, options);
    let start = 0;
    if (options.after) {
      const at = ids.indexOf(options.after);
      start = at === -1 ? ids.length : at + 1;
    }
    const window = ids.slice(start, start + options.limit + 1);
    const hasMore = window.length > options.limit;
    const wanted = window.slice(0, options.limit);
    // One tombstone check for the page, not one per record.
    const deleted = new Set(await this.deletedAmong(wanted));
    const records = await Promise.all(
      wanted.filter((id) => !deleted.has(id)).map((id) => this.read(id)),
    );
    return { records: records.filter((r): r is JobRecord => r?.owner === owner), hasMore };
  }

  private async deletedAmong(ids: string[]): Promise<string[]> {
    const { tombstones } = this;
    return tombstones ? storage(() => tombstones.deletedAmong(ids)) : [];
  }

  /** Ids from the owner index, newest first (the key order) or reversed for `asc`. */
  private async indexedIds(owner: string, options: ListOptions): Promise<string[]> {
    const prefix = ownerPrefix(owner);
    const ids: string[] = [];
    // Newest-first needs only as many keys as the page (unless paging past `after`).
    const enough = options.order === "desc" && !options.after ? options.limit + 1 : Infinity;
    let cursor: string | undefined;
    for (let page = 0; page < MAX_INDEX_PAGES && ids.length < enough; page++) {
      const result = await storage(() => this.kv.list({ prefix, cursor }));
      for (const key of result.keys) ids.push(key.name.slice(key.name.lastIndexOf(":") + 1));
      if (result.list_complete) break;
      cursor = result.cursor;
    }
    return options.order === "desc" ? ids : ids.reverse();
  }
}

/** A write of a job that was deleted meanwhile: it has been undone; callers treat the job as gone. */
export class DeletedError extends Error {
  override readonly name = "DeletedError";
  constructor(readonly videoId: string) {
    super(`video ${videoId} was deleted`);
  }
}

/**
 * KV (or the ledger holding tombstones) failed: not the caller's fault and not a bug, so it is
 * answered `503 storage_unavailable` with `Retry-After`, never a 500.
 */
export class StorageError extends Error {
  override readonly name = "StorageError";
}

/** Runs a storage call, turning its failure into a StorageError (a 503, not a 500). */
export async function storage<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw new StorageError(String(error), { cause: error });
  }
}
