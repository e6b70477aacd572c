/**
 * The `provider` block of a MODEL_ROUTES route served by a fal queue endpoint
 * (docs/providers/fal.md §2), and what the adapter receives besides it.
 */
import { z } from "zod";
import { apiKeySecret, fieldName, maxRetries, timeoutMs } from "../kit/options";
import type { ProviderContext } from "../types";
import type { FalJwksCache } from "./webhooks";

/** fal-js `parseEndpointId`: these prefixes shift owner/app one segment right; not supported. */
const NAMESPACES = ["workflows", "comfy"];
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

const modelPath = z
  .string()
  .refine((value) => {
    const parts = value.split("/");
    return parts.length >= 2 && parts.length <= 8 && parts.every((p) => SEGMENT.test(p));
  }, "owner/app[/path], e.g. fal-ai/kling-video/v3/standard/image-to-video")
  .refine(
    (value) => !NAMESPACES.includes(value.split("/")[0]!),
    "workflows/ and comfy/ apps are not supported",
  );

/** The `provider` block of a route in MODEL_ROUTES served by a fal queue endpoint. */
export const falProviderOptions = z
  .object({
    type: z.literal("fal"),
    /** The endpoint id; its first two segments (owner/app) address status, result and cancel. */
    model_path: modelPath,
    api_key_secret: apiKeySecret("FAL_KEY"),
    /** How long a job typically takes, for the estimated progress (fal gives none, §11.4). */
    typical_seconds: z.number().int().min(5).max(3600).default(120),
    timeout_ms: timeoutMs,
    max_retries: maxRetries,
    /** Clip lengths the model accepts, in whole seconds; anything else is refused before a call. */
    durations: z.array(z.number().int().min(1).max(120)).min(1),
    duration_field: fieldName.default("duration"),
    /** `seconds`: "5"; `seconds_s`: "5s" (Veo 3.1 on fal); `integer`: 5. */
    duration_format: z.enum(["seconds", "seconds_s", "integer"]).default("seconds"),
    /** `start_image_url` on Kling 3.x (§2). */
    image_field: fieldName.default("image_url"),
    /** `upload` (fal storage, then a URL) works everywhere; some models refuse data URIs (§2). */
    image_transport: z.enum(["upload", "data_uri"]).default("upload"),
    /** Leave null where the model takes the aspect from the image (most i2v models, §12.1). */
    aspect_field: fieldName.nullable().default(null),
    /** Accepted aspects of the requested size (e.g. "16:9"); null accepts any. */
    aspect_ratios: z
      .array(z.string().regex(/^\d{1,2}:\d{1,2}$/))
      .min(1)
      .nullable()
      .default(null),
    resolution_field: fieldName.nullable().default(null),
    /** Accepted resolutions of the requested size ("720p", "1080p", "4k"); null accepts any. */
    resolutions: z
      .array(z.string().regex(/^(\d{3,4}p|4k)$/))
      .min(1)
      .nullable()
      .default(null),
    /** e.g. `generate_audio`; the `audio` flag is sent only when given and only here. */
    audio_field: fieldName.nullable().default(null),
    /** Fixed model inputs merged into every request (e.g. `{"negative_prompt": "blur"}`). */
    extra_input: z.record(fieldName, z.json()).default({}),
    /**
     * The fal account (user id) whose deliveries this route accepts. fal signs every delivery
     * for *any* account with the same public keys, so a valid signature alone proves only that
     * fal sent it, not that it is about our work. Webhooks are off until this is set (polling
     * still works); the id is in the `X-Fal-Webhook-User-Id` header of a delivery, and a
     * refused delivery's log line names the account it was signed for.
     */
    webhook_user_id: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9_.:|@-]{0,127}$/,
        "a fal user id, e.g. from X-Fal-Webhook-User-Id",
      )
      .nullable()
      .default(null),
    /**
     * The endpoint that continues a video (e.g. `fal-ai/veo3.1/extend-video`), or null. It must
     * share `model_path`'s owner/app, which addresses status and results (§2).
     */
    extend_path: modelPath.nullable().default(null),
    /** The endpoint that edits a video per a prompt (e.g. `fal-ai/kling-video/o1/video-to-video/edit`). */
    edit_path: modelPath.nullable().default(null),
    /** The input field of the source video on those endpoints (fal's `video_url`). */
    video_field: fieldName.default("video_url"),
    /** Asks fal to delete outputs after this long (X-Fal-Object-Lifecycle-Preference, §2). */
    media_expiration_seconds: z.number().int().min(3600).max(31_536_000).nullable().default(null),
  })
  .strict()
  .refine(
    (o) =>
      ![
        "prompt",
        o.image_field,
        o.duration_field,
        o.aspect_field,
        o.resolution_field,
        o.audio_field,
      ].some((field) => field !== null && field in o.extra_input),
    { message: "must not set a field the adapter maps", path: ["extra_input"] },
  )
  .refine(
    (o) =>
      [o.extend_path, o.edit_path].every(
        (path) => path === null || ownerApp(path) === ownerApp(o.model_path),
      ),
    {
      message: "extend_path and edit_path must share model_path's owner/app (e.g. fal-ai/veo3.1)",
      path: ["extend_path"],
    },
  );

/** `owner/app` of an endpoint id: what status and result URLs are built from (§2). */
export const ownerApp = (path: string) => path.split("/").slice(0, 2).join("/");
export type FalProviderOptions = z.infer<typeof falProviderOptions>;

/** What the adapter needs beyond the shared context. */
export type FalProviderContext = ProviderContext & {
  apiKey: string;
  /** Unused: fal signs webhooks with public Ed25519 keys, not a shared secret. */
  webhookSecret?: string;
  sleep?: (ms: number) => Promise<void>;
  /** For tests; by default the JWKS is cached per isolate for an hour. */
  jwksCache?: FalJwksCache;
};
