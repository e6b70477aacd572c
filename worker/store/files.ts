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
  return { ...file, bytes: body.byteLength };
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

export async function deleteFile(bucket: R2Bucket, fileId: string): Promise<void> {
  await storage(() => bucket.delete(fileKey(fileId)));
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
    await deleteFile(bucket, lookup.id).catch((error: unknown) =>
      log("warn", "file_delete_failed", { file_id: lookup.id, error: String(error) }),
    );
    return null;
  }
  if (meta.data.owner !== lookup.owner) return null;
  return { ...meta.data, id: lookup.id, bytes: object.size };
}
