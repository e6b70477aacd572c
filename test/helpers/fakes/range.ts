/**
 * What every fake upstream's media endpoint does: serve bytes with single-range support (RFC 9110
 * §14: 200, 206 with Content-Range, 416 past the end), plus the provider's own headers — including
 * ones a client must never see, so tests can prove the worker strips them. Written apart from
 * worker/media/range.ts on purpose: a fake must not share the code it checks.
 */
export function rangeAnswer(
  bytes: Uint8Array,
  range: string | null,
  headers: Record<string, string>,
): Response {
  const total = bytes.length;
  const base = { "accept-ranges": "bytes", ...headers };
  const m = range?.match(/^bytes=(\d*)-(\d*)$/);
  if (!m || (m[1] === "" && m[2] === "")) {
    return new Response(bytes, { headers: { ...base, "content-length": String(total) } });
  }
  const start = m[1] === "" ? Math.max(0, total - Number(m[2])) : Number(m[1]);
  const end = m[1] === "" || m[2] === "" ? total - 1 : Math.min(Number(m[2]), total - 1);
  if (start >= total || start > end) {
    return new Response(null, {
      status: 416,
      headers: { ...base, "content-range": `bytes */${total}` },
    });
  }
  const slice = bytes.slice(start, end + 1);
  return new Response(slice, {
    status: 206,
    headers: {
      ...base,
      "content-length": String(slice.length),
      "content-range": `bytes ${start}-${end}/${total}`,
    },
  });
}
