/**
 * `POST /v1/sessions`: trades a publishable site key, from one of that site's pages, for a
 * short-lived visitor token. A returning visitor sends its previous token (even expired, within
 * the renewal window) as Bearer and keeps its visitor id — and so its jobs.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { SessionRequest, SessionSchema } from "../api/schemas";
import { signVisitorToken, verifyVisitorToken } from "../auth/tokens";
import type { Site } from "../config";
import type { AppEnv } from "../context";
import { ApiError, unauthorized } from "../errors";
import { newVisitorId } from "../ids";
import { limitBody } from "../middleware/limits";
import { errorResponses, jsonContent } from "./openapi-helpers";

export function registerSessionRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/sessions",
      summary: "Start (or renew) a visitor session with a publishable site key",
      middleware: [limitBody(16 * 1024)] as const,
      request: {
        body: { required: true, content: { "application/json": { schema: SessionRequest } } },
      },
      responses: {
        200: jsonContent(SessionSchema, "A visitor token"),
        ...errorResponses(400, 401, 403),
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
      checkOrigin(c, site);
      const nowSeconds = Math.floor(deps.now() / 1000);
      const visitorId = (await returningVisitor(c, site, nowSeconds)) ?? newVisitorId();
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
function checkOrigin(c: Context<AppEnv>, site: Site): void {
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
