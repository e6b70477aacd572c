/** Constant-time string comparison for secrets and signatures. */
const encoder = new TextEncoder();

/** True when `a` equals `b`, in time that does not depend on where they differ (hashing first makes the lengths equal). */
export async function timingSafeEqualText(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}
