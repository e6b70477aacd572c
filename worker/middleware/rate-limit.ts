/**
 * Burst brakes on the Workers Rate Limiting binding (`[[ratelimits]]` in wrangler.toml). Counters
 * are per Cloudflare location and approximate: they stop a script hammering sessions or creates,
 * while exact money limits are the spend ledger's job. A refusal is a 429 in OpenAI's envelope
 * with `Retry-After`, which OpenAI clients and the widget already back off on.
 */
import type { Context, MiddlewareHandler } from "hono";
import { createMiddleware } from "hono/factory";
import { ConfigError } from "../config";
import type { AppEnv } from "../context";
import type { WorkerEnv } from "../env";
import { ApiError } from "../errors";
import { log } from "../log";

/** The binding's `simple.period` (the platform allows only these), sent as `Retry-After`. */
export type RatePeriod = 10 | 60;

export interface RateLimitOptions {
  /** The `[[ratelimits]]` binding to count against. */
  binding: (env: WorkerEnv) => RateLimit | undefined;
  /** Whose requests count together; `null` leaves this request out of this brake. */
  key: (c: Context<AppEnv>) => string | null;
  /** What is counted, for the message and the log: "new videos from your network". */
  what: string;
  /** Must equal the binding's `simple.period` in wrangler.toml (the binding cannot tell us). */
  period?: RatePeriod;
  /** Replaces the default 429 envelope. */
  onLimited?: (c: Context<AppEnv>, period: RatePeriod) => Response | Promise<Response>;
}

export function rateLimit(options: RateLimitOptions) {
  const period = options.period ?? 60;
  if (period !== 10 && period !== 60) throw new Error("rateLimit: period must be 10 or 60");
  if (!options.what) throw new Error("rateLimit: `what` names what is limited");

  return createMiddleware<AppEnv>(async function rateLimit(c, next) {
    const key = options.key(c);
    if (key !== null && !(await allowed(c, options, key))) {
      log("info", "rate_limited", { request_id: c.var.requestId, what: options.what });
      if (options.onLimited) return options.onLimited(c, period);
      throw new ApiError(
        429,
        `Too many ${options.what} in a short time. Wait ${period} seconds, then try again.`,
        { code: "rate_limited", headers: { "retry-after": String(period) } },
      );
    }
    await next();
  });
}

async function allowed(c: Context<AppEnv>, options: RateLimitOptions, key: string) {
  const limiter = options.binding(c.env);
  // Deny by default: a deploy that lost its [[ratelimits]] entries must not run without brakes.
  if (!limiter) {
    throw new ConfigError(`the [[ratelimits]] binding for ${options.what} is missing`);
  }
  try {
    return (await limiter.limit({ key })).success;
  } catch (error) {
    // Fail open: a brake outage must not take sessions down, and the ledger still caps spending.
    log("warn", "rate_limit_unavailable", { what: options.what, error: String(error) });
    return true;
  }
}

/** Requests without `cf-connecting-ip` only come from local development (wrangler dev, tests). */
const LOCAL_CLIENT = "local";

/**
 * The caller's network for the burst brakes: the IPv4 address, or the /64 of an IPv6 address,
 * because one subscriber usually holds a whole /64 and could otherwise rotate through it.
 */
export function clientNetwork(c: Context<AppEnv>): string {
  return networkOf(c.req.header("cf-connecting-ip"), 4);
}

/**
 * The caller's network for money and new visitors (worker/ledger): the IPv4 address, or the
 * /48 of an IPv6 address. Home ISPs, cloud VPCs and free tunnel brokers hand one client a /56
 * or a /48, so a /64 per client would let one client hold many networks' allowances.
 */
export function spendingNetwork(c: Context<AppEnv>): string {
  return networkOf(c.req.header("cf-connecting-ip"), 3);
}

/**
 * `header` as a network key: IPv4 as is (also when IPv4-mapped), IPv6 cut to its first
 * `groups` 16-bit groups. A value that is neither is keyed as the raw (short) string, never an
 * error: the edge always sets this header, so an odd one is local or forged and changes nothing.
 */
export function networkOf(header: string | undefined, groups: 3 | 4): string {
  const ip = header?.trim().toLowerCase();
  if (!ip) return LOCAL_CLIENT;
  if (/^(?:\d{1,3}\.){3}\d{1,3}$/.test(ip)) return ip;
  const mapped = /^::ffff:((?:\d{1,3}\.){3}\d{1,3})$/.exec(ip);
  if (mapped) return mapped[1]!;
  const full = expandIpv6(ip);
  if (!full) return `raw:${ip.slice(0, 64)}`;
  return `${full.slice(0, groups).join(":")}::/${groups * 16}`;
}

/** The eight groups of an IPv6 address without leading zeros, or null when it is not one. */
function expandIpv6(ip: string): string[] | null {
  const parts = ip.split("::");
  if (parts.length > 2) return null;
  const [head = "", tail] = parts;
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  const missing = 8 - left.length - right.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const all = [...left, ...Array<string>(tail === undefined ? 0 : missing).fill("0"), ...right];
  if (!all.every((g) => /^[0-9a-f]{1,4}$/.test(g))) return null;
  return all.map((g) => g.replace(/^0+(?=.)/, ""));
}

/** `POST /v1/sessions`: per network, since a session request has no caller identity yet. */
export function sessionBrake() {
  return rateLimit({
    binding: (env) => env.SESSIONS_PER_IP,
    key: (c) => `ip:${clientNetwork(c)}`,
    what: "sessions started from your network",
  });
}

/**
 * Create and remix (after auth): per caller and, for visitors, per network too — many fresh
 * visitor ids from one address are still one client. Server keys have their own, higher brake
 * and skip the network one: one backend may start videos for many people from one address.
 * `uploads` (POST /v1/files) get the same brakes on counters of their own, so uploading a
 * photo does not use up a visitor's creates, and filling storage is as slow as spending.
 */
export function createBrakes(what: "videos" | "uploads" = "videos") {
  const counter = what === "uploads" ? "upload:" : "";
  const noun = what === "uploads" ? "uploads" : "new videos";
  return inOrder(
    rateLimit({
      binding: (env) => env.CREATES_PER_IP,
      key: (c) => (c.var.principal.kind === "visitor" ? `${counter}ip:${clientNetwork(c)}` : null),
      what: `${noun} from your network`,
    }),
    rateLimit({
      binding: (env) => env.CREATES_PER_VISITOR,
      key: (c) =>
        c.var.principal.kind === "visitor" ? `${counter}${c.var.principal.owner}` : null,
      what: `${noun} from you`,
    }),
    rateLimit({
      binding: (env) => env.CREATES_PER_SERVER_KEY,
      key: (c) => (c.var.principal.kind === "server" ? `${counter}${c.var.principal.owner}` : null),
      what: `${noun} with this key`,
    }),
  );
}

/** One middleware that runs `brakes` in turn; the first that does not pass answers. */
function inOrder(...brakes: MiddlewareHandler<AppEnv>[]) {
  return createMiddleware<AppEnv>(async function brakesInOrder(c, next) {
    for (const brake of brakes) {
      let passed = false;
      const refusal = await brake(c, async () => {
        passed = true;
      });
      if (!passed) return refusal;
    }
    await next();
  });
}
