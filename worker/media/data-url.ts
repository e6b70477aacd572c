/**
 * The bytes of a base64 `data:` URL, framework-free, and a JSON body's data: URL read without
 * parsing it as JSON. Both exist because a 10 MB upload as JSON must cost no more than the same
 * upload as multipart in workerd (bench/upload-parse-workerd.bench.ts, docs/benchmarks.md): the
 * header is matched on its first bytes only, and the runtime decodes the rest (both decoders
 * below skip ASCII whitespace and refuse anything that is not base64).
 */

/** What a data: URL held, or why it is not one: the caller words the error. */
export type DataUrlBytes =
  { ok: true; bytes: Uint8Array } | { ok: false; reason: "not_base64_data_url" | "invalid_base64" };

export function decodeDataUrl(url: string): DataUrlBytes {
  const comma = url.indexOf(",");
  if (!(comma > 0 && comma < 128 && isBase64Header(url, comma))) {
    return { ok: false, reason: "not_base64_data_url" };
  }
  try {
    const bytes = base64Bytes(url.slice(comma + 1));
    if (bytes.byteLength > 0) return { ok: true, bytes };
  } catch {
    // Not base64: answered below.
  }
  return { ok: false, reason: "invalid_base64" };
}

/**
 * Whether the URL up to its first comma is `data:<type>/<subtype>;base64,`, type and subtype of
 * letters, digits and `_.+-` (what /^data:[\w.+-]+\/[\w.+-]+;base64,$/ matches). By hand, not
 * with that RegExp: a match leaves its subject in `RegExp.input`, and the header, a slice of the
 * URL, keeps the whole 10 MB string alive until the next match. In workerd that cost 4–19 ms of
 * CPU per 7 MB upload (mean of 100 requests; the most after a whole-body JSON.parse).
 */
function isBase64Header(url: string, comma: number): boolean {
  const base64At = comma - ";base64".length;
  const slash = url.indexOf("/", "data:".length);
  return (
    url.startsWith("data:") &&
    url.startsWith(";base64", base64At) &&
    slash > "data:".length &&
    slash + 1 < base64At &&
    isTokenRun(url, "data:".length, slash) &&
    isTokenRun(url, slash + 1, base64At)
  );
}

function isTokenRun(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    const alphanumeric = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
    if (!alphanumeric && c !== 95 && c !== 46 && c !== 43 && c !== 45) return false;
  }
  return true;
}

/** The runtime's base64 decoders (native in workerd; Node 24 has neither, and gets `atob`). */
const native = Uint8Array as {
  fromBase64?: (text: string) => Uint8Array;
  prototype: { setFromBase64?: (text: string) => { read: number; written: number } };
};

function base64Bytes(text: string): Uint8Array {
  if (native.fromBase64 && native.prototype.setFromBase64) return intoSizedArray(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

/**
 * `Uint8Array.fromBase64(text)`, decoded into an array allocated at its final size, which in
 * workerd cost 3–7 ms less CPU per 7 MB image (mean of 100 requests, in four trials). Whenever
 * setFromBase64 stops short of the end (trailing whitespace, or text that is not base64),
 * fromBase64 itself decides, so the bytes and the errors are always fromBase64's.
 */
function intoSizedArray(text: string): Uint8Array {
  const bytes = new Uint8Array(decodedSizeAtMost(text));
  const { read, written } = native.prototype.setFromBase64!.call(bytes, text);
  if (read !== text.length) return native.fromBase64!(text);
  return written === bytes.length ? bytes : bytes.slice(0, written);
}

/** Exact for base64 without whitespace; more than enough with it. */
function decodedSizeAtMost(text: string): number {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return Math.floor(((text.length - padding) * 3) / 4);
}

/** A JSON body whose data: URL was decoded without JSON.parse walking it (see below). */
export interface JsonWithDataUrl {
  /** Exactly what `JSON.parse(text)` returns, the data: URL included. */
  body: unknown;
  /** The data: URL, as it stands at `path` in `body`. */
  url: string;
  bytes: Uint8Array;
}

/**
 * `JSON.parse(text)` plus the decoded data: URL at `path` (e.g. input_reference.image_url), or
 * null when this shortcut cannot prove it gives exactly that; the caller then parses the usual
 * way, so every odd body (escapes, duplicate keys, control characters, invalid JSON) is judged
 * by `JSON.parse` itself.
 *
 * Why: JSON.parse would copy the 10 MB base64 into a second string, for the garbage collector
 * to deal with, before it is decoded. Here the string value is cut out of the text unparsed,
 * and the rest is parsed twice with two different placeholders in its place. If the value at
 * `path` is each placeholder in turn, it comes from the cut-out token and nothing else; a token
 * with no `"`, `\` or control character means the same string in JSON as in the text, and it
 * cannot change how the rest parses.
 */
export function parseJsonWithDataUrl(
  text: string,
  path: readonly [string, ...string[]],
): JsonWithDataUrl | null {
  const span = stringValueAfterKey(text, path[path.length - 1]!);
  if (!span) return null;
  const [before, after] = [text.slice(0, span.start), text.slice(span.end)];
  const body = parseOrNull(before + PLACEHOLDERS[0] + after);
  const check = parseOrNull(before + PLACEHOLDERS[1] + after);
  if (valueAt(body, path) !== PLACEHOLDERS[0] || valueAt(check, path) !== PLACEHOLDERS[1]) {
    return null;
  }
  const url = text.slice(span.start, span.end);
  const decoded = decodeDataUrl(url);
  if (!decoded.ok || hasControlWhitespace(url)) return null;
  setAt(body, path, url);
  return { body, url, bytes: decoded.bytes };
}

/**
 * A decoded URL holds only its header, base64 and ASCII whitespace; JSON allows none of that
 * whitespace but the space inside a string, so with any of the rest JSON.parse(text) would have
 * thrown. (`includes`, not a RegExp, for the reason given at isBase64Header.)
 */
function hasControlWhitespace(url: string): boolean {
  return url.includes("\t") || url.includes("\n") || url.includes("\f") || url.includes("\r");
}

/** Two strings no JSON syntax can take for anything else: letters, inside the cut-out quotes. */
const PLACEHOLDERS = ["dataUrlPlaceholderA", "dataUrlPlaceholderB"] as const;

/**
 * Where the string after the first `"key":` starts and ends, if its raw text has no backslash
 * (so no escapes, and its closing quote is the first `"`). A key written another way, or a
 * value that is not a plain string, gives null: the caller's slow path handles those.
 */
function stringValueAfterKey(text: string, key: string): { start: number; end: number } | null {
  const quoted = `"${key}"`;
  const at = text.indexOf(quoted);
  if (at < 0) return null;
  let i = skipJsonWhitespace(text, at + quoted.length);
  if (text[i] !== ":") return null;
  i = skipJsonWhitespace(text, i + 1);
  if (text[i] !== '"') return null;
  const start = i + 1;
  const end = text.indexOf('"', start);
  if (end < 0) return null;
  const backslash = text.indexOf("\\", start);
  return backslash >= start && backslash < end ? null : { start, end };
}

function skipJsonWhitespace(text: string, i: number): number {
  while (text[i] === " " || text[i] === "\t" || text[i] === "\n" || text[i] === "\r") i++;
  return i;
}

function parseOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function valueAt(value: unknown, path: readonly string[]): unknown {
  for (const key of path) {
    if (typeof value !== "object" || value === null || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** Only called where `valueAt` found the placeholder, so every step is an own object property. */
function setAt(value: unknown, path: readonly [string, ...string[]], leaf: string): void {
  const parent = valueAt(value, path.slice(0, -1)) as Record<string, unknown>;
  parent[path[path.length - 1]!] = leaf;
}
