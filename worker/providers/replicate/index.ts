/**
 * The `replicate` adapter: one official Replicate model (e.g. `google/veo-3.1`) per route.
 * Facts: docs/providers/replicate.md §3 (API), §11 (cross-cutting), §12.1 (mapping).
 *
 * The token lives only in the one credential header built here, sent only to the fixed API base.
 * Prediction URLs are rebuilt from that base and a checked id (never `urls.get` from a payload);
 * output files are fetched without the token, and only from Replicate's delivery host.
 */
import { z } from "zod";
import { passThroughMediaResponse } from "../../media/pass-through";
import { ProviderError } from "../errors";
import { readJson, unreadable } from "../kit/body";
import { credentialHeader, forwardedRange } from "../kit/headers";
import { sanitizeUpstreamText } from "../kit/sanitize";
import { sender } from "../kit/send";
import type { CreatedUpstreamJob, Provider, SourceVideo } from "../types";
import type { ReplicateProviderContext, ReplicateProviderOptions } from "./options";
import { createBody, editBody, extendBody } from "./request";
import {
  PREDICTION_ID,
  checkedOutputUrl,
  onDeliveryHost,
  parsePrediction,
  replicateError,
  toState,
  type Prediction,
} from "./response";
import { verifyReplicateWebhook } from "./webhooks";

export { replicateProviderOptions, type ReplicateProviderOptions } from "./options";
export { MAX_INLINE_IMAGE_BYTES } from "./request";

/** Fixed: the token is never sent anywhere else (§3 "Auth, base"). */
const API_BASE = "https://api.replicate.com/v1";

/** Builds the adapter for one route. Never throws here: a missing token fails each call instead. */
export function createReplicateProvider(
  options: ReplicateProviderOptions,
  ctx: ReplicateProviderContext,
): Provider {
  const redact = [ctx.apiKey, ctx.webhookSecret ?? ""];
  const model = options.model;

  const apiHeaders = (json = true): Headers =>
    new Headers({
      accept: "application/json",
      ...(json ? { "content-type": "application/json" } : {}),
      ...credentialHeader("authorization", "Bearer ", ctx.apiKey, options.api_key_secret),
    });

  const predictionUrl = (id: string, suffix = ""): string => {
    if (!PREDICTION_ID.test(id)) {
      const detail = "prediction id failed the format check";
      throw new ProviderError("not_found", "The video provider has no such video.", detail);
    }
    return `${API_BASE}/predictions/${id}${suffix}`;
  };

  const send = sender(ctx, options, redact);

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

  /**
   * Starts a prediction on an official model: the model's own route, no version hash (§3
   * "Create"). `Prefer: wait` is left out on purpose: it blocks up to 60 s, far less than a
   * video takes. Sent once: a start is never retried.
   */
  const predict = async (
    on: string,
    payload: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<CreatedUpstreamJob> => {
    const body = JSON.stringify(payload);
    const headers = apiHeaders();
    const url = `${API_BASE}/models/${on}/predictions`;
    const response = await send(
      () => new Request(url, { method: "POST", headers, body }),
      false,
      signal,
    );
    const prediction = await readPrediction(response);
    const state = toState(prediction, { now: ctx.now(), typicalMs: 0, redact });
    return { upstreamId: prediction.id, ...state } satisfies CreatedUpstreamJob;
  };

  /**
   * Puts a source video in Replicate's Files API (§3a, `POST /v1/files`, the file in `content`)
   * and returns the URL a model input names it by. The same fixed host as every other call, so
   * the token goes nowhere new; the URL is only passed back to Replicate, never fetched here.
   */
  const uploadSource = async (source: SourceVideo, jobId: string, signal?: AbortSignal) => {
    const headers = apiHeaders(false); // a missing token fails before the source is read
    const bytes = await source.bytes();
    const form = () => {
      const body = new FormData();
      body.set("content", new File([bytes], `${jobId}.mp4`, { type: "video/mp4" }));
      return body;
    };
    const url = `${API_BASE}/files`;
    try {
      // Not retried: a repeat would store the file twice (harmless, but not idempotent).
      const response = await send(
        () => new Request(url, { method: "POST", headers, body: form() }),
        false,
        signal,
      );
      if (!response.ok) throw await fail(response, "upload");
      const file = await readJson(response, uploadedFile, "an uploaded file", redact);
      const get = URL.canParse(file.urls.get) ? new URL(file.urls.get) : null;
      if (get?.protocol !== "https:") throw unreadable("the uploaded file's URL is not https");
      return get.href;
    } catch (error) {
      // Whatever became of the file, no prediction exists yet: nothing is generating, so the
      // job's money is free to go back (an ambiguous kind would hold it for the job timeout).
      if (error instanceof ProviderError && REFUSALS.has(error.kind)) throw error;
      const detail = error instanceof ProviderError ? error.message : "upload failed";
      throw new ProviderError(
        "unavailable",
        "The video provider could not take the upload.",
        detail,
      );
    }
  };

  const signed = ctx.webhookSecret !== undefined;

  const provider: Provider = {
    kind: "replicate",

    async create(input) {
      return predict(model, createBody(options, input, signed), input.signal);
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
      const headers = forwardedRange(request.range);
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

  // Edits and extensions run on their own models; their predictions are polled, downloaded and
  // cancelled through the same /predictions/{id} routes as any other.
  const { edit, extend } = options;
  if (edit) {
    provider.edit = async (input) => {
      const video = await uploadSource(input.source, input.jobId, input.signal);
      return predict(edit.model, editBody(edit, input, video, signed), input.signal);
    };
  }
  if (extend) {
    provider.extend = async (input) => {
      const video = await uploadSource(input.source, input.jobId, input.signal);
      return predict(extend.model, extendBody(extend, input, video, signed), input.signal);
    };
  }

  const secret = ctx.webhookSecret;
  if (secret === undefined) return provider;
  return {
    ...provider,
    /** Standard Webhooks HMAC (§3 "Webhooks"); the body is the prediction, verified first. */
    verifyWebhook: (request) =>
      verifyReplicateWebhook(request, secret, options.webhook_secret_secret, ctx.now()),
  };
}

/** Upload failures that say something the caller or operator must fix, kept as they are. */
const REFUSALS = new Set(["input_rejected", "policy_violation", "misconfigured", "rate_limited"]);

/** What `POST /v1/files` answers (§3a); only the id and the URL to name it by are used. */
const uploadedFile = z.object({ id: z.string(), urls: z.object({ get: z.string() }) });

function expired(detail: string): ProviderError {
  return new ProviderError(
    "not_found",
    "The video is no longer available: Replicate keeps results for one hour.",
    detail,
  );
}
