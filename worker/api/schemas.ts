/**
 * The public API's shapes, written once in zod: they validate requests and generate
 * `/openapi.json`. Names and types follow OpenAI's Videos API (`seconds` is a string, `size` is
 * `WxH`) so OpenAI clients work unchanged; our additions are marked as extensions.
 */
import { z } from "@hono/zod-openapi";
import { FAILURE_CODES, VARIANTS, VIDEO_STATUSES } from "../providers/types";
import { FILE_PURPOSES } from "../store/files";

export const ErrorSchema = z
  .object({
    error: z.object({
      message: z.string(),
      type: z.string(),
      param: z.string().nullable(),
      code: z.string().nullable(),
    }),
  })
  .openapi("Error");

export const ContentUrlsSchema = z
  .object({
    video: z.string().url(),
    thumbnail: z.string().url(),
    spritesheet: z.string().url(),
    expires_at: z
      .number()
      .int()
      .openapi({ description: "Unix seconds when these URLs stop working." }),
  })
  .openapi("ContentUrls", {
    description:
      "Extension: short-lived signed URLs for <video>/<img>, which cannot send headers. Only on completed videos, only to their owner.",
  });

export const VideoSchema = z
  .object({
    id: z.string().openapi({ example: "video_0f3k9q2m7c1x8v5b4n6p0r2t3w" }),
    object: z.literal("video"),
    model: z.string(),
    status: z.enum(VIDEO_STATUSES),
    progress: z.number().int().min(0).max(100),
    created_at: z.number().int(),
    completed_at: z.number().int().nullable(),
    expires_at: z.number().int().nullable(),
    prompt: z.string(),
    size: z.string().openapi({ example: "1280x720" }),
    seconds: z.string().openapi({ example: "4" }),
    remixed_from_video_id: z.string().nullable(),
    source: z
      .object({ type: z.enum(["extension", "edit"]), video_id: z.string().nullable() })
      .nullable()
      .openapi({
        description:
          "Extension: for an extension or an edit, which video it continued or changed (`video_id` null for an uploaded file); null otherwise.",
      }),
    error: z.object({ code: z.enum(FAILURE_CODES), message: z.string() }).nullable(),
    content_urls: ContentUrlsSchema.nullable(),
    content_variants: z.array(z.enum(VARIANTS)).nullable().openapi({
      description:
        "Extension: the variants this video has (its provider may make no thumbnail or spritesheet), once our copy is stored; null before.",
    }),
  })
  .openapi("Video");

export const VideoListSchema = z
  .object({
    object: z.literal("list"),
    data: z.array(VideoSchema),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  })
  .openapi("VideoList");

export const DeletedVideoSchema = z
  .object({ id: z.string(), object: z.literal("video.deleted"), deleted: z.literal(true) })
  .openapi("DeletedVideo");

export const VideoIdParam = z.object({
  video_id: z.string().openapi({ param: { name: "video_id", in: "path" }, example: "video_…" }),
});

export const ListQuery = z.object({
  after: z
    .string()
    .optional()
    .openapi({ description: "Id of the last video of the previous page." }),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  order: z.enum(["asc", "desc"]).default("desc"),
});

export const ContentQuery = z.object({
  variant: z.enum(VARIANTS).default("video"),
  token: z.string().optional().openapi({
    description: "Signed content token from `content_urls`; replaces the Bearer header.",
  }),
  download: z
    .enum(["1", "true", "0", "false"], {
      error: "download must be 1 (save the file) or 0 (show it)",
    })
    .optional()
    .transform((value) => value === "1" || value === "true")
    .openapi({
      type: "string",
      description: "`1`: served with `Content-Disposition: attachment` and the file's name.",
    }),
});

/** Create fields after multipart/JSON decoding; the image is checked separately (bytes). */
export const CreateVideoFields = z.object({
  prompt: z.string().min(1, "prompt is required: describe what should happen in the video"),
  model: z.string().optional(),
  seconds: z.string({ error: 'seconds must be a string such as "4"' }).optional(),
  size: z.string({ error: 'size must be a string such as "1280x720"' }).optional(),
  /** Extension (not in OpenAI's API): ask for sound, on routes whose model makes it. */
  audio: z
    .union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")], {
      error: "audio must be true or false",
    })
    .optional()
    .openapi({
      type: "boolean",
      description: "Extension: generate sound (routes with audio only).",
    }),
});

export const CreateVideoMultipart = CreateVideoFields.extend({
  input_reference: z
    .string()
    .openapi({
      type: "string",
      format: "binary",
      description: "JPEG, PNG or WebP of exactly `size` pixels.",
    })
    .optional(),
}).openapi("CreateVideoMultipart");

export const CreateVideoJson = CreateVideoFields.extend({
  input_reference: z
    .object({
      image_url: z
        .string()
        .optional()
        .openapi({ description: "A base64 data: URL; an https:// URL only for server keys." }),
      file_id: z
        .string()
        .optional()
        .openapi({ description: "The id of your image uploaded with POST /v1/files." }),
    })
    .refine((ref) => ref.image_url !== undefined || ref.file_id !== undefined, {
      message:
        "input_reference needs image_url (a base64 data: URL) or file_id (from POST /v1/files)",
      path: ["image_url"],
    })
    .optional(),
}).openapi("CreateVideoJson");

/** Documented here; its rules are checked by worker/ledger/idempotency.ts. */
export const IdempotencyHeader = z.object({
  "idempotency-key": z
    .string()
    .optional()
    .openapi({
      param: { name: "idempotency-key", in: "header" },
      description:
        "1–255 visible ASCII characters, e.g. a UUID. For 24 hours, the same key and body from the same caller return the first job without starting another; another body under the key is 409 idempotency_key_reused.",
      example: "5f0c2a9e-7d1b-4c3e-9a55-2b8f1e6d4c70",
    }),
});

/** The source of an extension or edit by reference: one of the caller's finished videos. */
const VideoReference = z
  .object({
    id: z.string({ error: "video.id must be the id of one of your videos" }).openapi({
      example: "video_…",
    }),
  })
  .openapi("VideoReference");

/** Extension and edit fields after multipart/JSON decoding; an uploaded MP4 is checked apart. */
export const DeriveVideoFields = z.object({
  prompt: z.string().min(1, "prompt is required: describe what should happen"),
  seconds: z.string({ error: 'seconds must be a string such as "4"' }).optional(),
  model: z.string().optional().openapi({
    description:
      "Extension: the model to use; default the source video's own, or for an upload the first that can.",
  }),
});

export const ExtendVideoJson = DeriveVideoFields.extend({
  seconds: z.string({ error: 'seconds is required: the length to add, a string such as "4"' }),
  video: VideoReference,
}).openapi("ExtendVideoJson");

export const ExtendVideoMultipart = DeriveVideoFields.extend({
  seconds: z.string(),
  video: z.string().openapi({
    type: "string",
    format: "binary",
    description: "An MP4 to extend — or send the text field video[id] naming one of your videos.",
  }),
}).openapi("ExtendVideoMultipart");

export const EditVideoJson = DeriveVideoFields.omit({ seconds: true })
  .extend({ video: VideoReference })
  .openapi("EditVideoJson");

export const EditVideoMultipart = DeriveVideoFields.omit({ seconds: true })
  .extend({
    video: z.string().openapi({
      type: "string",
      format: "binary",
      description: "An MP4 to edit — or send the text field video[id] naming one of your videos.",
    }),
  })
  .openapi("EditVideoMultipart");

export const RemixBody = z
  .object({ prompt: z.string().min(1, "prompt is required: describe the change") })
  .openapi("RemixVideo");

export const ModelSchema = z
  .object({
    id: z.string(),
    object: z.literal("model"),
    created: z.number().int(),
    owned_by: z.string(),
    label: z.string(),
    simulated: z.boolean(),
    sizes: z.array(z.string()),
    default_size: z.string(),
    seconds: z.array(z.string()),
    default_seconds: z.string(),
    input_image: z.enum(["required", "optional", "none"]),
    remix: z.boolean(),
    extend: z
      .object({
        seconds: z.array(z.string()),
        max_total_seconds: z.number().int(),
        price_per_second_usd: z.number(),
      })
      .nullable()
      .openapi({
        description:
          "Extension: the segment lengths POST /v1/videos/extensions may add with this model, the longest stitched result and the price of a second added; null if it cannot extend.",
      }),
    edit: z
      .object({ max_source_seconds: z.number().int(), price_per_second_usd: z.number() })
      .nullable()
      .openapi({
        description:
          "Extension: whether POST /v1/videos/edits can use this model, the longest video it edits and the price of a second edited; null if it cannot.",
      }),
    audio: z.boolean(),
    price_per_second_usd: z.number(),
    prompt_max_chars: z.number().int(),
  })
  .openapi("Model");

export const ModelListSchema = z
  .object({ object: z.literal("list"), data: z.array(ModelSchema) })
  .openapi("ModelList");

export const SessionRequest = z
  .object({
    site_key: z.string().min(1, "site_key is required (your publishable pk_… key)"),
    turnstile_token: z
      .string()
      .max(2048, "turnstile_token is longer than any Turnstile token")
      .optional()
      .openapi({
        description:
          "A fresh (single-use) Cloudflare Turnstile token; required when the site has `turnstile`.",
      }),
  })
  .openapi("SessionRequest");

export const SessionSchema = z
  .object({
    token: z.string(),
    expires_at: z.number().int(),
    visitor_id: z.string(),
  })
  .openapi("Session");

export const SessionRevokedSchema = z
  .object({
    object: z.literal("session.revoked"),
    visitor_id: z.string(),
    revoked: z.literal(true),
  })
  .openapi("SessionRevoked");

export const VisitorParams = z.object({
  site_id: z.string().openapi({ param: { name: "site_id", in: "path" }, example: "shop" }),
  visitor_id: z.string().openapi({
    param: { name: "visitor_id", in: "path" },
    example: "vis_01h0000000000000000000000",
  }),
});

export const HealthSchema = z.object({ ok: z.literal(true) }).openapi("Health");

export const FileUpload = z
  .object({
    // Checked in the handler (a File, then its bytes): zod cannot describe a binary part.
    file: z.any().openapi({
      type: "string",
      format: "binary",
      description: "A JPEG, PNG or WebP image; the only files this service can use.",
    }),
    purpose: z.enum(FILE_PURPOSES, {
      error: `purpose must be one of ${FILE_PURPOSES.join(", ")}`,
    }),
    // OpenAI's `expires_after: { anchor, seconds }`, as the SDKs encode it in multipart.
    "expires_after[anchor]": z
      .literal("created_at", { error: "expires_after.anchor must be created_at" })
      .optional(),
    "expires_after[seconds]": z
      .string()
      .regex(/^\d{1,9}$/, "expires_after.seconds must be a whole number of seconds")
      .optional()
      .openapi({ description: "3600 up to this deployment's FILE_TTL_SECONDS (the default)." }),
  })
  .openapi("FileUpload");

export const FileListQuery = z.object({
  after: z
    .string()
    .optional()
    .openapi({ description: "Id of the last file of the previous page." }),
  limit: z.coerce.number().int().min(1).max(10_000).default(10_000).openapi({
    description: "1–10000 (OpenAI's range); pages hold at most 100, with has_more.",
  }),
  order: z.enum(["asc", "desc"]).default("desc"),
  purpose: z.enum(FILE_PURPOSES).optional(),
});

export const FileSchema = z
  .object({
    id: z.string().openapi({ example: "file_0f3k9q2m7c1x8v5b4n6p0r2t3w" }),
    object: z.literal("file"),
    bytes: z.number().int(),
    created_at: z.number().int(),
    expires_at: z.number().int(),
    filename: z.string(),
    purpose: z.enum(FILE_PURPOSES),
    status: z.literal("processed"),
  })
  .openapi("File");

export const FileListSchema = z
  .object({
    object: z.literal("list"),
    data: z.array(FileSchema),
    first_id: z.string().nullable(),
    last_id: z.string().nullable(),
    has_more: z.boolean(),
  })
  .openapi("FileList");

export const DeletedFileSchema = z
  .object({ id: z.string(), object: z.literal("file"), deleted: z.literal(true) })
  .openapi("DeletedFile");

export const FileIdParam = z.object({
  file_id: z.string().openapi({ param: { name: "file_id", in: "path" }, example: "file_…" }),
});
