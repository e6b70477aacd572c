/**
 * CORS for the widget: only origins that some configured site lists get an
 * `Access-Control-Allow-Origin`. No wildcard, ever. (Scripts can forge `Origin`; CORS only keeps
 * other pages' browsers out — identity, ownership and limits do the rest.)
 */
import { cors } from "hono/cors";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../context";

export function siteCors() {
  return createMiddleware<AppEnv>(async function siteCors(c, next) {
    const allowed = new Set(c.var.config.sites.flatMap((s) => s.origins));
    return cors({
      origin: (origin) => (allowed.has(origin) ? origin : null),
      allowMethods: ["GET", "POST", "DELETE", "OPTIONS"],
      allowHeaders: ["authorization", "content-type", "idempotency-key"],
      exposeHeaders: ["x-request-id", "retry-after"],
      maxAge: 600,
    })(c, next);
  });
}
