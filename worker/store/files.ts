/**
 * Uploaded files (`/v1/files`): one RESULTS object each, under `v1/files/<id>`, its record in the
 * object's custom metadata. R2 reads its own writes, so the create that follows an upload finds
 * the file (a KV record might not be there yet). Video copies live under `v1/video_…/`, a prefix
 * no file key can share.
 *
 * R2 failing is answered like KV failing: `503 storage_unavailable` with Retry-After.
 *
 * Expiry is judged here against the worker's clock, never handed to R2 as an absolute time: a
 * file past `expires_at` reads as missing and is deleted on sight.
 *
 * Listing (`GET /v1/files`) reads an owner's index, `v1/file-index/<owner>/<inverted ms>_<id>`:
 * empty objects carrying the same metadata, newest first, so a page is one R2 list call with
 * `include: ["customMetadata"]` and no read per file. The file is written before its entry and
 * its entry removed before it, so an entry never outlives its file unseen for long.
 */
import { z } from "zod";
import { isFileId } from "../ids";
import { log } from "../log";
import { storage } from "./jobs";

/** OpenAI's purposes (the SDK's `FilePurpose`): all are accepted, and every file is an image. */
export const FILE_PURPOSES = [
  "assistants",
  "batch",
  "fine-tune",
  "vision",
  "user_data",
  "evals",
] as const;

export const FILES_PREFIX = "v1/files/";
export const fileKey = (fileId: string) => `${FILES_PREFIX}${fileId}`;

const INDEX_PREFIX = "v1/file-index/";
const MAX_MS = 10 ** 15;
/** The owner's index prefix; owners are ours (`key:…`, `visitor:…`), encoded to stay one segment. */
const indexPrefix = (owner: string) => `${INDEX_PREFIX}${encodeURIComponent(owner)}/`;
const indexKey = (file: { owner: string; created_at: number; id: string }) =>
  `${indexPrefix(file.owner)}${String(MAX_MS - file.created_at * 1000).padStart(16, "0")}_${file.id}`;

/** What custom metadata holds (strings only, so the times are parsed back). */
const FileMeta = z.object({
  owner: z.string().min(1),
  filename: z.string(),
  purpose: z.enum(FILE_PURPOSES),
  mime: z.enum(["image/jpeg", "image/png", "image/webp"]),
  created_at: z.coerce.number().int(),
  expires_at: z.coerce.number().int(),
});

export type StoredFile = z.infer<typeof FileMeta> & { id: string; bytes: number };

/** Who asks, and when: a file is found only for its owner, and only before it expires. */
export interface FileLookup {
  id: string;
  owner: string;
  nowMs: number;
}

export async function saveFile(
  bucket: R2Bucket,
  file: Omit<StoredFile, "bytes">,
  body: Uint8Array,
): Promise<StoredFile> {
  const { id, ...meta } = file;
  const customMetadata = Object.fromEntries(
    Object.entries(meta).map(([name, value]) => [name, String(value)]),
  );
  await storage(() =>
    bucket.put(fileKey(id), body, { customMetadata, httpMetadata: { contentType: file.mime } }),
  );
  const bytes = String(body.byteLength);
  await storage(() =>
    bucket.put(indexKey(file), "", { customMetadata: { ...customMetadata, bytes } }),
  );
  return { ...file, bytes: body.byteLength };
}

export interface FilePage {
  files: StoredFile[];
  hasMore: boolean;
}

/**
 * A page of the owner's live files, newest first (or oldest first for `asc`), after the file
 * `after` names. Expired entries are skipped (and their files deleted, as on sight).
 */
export async function listFiles(
  bucket: R2Bucket,
  query: {
    owner: string;
    nowMs: number;
    limit: number;
    order: "asc" | "desc";
    after?: string;
    purpose?: StoredFile["purpose"];
  },
): Promise<FilePage> {
  const prefix = indexPrefix(query.owner);
  let startAfter: string | undefined;
  if (query.after !== undefined) {
    const anchor = await findFile(bucket, {
      id: query.after,
      owner: query.owner,
      nowMs: query.nowMs,
    });
    if (!anchor) return { files: [], hasMore: false };
    startAfter = indexKey(anchor);
  }
  // R2 lists in ascending key order only (newest first here); `asc` reads the whole index,
  // which FILE_TTL_SECONDS and the upload brakes keep small, and pages it in memory.
  const entries: StoredFile[] = [];
  let cursor: string | undefined;
  do {
    const page = await storage(() =>
      bucket.list({
        prefix,
        cursor,
        startAfter: query.order === "desc" ? startAfter : undefined,
        include: ["customMetadata"],
      }),
    );
    for (const object of page.objects) {
      const file = indexed(object, query.owner);
      if (!file || (query.purpose !== undefined && file.purpose !== query.purpose)) continue;
      if (file.expires_at * 1000 <= query.nowMs) {
        await deleteFile(bucket, file).catch(() => {});
        continue;
      }
      entries.push(file);
    }
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor && (query.order === "asc" || entries.length <= query.limit));
  let ordered = entries;
  if (query.order === "asc") {
    // Oldest first: after the anchor means newer, a smaller (inverted-time) key. Compared by
    // key, the anchor need not be in this listing (another purpose's file pages correctly).
    ordered = entries.reverse();
    if (startAfter !== undefined) ordered = ordered.filter((file) => indexKey(file) < startAfter);
  }
  return { files: ordered.slice(0, query.limit), hasMore: ordered.length > query.limit };
}

function indexed(object: R2Object, owner: string): StoredFile | null {
  // `<16 digits>_<id>` after the owner's prefix.
  const id = object.key.slice(object.key.lastIndexOf("/") + 18);
  const meta = FileMeta.extend({ bytes: z.coerce.number().int() }).safeParse(object.customMetadata);
  if (!isFileId(id) || !meta.success || meta.data.owner !== owner) return null;
  return { ...meta.data, id };
}

/** The caller's live file's record, or null (unknown, another owner's, expired). */
export async function findFile(bucket: R2Bucket, lookup: FileLookup): Promise<StoredFile | null> {
  if (!isFileId(lookup.id)) return null;
  return liveOwned(bucket, lookup, await storage(() => bucket.head(fileKey(lookup.id))));
}

/** `findFile` with the bytes, read in the same request to R2. */
export async function openFile(
  bucket: R2Bucket,
  lookup: FileLookup,
): Promise<{ file: StoredFile; body: ReadableStream } | null> {
  if (!isFileId(lookup.id)) return null;
  const object = await storage(() => bucket.get(fileKey(lookup.id)));
  const file = await liveOwned(bucket, lookup, object);
  if (!file) {
    await object?.body.cancel(); // another owner's bytes are never read
    return null;
  }
  return { file, body: object!.body };
}

/** The index entry first, then the file: a file is never listed without existing. */
export async function deleteFile(
  bucket: R2Bucket,
  file: { id: string; owner: string; created_at: number },
): Promise<void> {
  await storage(() => bucket.delete(indexKey(file)));
  await storage(() => bucket.delete(fileKey(file.id)));
}

async function liveOwned(
  bucket: R2Bucket,
  lookup: FileLookup,
  object: R2Object | null,
): Promise<StoredFile | null> {
  if (!object) return null;
  const meta = FileMeta.safeParse(object.customMetadata);
  if (!meta.success) {
    log("warn", "file_metadata_unreadable", { file_id: lookup.id });
    return null;
  }
  if (meta.data.expires_at * 1000 <= lookup.nowMs) {
    // Anyone's sight will do: an expired file is nobody's, and deleting it reveals nothing.
    await deleteFile(bucket, { ...meta.data, id: lookup.id }).catch((error: unknown) =>
      log("warn", "file_delete_failed", { file_id: lookup.id, error: String(error) }),
    );
    return null;
  }
  if (meta.data.owner !== lookup.owner) return null;
  return { ...meta.data, id: lookup.id, bytes: object.size };
}
