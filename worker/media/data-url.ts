/**
 * The bytes of a base64 `data:` URL, framework-free. Linear and allocation-light, because a
 * 10 MB upload as JSON must cost as little as it can next to the same upload as multipart
 * (bench/upload-parse.bench.ts): the header is matched on its first bytes only, and the runtime
 * decodes the rest (both decoders below skip ASCII whitespace and refuse anything that is not
 * base64).
 */

/** What a data: URL held, or why it is not one: the caller words the error. */
export type DataUrlBytes =
  { ok: true; bytes: Uint8Array } | { ok: false; reason: "not_base64_data_url" | "invalid_base64" };

export function decodeDataUrl(url: string): DataUrlBytes {
  const comma = url.indexOf(",");
  const header = comma > 0 && comma < 128 ? url.slice(0, comma + 1) : "";
  if (!/^data:[\w.+-]+\/[\w.+-]+;base64,$/.test(header)) {
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

/** `Uint8Array.fromBase64` (native in workerd) where the runtime has it, else `atob` and a copy. */
const fromBase64 = (Uint8Array as { fromBase64?: (text: string) => Uint8Array }).fromBase64;

function base64Bytes(text: string): Uint8Array {
  if (fromBase64) return fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}
