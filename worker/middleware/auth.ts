/**
 * Who is calling: a server key (named, secret) or a visitor token (site + visitor). Deny by
 * default: no token, a malformed one, an expired one or one from a removed site is a 401, and a
 * visitor token used from a page outside its site's origins is refused too.
 */
import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { verifyVisitorToken } from "../auth/tokens";
import type { Config } from "../config";
import type { AppEnv, Principal } from "../context";
import { unauthorized } from "../errors";
import { timingSafeEqualText } from "../timing-safe";

export function requireAuth() {
  return createMiddleware<AppEnv>(async function requireAuth(c, next) {
    c.set("principal", await authenticate(c));
    await next();
  });
}

/** Resolves the caller from `Authorization`, or throws a 401 saying what to do. */
export async function authenticate(c: Context<AppEnv>): Promise<Principal> {
  const config = c.var.config;
  const token = bearerToken(c.req.header("authorization"));
  const principal = await principalFor(token, config, Math.floor(c.var.deps.now() / 1000));
  if (principal.kind === "visitor") {
    const origin = c.req.header("origin");
    const site = config.sites.find((s) => s.id === principal.siteId)!;
    if (origin && !site.origins.includes(origin)) {
      throw unauthorized(
        "This session belongs to another site. Start a new session from this page.",
        "origin_mismatch",
      );
    }
  }
  return principal;
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

async function principalFor(token: string, config: Config, nowSeconds: number): Promise<Principal> {
  for (const { name, key } of config.serverKeys) {
    if (await timingSafeEqualText(token, key))
      return { kind: "server", name, owner: `key:${name}` };
  }
  const claims = await verifyVisitorToken(config.sessionSecret, token, nowSeconds);
  if (claims && config.sites.some((s) => s.id === claims.site)) {
    const owner = `site:${claims.site}:${claims.sub}`;
    return { kind: "visitor", siteId: claims.site, visitorId: claims.sub, owner };
  }
  throw unauthorized(
    "The token is invalid or has expired. Use a valid key or start a new session.",
  );
}
