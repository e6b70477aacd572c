/**
 * Static files: the widget bundle, its chunks and the demo page, from the ASSETS binding. The
 * worker adds what static hosting cannot know: a forever-cache on content-hashed files, a short one on
 * `/widget.js` (always the latest), and CORS — module scripts load in CORS mode — only for the
 * origins of configured sites (the demo page is same-origin and needs none).
 */
import type { Hono } from "hono";
import type { AppEnv } from "../context";
import { ApiError, envelope } from "../errors";

/** Content-addressed files: the hashed bundle and the chunks it loads (locales, photo editing). */
const HASHED = /^\/(widget\.[0-9a-f]{12}|chunks\/[\w-]+-[A-Z0-9]{8})\.js$/;

export function registerAssetRoutes(app: Hono<AppEnv>): void {
  app.get("*", async (c) => {
    const url = new URL(c.req.url);
    const asset = await c.env.ASSETS.fetch(c.req.raw);
    if (asset.status === 404) {
      const error = new ApiError(404, `There is no ${url.pathname} here.`, {
        code: "unknown_endpoint",
      });
      return c.json(envelope(error), 404);
    }
    const page = url.pathname === "/" || url.pathname === "/index.html";
    const response = page
      ? demoPage(asset, c.var.config.demoSiteKey, url.origin)
      : new Response(asset.body, asset);
    const hashed = HASHED.test(url.pathname);
    if (hashed || url.pathname === "/widget.js") {
      const cache = hashed ? "public, max-age=31536000, immutable" : "public, max-age=300";
      response.headers.set("cache-control", cache);
      response.headers.set("cross-origin-resource-policy", "cross-origin");
      response.headers.append("vary", "Origin");
      const origin = c.req.header("origin");
      const allowed = c.var.config.sites.some((site) => origin && site.origins.includes(origin));
      if (origin && allowed) response.headers.set("access-control-allow-origin", origin);
    }
    return response;
  });
}

/** The demo page, pointed at this deployment: its endpoint and its configured demo site key. */
function demoPage(asset: Response, siteKey: string | null, origin: string): Response {
  return new HTMLRewriter()
    .on("still-motion", {
      element(element) {
        element.setAttribute("endpoint", origin);
        element.setAttribute("site-key", siteKey ?? "");
      },
    })
    .transform(new Response(asset.body, asset));
}
