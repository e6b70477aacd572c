/**
 * Who is calling: a server key (named, secret) or a visitor token (site + visitor). Deny by
 * default: no token, a malformed one, an expired one or one from a removed site is a 401. A
 * visitor token also needs an allowed page origin and must be its visitor's current token.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { verifyVisitorToken } from "../auth/tokens";
import type { Config } from "../config";
import type { AppEnv, Principal } from "../context";
import { unauthorized } from "../errors";
import { visitorOwner } from "../ids";
import { ledgerFor } from "../ledger/budget";
import { StorageError } from "../store/jobs";
import { digestText } from "../timing-safe";

export function requireAuth() {
  return createMiddleware<AppEnv>(async function requireAuth(c, next) {
    // Once per request: a path under two registrations (/v1/videos/edits is also
    // /v1/videos/:video_id) is authenticated by whichever runs first.
    if (!c.get("principal")) c.set("principal", await authenticate(c));
    await next();
  });
}

/** Resolves the caller from `Authorization`, or throws a 401 saying what to do. */
export async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const { config, deps } = c.var;
  const token = bearerToken(c.req.header("authorization"));
  const principal = await principalFor(token, config, Math.floor(deps.now() / 1000));
  if (principal.kind === "server") return principal;

  const site = config.sites.find((s) => s.id === principal.siteId)!;
  const origin = pageOrigin(c);
  if (!origin) {
    throw unauthorized(
      "A visitor token works only from its site's pages: the request has no Origin.",
      "origin_required",
    );
  }
  if (!site.origins.includes(origin)) {
    throw unauthorized(
      "This session belongs to another site. Start a new session from this page.",
      "origin_mismatch",
    );
  }
  // Signed is not enough: the token must still be the visitor's current one (renewal retires
  // the previous token) and the visitor not revoked. The ledger is the only place that knows.
  let current: boolean;
  try {
    current = await ledgerFor(c.env).visitorTokenValid(principal.owner, principal.jti, deps.now());
  } catch (error) {
    throw new StorageError(String(error), { cause: error });
  }
  if (!current) {
    throw unauthorized(
      "This session was replaced or ended. Start a new session.",
      "session_revoked",
    );
  }
  return principal;
}

/**
 * The page a browser request comes from: its `Origin`, or — for a same-origin GET, which
 * browsers send without one — this worker's own origin when `Sec-Fetch-Site` says so.
 */
function pageOrigin(c: Context<AppEnv>): string | null {
  const origin = c.req.header("origin");
  if (origin) return origin;
  return c.req.header("sec-fetch-site") === "same-origin" ? new URL(c.req.url).origin : null;
}

export function bearerToken(header: string | undefined): string {
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header ?? "");
  if (!match) {
    throw unauthorized(
      "Send your key or visitor token as `Authorization: Bearer <token>`.",
      header ? "malformed_authorization" : "missing_authorization",
    );
  }
  return match[1]!;
}

/**
 * The server keys' digests, computed once per configuration: a request then hashes only the
 * token it brings (one digest, not two per key), and compares in constant time as before.
 */
const serverKeyDigests = new WeakMap<Config, { name: string; digest: ArrayBuffer }[]>();

async function digestsOf(config: Config) {
  const cached = serverKeyDigests.get(config);
  if (cached) return cached;
  // The digests, not a pending promise, are shared across requests (see hmacKey in tokens.ts).
  const digests = await Promise.all(
    config.serverKeys.map(async ({ name, key }) => ({ name, digest: await digestText(key) })),
  );
  serverKeyDigests.set(config, digests);
  return digests;
}

async function principalFor(token: string, config: Config, nowSeconds: number): Promise<Principal> {
  if (config.serverKeys.length > 0) {
    const [presented, keys] = await Promise.all([digestText(token), digestsOf(config)]);
    // Every key is compared (no early exit), so the time says nothing about which matched.
    let matched: string | null = null;
    for (const { name, digest } of keys) {
      if (crypto.subtle.timingSafeEqual(presented, digest)) matched ??= name;
    }
    if (matched !== null) return { kind: "server", name: matched, owner: `key:${matched}` };
  }
  const claims = await verifyVisitorToken(
    config.sessionSecret,
    token,
    nowSeconds,
    config.limits.visitor,
  );
  if (claims && config.sites.some((s) => s.id === claims.site)) {
    const owner = visitorOwner(claims.site, claims.sub);
    return { kind: "visitor", siteId: claims.site, visitorId: claims.sub, owner, jti: claims.jti };
  }
  throw unauthorized(
    "The token is invalid or has expired. Use a valid key or start a new session.",
  );
}
