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

/**
 * The HMAC key of a secret, imported once per isolate rather than on every sign and verify
 * (hono/jwt imports a string secret each call; a poll signs three media URLs). Keyed by the
 * secret itself, so a rotated SESSION_SECRET simply gets its own entry.
 */
const hmacKeys = new Map<string, CryptoKey>();

async function hmacKey(secret: string): Promise<CryptoKey> {
  const cached = hmacKeys.get(secret);
  if (cached) return cached;
  // The key, not the pending import, is shared: a promise begun by one request must not be
  // what another request waits on (the first may be cancelled). Two first requests may both
  // import; either result is the same key.
  const raw = new TextEncoder().encode(secret);
  const alg = { name: "HMAC", hash: "SHA-256" };
  const key = await crypto.subtle.importKey("raw", raw, alg, false, ["sign", "verify"]);
  if (hmacKeys.size >= 4) hmacKeys.clear(); // a secret or two in use; never an unbounded map
  hmacKeys.set(secret, key);
  return key;
}

/**
 * Content tokens already signed, by secret, video, variant and expiry. HS256 is deterministic,
 * so a cached token is exactly the one signing would make again; expiries are rounded to the
 * minute, so the polls of one job within a minute share one entry. Oldest entries go first.
 */
const contentTokens = new Map<string, string>();
const CONTENT_TOKEN_CACHE = 2048;

const visitorClaims = z.object({
  sub: z.string(),
  site: z.string(),
  aud: z.literal(VISITOR_AUD),
  iat: z.number(),
  exp: z.number(),
  /** This token's id: the ledger knows which one is a visitor's current token (retire, revoke). */
  jti: z.string().regex(/^[0-9a-f]{32}$/),
  /** When the visitor identity began (unix s): fixed across renewals, for its absolute lifetime. */
  vst: z.number(),
});
export type VisitorClaims = z.infer<typeof visitorClaims>;

/** How a visitor identity ages (from the configuration). */
export interface VisitorLifetime {
  /** How long one token is good for. */
  ttlSeconds: number;
  /** How long after its expiry a token may still be traded in at POST /v1/sessions. */
  renewalGraceSeconds: number;
  /** How long a visitor identity lives at most, however often it is renewed. */
  maxAgeSeconds: number;
}

/** A fresh random token id. */
export function newTokenId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

const contentClaims = z.object({
  sub: z.string(),
  var: z.string(),
  aud: z.literal(CONTENT_AUD),
  exp: z.number(),
});

export async function signVisitorToken(
  secret: string,
  claims: { site: string; visitorId: string; jti: string; startedAt: number },
  nowSeconds: number,
  lifetime: VisitorLifetime,
): Promise<{ token: string; expiresAt: number }> {
  // Never past the identity's end: a renewal cannot stretch it.
  const expiresAt = Math.min(
    nowSeconds + lifetime.ttlSeconds,
    claims.startedAt + lifetime.maxAgeSeconds,
  );
  const payload = {
    sub: claims.visitorId,
    site: claims.site,
    aud: VISITOR_AUD,
    iat: nowSeconds,
    exp: expiresAt,
    jti: claims.jti,
    vst: claims.startedAt,
  };
  return { token: await sign(payload, await hmacKey(secret), "HS256"), expiresAt };
}

/**
 * Verifies a visitor token's signature and times. With `renewal`, an expired token still proves
 * who the visitor was — within `renewalGraceSeconds` of its expiry and the identity's
 * `maxAgeSeconds` — for POST /v1/sessions to keep the visitor id. Whether the token is still
 * the visitor's current one is the ledger's to say (worker/middleware/auth.ts).
 */
export async function verifyVisitorToken(
  secret: string,
  token: string,
  nowSeconds: number,
  lifetime: VisitorLifetime,
  renewal = false,
): Promise<VisitorClaims | null> {
  try {
    // Time checks are ours, against the injected clock, so tests and renewal agree on "now".
    const payload = await verifyCanonical(token, secret, VISITOR_AUD);
    const claims = visitorClaims.parse(payload);
    if (claims.vst + lifetime.maxAgeSeconds <= nowSeconds) return null;
    const until = renewal ? claims.exp + lifetime.renewalGraceSeconds : claims.exp;
    return until > nowSeconds ? claims : null;
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
  const cacheKey = `${secret}\u0000${videoId}\u0000${variant}\u0000${expiresAt}`;
  const cached = contentTokens.get(cacheKey);
  if (cached !== undefined) return cached;
  const claims = { sub: videoId, var: variant, aud: CONTENT_AUD, exp: expiresAt };
  const token = await sign(claims, await hmacKey(secret), "HS256");
  if (contentTokens.size >= CONTENT_TOKEN_CACHE) {
    contentTokens.delete(contentTokens.keys().next().value!);
  }
  contentTokens.set(cacheKey, token);
  return token;
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
    const payload = await verifyCanonical(token, secret, CONTENT_AUD);
    const claims = contentClaims.parse(payload);
    return claims.sub === videoId && claims.var === variant && claims.exp > nowSeconds;
  } catch {
    return false;
  }
}

/**
 * `hono/jwt`'s verify, for the one encoding we issue: an HS256 signature is 32 bytes, so exactly
 * 43 base64url characters whose last one carries no stray low bits. A decoder that ignores those
 * bits would accept several spellings of one signature, and a token must have one.
 */
async function verifyCanonical(token: string, secret: string, aud: string) {
  const signature = token.slice(token.lastIndexOf(".") + 1);
  if (!/^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/.test(signature)) throw new Error("not canonical");
  return verify(token, await hmacKey(secret), { ...UNTIMED, aud });
}
