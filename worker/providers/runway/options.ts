/**
 * The `provider` block of a MODEL_ROUTES route for Runway (docs/providers/runway.md §4), and
 * what the adapter receives besides it.
 */
import { z } from "zod";
import { apiKeySecret, maxRetries, timeoutMs } from "../kit/options";
import type { ProviderContext } from "../types";

/** The only upstream (§4, [SDK] client.ts); `base_url` may swap it for an https proxy. */
export const RUNWAY_API_BASE = "https://api.dev.runwayml.com";
/** Required on every call (§4): Runway pins its API shape to this date. */
export const RUNWAY_API_VERSION = "2024-11-06";

/**
 * Hosts (and their subdomains) a result URL may point at. The CloudFront distributions are the
 * ones public integrations see Runway serve `output[0]` from (third-party, UNCONFIRMED: §4 only
 * says "signed URLs"); runwayml.com is Runway's own domain. Shared parents are never allowed.
 */
export const RUNWAY_DEFAULT_OUTPUT_HOSTS = [
  "dnznrvs05pmza.cloudfront.net",
  "d2jqrm6oza8nb6.cloudfront.net",
  "runwayml.com",
] as const;
const SHARED_PARENTS = new Set([
  ...["cloudfront.net", "amazonaws.com", "s3.amazonaws.com", "googleapis.com", "r2.dev"],
  ...["workers.dev", "azureedge.net", "blob.core.windows.net", "fastly.net", "akamaized.net"],
]);

const hostSuffix = z
  .string()
  .regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "a lowercase host name")
  .refine((host) => !SHARED_PARENTS.has(host), "a shared hosting domain: name the exact host");

const httpsBase = z
  .string()
  .refine((value) => {
    const url = URL.canParse(value) ? new URL(value) : null;
    return !!url && url.protocol === "https:" && !url.username && !url.password && !url.search;
  }, "must be an https:// URL without credentials or query")
  .transform((value) => value.replace(/\/+$/, ""));

/** The `provider` block of a route in MODEL_ROUTES for Runway. */
export const runwayProviderOptions = z
  .object({
    type: z.literal("runway"),
    /** Name of the worker secret holding the key (the SDK's own variable name by default). */
    api_key_secret: apiKeySecret("RUNWAYML_API_SECRET"),
    /** Only for tests and proxies; the key is sent here, so https only. */
    base_url: httpsBase.default(RUNWAY_API_BASE),
    /** Used only when a RUNNING task carries no `progress` (3P: 15–45 s for 5 s of gen4.5). */
    typical_seconds: z.number().int().min(5).max(3600).default(60),
    timeout_ms: timeoutMs,
    /** Retries of idempotent calls only (retrieve, content, delete). */
    max_retries: maxRetries,
    /** `low` lets recognisable public figures through (§4 Faces); sent only to gen4* models. */
    public_figure_threshold: z.enum(["auto", "low"]).optional(),
    /**
     * The `video_to_video` model that edits (`POST /v1/videos/edits`): `gen4_aleph` or its
     * successor `aleph2` (§4a). Null: the route cannot edit. Runway has no extension API.
     */
    edit_model: z.enum(["gen4_aleph", "aleph2"]).nullable().default(null),
    /** Hosts (with subdomains) `content` may download a result from. */
    output_hosts: z
      .array(hostSuffix)
      .min(1)
      .max(10)
      .default([...RUNWAY_DEFAULT_OUTPUT_HOSTS]),
  })
  .strict();
export type RunwayProviderOptions = z.infer<typeof runwayProviderOptions>;

/** What the adapter needs beyond the shared context: its key and, for tests, an instant sleep. */
export type RunwayProviderContext = ProviderContext & {
  apiKey: string;
  sleep?: (ms: number) => Promise<void>;
};
