/**
 * The `fal` adapter: one fal.ai queue endpoint per route (docs/providers/fal.md §2).
 * fal hosts Kling, Veo, Seedance, Wan… behind one key, each with its own input schema, so the
 * route's options say which fields carry the image, duration, aspect, resolution and audio.
 *
 * Safety: the key goes only to queue.fal.run and rest.alpha.fal.ai, in one header, on requests
 * that do not follow redirects. Our upstream id is fal's bare request id; status, result and
 * cancel URLs are rebuilt from the fixed queue base and the configured model's owner/app — never
 * from URLs fal (or anyone) returned (§2: LiteLLM #31013). Media and upload URLs are used only on
 * fal hosts over https, and never with the key.
 */
import { z } from "zod";
import { passThroughMediaResponse } from "../media/pass-through";
import { ProviderError } from "./errors";
import {
  base64,
  CANCELLED,
  falCallError,
  falJobFailure,
  isFalAssetUrl,
  isHttpsUrl,
  readBody,
  readFalError,
  readJson,
} from "./fal-responses";
import { FAL_REQUEST_ID, verifyFalWebhook, type FalJwksCache } from "./fal-webhooks";
import { sender } from "./kit/send";
import { estimatedProgress } from "./progress";
import { sizeParts } from "./sizes";
import type {
  CreateInput,
  FailureCode,
  ImageMime,
  InputImage,
  Provider,
  ProviderContext,
  UpstreamState,
  VideoStatus,
} from "./types";
import { providerErrorFromResponse, sanitizeUpstreamText } from "./upstream-errors";

const QUEUE_BASE = "https://queue.fal.run";
/** `fal-cdn-v3` is what current fal clients request (§2 "Image"; fal-js `storage.ts`). */
const UPLOAD_INITIATE_URL =
  "https://rest.alpha.fal.ai/storage/upload/initiate?storage_type=fal-cdn-v3";
/** fal-js `parseEndpointId`: these prefixes shift owner/app one segment right; not supported. */
const NAMESPACES = ["workflows", "comfy"];
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
/** Visible ASCII only: anything else would make `Headers` throw, possibly quoting the value. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;
const BYTE_RANGE = /^bytes=\d*-\d*$/;
const EXTENSIONS: Record<ImageMime, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
};

const fieldName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,63}$/, "a JSON field name");
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
    api_key_secret: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/)
      .default("FAL_KEY"),
    /** How long a job typically takes, for the estimated progress (fal gives none, §11.4). */
    typical_seconds: z.number().int().min(5).max(3600).default(120),
    timeout_ms: z.number().int().min(1_000).max(300_000).default(30_000),
    max_retries: z.number().int().min(0).max(5).default(2),
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
  );
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

const submitted = z.object({
  request_id: z.string().regex(FAL_REQUEST_ID),
  queue_position: z.number().int().nonnegative().nullish().catch(null),
});
const uploadTicket = z.object({ upload_url: z.string(), file_url: z.string() });
/** fal-js `types/common.ts` L82–109; FAILED/CANCELED and `error(_type)` are read if seen (§2). */
const queueStatus = z.object({
  status: z.string(),
  queue_position: z.number().int().nonnegative().nullish().catch(null),
  error: z.string().nullish().catch(null),
  error_type: z.string().nullish().catch(null),
});
const videoResult = z.object({ video: z.object({ url: z.string() }) });

/** Builds the adapter for one route. Never throws here: a missing key fails each call instead. */
export function createFalProvider(options: FalProviderOptions, ctx: FalProviderContext): Provider {
  const redact = [ctx.apiKey];
  const [owner, app] = options.model_path.split("/") as [string, string];
  const lifetime = options.media_expiration_seconds;

  const authorization = (): string => {
    if (HEADER_SAFE.test(ctx.apiKey)) return `Key ${ctx.apiKey}`;
    const detail = `secret ${options.api_key_secret} is missing or not a valid header value`;
    throw new ProviderError("misconfigured", "The video provider is not configured.", detail);
  };

  /** A queue URL for a stored id: fixed base, configured owner/app, checked id (§2). */
  const requestUrl = (upstreamId: string, suffix = ""): string => {
    if (!FAL_REQUEST_ID.test(upstreamId)) throw noVideo("upstream id failed the format check");
    return `${QUEUE_BASE}/${owner}/${app}/requests/${upstreamId}${suffix}`;
  };

  const send = sender(ctx, options);

  /** A keyed call; the kit never lets a redirect take the key to another host. */
  const keyed = (url: string, method = "GET", body?: string, extra: HeadersInit = {}) => {
    const headers = new Headers(extra);
    headers.set("accept", "application/json");
    headers.set("authorization", authorization());
    if (body !== undefined) headers.set("content-type", "application/json");
    return () => new Request(url, { method, body, headers });
  };

  const callError = async (response: Response, what: string) =>
    falCallError(await readFalError(response, redact), what, ctx.now(), redact);

  /** fal storage: initiate with the key, then PUT the bytes (without it) to the given URL. */
  const upload = async ({ bytes, mime }: InputImage, signal?: AbortSignal): Promise<string> => {
    const file = { content_type: mime, file_name: `input.${EXTENSIONS[mime]}` };
    const initiate = keyed(UPLOAD_INITIATE_URL, "POST", JSON.stringify(file));
    const response = await send(initiate, true, signal);
    if (!response.ok) throw await callError(response, "image upload");
    const ticket = await readJson(response, uploadTicket, "upload ticket", redact);
    if (!isFalAssetUrl(ticket.upload_url) || !isFalAssetUrl(ticket.file_url)) {
      throw unreadable("upload URL is not on a fal host");
    }
    const init = { method: "PUT", body: bytes, headers: { "content-type": mime } };
    const stored = await send(() => new Request(ticket.upload_url, init), true, signal);
    await stored.body?.cancel();
    if (stored.ok) return ticket.file_url;
    const detail = `image upload: HTTP ${stored.status}`;
    throw new ProviderError("unavailable", "The video provider could not take the image.", detail);
  };

  /** The finished job: fal keeps its outcome, a video or a typed error, at the result URL (§2). */
  const outcome = async (id: string, startedAt: number, signal?: AbortSignal) => {
    const response = await send(keyed(requestUrl(id)), true, signal);
    if (response.ok) {
      // A 200 without a usable video is a finished job that made nothing.
      const url = videoResult.safeParse((await readBody(response, "result")).json).data?.video.url;
      if (!url || !isFalAssetUrl(url)) return failed("provider_error", NO_VIDEO);
      // With a lifetime set, submit time + lifetime is a safe lower bound of the real expiry.
      const expires = lifetime === null ? null : Math.floor(startedAt / 1000) + lifetime;
      return state("completed", 100, null, expires);
    }
    if ([401, 403, 429].includes(response.status)) throw await callError(response, "video");
    if ([404, 410].includes(response.status)) {
      await response.body?.cancel();
      return failed("expired", "The video provider no longer has this result.");
    }
    const failure = await readFalError(response, redact);
    // A bare 5xx (no fal error fields) is the edge failing, not the job: ask again later.
    if (!failure.typed && response.status >= 500) {
      throw await falCallError(failure, "video", ctx.now(), redact);
    }
    const { code, message } = falJobFailure(failure);
    return failed(code, message);
  };

  return {
    kind: "fal",

    async create(input) {
      if (input.model !== options.model_path) {
        const detail = "the route's upstream_model must equal provider.model_path";
        throw new ProviderError("misconfigured", "The video provider is not configured.", detail);
      }
      const body = mapInput(options, input); // refusals come before any request
      authorization(); // and so does a missing key, before anything is uploaded
      if (input.image) {
        body[options.image_field] =
          options.image_transport === "upload"
            ? await upload(input.image, input.signal)
            : `data:${input.image.mime};base64,${base64(input.image.bytes)}`;
      }
      // Webhooks are a hint on top of polling (§2): only an https receiver is worth naming.
      const hook = input.webhookUrl && isHttpsUrl(input.webhookUrl) ? input.webhookUrl : null;
      const query = hook ? `?fal_webhook=${encodeURIComponent(hook)}` : "";
      const url = `${QUEUE_BASE}/${options.model_path}${query}`;
      const extra: Record<string, string> = {};
      if (lifetime !== null) {
        const preference = { expiration_duration_seconds: lifetime };
        extra["x-fal-object-lifecycle-preference"] = JSON.stringify(preference);
      }
      const response = await send(
        keyed(url, "POST", JSON.stringify(body), extra),
        false,
        input.signal,
      );
      if (response.status === 404) {
        // An unknown endpoint is a route mistake, not a missing video.
        await response.body?.cancel();
        const detail = `POST ${options.model_path}: HTTP 404`;
        throw new ProviderError(
          "misconfigured",
          "The video provider does not offer this model.",
          detail,
        );
      }
      if (!response.ok) throw await callError(response, "video");
      const job = await readJson(response, submitted, "submit answer", redact);
      return {
        upstreamId: job.request_id,
        ...state("queued", queuedProgress(job.queue_position ?? null)),
      };
    },

    async retrieve(upstreamId, { signal, startedAt } = {}) {
      const response = await send(keyed(requestUrl(upstreamId, "/status")), true, signal);
      if (!response.ok) throw await callError(response, "video");
      const status = await readJson(response, queueStatus, "status", redact);
      const since = startedAt ?? ctx.now();
      switch (status.status) {
        case "IN_QUEUE":
          return state("queued", queuedProgress(status.queue_position ?? null));
        case "COMPLETED":
          return outcome(upstreamId, since, signal);
        case "FAILED": {
          const message = sanitizeUpstreamText(status.error ?? "", redact);
          const { code, message: said } = falJobFailure({
            status: 500,
            type: status.error_type ?? null,
            message,
            typed: true,
          });
          return failed(code, said);
        }
        case "CANCELED":
        case "CANCELLED":
          return failed(CANCELLED.code, CANCELLED.message);
        default: {
          // IN_PROGRESS, and any word we do not know: keep polling; the job timeout bounds it.
          const estimate = estimatedProgress(ctx.now() - since, options.typical_seconds * 1000);
          return state("in_progress", Math.max(5, estimate));
        }
      }
    },

    async content(upstreamId, request) {
      if (request.variant !== "video") throw noVideo(`fal has no ${request.variant}`);
      const response = await send(keyed(requestUrl(upstreamId)), true, request.signal);
      if ([401, 403, 429].includes(response.status) || response.status >= 500) {
        throw await callError(response, "video content");
      }
      if (!response.ok) {
        await response.body?.cancel();
        throw noVideo(`result: HTTP ${response.status}`);
      }
      const { url } = (await readJson(response, videoResult, "result", redact)).video;
      if (!isFalAssetUrl(url)) throw unreadable("video URL is not on a fal host");
      // The CDN is public: the key is never sent there; only a single byte range is.
      const range = request.range?.trim();
      const init = range && BYTE_RANGE.test(range) ? { headers: { range } } : {};
      const media = await send(() => new Request(url, init), true, request.signal, {
        media: true,
        allowHost: (target) => isFalAssetUrl(target.href),
      });
      if (media.ok || media.status === 416) return passThroughMediaResponse(media);
      if ([403, 404, 410].includes(media.status)) {
        await media.body?.cancel();
        throw noVideo(`media: HTTP ${media.status}`);
      }
      throw await providerErrorFromResponse(media, {
        what: "video content",
        now: ctx.now(),
        redact,
      });
    },

    async delete(upstreamId) {
      // Cancelling matters only while queued; 400 (ALREADY_COMPLETED) and 404 are fine too.
      const response = await send(keyed(requestUrl(upstreamId, "/cancel"), "PUT"), true);
      if (!response.ok && ![400, 404].includes(response.status)) {
        throw await callError(response, "video");
      }
      await response.body?.cancel();
    },

    verifyWebhook(request) {
      const { fetch, now, sleep, jwksCache } = ctx;
      return verifyFalWebhook(request, { fetch, now, sleep, jwksCache });
    },
  };
}

const NO_VIDEO = "The video provider finished without a usable video.";

const state = (
  status: VideoStatus,
  progress: number,
  error: UpstreamState["error"] = null,
  expiresAt: number | null = null,
): UpstreamState => ({ status, progress, error, expiresAt });
const failed = (code: FailureCode, message: string) => state("failed", 0, { code, message });

/** Queue position → 0–5 (§12.1): the front of the queue reads 5, unknown reads 0. */
const queuedProgress = (position: number | null) =>
  position === null ? 0 : Math.max(0, 5 - position);

const unreadable = (detail: string) =>
  new ProviderError("bad_response", "The video provider answered something unreadable.", detail);
const noVideo = (detail: string) =>
  new ProviderError("not_found", "The video provider has no such video.", detail);

/** The model's own input (no wrapper, §2), refusing what the route's model cannot do. */
function mapInput(options: FalProviderOptions, input: CreateInput): Record<string, unknown> {
  const refuse = (what: string, allowed: readonly unknown[]) =>
    new ProviderError(
      "input_rejected",
      `${options.model_path} accepts these ${what}: ${allowed.join(", ")}`,
    );
  const seconds = Number(input.seconds);
  if (!options.durations.includes(seconds)) throw refuse("durations (seconds)", options.durations);
  const { aspect, resolution } = sizeParts(input.size);
  if (options.aspect_ratios && !options.aspect_ratios.includes(aspect))
    throw refuse("aspect ratios", options.aspect_ratios);
  if (options.resolutions && !options.resolutions.includes(resolution))
    throw refuse("resolutions", options.resolutions);

  const body: Record<string, unknown> = { ...options.extra_input, prompt: input.prompt };
  body[options.duration_field] =
    options.duration_format === "integer"
      ? seconds
      : `${seconds}${options.duration_format === "seconds_s" ? "s" : ""}`;
  if (options.aspect_field) body[options.aspect_field] = aspect;
  if (options.resolution_field) body[options.resolution_field] = resolution;
  if (options.audio_field && input.audio !== undefined) body[options.audio_field] = input.audio;
  return body;
}
