/**
 * `POST /v1/sessions`: trades a publishable site key, from one of that site's pages, for a
 * short-lived visitor token. A returning visitor sends its previous token (even expired, within
 * the renewal window) as Bearer and keeps its visitor id — and so its jobs. Sessions are braked
 * per network, and a site may require a Turnstile token, verified before anything is issued.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { SessionRequest, SessionRevokedSchema, SessionSchema, VisitorParams } from "../api/schemas";
import { newTokenId, signVisitorToken, verifyVisitorToken } from "../auth/tokens";
import {
  isTestSecret,
  TurnstileMisconfigured,
  TurnstileUnavailable,
  verifyTurnstile,
  type TurnstileVerdict,
} from "../auth/turnstile";
import { ConfigError, type Site } from "../config";
import type { AppEnv } from "../context";
import { ApiError, invalidRequest, notFound, unauthorized } from "../errors";
import { isVisitorId, newVisitorId, visitorOwner } from "../ids";
import { log } from "../log";
import { limitBody } from "../middleware/limits";
import { ledgerFor, ledgerUnavailable } from "../ledger/budget";
import type { AdmitResult } from "../ledger/schema";
import { requireAuth } from "../middleware/auth";
import { sessionBrake, spendingNetwork } from "../middleware/rate-limit";
import { StorageError } from "../store/jobs";
import { errorResponses, jsonContent } from "./openapi-helpers";

export function registerSessionRoutes(app: OpenAPIHono<AppEnv>): void {
  registerRevocationRoutes(app);
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/sessions",
      summary: "Start (or renew) a visitor session with a publishable site key",
      middleware: [sessionBrake(), limitBody({ bytes: 16 * 1024 })] as const,
      request: {
        body: { required: true, content: { "application/json": { schema: SessionRequest } } },
      },
      responses: {
        200: jsonContent(SessionSchema, "A visitor token"),
        ...errorResponses(400, 401, 403, 429, 503),
      },
    }),
    async (c) => {
      const { config, deps } = c.var;
      const body = c.req.valid("json");
      const site = config.sites.find((s) => s.publishable_key === body.site_key);
      if (!site)
        throw unauthorized(
          "Unknown site_key. Copy the publishable key (pk_…) from your configuration.",
          "invalid_site_key",
        );
      const origin = checkOrigin(c, site);
      await checkTurnstile(c, site, origin, body.turnstile_token);
      const nowSeconds = Math.floor(deps.now() / 1000);
      const identity =
        (await returningVisitor(c, site, nowSeconds)) ?? (await admitNewVisitor(c, site));
      const visitorId = identity.visitorId;
      const { token, expiresAt } = await signVisitorToken(
        config.sessionSecret,
        { site: site.id, ...identity },
        nowSeconds,
        config.limits.visitor,
      );
      c.header("cache-control", "no-store");
      return c.json({ token, expires_at: expiresAt, visitor_id: visitorId }, 200);
    },
  );
}

/**
 * Ending visitor identities: the visitor itself (signing out) with its own token, or the owner's
 * backend with a server key, for any visitor of a configured site. Every token of the visitor
 * stops working at once, and it cannot be renewed; its jobs stay (and expire) as they are.
 */
function registerRevocationRoutes(app: OpenAPIHono<AppEnv>): void {
  const auth = requireAuth();
  app.use("/v1/sessions", (c, next) => (c.req.method === "DELETE" ? auth(c, next) : next()));
  app.use("/v1/sites/:site_id/visitors/:visitor_id", requireAuth());

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/sessions",
      summary: "End this visitor identity (sign out): every token of it stops working",
      security: [{ bearer: [] }],
      responses: {
        200: jsonContent(SessionRevokedSchema, "The visitor was revoked"),
        ...errorResponses(401, 403),
      },
    }),
    async (c) => {
      const principal = c.var.principal;
      if (principal.kind !== "visitor") {
        throw new ApiError(
          403,
          "A server key has no session to end. To revoke a visitor, call DELETE /v1/sites/{site_id}/visitors/{visitor_id}.",
          { code: "not_a_visitor" },
        );
      }
      await revoke(c, principal.owner);
      return c.json(revoked(principal.visitorId), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/sites/{site_id}/visitors/{visitor_id}",
      summary: "Revoke one visitor of a site (server keys only)",
      security: [{ bearer: [] }],
      request: { params: VisitorParams },
      responses: {
        200: jsonContent(SessionRevokedSchema, "The visitor was revoked"),
        ...errorResponses(400, 401, 403, 404),
      },
    }),
    async (c) => {
      if (c.var.principal.kind !== "server") {
        throw new ApiError(403, "Only a server key may revoke a visitor.", {
          code: "server_key_required",
        });
      }
      const { site_id, visitor_id } = c.req.valid("param");
      if (!isVisitorId(visitor_id)) {
        throw invalidRequest("visitor_id must be a vis_… id from POST /v1/sessions.", "visitor_id");
      }
      if (!c.var.config.sites.some((s) => s.id === site_id)) throw notFound("site", "site_id");
      const found = await revoke(c, visitorOwner(site_id, visitor_id));
      if (!found) throw notFound("visitor", "visitor_id");
      return c.json(revoked(visitor_id), 200);
    },
  );
}

const revoked = (visitorId: string) => ({
  object: "session.revoked" as const,
  visitor_id: visitorId,
  revoked: true as const,
});

async function revoke(c: Context<AppEnv>, owner: string): Promise<boolean> {
  try {
    return await ledgerFor(c.env).revokeVisitor(owner, c.var.deps.now());
  } catch (error) {
    throw new StorageError(String(error), { cause: error });
  }
}

/** Browsers always send `Origin` on this cross-site POST; its absence means it is not one. */
function checkOrigin(c: Context<AppEnv>, site: Site): string {
  const origin = c.req.header("origin");
  if (!origin || !site.origins.includes(origin)) {
    throw new ApiError(
      403,
      "This site key cannot be used from this page. Add the page's origin to the site's allowed origins.",
      {
        type: "invalid_request_error",
        code: "origin_not_allowed",
      },
    );
  }
  return origin;
}

/** For a site with `turnstile`: a fresh token, solved on this page for our action, or no session. */
async function checkTurnstile(
  c: Context<AppEnv>,
  site: Site,
  origin: string,
  token: string | undefined,
): Promise<void> {
  const turnstile = site.turnstile;
  if (!turnstile) return;
  if (!token) {
    throw invalidRequest(
      "This site requires the bot check: send a fresh Turnstile token as turnstile_token.",
      "turnstile_token",
      "turnstile_required",
    );
  }
  const { config, deps } = c.var;
  const secret = config.turnstileSecrets[turnstile.secret_secret]!;
  let verdict: TurnstileVerdict;
  try {
    verdict = await verifyTurnstile(
      {
        secret,
        token,
        remoteIp: c.req.header("cf-connecting-ip"),
        hostname: new URL(origin).hostname,
        action: turnstile.action,
        lenient: config.environment !== "production" && isTestSecret(secret),
      },
      deps.fetch,
    );
  } catch (error) {
    if (error instanceof TurnstileMisconfigured) {
      throw new ConfigError(`SITES ${site.id}: Cloudflare refused ${turnstile.secret_secret}`);
    }
    if (!(error instanceof TurnstileUnavailable)) throw error;
    log("warn", "turnstile_unavailable", { site: site.id, detail: error.message });
    throw new ApiError(503, "The bot check is unavailable right now. Try again in a moment.", {
      type: "server_error",
      code: "turnstile_unavailable",
      headers: { "retry-after": "10" },
    });
  }
  if (!verdict.ok) {
    log("info", "turnstile_failed", {
      site: site.id,
      reason: verdict.reason,
      codes: verdict.errorCodes,
    });
    throw new ApiError(403, "The bot check did not pass. Complete it again, then try again.", {
      param: "turnstile_token",
      code: "turnstile_failed",
    });
  }
}

/** Who a token will be issued to: the visitor, its token's id, when the identity began (s). */
interface Identity {
  visitorId: string;
  jti: string;
  startedAt: number;
}

/** A fresh visitor, if the site and the caller's network may mint one more this hour. */
async function admitNewVisitor(c: Context<AppEnv>, site: Site): Promise<Identity> {
  const { config, deps } = c.var;
  const now = deps.now();
  const identity = {
    visitorId: newVisitorId(),
    jti: newTokenId(),
    startedAt: Math.floor(now / 1000),
  };
  let verdict: AdmitResult;
  try {
    verdict = await ledgerFor(c.env).admitVisitor({
      site: site.id,
      network: spendingNetwork(c),
      owner: visitorOwner(site.id, identity.visitorId),
      jti: identity.jti,
      now,
      caps: {
        site: config.limits.newVisitorsPerSitePerHour,
        network: config.limits.newVisitorsPerNetworkPerHour,
      },
    });
  } catch (error) {
    throw ledgerUnavailable(error);
  }
  if (!verdict.ok) {
    log("warn", "new_visitors_capped", { site: site.id, scope: verdict.scope, cap: verdict.cap });
    const whose = verdict.scope === "site" ? "This site has" : "Your network has";
    throw new ApiError(
      429,
      `${whose} started too many new visitor sessions this hour. Try again later, or keep using your existing session.`,
      {
        type: "rate_limit_error",
        code: "too_many_new_visitors",
        headers: { "retry-after": String(verdict.retryAfterSeconds) },
      },
    );
  }
  return identity;
}

/**
 * The visitor a previous token proves, renewed: within the renewal grace after its expiry and
 * the identity's lifetime, and only if it is still the visitor's current token (the ledger
 * retires it as it issues the next). Anything else — another site's token, a forged, retired or
 * revoked one — is ignored, and the caller gets a new visitor.
 */
async function returningVisitor(
  c: Context<AppEnv>,
  site: Site,
  nowSeconds: number,
): Promise<Identity | null> {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
  if (!match) return null;
  const { config, deps } = c.var;
  const claims = await verifyVisitorToken(
    config.sessionSecret,
    match[1]!,
    nowSeconds,
    config.limits.visitor,
    true,
  );
  if (!claims || claims.site !== site.id) return null;
  let jti: string | null;
  try {
    const owner = visitorOwner(site.id, claims.sub);
    jti = await ledgerFor(c.env).renewVisitor(owner, claims.jti, newTokenId(), deps.now());
  } catch (error) {
    throw ledgerUnavailable(error);
  }
  return jti ? { visitorId: claims.sub, jti, startedAt: claims.vst } : null;
}
