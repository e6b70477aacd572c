/**
 * Configuration, parsed once per environment object into a typed `Config`. Everything comes from
 * wrangler vars and secrets; a bad value fails loudly with a message naming the field, and the
 * production environment refuses to serve without real secrets (no dev fallbacks there).
 */
import { z } from "zod";
import { log } from "./log";
import { setLogPrompts } from "./log-prompts";
import type { WorkerEnv } from "./env";
import { readSecret } from "./env";
import { registerSecrets } from "./redact";
import type { VisitorLifetime } from "./auth/tokens";
import { isTestSecret } from "./auth/turnstile";
import type { Cap } from "./ledger/schema";
import { operationsOf, providerOptions } from "./providers/registry";
import { parseEventEndpoints, type EventEndpoint } from "./events/config";

const SIZE = /^[1-9]\d{1,4}x[1-9]\d{1,4}$/;
const SECONDS = /^[1-9]\d{0,2}$/;

const routeSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, "lowercase letters, digits, . _ - (≤ 64)"),
    label: z.string().min(1).max(80),
    provider: providerOptions,
    upstream_model: z.string().min(1).max(200),
    sizes: z.array(z.string().regex(SIZE, "a size is WxH, e.g. 1280x720")).min(1),
    default_size: z.string(),
    seconds: z.array(z.string().regex(SECONDS, "seconds are whole numbers as strings")).min(1),
    default_seconds: z.string(),
    input_image: z.enum(["required", "optional", "none"]),
    remix: z.boolean(),
    /**
     * Continues a finished video (`POST /v1/videos/extensions`): the segment lengths it can add
     * and the longest stitched result. Absent: the route cannot extend.
     */
    extend: z
      .object({
        seconds: z.array(z.string().regex(SECONDS, "seconds are whole numbers as strings")).min(1),
        max_total_seconds: z.number().int().min(1).max(600),
        /** What a second of extension costs, when the provider bills it apart from a create. */
        price_per_second_usd: z.number().min(0).max(100).optional(),
      })
      .strict()
      .optional(),
    /**
     * Changes a finished video per a prompt (`POST /v1/videos/edits`); the result keeps the
     * source's size and length, up to `max_source_seconds`. Absent: the route cannot edit.
     */
    edit: z
      .object({
        max_source_seconds: z.number().int().min(1).max(600),
        /** What a second of edit costs, when it differs (Runway's Aleph: 15 credits/s). */
        price_per_second_usd: z.number().min(0).max(100).optional(),
      })
      .strict()
      .optional(),
    audio: z.boolean().default(false),
    price_per_second_usd: z.number().min(0).max(100),
    prompt_max_chars: z.number().int().min(1).max(32000),
  })
  .strict()
  .refine((r) => r.sizes.includes(r.default_size), {
    message: "must be one of sizes",
    path: ["default_size"],
  })
  .refine((r) => r.seconds.includes(r.default_seconds), {
    message: "must be one of seconds",
    path: ["default_seconds"],
  });

export type Route = z.infer<typeof routeSchema>;

/** An origin exactly as browsers send it: scheme://host[:port], no path, no wildcard. */
const origin = z
  .string()
  .regex(/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/, "an origin like https://www.example.com");

const siteSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,39}$/),
    publishable_key: z.string().regex(/^pk_[A-Za-z0-9_]{8,64}$/, "pk_ followed by 8–64 letters"),
    origins: z.array(origin).min(1),
    /** Optional bot check: sessions for this site need a Turnstile token (auth/turnstile.ts). */
    turnstile: z
      .object({
        /** The NAME of the worker secret holding the widget's secret key, never the key. */
        secret_secret: z
          .string()
          .regex(/^[A-Z][A-Z0-9_]{0,63}$/, "a secret's name, e.g. TURNSTILE_SECRET_SHOP"),
        /** Public; the page gives it to `<still-motion turnstile-site-key>`. */
        site_key: z
          .string()
          .regex(/^[0-9]x[A-Za-z0-9_-]{8,64}$/, "a Turnstile site key such as 0x4AAAAAAA…"),
        action: z
          .string()
          .regex(/^[A-Za-z0-9_-]{1,32}$/, "1–32 letters, digits, _ or -")
          .default("stillmotion-session"),
      })
      .strict()
      .optional(),
  })
  .strict();

export type Site = z.infer<typeof siteSchema>;

/** A server key's name: a short lowercase id (it appears in logs and the ledger). */
const SERVER_KEY_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

const DEV_SESSION_SECRET = "dev-only-session-secret-do-not-use-in-production";
const DEV_SERVER_KEYS = { dev: "sk_dev_local" };
const DEV_SITE: Site = {
  id: "dev",
  publishable_key: "pk_dev_local",
  origins: ["http://localhost:8787", "http://127.0.0.1:8787"],
};

export interface Limits {
  maxUploadBytes: number;
  /** The largest source video an extension or edit may upload. */
  maxVideoUploadBytes: number;
  /** Token TTL, renewal grace after expiry and the identity's absolute lifetime. */
  visitor: VisitorLifetime;
  jobTtlSeconds: number;
  refreshIntervalMs: number;
  contentUrlTtlSeconds: number;
  jobTimeoutSeconds: number;
  /** How long our R2 copies of a finished video are kept (days). */
  resultRetentionDays: number;
  /** How long an uploaded file (`/v1/files`) can be used before it reads as missing. */
  fileTtlSeconds: number;
  /** New visitor identities a site may mint per clock hour, across all networks. */
  newVisitorsPerSitePerHour: number;
  /** New visitor identities one network (IPv4 address, IPv6 /64) may mint per clock hour. */
  newVisitorsPerNetworkPerHour: number;
}

/** Daily caps (UTC days) and the kill switch, enforced by the spend ledger (worker/ledger/). */
export interface SpendConfig {
  /** On: every paid create is refused; free routes still work. */
  killSwitch: boolean;
  caps: { global: Cap; site: Cap; network: Cap; visitor: Cap; serverKey: Cap };
}

export interface Config {
  environment: "production" | "development" | "test";
  /**
   * True when the documented development credentials are in use (ENVIRONMENT=development): the
   * worker then serves only requests to a loopback host (middleware/config.ts).
   */
  devCredentials: boolean;
  routes: Route[];
  sites: Site[];
  serverKeys: { name: string; key: string }[];
  sessionSecret: string;
  /** The publishable key the demo page at `/` uses, or null to show it unconfigured. */
  demoSiteKey: string | null;
  /** Provider keys by secret name, only those that routes reference. */
  providerKeys: Record<string, string>;
  /** Turnstile secret keys by secret name, for the sites that require the bot check. */
  turnstileSecrets: Record<string, string>;
  limits: Limits;
  spend: SpendConfig;
  /** EVENT_ENDPOINTS, each with its signing secret resolved (worker/events/config.ts). */
  events: EventEndpoint[];
}

export class ConfigError extends Error {
  override readonly name = "ConfigError";
}

const cache = new WeakMap<object, Config>();

/** The parsed configuration for this environment object (parsed on first use, then cached). */
export function configFor(env: WorkerEnv): Config {
  let config = cache.get(env);
  if (!config) {
    config = parseConfig(env);
    cache.set(env, config);
    registerSecrets(secretsOf(config));
    setLogPrompts(env.LOG_PROMPTS?.trim() === "on");
    warnOfOpenSpending(config);
  }
  return config;
}

/**
 * Said once per isolate, at startup: in production, a site without Turnstile lets a script mint
 * visitors for paid routes as fast as the brakes allow; only the network and site caps bound it.
 */
function warnOfOpenSpending(config: Config): void {
  if (config.environment !== "production") return;
  if (!config.routes.some((r) => r.price_per_second_usd > 0)) return;
  const open = config.sites.filter((s) => !s.turnstile).map((s) => s.id);
  if (open.length === 0) return;
  log("warn", "paid_routes_without_bot_check", {
    sites: open,
    advice: "add a turnstile block to these SITES entries; until then only the caps bound spending",
  });
}

/**
 * The values no log line may carry, even in part (worker/redact.ts). The documented development
 * credentials and Cloudflare's Turnstile test secrets are left out: they are public, and masking
 * their words (or their runs of zeros) would garble every line.
 */
function secretsOf(config: Config): string[] {
  const dev = new Set<string>([DEV_SESSION_SECRET, ...Object.values(DEV_SERVER_KEYS)]);
  return [
    config.sessionSecret,
    ...config.serverKeys.map((k) => k.key),
    ...Object.values(config.providerKeys),
    ...Object.values(config.turnstileSecrets),
    ...config.events.map((e) => e.secret),
  ].filter((secret) => secret && !dev.has(secret) && !isTestSecret(secret));
}

export function parseConfig(env: WorkerEnv): Config {
  const environment = z
    .enum(["production", "development", "test"])
    .parse(env.ENVIRONMENT ?? "production", {
      error: () => "ENVIRONMENT must be production, development or test",
    });
  // Only development gets the documented dev credentials; a test run configures its own.
  const dev = environment === "development";
  const production = environment === "production";

  const routes = parseJson("MODEL_ROUTES", env.MODEL_ROUTES, z.array(routeSchema).min(1));
  const ids = new Set<string>();
  for (const [i, route] of routes.entries()) {
    if (ids.has(route.id)) fail(`MODEL_ROUTES[${i}].id: duplicate route id "${route.id}"`);
    ids.add(route.id);
    const operations = operationsOf(route.provider);
    for (const field of ["extend", "edit"] as const) {
      if (route[field] && !operations[field]) {
        fail(
          `MODEL_ROUTES[${i}].${field}: the ${route.provider.type} provider block cannot ${field} videos; remove ${field} (docs/providers says which can)`,
        );
      }
    }
  }

  let sites = parseJson("SITES", env.SITES ?? "[]", z.array(siteSchema));
  if (dev && !sites.some((s) => s.publishable_key === DEV_SITE.publishable_key)) {
    sites = [...sites, DEV_SITE];
  }

  refuseAmbiguousSites(sites);
  const serverKeys = env.SERVER_KEYS
    ? parseServerKeys(env.SERVER_KEYS)
    : Object.entries(dev ? DEV_SERVER_KEYS : {}).map(([name, key]) => ({ name, key }));
  const sessionSecret = env.SESSION_SECRET ?? (dev ? DEV_SESSION_SECRET : "");

  if (production) refuseUnsafeProduction(sessionSecret, serverKeys, sites);

  const demoSiteKey = env.DEMO_SITE_KEY || (dev ? DEV_SITE.publishable_key : null);
  if (demoSiteKey && !sites.some((s) => s.publishable_key === demoSiteKey)) {
    fail("DEMO_SITE_KEY: no site in SITES has this publishable key");
  }

  // Every `…_secret` field of a provider block names a worker secret (API key, webhook secret):
  // all must be set, so a route never starts without what it needs.
  const providerKeys: Record<string, string> = {};
  for (const [i, route] of routes.entries()) {
    for (const [field, name] of Object.entries(route.provider)) {
      if (!field.endsWith("_secret") || typeof name !== "string") continue;
      const value = readSecret(env, name);
      if (!value) fail(`MODEL_ROUTES[${i}].provider.${field}: the secret ${name} is not set`);
      providerKeys[name] = value;
    }
  }
  const turnstileSecrets = readTurnstileSecrets(env, sites, !production);
  // Every environment signs tokens with it: an empty one would sign with an empty HMAC key.
  if (!sessionSecret) fail("SESSION_SECRET: not set");
  const events = parseEventEndpoints(env, {
    siteIds: sites.map((s) => s.id),
    serverKeyNames: serverKeys.map((k) => k.name),
  });

  return {
    environment,
    devCredentials: dev,
    routes,
    sites,
    serverKeys,
    sessionSecret,
    demoSiteKey,
    providerKeys,
    turnstileSecrets,
    limits: {
      maxUploadBytes: intVar(env, "MAX_UPLOAD_BYTES", 10 * 1024 * 1024, 1024, 100 * 1024 * 1024),
      // A source video is held in memory up to four times (the parsed form, its bytes, the
      // file and the body sent on to a provider): 24 MiB keeps that inside 128 MB. 16 MiB is
      // also what Runway and Replicate's Aleph take.
      maxVideoUploadBytes: intVar(
        env,
        "MAX_VIDEO_UPLOAD_BYTES",
        16 * 1024 * 1024,
        1024,
        24 * 1024 * 1024,
      ),
      visitor: {
        ttlSeconds: intVar(env, "SESSION_TTL_SECONDS", 3600, 60, 86400),
        renewalGraceSeconds: intVar(env, "SESSION_RENEWAL_GRACE_SECONDS", 86400, 0, 7 * 86400),
        maxAgeSeconds: intVar(env, "VISITOR_MAX_AGE_SECONDS", 30 * 86400, 3600, 365 * 86400),
      },
      jobTtlSeconds: intVar(env, "JOB_TTL_SECONDS", 7 * 86400, 3600, 90 * 86400),
      refreshIntervalMs: intVar(env, "REFRESH_INTERVAL_MS", 2000, 0, 60000),
      contentUrlTtlSeconds: intVar(env, "CONTENT_URL_TTL_SECONDS", 3600, 60, 86400),
      jobTimeoutSeconds: intVar(env, "JOB_TIMEOUT_SECONDS", 1800, 60, 86400),
      // At most 90 days: a deleted video's tombstone is kept 91 (worker/ledger/ledger.ts).
      resultRetentionDays: intVar(env, "RESULT_RETENTION_DAYS", 30, 1, 90),
      fileTtlSeconds: intVar(env, "FILE_TTL_SECONDS", 86400, 3600, 7 * 86400),
      newVisitorsPerSitePerHour: intVar(env, "NEW_VISITORS_PER_SITE_PER_HOUR", 600, 1, 1_000_000),
      newVisitorsPerNetworkPerHour: intVar(
        env,
        "NEW_VISITORS_PER_NETWORK_PER_HOUR",
        20,
        1,
        100_000,
      ),
    },
    spend: spendConfig(env),
    events,
  };
}

/**
 * `SERVER_KEYS` is `{"<name>": "<key>"}`. Its entries are named by position in every message,
 * never by name or value: with name and key swapped, the "name" is the secret.
 */
function parseServerKeys(raw: string): Config["serverKeys"] {
  const map = parseJson("SERVER_KEYS", raw, z.record(z.string(), z.unknown()));
  return Object.entries(map).map(([name, key], i) => {
    const entry = `SERVER_KEYS entry ${i + 1}`;
    if (!SERVER_KEY_NAME.test(name)) {
      fail(
        `${entry}: the name must be a short lowercase id such as "backend", and the key its value (are name and key swapped?)`,
      );
    }
    if (typeof key !== "string" || key.length < 12) {
      fail(`${entry}: the key must be a string of at least 12 characters`);
    }
    return { name, key };
  });
}

/** Two sites with one id or one publishable key would be told apart by accident. */
function refuseAmbiguousSites(sites: Site[]): void {
  for (const [i, site] of sites.entries()) {
    const first = sites.findIndex((s) => s.id === site.id);
    if (first !== i) fail(`SITES[${i}].id: the same id as SITES[${first}]`);
    const key = sites.findIndex((s) => s.publishable_key === site.publishable_key);
    if (key !== i) fail(`SITES[${i}].publishable_key: the same key as SITES[${key}]`);
  }
}

/**
 * Roughly how many bits a secret could carry: its length times log2 of its distinct characters.
 * It catches the mistakes that matter (a repeated character, a word typed twice), not a
 * determined operator; `openssl rand -base64 32` scores about 190.
 */
export function strengthBits(secret: string): number {
  const distinct = new Set(secret).size;
  return distinct < 8 ? 0 : secret.length * Math.log2(distinct);
}

function refuseUnsafeProduction(secret: string, keys: Config["serverKeys"], sites: Site[]): void {
  const random = "set a random one, e.g. openssl rand -base64 32 | npx wrangler secret put";
  if (secret.length < 32 || secret === DEV_SESSION_SECRET || strengthBits(secret) < 128) {
    fail(`SESSION_SECRET: at least 32 characters and not guessable: ${random} SESSION_SECRET`);
  }
  for (const [i, { key }] of keys.entries()) {
    const entry = `SERVER_KEYS entry ${i + 1}`;
    if (key.length < 24 || key === DEV_SERVER_KEYS.dev || strengthBits(key) < 96) {
      fail(`${entry}: use a random key of at least 24 characters, not a dev or guessable key`);
    }
    if (key === secret) fail(`${entry}: the key must not be the same as SESSION_SECRET`);
    const twin = keys.findIndex((k) => k.key === key);
    if (twin !== i) fail(`${entry}: the same key as SERVER_KEYS entry ${twin + 1}`);
  }
  for (const [i, site] of sites.entries()) {
    if (site.publishable_key === DEV_SITE.publishable_key) {
      fail(`SITES[${i}].publishable_key: pk_dev_local is for local development only`);
    }
    for (const [j, origin] of site.origins.entries()) {
      if (!origin.startsWith("https://")) {
        fail(`SITES[${i}].origins[${j}]: a production page must be served over https`);
      }
    }
  }
}

function parseJson<T>(name: string, raw: string | undefined, schema: z.ZodType<T>): T {
  let value: unknown;
  try {
    value = JSON.parse(raw ?? "");
  } catch {
    fail(`${name}: not valid JSON`);
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    fail(`${name}${formatPath(issue.path)}: ${issue.message}`);
  }
  return result.data;
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}

function intVar(env: WorkerEnv, name: keyof WorkerEnv, fallback: number, min: number, max: number) {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    fail(`${String(name)}: must be a whole number from ${min} to ${max}`);
  }
  return value;
}

/** Safe defaults, justified in docs/decisions/0010-spend-ledger.md. */
function spendConfig(env: WorkerEnv): SpendConfig {
  const killSwitch = env.SPEND_KILL_SWITCH?.trim() || "off";
  if (killSwitch !== "on" && killSwitch !== "off") fail("SPEND_KILL_SWITCH: must be on or off");
  const site = usdVar(env, "SPEND_CAP_SITE_USD_PER_DAY", 20);
  // One network (one client, however many visitors it mints) gets at most a quarter of a
  // site's day by default, so no single client can exhaust it (docs/decisions/0015).
  const network = env.SPEND_CAP_NETWORK_USD_PER_DAY
    ? usdVar(env, "SPEND_CAP_NETWORK_USD_PER_DAY", 0)
    : Math.min(5_000_000, Math.floor(site / 4));
  if (site > 0 && network >= site) {
    fail(
      "SPEND_CAP_NETWORK_USD_PER_DAY: must be less than SPEND_CAP_SITE_USD_PER_DAY, or one client could spend a whole site's day",
    );
  }
  return {
    killSwitch: killSwitch === "on",
    caps: {
      global: { microUsd: usdVar(env, "SPEND_CAP_GLOBAL_USD_PER_DAY", 50) },
      site: { microUsd: site },
      network: {
        microUsd: network,
        count: intVar(env, "SPEND_CAP_NETWORK_VIDEOS_PER_DAY", 60, 0, 1_000_000),
      },
      visitor: {
        microUsd: usdVar(env, "SPEND_CAP_VISITOR_USD_PER_DAY", 2),
        count: intVar(env, "SPEND_CAP_VISITOR_VIDEOS_PER_DAY", 20, 0, 100_000),
      },
      serverKey: { microUsd: usdVar(env, "SPEND_CAP_SERVER_KEY_USD_PER_DAY", 50) },
    },
  };
}

const MAX_USD = 1_000_000;

/** A USD amount ("20", "2.50") as integer micro-USD, so the ledger's sums are exact. */
function usdVar(env: WorkerEnv, name: keyof WorkerEnv, fallback: number): number {
  const raw = env[name];
  const text = raw === undefined || raw === "" ? String(fallback) : String(raw).trim();
  const match = /^(\d{1,7})(?:\.(\d{1,6}))?$/.exec(text);
  if (!match || Number(text) > MAX_USD) {
    fail(`${String(name)}: must be an amount in USD from 0 to ${MAX_USD}, e.g. 20 or 2.50`);
  }
  return Number(match[1]) * 1_000_000 + Number((match[2] ?? "").padEnd(6, "0"));
}

/** Each site's named Turnstile secret must be set; Cloudflare's test secrets pass anything. */
function readTurnstileSecrets(env: WorkerEnv, sites: Site[], dev: boolean) {
  const secrets: Record<string, string> = {};
  for (const [i, site] of sites.entries()) {
    const name = site.turnstile?.secret_secret;
    if (!name) continue;
    const value = readSecret(env, name);
    const field = `SITES[${i}].turnstile.secret_secret`;
    if (!value) fail(`${field}: the secret ${name} is not set`);
    if (!dev && isTestSecret(value)) fail(`${field}: ${name} is a Turnstile test secret`);
    secrets[name] = value;
  }
  return secrets;
}

function fail(message: string): never {
  throw new ConfigError(message);
}
