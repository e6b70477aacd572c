import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../context";

/**
 * Answers no cache, shared or private, may keep: Video objects carry signed media URLs
 * (`content_urls`) that grant the file to whoever holds them, and files are their owner's alone.
 */
export const noStore: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  c.res.headers.set("cache-control", "no-store");
};
