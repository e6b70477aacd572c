/**
 * The `provider` block of a MODEL_ROUTES route served by Veo on the Gemini API
 * (docs/providers/veo.md §1), and what the adapter receives besides it.
 */
import { z } from "zod";
import { apiKeySecret, maxRetries, secretName, timeoutMs } from "../kit/options";
import type { ProviderContext } from "../types";

/** The `provider` block of a MODEL_ROUTES route served by Veo on the Gemini API. */
export const veoProviderOptions = z
  .object({
    type: z.literal("veo"),
    /** Name of the worker secret holding the Gemini API key (never the key itself). */
    api_key_secret: apiKeySecret("GEMINI_API_KEY"),
    /**
     * Name of the secret holding the `whsec_…` signing secret of a static project webhook
     * pointed at `/webhooks/{route id}`; without it the adapter only polls.
     */
    webhook_secret_secret: secretName.optional(),
    /** Sent as `personGeneration` only when set (§1: some models refuse `allow_adult`). */
    person_generation: z.enum(["allow_all", "allow_adult", "dont_allow"]).optional(),
    /** Sent as `negativePrompt` on every job of the route. */
    negative_prompt: z.string().trim().min(1).max(1_000).optional(),
    /** For the progress estimate: Veo reports none; latency is 11 s to 6 min (§1 "Result"). */
    typical_seconds: z.number().int().min(10).max(900).default(90),
    timeout_ms: timeoutMs,
    /** Retries of idempotent calls only (poll, download); create is sent once. */
    max_retries: maxRetries,
  })
  .strict();
export type VeoProviderOptions = z.infer<typeof veoProviderOptions>;

/** What the adapter needs beyond the shared context. */
export type VeoProviderContext = ProviderContext & {
  apiKey: string;
  /** The `whsec_…` value named by `webhook_secret_secret`. */
  webhookSecret?: string;
  sleep?: (ms: number) => Promise<void>;
};
