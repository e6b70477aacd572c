/** Constant-time string comparison for secrets and signatures. */
const encoder = new TextEncoder();

/** True when `a` equals `b`, in time that does not depend on where they differ (hashing first makes the lengths equal). */
export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([digestText(a), digestText(b)]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

/** SHA-256 of a string: what `timingSafeEqualText` compares, for callers that keep one side. */
export function digestText(text: string): Promise<ArrayBuffer> {
  return crypto.subtle.digest("SHA-256", encoder.encode(text));
}
