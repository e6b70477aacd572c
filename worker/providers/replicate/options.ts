/**
 * The `provider` block of a MODEL_ROUTES route for an official Replicate model
 * (docs/providers/replicate.md §3), and what the adapter receives besides it.
 */
import { z } from "zod";
import { apiKeySecret, fieldName, maxRetries, secretName, timeoutMs } from "../kit/options";
import type { ProviderContext } from "../types";

/** `owner/name` of an official model: created with `POST /models/{owner}/{name}/predictions`. */
const modelName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}\/[a-z0-9][a-z0-9_.-]{0,99}$/i);
const extraInput = z
  .record(fieldName, z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .default({});

/**
 * A model that changes a video per a prompt (`POST /v1/videos/edits`), e.g. `runwayml/gen4-aleph`
 * (§3a). The source is uploaded with the Files API and named by its URL in `video_field`.
 */
const editModel = z
  .object({
    model: modelName,
    video_field: fieldName.default("video"),
    /** Where the source's aspect ratio goes, for models that would otherwise pick one. */
    aspect_field: fieldName.optional(),
    /**
     * Where the edit's length (the source's, as priced) goes, for models that would otherwise
     * pick a default length (Wan 2.7 videoedit's `duration`).
     */
    duration_field: fieldName.optional(),
    extra_input: extraInput,
  })
  .strict();

/**
 * A model that continues a video (`POST /v1/videos/extensions`), e.g. `wan-video/wan-2.7-i2v`
 * with `first_clip` (§3a). `duration_is` says what its duration field counts: the stitched
 * `total` (Wan 2.7) or the added `segment`.
 */
const extendModel = z
  .object({
    model: modelName,
    video_field: fieldName.default("first_clip"),
    duration_field: fieldName.default("duration"),
    duration_is: z.enum(["total", "segment"]).default("total"),
    /** Where the source's resolution (`720p`, `1080p`) goes, so the result matches it. */
    resolution_field: fieldName.optional(),
    extra_input: extraInput,
  })
  .strict();

/** The `provider` block of a route in MODEL_ROUTES for an official Replicate model. */
export const replicateProviderOptions = z
  .object({
    type: z.literal("replicate"),
    model: modelName,
    /** Name of the worker secret holding the API token (never the token itself). */
    api_key_secret: apiKeySecret("REPLICATE_API_TOKEN"),
    /**
     * Name of the secret holding the `whsec_…` signing secret (`GET /v1/webhooks/default/secret`),
     * conventionally REPLICATE_WEBHOOK_SECRET. Optional: without it no webhook is requested and
     * jobs are polled.
     */
    webhook_secret_secret: secretName.optional(),
    /** Model input names: each model's API page lists its own. */
    image_field: fieldName.default("image"),
    duration_field: fieldName.default("duration"),
    aspect_field: fieldName.optional(),
    resolution_field: fieldName.optional(),
    /** The model's sound switch, e.g. `generate_audio` on google/veo-3.1. */
    audio_field: fieldName.optional(),
    /** What the model accepts; anything else is refused before a request is sent. */
    durations: z.array(z.number().int().min(1).max(600)).min(1),
    aspect_ratios: z
      .array(z.string().regex(/^\d{1,3}:\d{1,3}$/))
      .min(1)
      .optional(),
    resolutions: z
      .array(z.string().regex(/^(\d{3,4}p|4k)$/))
      .min(1)
      .optional(),
    /** Fixed extra inputs, e.g. `{"negative_prompt": "blur"}`; they cannot shadow mapped fields. */
    extra_input: extraInput,
    /** The model that edits, when the route offers edits; null: it cannot. */
    edit: editModel.nullable().default(null),
    /** The model that extends, when the route offers extensions; null: it cannot. */
    extend: extendModel.nullable().default(null),
    /** Typical run time, for the estimated progress (Replicate reports none, §3 "Status"). */
    typical_seconds: z.number().int().min(5).max(3_600).default(120),
    timeout_ms: timeoutMs,
    /** Retries of idempotent calls only (retrieve, content, cancel). */
    max_retries: maxRetries,
  })
  .strict()
  .refine((o) => !o.aspect_field || o.aspect_ratios, {
    message: "aspect_ratios must list what aspect_field accepts",
    path: ["aspect_ratios"],
  })
  .refine((o) => !o.resolution_field || o.resolutions, {
    message: "resolutions must list what resolution_field accepts",
    path: ["resolutions"],
  })
  .refine(
    (o) => {
      const mapped = [o.image_field, o.duration_field, o.aspect_field, o.resolution_field];
      const taken = new Set(["prompt", ...mapped, o.audio_field]);
      return Object.keys(o.extra_input).every((name) => !taken.has(name));
    },
    { message: "extra_input may not set a mapped field", path: ["extra_input"] },
  )
  .refine(
    (o) =>
      [o.edit, o.extend].every((block) => {
        if (!block) return true;
        const mapped = ["prompt", block.video_field];
        if (block.duration_field) mapped.push(block.duration_field);
        return Object.keys(block.extra_input).every((name) => !mapped.includes(name));
      }),
    { message: "an edit's or extension's extra_input may not set a mapped field", path: ["edit"] },
  );
export type ReplicateProviderOptions = z.infer<typeof replicateProviderOptions>;

/** What the adapter needs beyond the shared context: its token, the webhook secret, a test sleep. */
export type ReplicateProviderContext = ProviderContext & {
  apiKey: string;
  /** The `whsec_…` value; `verifyWebhook` exists only when this is given. */
  webhookSecret?: string;
  sleep?: (ms: number) => Promise<void>;
};
