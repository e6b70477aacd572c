/**
 * The `provider` block of a MODEL_ROUTES route for one OpenRouter video model
 * (docs/providers/openrouter.md §0–§2, §7), and what the adapter receives besides it.
 */
import { z } from "zod";
import { apiKeySecret, maxRetries, secretName, timeoutMs } from "../kit/options";
import type { ProviderContext } from "../types";

/** The only upstream (§1 "Base and auth"); `base_url` may swap it for an https proxy. */
export const OPENROUTER_API_BASE = "https://openrouter.ai/api/v1";

/** The request's `resolution` enum (§2): S1's values plus `360p` from SDK S2. */
export const OPENROUTER_RESOLUTIONS = [
  "360p",
  "480p",
  "720p",
  "768p",
  "1080p",
  "1K",
  "2K",
  "4K",
] as const;
/** The request's `aspect_ratio` enum (§2). */
export const OPENROUTER_ASPECT_RATIOS = [
  "16:9",
  "9:16",
  "1:1",
  "4:3",
  "3:4",
  "3:2",
  "2:3",
  "21:9",
  "9:21",
] as const;

/** A model slug from `/videos/models` (§7), e.g. `google/veo-3.1`; it travels only in the JSON body. */
const modelSlug = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,99}\/[a-z0-9][a-z0-9._:-]{0,99}$/i,
    "an OpenRouter model slug, e.g. google/veo-3.1",
  );

/** The key is sent here, so https only, and never anything a client chose. */
const httpsBase = z
  .string()
  .refine((value) => {
    const url = URL.canParse(value) ? new URL(value) : null;
    return (
      !!url &&
      url.protocol === "https:" &&
      !url.username &&
      !url.password &&
      !url.search &&
      !url.hash
    );
  }, "must be an https:// URL without credentials, query or fragment")
  .transform((value) => value.replace(/\/+$/, ""));

/** The `provider` block of a route in MODEL_ROUTES for one OpenRouter video model. */
export const openRouterProviderOptions = z
  .object({
    type: z.literal("openrouter"),
    /** The `model` of every create (§2); the route's `upstream_model` must be the same slug. */
    model: modelSlug,
    /** Name of the worker secret holding the API key (never the key itself). */
    api_key_secret: apiKeySecret("OPENROUTER_API_KEY"),
    /**
     * Name of the secret holding the workspace's webhook signing secret (§6: set in workspace
     * settings, not the API key), conventionally OPENROUTER_WEBHOOK_SECRET. Optional: without it
     * no `callback_url` is sent and jobs are polled.
     */
    webhook_secret_secret: secretName.optional(),
    /** Only for tests and proxies; the key is sent here, so https only. */
    base_url: httpsBase.default(OPENROUTER_API_BASE),
    /**
     * What the model accepts, copied from its `/videos/models` entry (§7 `supported_*`): a value
     * outside those sets is a 400 upstream (§10), so it is refused here before any request.
     */
    durations: z.array(z.number().int().min(1).max(600)).min(1),
    /** Sent as `resolution` when set; leave out for a model whose set is null. */
    resolutions: z.array(z.enum(OPENROUTER_RESOLUTIONS)).min(1).optional(),
    /** Sent as `aspect_ratio` when set; leave out for a model whose set is null. */
    aspect_ratios: z.array(z.enum(OPENROUTER_ASPECT_RATIOS)).min(1).optional(),
    /**
     * `WxH` sizes (§7 `supported_sizes`): when set, `size` is sent instead of resolution and
     * aspect ratio, which it replaces (§2 "Interchangeable with resolution + aspect_ratio").
     */
    sizes: z
      .array(z.string().regex(/^[1-9]\d{1,4}x[1-9]\d{1,4}$/, "WxH, e.g. 1280x720"))
      .min(1)
      .optional(),
    /**
     * The model's `generate_audio` switch (§2, §7): null = the model has none, so `audio` is
     * refused and nothing is sent; true/false = what is sent when the client does not say. The
     * upstream default is the model's capability (sound on for Veo), which costs more, so a
     * silent route sets false.
     */
    generate_audio: z.boolean().nullable().default(null),
    /** Typical run time, for the estimated progress (OpenRouter reports none, §3). */
    typical_seconds: z.number().int().min(5).max(3_600).default(90),
    timeout_ms: timeoutMs,
    /** Retries of idempotent calls only (poll, content); create is sent once (§1 "SDK retry"). */
    max_retries: maxRetries,
  })
  .strict()
  .refine((o) => !o.sizes || (!o.resolutions && !o.aspect_ratios), {
    message: "sizes replaces resolutions and aspect_ratios: set one or the other",
    path: ["sizes"],
  });
export type OpenRouterProviderOptions = z.infer<typeof openRouterProviderOptions>;

/** What the adapter needs beyond the shared context: its key, the webhook secret, a test sleep. */
export type OpenRouterProviderContext = ProviderContext & {
  apiKey: string;
  /** The workspace signing secret; `verifyWebhook` exists only when this is given. */
  webhookSecret?: string;
  sleep?: (ms: number) => Promise<void>;
};
