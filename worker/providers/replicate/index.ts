/**
 * The `replicate` adapter: one official Replicate model (e.g. `google/veo-3.1`) per route.
 * Facts: docs/providers/replicate.md §3 (API), §11 (cross-cutting), §12.1 (mapping).
 *
 * The token lives only in the one auth header built here, sent only to the fixed API base.
 * Prediction URLs are rebuilt from that base and a checked id (never `urls.get` from a payload);
 * output files are fetched without the token, and only from Replicate's delivery host.
 */
import { z } from "zod";
import { passThroughMediaResponse } from "../media/pass-through";
import { ProviderError } from "./errors";
import { sender } from "./kit/send";
import {
  PREDICTION_ID,
  base64,
  checkedOutputUrl,
  onDeliveryHost,
  parsePrediction,
  replicateError,
  toState,
  webhookPredictionId,
  type Prediction,
} from "./replicate-prediction";
import { sizeParts } from "./sizes";
import { verifyStandardWebhook } from "./standard-webhooks";
import { sanitizeUpstreamText } from "./upstream-errors";
import type { CreateInput, CreatedUpstreamJob, Provider, ProviderContext } from "./types";

/** Fixed: the token is never sent anywhere else (§3 "Auth, base"). */
const API_BASE = "https://api.replicate.com/v1";
/** The JS client refuses to inline more than this as data URIs (§3 "Create", `MAX_DATA_URI_SIZE`). */
export const MAX_INLINE_IMAGE_BYTES = 10_000_000;

const secretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/);
/** A model input name; starting with a letter also keeps `__proto__` out of the input object. */
const fieldName = z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,63}$/);

/** The `provider` block of a route in MODEL_ROUTES for an official Replicate model. */
export const replicateProviderOptions = z
  .object({
    type: z.literal("replicate"),
    /** `owner/name` of an official model: created with `POST /models/{owner}/{name}/predictions`. */
    model: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,99}\/[a-z0-9][a-z0-9_.-]{0,99}$/i),
    /** Name of the worker secret holding the API token (never the token itself). */
    api_key_secret: secretName.default("REPLICATE_API_TOKEN"),
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
    extra_input: z
      .record(fieldName, z.union([z.string(), z.number(), z.boolean(), z.null()]))
      .default({}),
    /** Typical run time, for the estimated progress (Replicate reports none, §3 "Status"). */
    typical_seconds: z.number().int().min(5).max(3_600).default(120),
    /** Per attempt, until the response headers arrive. */
    timeout_ms: z.number().int().min(1_000).max(300_000).default(30_000),
    /** Retries of idempotent calls only (retrieve, content, cancel). */
    max_retries: z.number().int().min(0).max(5).default(2),
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
  );
export type ReplicateProviderOptions = z.infer<typeof replicateProviderOptions>;

/** What the adapter needs beyond the shared context: its token, the webhook secret, a test sleep. */
export type ReplicateProviderContext = ProviderContext & {
  apiKey: string;
  /** The `whsec_…` value; `verifyWebhook` exists only when this is given. */
  webhookSecret?: string;
  sleep?: (ms: number) => Promise<void>;
};

/** Visible ASCII only: anything else would make `Headers` throw, possibly quoting the value. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;
/** A single byte range, the only form worth forwarding (RFC 9110 §14.2). */
const BYTE_RANGE = /^bytes=\d*-\d*$/;
const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{16,}={0,2}$/;
const NOT_CONFIGURED = "The video provider is not configured.";

/** Builds the adapter for one route. Never throws here: a missing token fails each call instead. */
export function createReplicateProvider(
  options: ReplicateProviderOptions,
  ctx: ReplicateProviderContext,
): Provider {
  const redact = [ctx.apiKey, ctx.webhookSecret ?? ""];
  const model = options.model;

  const apiHeaders = (): Headers => {
    if (!HEADER_SAFE.test(ctx.apiKey)) {
      const detail = `secret ${options.api_key_secret} is missing or not a valid header value`;
      throw new ProviderError("misconfigured", NOT_CONFIGURED, detail);
    }
    return new Headers({
      accept: "application/json",
      "content-type": "application/json",
      authorization: `Bearer ${ctx.apiKey}`,
    });
  };

  const predictionUrl = (id: string, suffix = ""): string => {
    if (!PREDICTION_ID.test(id)) {
      const detail = "prediction id failed the format check";
      throw new ProviderError("not_found", "The video provider has no such video.", detail);
    }
    return `${API_BASE}/predictions/${id}${suffix}`;
  };

  const send = sender(ctx, options);

  const fail = (response: Response, what: string) =>
    replicateError(response, { what, now: ctx.now(), redact });

  const readPrediction = async (response: Response): Promise<Prediction> => {
    if (!response.ok) throw await fail(response, "video");
    return parsePrediction(response, redact);
  };

  const getPrediction = async (id: string, signal?: AbortSignal) => {
    const url = predictionUrl(id);
    const headers = apiHeaders();
    return readPrediction(await send(() => new Request(url, { headers }), true, signal));
  };

  const provider: Provider = {
    kind: "replicate",

    async create(input) {
      const body = JSON.stringify(createBody(options, input, ctx.webhookSecret !== undefined));
      const headers = apiHeaders();
      // Official models: the model's own route, no version hash (§3 "Create"). `Prefer: wait`
      // is left out on purpose: it blocks up to 60 s, far less than a video takes.
      const url = `${API_BASE}/models/${model}/predictions`;
      const response = await send(
        () => new Request(url, { method: "POST", headers, body }),
        false,
        input.signal,
      );
      const prediction = await readPrediction(response);
      const state = toState(prediction, { now: ctx.now(), typicalMs: 0, redact });
      return { upstreamId: prediction.id, ...state } satisfies CreatedUpstreamJob;
    },

    async retrieve(upstreamId, { signal, startedAt } = {}) {
      const prediction = await getPrediction(upstreamId, signal);
      const typicalMs = options.typical_seconds * 1000;
      return toState(prediction, { now: ctx.now(), startedAt, typicalMs, redact });
    },

    async content(upstreamId, request) {
      if (request.variant !== "video") {
        const detail = `Replicate returns no ${request.variant}`;
        throw new ProviderError("not_found", "The video provider has no such content.", detail);
      }
      const prediction = await getPrediction(upstreamId, request.signal);
      if (prediction.status !== "succeeded") {
        const detail = `prediction is ${sanitizeUpstreamText(prediction.status)}`;
        throw new ProviderError("not_found", "The video is not ready.", detail);
      }
      const url = checkedOutputUrl(prediction);
      if (!url) throw expired("the prediction has no downloadable output");
      // The delivery host is public: the token is never sent there (§12.1 "/content").
      const headers = new Headers();
      const range = request.range?.trim();
      if (range && BYTE_RANGE.test(range)) headers.set("range", range);
      const response = await send(() => new Request(url, { headers }), true, request.signal, {
        media: true,
        allowHost: onDeliveryHost,
      });
      if (response.ok || response.status === 416) return passThroughMediaResponse(response);
      if (response.status === 404 || response.status === 410) {
        await response.body?.cancel();
        throw expired(`output file answered HTTP ${response.status}`);
      }
      throw await fail(response, "video content");
    },

    async delete(upstreamId) {
      // Best effort (§3): cancelling stops a running prediction; a finished one is unaffected,
      // and its files vanish after an hour anyway. Cancel is safe to repeat, so it is retried.
      const url = predictionUrl(upstreamId, "/cancel");
      const headers = apiHeaders();
      const response = await send(() => new Request(url, { method: "POST", headers }), true);
      if (response.ok || response.status === 404) return void (await response.body?.cancel());
      throw await fail(response, "video");
    },
  };

  const secret = ctx.webhookSecret;
  if (secret === undefined) return provider;
  return {
    ...provider,
    /** Standard Webhooks HMAC (§3 "Webhooks"); the body is the prediction, verified first. */
    async verifyWebhook(request) {
      if (!WEBHOOK_SECRET.test(secret)) {
        const detail = `secret ${options.webhook_secret_secret ?? "for webhooks"} is not a whsec_ value`;
        throw new ProviderError("misconfigured", NOT_CONFIGURED, detail);
      }
      const delivery = await verifyStandardWebhook(request, secret, ctx.now());
      const id = webhookPredictionId(delivery.body);
      if (!id) {
        const detail = "verified body has no valid prediction id";
        throw new ProviderError("input_rejected", "The webhook could not be read.", detail);
      }
      return { deliveryId: delivery.id, upstreamId: id };
    },
  };
}

/** `{input, webhook?, webhook_events_filter?}`, refusing what the model cannot do first. */
function createBody(options: ReplicateProviderOptions, input: CreateInput, signed: boolean) {
  const { model } = options;
  const refuse = (message: string) => new ProviderError("input_rejected", message);
  const { aspect, resolution } = sizeParts(input.size);
  const seconds = Number(input.seconds);
  if (!options.durations.includes(seconds)) {
    throw refuse(`${model} accepts durations (seconds): ${options.durations.join(", ")}`);
  }
  if (options.aspect_ratios && !options.aspect_ratios.includes(aspect)) {
    throw refuse(`${model} accepts aspect ratios: ${options.aspect_ratios.join(", ")}`);
  }
  if (options.resolutions && !options.resolutions.includes(resolution)) {
    throw refuse(`${model} accepts resolutions: ${options.resolutions.join(", ")}`);
  }
  if (input.audio !== undefined && !options.audio_field) {
    throw refuse(`${model} has no audio switch: leave audio out`);
  }
  const fields: Record<string, unknown> = { ...options.extra_input, prompt: input.prompt };
  fields[options.duration_field] = seconds;
  if (options.aspect_field) fields[options.aspect_field] = aspect;
  if (options.resolution_field) fields[options.resolution_field] = resolution;
  if (options.audio_field && input.audio !== undefined) fields[options.audio_field] = input.audio;
  if (input.image) {
    const { bytes, mime } = input.image;
    if (bytes.length > MAX_INLINE_IMAGE_BYTES) {
      const mb = (bytes.length / 1_000_000).toFixed(1);
      throw refuse(`Replicate accepts input images up to 10 MB; this one is ${mb} MB`);
    }
    // Inline as a data URI (§11.2): nothing of ours has to be publicly reachable.
    fields[options.image_field] = `data:${mime};base64,${base64(bytes)}`;
  }
  const body: Record<string, unknown> = { input: fields };
  // Only a signed receiver may be named, and Replicate cannot reach a local dev server.
  if (signed && input.webhookUrl?.startsWith("https://")) {
    body.webhook = input.webhookUrl;
    body.webhook_events_filter = ["completed"];
  }
  return body;
}

function expired(detail: string): ProviderError {
  return new ProviderError(
    "not_found",
    "The video is no longer available: Replicate keeps results for one hour.",
    detail,
  );
}
