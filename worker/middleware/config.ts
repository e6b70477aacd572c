/**
 * Parses the configuration (once per environment) and puts it, with the injected I/O, on the
 * context. A bad configuration fails every request with a message naming the field.
 */
import { createMiddleware } from "hono/factory";
import { configFor } from "../config";
import type { AppEnv, Deps } from "../context";

export function withConfig(deps: Deps) {
  return createMiddleware<AppEnv>(async function withConfig(c, next) {
    c.set("config", configFor(c.env));
    c.set("deps", deps);
    await next();
  });
}
