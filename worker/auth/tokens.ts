/**
 * Signed tokens (docs/decisions/0003-tokens.md). Both kinds are HS256 JWTs made with Hono's JWT
 * helpers and SESSION_SECRET, told apart by `aud` so one can never stand in for the other:
 *
 * - visitor tokens (`aud: stillmotion:visitor`): site + visitor, short-lived, sent as Bearer;
 * - content tokens (`aud: stillmotion:content`): one video + one variant, put in media URLs
 *   because `<video>` and `<img>` cannot send headers.
 */
import { sign, verify } from "hono/jwt";
import { z } from "zod";

const VISITOR_AUD = "stillmotion:visitor";
const CONTENT_AUD = "stillmotion:content";

const UNTIMED = { alg: "HS256", exp: false, nbf: false, iat: false } as const;

/** How long an expired visitor token may still be traded in to keep its visitor id. */
export const VISITOR_RENEWAL_WINDOW_SECONDS = 30 * 86400;

const visitorClaims = z.object({
  sub: z.string(),
  site: z.string(),
  aud: z.literal(VISITOR_AUD),
  iat: z.number(),
  exp: z.number(),
});
export type VisitorClaims = z.infer<typeof visitorClaims>;

const contentClaims = z.object({
  sub: z.string(),
  var: z.string(),
  aud: z.literal(CONTENT_AUD),
  exp: z.number(),
});

export async function signVisitorToken(
  secret: string,
  site: string,
  visitorId: string,
  nowSeconds: number,
  ttlSeconds: number,
): Promise<{ token: string; expiresAt: number }> {
  const expiresAt = nowSeconds + ttlSeconds;
  const payload = { sub: visitorId, site, aud: VISITOR_AUD, iat: nowSeconds, exp: expiresAt };
  return { token: await sign(payload, secret, "HS256"), expiresAt };
}

/**
 * Verifies a visitor token. With `allowExpired`, an expired token within the renewal window
 * still proves who the visitor was (used only by POST /v1/sessions to keep a visitor id).
 */
export async function verifyVisitorToken(
  secret: string,
  token: string,
  nowSeconds: number,
  allowExpired = false,
): Promise<VisitorClaims | null> {
  try {
    // Time checks are ours, against the injected clock, so tests and renewal agree on "now".
    const payload = await verify(token, secret, { ...UNTIMED, aud: VISITOR_AUD });
    const claims = visitorClaims.parse(payload);
    if (allowExpired && claims.iat + VISITOR_RENEWAL_WINDOW_SECONDS < nowSeconds) return null;
    if (!allowExpired && claims.exp <= nowSeconds) return null;
    return claims;
  } catch {
    return null;
  }
}

export async function signContentToken(
  secret: string,
  videoId: string,
  variant: string,
  expiresAt: number,
): Promise<string> {
  return sign({ sub: videoId, var: variant, aud: CONTENT_AUD, exp: expiresAt }, secret, "HS256");
}

/** True when `token` grants exactly this video and variant and has not expired. */
export async function verifyContentToken(
  secret: string,
  token: string,
  videoId: string,
  variant: string,
  nowSeconds: number,
): Promise<boolean> {
  try {
    const payload = await verify(token, secret, { ...UNTIMED, aud: CONTENT_AUD });
    const claims = contentClaims.parse(payload);
    return claims.sub === videoId && claims.var === variant && claims.exp > nowSeconds;
  } catch {
    return false;
  }
}
