/**
 * `EVENT_ENDPOINTS`: where the worker announces finished jobs (docs/events.md). A JSON list of
 *
 *   { "url": "https://…", "secret": "<NAME of a worker secret holding whsec_…>",
 *     "events": ["video.completed", "video.failed"], "sites"?: [...], "server_keys"?: [...],
 *     "timeout_ms"?: 10000 }
 *
 * parsed with the rest of the configuration (worker/config.ts), so a bad entry fails every request
 * with a message naming the setting and its index, never a value.
 */
import { z } from "zod";
import { ConfigError } from "../config";
import type { WorkerEnv } from "../env";
import { readSecret } from "../env";

export const VIDEO_EVENT_TYPES = ["video.completed", "video.failed"] as const;
export type VideoEventType = (typeof VIDEO_EVENT_TYPES)[number];

/** One endpoint, its secret resolved: what `announce` and the outbox work with. */
export interface EventEndpoint {
  url: string;
  /** The NAME of the worker secret, for messages; the value is `secret`. */
  secretName: string;
  /** The `whsec_…` signing secret (registered for log redaction by worker/config.ts). */
  secret: string;
  events: VideoEventType[];
  /** Visitor jobs of these sites only; null: no site filter. */
  sites: string[] | null;
  /** Jobs made with these server keys only; null: no server-key filter. */
  serverKeys: string[] | null;
  /** How long one delivery may take before it counts as failed. */
  timeoutMs: number;
}

/**
 * The same rule as an upstream `base_url` (worker/providers/openai/options.ts): events carry
 * prompts and content URLs, so they travel over https; http only to a receiver on this machine.
 * A query string is allowed (some receivers route by it); it is never logged.
 */
const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);
const endpointUrl = z
  .string()
  .max(2000)
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    const local = url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname);
    return (url.protocol === "https:" || local) && !url.username && !url.password && !url.hash;
  }, "must be an https:// URL (http:// only for localhost) without credentials or fragment");

const nonEmpty = "list at least one, or leave the filter out to receive every job";

const endpointSchema = z
  .object({
    url: endpointUrl,
    secret: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]{0,63}$/, "a secret's name, e.g. EVENTS_SECRET_SHOP, not its value"),
    events: z.array(z.enum(VIDEO_EVENT_TYPES)).min(1, "list the events to receive"),
    sites: z.array(z.string()).min(1, nonEmpty).optional(),
    server_keys: z.array(z.string()).min(1, nonEmpty).optional(),
    timeout_ms: z.number().int().min(1000).max(30_000).default(10_000),
  })
  .strict();

/** Standard Webhooks: `whsec_` + base64 of 24–64 random bytes (192 to 512 bits). */
export function isWebhookSecret(value: string): boolean {
  const match = /^whsec_([A-Za-z0-9+/]+={0,2})$/.exec(value);
  if (!match || match[1]!.length % 4 !== 0) return false;
  try {
    const bytes = atob(match[1]!).length;
    return bytes >= 24 && bytes <= 64;
  } catch {
    return false;
  }
}

/** What the filters may name: the configured site ids and server key names. */
export interface KnownOwners {
  siteIds: string[];
  serverKeyNames: string[];
}

export function parseEventEndpoints(env: WorkerEnv, known: KnownOwners): EventEndpoint[] {
  const raw = env.EVENT_ENDPOINTS?.trim();
  if (!raw) return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    fail("EVENT_ENDPOINTS: not valid JSON");
  }
  const result = z.array(endpointSchema).safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0]!;
    fail(`EVENT_ENDPOINTS${formatPath(issue.path)}: ${issue.message}`);
  }
  return result.data.map((entry, i) => {
    const at = `EVENT_ENDPOINTS[${i}]`;
    // One outbox per URL (outbox.ts): two entries with one URL would share it and its secret.
    const first = result.data.findIndex((e) => e.url === entry.url);
    if (first !== i) fail(`${at}.url: the same url as EVENT_ENDPOINTS[${first}]`);
    const secret = readSecret(env, entry.secret);
    if (!secret) fail(`${at}.secret: the secret ${entry.secret} is not set`);
    if (!isWebhookSecret(secret)) {
      fail(
        `${at}.secret: ${entry.secret} must be whsec_ followed by the base64 of 24 to 64 random bytes, e.g. whsec_$(openssl rand -base64 32)`,
      );
    }
    // Filter entries are named by position only: a server key's value pasted in place of its
    // name must not be echoed.
    for (const [j, site] of (entry.sites ?? []).entries()) {
      if (!known.siteIds.includes(site)) fail(`${at}.sites[${j}]: no site in SITES has this id`);
    }
    for (const [j, name] of (entry.server_keys ?? []).entries()) {
      if (!known.serverKeyNames.includes(name)) {
        fail(`${at}.server_keys[${j}]: no key in SERVER_KEYS has this name`);
      }
    }
    return {
      url: entry.url,
      secretName: entry.secret,
      secret,
      events: entry.events,
      sites: entry.sites ?? null,
      serverKeys: entry.server_keys ?? null,
      timeoutMs: entry.timeout_ms,
    };
  });
}

function formatPath(path: PropertyKey[]): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}

function fail(message: string): never {
  throw new ConfigError(message);
}
