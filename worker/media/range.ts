/**
 * Single-range `Range: bytes=…` handling (RFC 9110 §14) for bodies whose bytes we hold: the
 * simulator's media today, R2 objects later. `<video>` seeking and iOS playback depend on 206s.
 * Multi-range requests are answered with the whole body, which §14.2 allows.
 */
export type ByteRange = { start: number; end: number }; // inclusive end

/** Returns the satisfiable range, `null` for no (or an ignorable) Range, or "unsatisfiable". */
export function parseRange(
  header: string | null,
  size: number,
): ByteRange | null | "unsatisfiable" {
  if (!header) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) return null; // unknown unit or multiple ranges: serve the full body
  const [, first, last] = match as unknown as [string, string, string];
  if (first === "" && last === "") return null;
  if (size === 0) return "unsatisfiable"; // no byte of an empty body can be named
  if (first === "") {
    const suffix = Number(last);
    if (suffix === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return "unsatisfiable";
  const end = last === "" ? size - 1 : Math.min(Number(last), size - 1);
  if (end < start) return null; // invalid range-spec: ignore it, per §14.1.1
  return { start, end };
}

/** A 200/206/416 Response for `bytes` with the headers a media element expects. */
export function rangeResponse(
  bytes: ArrayBuffer,
  contentType: string,
  rangeHeader: string | null,
  etag: string,
): Response {
  const size = bytes.byteLength;
  const headers = new Headers({ "content-type": contentType, "accept-ranges": "bytes", etag });
  const range = parseRange(rangeHeader, size);
  if (range === "unsatisfiable") {
    headers.set("content-range", `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  if (!range) {
    headers.set("content-length", String(size));
    return new Response(bytes, { status: 200, headers });
  }
  headers.set("content-range", `bytes ${range.start}-${range.end}/${size}`);
  headers.set("content-length", String(range.end - range.start + 1));
  return new Response(bytes.slice(range.start, range.end + 1), { status: 206, headers });
}
