/**
 * The `provider` block of a MODEL_ROUTES route for an OpenAI-compatible host
 * (docs/providers/openai.md), and what the adapter receives besides it.
 */
import { z } from "zod";
import { apiKeySecret, maxRetries, timeoutMs } from "../kit/options";
import type { ProviderContext } from "../types";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A base URL we may send the key to: https (http only for a relay on this machine), no userinfo. */
const baseUrl = z
  .string()
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    const local = url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname);
    return (
      (url.protocol === "https:" || local) &&
      !url.username &&
      !url.password &&
      !url.search &&
      !url.hash
    );
  }, "must be an https:// URL (http:// only for localhost) without credentials, query or fragment")
  // Paths are appended as `${base}/videos`, so one canonical form without trailing slashes.
  .transform((value) => value.replace(/\/+$/, ""));

export const openAIProviderOptions = z
  .object({
    type: z.literal("openai"),
    /** Up to and including `/v1`, e.g. `https://api.openai.com/v1`. */
    base_url: baseUrl,
    /** `bearer`: `Authorization: Bearer <key>`; `api-key`: Azure's `api-key: <key>` header. */
    auth: z.enum(["bearer", "api-key"]).default("bearer"),
    api_key_secret: apiKeySecret("OPENAI_API_KEY"),
    timeout_ms: timeoutMs,
    max_retries: maxRetries,
  })
  .strict();
export type OpenAIProviderOptions = z.infer<typeof openAIProviderOptions>;

/** What the adapter needs beyond the shared context: its key and, for tests, a clock-free sleep. */
export type OpenAIProviderContext = ProviderContext & {
  apiKey: string;
  sleep?: (ms: number) => Promise<void>;
};
