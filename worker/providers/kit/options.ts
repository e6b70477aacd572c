/**
 * Option fragments every HTTP provider block shares, so limits and names read the same in
 * every route of MODEL_ROUTES: `api_key_secret` and `…_secret` fields name a worker secret
 * (never hold one), `timeout_ms` bounds each attempt, `max_retries` applies to safe calls only.
 */
import { z } from "zod";

/** The NAME of a worker secret, e.g. `FAL_KEY`. */
export const secretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/, "a secret's name, e.g. FAL_KEY");

/** Per attempt, until the response headers arrive (a media body may stream for longer). */
export const timeoutMs = z.number().int().min(1_000).max(300_000).default(30_000);

/** Extra attempts of idempotent calls (retrieve, content, delete); creates are sent once. */
export const maxRetries = z.number().int().min(0).max(5).default(2);

/** `api_key_secret` with the provider's conventional secret name as default. */
export const apiKeySecret = (conventional: string) => secretName.default(conventional);

/**
 * A model input field name (`image_url`, `generate_audio`…). Starting with a letter also keeps
 * `__proto__` and friends out of the input objects built from it.
 */
export const fieldName = z
  .string()
  .regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/, "a JSON field name starting with a letter");
