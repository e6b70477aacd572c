/**
 * Serves our R2 copy of a variant the way media elements and download managers expect:
 * `Range` → 206 (one range) or 416, `ETag` with `If-None-Match` → 304, `If-Range` (a changed
 * validator means the whole file), `Accept-Ranges`, `Content-Length`, and
 * `Content-Disposition: attachment` on request. Size and ETag were recorded at copy time, so
 * conditions and ranges are decided before R2 is read at all; R2 is asked only for the bytes.
 */
import { MEDIA, MEDIA_CSP } from "../media/media-type";
import { parseRange } from "../media/range";
import type { Variant } from "../providers/types";
import type { StoredVariant } from "../store/jobs";

export interface ServeOptions {
  range: string | null;
  ifNoneMatch: string | null;
  ifRange: string | null;
  /** `?download=1`: save it rather than show it. */
  download: boolean;
  /** The file name without its extension. */
  filename: string;
}

/** The response, or null when the object is gone from R2 (the caller falls back upstream). */
export async function serveResult(
  bucket: R2Bucket,
  key: string,
  stored: StoredVariant,
  variant: Variant,
  options: ServeOptions,
): Promise<Response | null> {
  const headers = baseHeaders(stored, variant, options);
  if (options.ifNoneMatch !== null && etagListMatches(options.ifNoneMatch, stored.etag)) {
    // Only what updates a cache (RFC 9110 §15.4.5): no body headers for a body never sent.
    return new Response(null, { status: 304, headers: { etag: stored.etag } });
  }
  // If-Range with anything but our exact (strong) ETag — a date, another file's tag — asks
  // for the whole file, so a resumed download never splices two different files.
  const rangeHeader =
    options.ifRange === null || options.ifRange.trim() === stored.etag ? options.range : null;
  const range = parseRange(rangeHeader, stored.size);
  if (range === "unsatisfiable") {
    headers.set("content-range", `bytes */${stored.size}`);
    return new Response(null, { status: 416, headers });
  }
  const object = await bucket.get(key, {
    range: range ? { offset: range.start, length: range.end - range.start + 1 } : undefined,
    onlyIf: { etagMatches: unquote(stored.etag) },
  });
  if (object === null || !("body" in object)) return null;
  if (!range) {
    headers.set("content-length", String(stored.size));
    return new Response(object.body, { status: 200, headers });
  }
  headers.set("content-range", `bytes ${range.start}-${range.end}/${stored.size}`);
  headers.set("content-length", String(range.end - range.start + 1));
  return new Response(object.body, { status: 206, headers });
}

function baseHeaders(stored: StoredVariant, variant: Variant, options: ServeOptions): Headers {
  const inline = stored.type === MEDIA[variant].type && !options.download;
  return new Headers({
    "content-type": stored.type,
    "accept-ranges": "bytes",
    etag: stored.etag,
    "content-disposition": `${inline ? "inline" : "attachment"}; filename="${options.filename}.${MEDIA[variant].extension}"`,
    "x-content-type-options": "nosniff",
    "content-security-policy": MEDIA_CSP,
  });
}

/** `If-None-Match`: `*` or a list of tags, compared weakly (RFC 9110 §13.1.2). */
function etagListMatches(header: string, etag: string): boolean {
  if (header.trim() === "*") return true;
  const ours = weak(etag);
  return header.split(",").some((tag) => weak(tag.trim()) === ours);
}

const weak = (tag: string) => tag.replace(/^W\//, "");
const unquote = (tag: string) => tag.replace(/^W\//, "").replace(/^"|"$/g, "");
