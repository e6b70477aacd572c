/**
 * Streams an upstream media response to the client without buffering.
 */
/** Response headers a media download may carry to the client; everything else stays upstream. */
const MEDIA_HEADERS = [
  "content-type",
  "content-length",
  "content-range",
  "accept-ranges",
  "etag",
  "last-modified",
];

/**
 * Re-wraps an upstream media response (200, 206 or 416) for the client: the body stream is
 * handed over untouched, so bytes flow natively without passing through JavaScript, and only
 * whitelisted headers survive (no cookies, request ids, or upstream hostnames).
 *
 * The upstream's Content-Type is kept only as its claim: the content route hands every provider's
 * answer to `servedMedia` (./media-type.ts), which decides the type the client sees.
 */
export function passThroughMediaResponse(upstream: Response): Response {
  const headers = new Headers();
  for (const name of MEDIA_HEADERS) {
    const value = upstream.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  // fetch() decodes a Content-Encoding transparently, so the upstream length no longer matches.
  const encoding = upstream.headers.get("content-encoding");
  if (encoding && encoding !== "identity") headers.delete("content-length");
  return new Response(upstream.body, { status: upstream.status, headers });
}
