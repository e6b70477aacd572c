/**
 * Reads a body whole, but never more than `maxBytes` of it: a declared length over the cap is
 * refused before anything is read, and an undeclared or lying one stops at the cap. Only for the
 * few inputs that must be held whole (a linked image, a source video sent on to a provider);
 * generated media is streamed, never read through here.
 */
export async function readCapped(
  response: Response,
  maxBytes: number,
  tooLarge: () => Error,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get("content-length") ?? NaN);
  if (declared > maxBytes || !response.body) {
    await response.body?.cancel().catch(() => {});
    if (!response.body) return new Uint8Array(0);
    throw tooLarge();
  }
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytes;
}
