/**
 * Where our copies live in the RESULTS bucket: one prefix per video, so a delete removes every
 * variant with one list, and nothing else shares it. Video ids are ours (worker/ids.ts), never
 * an upstream's or a client's text.
 */
import type { Variant } from "../providers/types";

export const resultPrefix = (videoId: string) => `v1/${videoId}/`;
export const resultKey = (videoId: string, variant: Variant) =>
  `${resultPrefix(videoId)}${variant}`;

/** Deletes every copy of a video (all variants; an unfinished upload is aborted by its copy). */
export async function deleteResults(bucket: R2Bucket, videoId: string): Promise<void> {
  const prefix = resultPrefix(videoId);
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, cursor });
    if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
}
