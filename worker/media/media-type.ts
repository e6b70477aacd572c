/**
 * What a job's media download is served as — the one place that decides it, for every provider
 * (the simulator included), after the provider has returned its Response.
 *
 * The bytes come from an upstream we do not control (a relay can answer anything) and are served
 * from our own origin, the one that hosts the demo page and keeps visitor tokens in
 * localStorage. An upstream `text/html` served inline here would be stored XSS. So a download
 * only ever carries the type we expect for its variant, and only when the bytes agree:
 *
 * - Bytes we can see from the start (a 200, or a 206 from byte 0) are judged by their leading
 *   signature; the upstream's Content-Type is not consulted, so a real MP4 mislabelled
 *   `application/octet-stream` still plays, and HTML labelled `video/mp4` is not served as video.
 * - A range that starts later cannot be sniffed (the signature is not in it), and neither can a
 *   range too short to hold it (Safari probes with `bytes=0-1`): then the upstream's declared
 *   type decides, kept only when it is exactly the expected one.
 * - Anything else goes out as `application/octet-stream` with `Content-Disposition: attachment`.
 *   We could refuse instead, but the bytes may well be a real video behind a wrong label or a
 *   signature we do not know; a download loses the caller nothing and renders nothing here.
 *
 * Every answer — inline, attachment or 416 — also carries `X-Content-Type-Options: nosniff` and a
 * sandboxing CSP, so even a browser that second-guesses the type cannot run script as our origin.
 * `<video>`/`<img>` on other sites still embed the inline types: CSP applies to documents, not to
 * media loaded into one.
 *
 * The body is never buffered: at most the first chunk or two are read to see the signature, then
 * re-emitted, and the rest is piped through natively.
 */

/** The type, and the file extension, each variant is served as. */
export const MEDIA = {
  video: { type: "video/mp4", extension: "mp4" },
  thumbnail: { type: "image/webp", extension: "webp" },
  spritesheet: { type: "image/jpeg", extension: "jpg" },
} as const;

export type MediaVariant = keyof typeof MEDIA;
export type MediaType = (typeof MEDIA)[MediaVariant]["type"];

/** A media response's policy: no sniffing, and a document that could never run or load anything. */
export const MEDIA_CSP = "default-src 'none'; sandbox";

const ascii = (text: string): number[] => [...text].map((ch) => ch.charCodeAt(0));

/** Leading bytes of each type; `null` stands for a byte that may take any value. */
const SIGNATURES: Record<MediaType, readonly (number | null)[]> = {
  // ISO/IEC 14496-12 §4.2/§4.3: a file is boxes `[size:4][type:4]…`, the first being `ftyp`.
  "video/mp4": [null, null, null, null, ...ascii("ftyp")],
  // RFC 9649 §2.5: "RIFF", the file size (LE32), "WEBP".
  "image/webp": [...ascii("RIFF"), null, null, null, null, ...ascii("WEBP")],
  // ITU-T T.81 §B.1.1.3: SOI (FF D8), then the first marker's FF.
  "image/jpeg": [0xff, 0xd8, 0xff],
};

/** How many leading bytes it takes to judge any of our types. */
const LONGEST_SIGNATURE = Math.max(...Object.values(SIGNATURES).map((s) => s.length));

/**
 * Whether `bytes` (the first bytes of a body) start like `type`: `match`, `mismatch`, or
 * `too_short` when they end before the signature does without contradicting it.
 */
export function checkSignature(
  bytes: Uint8Array,
  type: MediaType,
): "match" | "mismatch" | "too_short" {
  const signature = SIGNATURES[type];
  for (let i = 0; i < signature.length; i++) {
    if (i >= bytes.length) return "too_short";
    const expected = signature[i];
    if (expected !== null && bytes[i] !== expected) return "mismatch";
  }
  return "match";
}

/** The media type whose signature `bytes` start with, or null for none of ours. */
export function sniffMediaType(bytes: Uint8Array): MediaType | null {
  const types = Object.keys(SIGNATURES) as MediaType[];
  return types.find((type) => checkSignature(bytes, type) === "match") ?? null;
}

/** Whether a Content-Type header names exactly `type`, ignoring parameters and case. */
export function declares(header: string | null, type: MediaType): boolean {
  return header?.split(";")[0]!.trim().toLowerCase() === type;
}

/** Headers a media download keeps from the provider's response; the type is decided here. */
const KEPT = ["content-length", "content-range", "accept-ranges", "etag", "last-modified"];

/**
 * The client's response for a provider's media response (200, 206 or 416) of `variant`: the
 * typing rule above applied, the whitelisted headers kept, and `filename` (without extension)
 * named in Content-Disposition.
 */
export async function servedMedia(
  upstream: Response,
  variant: MediaVariant,
  filename: string,
): Promise<Response> {
  const { type, extension } = MEDIA[variant];
  const headers = new Headers();
  for (const name of KEPT) {
    const value = upstream.headers.get(name);
    if (value !== null) headers.set(name, value);
  }
  headers.set("x-content-type-options", "nosniff");
  headers.set("content-security-policy", MEDIA_CSP);

  if (upstream.status === 416) {
    // No body worth typing (an upstream's 416 page could be anything): drop it, keep the range.
    await upstream.body?.cancel().catch(() => {});
    headers.delete("content-length");
    return new Response(null, { status: 416, headers });
  }

  const declared = declares(upstream.headers.get("content-type"), type);
  let inline: boolean;
  let body = upstream.body;
  if (body !== null && startsAtZero(upstream)) {
    const { head, reader } = await peek(body, LONGEST_SIGNATURE);
    const verdict = checkSignature(concat(head), type);
    inline = verdict === "match" || (verdict === "too_short" && declared);
    body = replay(head, reader, body, contentLength(headers));
  } else {
    inline = declared;
  }

  headers.set("content-type", inline ? type : "application/octet-stream");
  headers.set(
    "content-disposition",
    `${inline ? "inline" : "attachment"}; filename="${filename}.${extension}"`,
  );
  return new Response(body, { status: upstream.status, headers });
}

/** A 206 from byte 0 shows the signature like a 200; a later (or unreadable) range does not. */
function startsAtZero(response: Response): boolean {
  if (response.status !== 206) return true;
  const range = /^bytes\s+(\d+)-\d+\/(?:\d+|\*)$/i.exec(
    response.headers.get("content-range") ?? "",
  );
  return range !== null && Number(range[1]) === 0;
}

/** The body's length when Content-Length gives one (pass-through drops it for decoded bodies). */
function contentLength(headers: Headers): number | null {
  const value = headers.get("content-length");
  if (value === null || !/^\d+$/.test(value)) {
    headers.delete("content-length");
    return null;
  }
  return Number(value);
}

/** Reads chunks until `bytes` bytes have arrived or the body ends, holding the reader. */
async function peek(
  body: ReadableStream<Uint8Array>,
  bytes: number,
): Promise<{ head: Uint8Array[]; reader: ReadableStreamDefaultReader<Uint8Array> }> {
  const reader = body.getReader();
  const head: Uint8Array[] = [];
  let seen = 0;
  while (seen < bytes) {
    const { done, value } = await reader.read();
    if (done) break;
    head.push(value);
    seen += value.byteLength;
  }
  return { head, reader };
}

function concat(chunks: Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}

/**
 * The whole body again: the peeked chunks, then the rest of `body` piped natively (no per-chunk
 * JavaScript). A known length goes through a FixedLengthStream so the runtime still sends
 * Content-Length — `<video>` seeking depends on it — and cuts off an upstream that lies about it.
 */
function replay(
  head: Uint8Array[],
  reader: ReadableStreamDefaultReader<Uint8Array>,
  body: ReadableStream<Uint8Array>,
  length: number | null,
): ReadableStream<Uint8Array> {
  const { readable, writable } =
    length === null ? new IdentityTransformStream() : new FixedLengthStream(length);
  void (async () => {
    const writer = writable.getWriter();
    try {
      for (const chunk of head) await writer.write(chunk);
    } catch (error) {
      // The client went away before the first bytes: let go of the upstream too.
      await reader.cancel(error).catch(() => {});
      return;
    }
    writer.releaseLock();
    reader.releaseLock();
    // pipeTo cancels the upstream when the client goes away, and aborts the client's response
    // when the upstream breaks; either way there is nothing left to do here.
    await body.pipeTo(writable).catch(() => {});
  })();
  return readable;
}
