/**
 * `POST /v1/sessions`: trades a publishable site key, from one of that site's pages, for a
 * short-lived visitor token. A returning visitor sends its previous token (even expired, within
 * the renewal window) as Bearer and keeps its visitor id — and so its jobs. Sessions are braked
 * per network, and a site may require a Turnstile token, verified before anything is issued.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { SessionRequest, SessionSchema } from "../api/schemas";
import { signVisitorToken, verifyVisitorToken } from "../auth/tokens";
import {
  isTestSecret,
  TurnstileMisconfigured,
  TurnstileUnavailable,
  verifyTurnstile,
  type TurnstileVerdict,
} from "../auth/turnstile";
import { ConfigError, type Site } from "../config";
import type { AppEnv } from "../context";
import { ApiError, invalidRequest, unauthorized } from "../errors";
import { newVisitorId } from "../ids";
import { log } from "../log";
import { limitBody } from "../middleware/limits";
import { ledgerFor, ledgerUnavailable } from "../ledger/budget";
import type { AdmitResult } from "../ledger/schema";
import { clientNetwork, sessionBrake } from "../middleware/rate-limit";
import { errorResponses, jsonContent } from "./openapi-helpers";

export function registerSessionRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/sessions",
      summary: "Start (or renew) a visitor session with a publishable site key",
      middleware: [sessionBrake(), limitBody(16 * 1024)] as const,
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
      const visitorId =
        (await returningVisitor(c, site, nowSeconds)) ?? (await admitNewVisitor(c, site));
      const { token, expiresAt } = await signVisitorToken(
        config.sessionSecret,
        site.id,
        visitorId,
        nowSeconds,
        config.limits.sessionTtlSeconds,
      );
      c.header("cache-control", "no-store");
      return c.json({ token, expires_at: expiresAt, visitor_id: visitorId }, 200);
    },
  );
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

/** A fresh visitor id, if the site and the caller's network may mint one more this hour. */
async function admitNewVisitor(c: Context<AppEnv>, site: Site): Promise<string> {
  const { config, deps } = c.var;
  const now = deps.now();
  let verdict: AdmitResult;
  try {
    verdict = await ledgerFor(c.env).admitVisitor({
      site: site.id,
      network: clientNetwork(c),
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
  return newVisitorId();
}

async function returningVisitor(
  c: Context<AppEnv>,
  site: Site,
  nowSeconds: number,
): Promise<string | null> {
  const match = /^Bearer\s+(\S+)$/i.exec(c.req.header("authorization") ?? "");
  if (!match) return null;
  const claims = await verifyVisitorToken(c.var.config.sessionSecret, match[1]!, nowSeconds, true);
  // A token from another site (or a forged one) is ignored: the caller simply gets a new visitor.
  return claims && claims.site === site.id ? claims.sub : null;
}
