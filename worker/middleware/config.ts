/**
 * Parses the configuration (once per environment) and puts it, with the injected I/O, on the
 * context. A bad configuration fails every request with a message naming the field.
 */
import { createMiddleware } from "hono/factory";
import { ConfigError, configFor } from "../config";
import type { AppEnv, Deps } from "../context";

export function withConfig(deps: Deps) {
  return createMiddleware<AppEnv>(async function withConfig(c, next) {
    const config = configFor(c.env);
    // The dev credentials are published in the README: a deployment left on
    // ENVIRONMENT=development would let anyone in, so they work only on this machine.
    // The Host header alone could be forged from the LAN (`wrangler dev --ip 0.0.0.0`), so the
    // client's own address must be this machine too, when the runtime names one.
    // ENVIRONMENT=test skips production's secret checks, so it too serves no real hostname:
    // only loopback and `.test` (RFC 6761 reserves it; no Cloudflare zone can route it).
    const host = new URL(c.req.url).hostname;
    const client = c.req.header("cf-connecting-ip");
    if (config.devCredentials && !(isLoopback(host) && (!client || isLoopback(client)))) {
      throw new ConfigError(
        "ENVIRONMENT: development serves only localhost; a deployment needs ENVIRONMENT=production and its own secrets",
      );
    }
    if (config.environment === "test" && !isLoopback(host) && !host.endsWith(".test")) {
      throw new ConfigError(
        "ENVIRONMENT: test serves only localhost and .test hosts; a deployment needs ENVIRONMENT=production",
      );
    }
    c.set("config", config);
    c.set("deps", deps);
    await next();
  });
}

/** localhost, *.localhost, 127.0.0.0/8 and ::1 (as a host or an address): only this machine. */
export function isLoopback(hostname: string): boolean {
  const host = hostname.toLowerCase();
  return (
    host === "localhost" ||
    host.endsWith(".localhost") ||
    /^127(?:\.\d{1,3}){3}$/.test(host) ||
    host === "[::1]" ||
    host === "::1"
  );
}
