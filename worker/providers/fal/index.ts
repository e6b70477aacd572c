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
import { passThroughMediaResponse } from "../../media/pass-through";
import { ProviderError } from "../errors";
import { readBody, readJson, unreadable } from "../kit/body";
import { dataUri, IMAGE_EXTENSIONS, isHttpsUrl } from "../kit/bytes";
import { providerErrorFromResponse } from "../kit/errors";
import { credentialHeader, forwardedRange } from "../kit/headers";
import { estimatedProgress } from "../kit/progress";
import { sanitizeUpstreamText } from "../kit/sanitize";
import { sender } from "../kit/send";
import type { CreatedUpstreamJob, EditInput, ExtendInput, Provider } from "../types";
import type { FalProviderContext, FalProviderOptions } from "./options";
import { mapDerivedInput, mapInput, QUEUE_BASE, UPLOAD_INITIATE_URL } from "./request";
import {
  CANCELLED,
  failed,
  falCallError,
  falJobFailure,
  isFalAssetUrl,
  NO_VIDEO,
  noVideo,
  queueStatus,
  queuedProgress,
  readFalError,
  state,
  submitted,
  uploadTicket,
  videoResult,
} from "./response";
import { FAL_REQUEST_ID, verifyFalWebhook } from "./webhooks";

export { falProviderOptions, type FalProviderOptions } from "./options";

/** Builds the adapter for one route. Never throws here: a missing key fails each call instead. */
export function createFalProvider(options: FalProviderOptions, ctx: FalProviderContext): Provider {
  const redact = [ctx.apiKey];
  const [owner, app] = options.model_path.split("/") as [string, string];
  const lifetime = options.media_expiration_seconds;

  const authorization = () =>
    credentialHeader("authorization", "Key ", ctx.apiKey, options.api_key_secret);

  /** A queue URL for a stored id: fixed base, configured owner/app, checked id (§2). */
  const requestUrl = (upstreamId: string, suffix = ""): string => {
    if (!FAL_REQUEST_ID.test(upstreamId)) throw noVideo("upstream id failed the format check");
    return `${QUEUE_BASE}/${owner}/${app}/requests/${upstreamId}${suffix}`;
  };

  const send = sender(ctx, options, redact);

  /** A keyed call; the kit never lets a redirect take the key to another host. */
  const keyed = (
    url: string,
    method = "GET",
    body?: string,
    extra: Record<string, string> = {},
  ) => {
    const headers = new Headers({ ...extra, accept: "application/json", ...authorization() });
    if (body !== undefined) headers.set("content-type", "application/json");
    return () => new Request(url, { method, body, headers });
  };

  const callError = async (response: Response, what: string) =>
    falCallError(await readFalError(response, redact), what, ctx.now(), redact);

  /** fal storage: initiate with the key, then PUT the bytes (without it) to the given URL. */
  const upload = async (
    { bytes, mime }: { bytes: Uint8Array; mime: string },
    signal?: AbortSignal,
  ): Promise<string> => {
    const extension = mime === "video/mp4" ? "mp4" : IMAGE_EXTENSIONS[mime as "image/png"];
    const file = { content_type: mime, file_name: `input.${extension}` };
    const initiate = keyed(UPLOAD_INITIATE_URL, "POST", JSON.stringify(file));
    const response = await send(initiate, true, signal);
    if (!response.ok) throw await callError(response, "upload");
    const ticket = await readJson(response, uploadTicket, "upload ticket", redact);
    if (!isFalAssetUrl(ticket.upload_url) || !isFalAssetUrl(ticket.file_url)) {
      throw unreadable("upload URL is not on a fal host");
    }
    const init = { method: "PUT", body: bytes, headers: { "content-type": mime } };
    const stored = await send(() => new Request(ticket.upload_url, init), true, signal);
    await stored.body?.cancel();
    if (stored.ok) return ticket.file_url;
    const detail = `upload: HTTP ${stored.status}`;
    throw new ProviderError("unavailable", "The video provider could not take the upload.", detail);
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

  /** POST a job to `path` on the queue (§2); only an https webhook receiver is named. */
  const submit = async (
    path: string,
    body: Record<string, unknown>,
    webhookUrl: string | undefined,
    signal?: AbortSignal,
  ): Promise<CreatedUpstreamJob> => {
    const hook = webhookUrl && isHttpsUrl(webhookUrl) ? webhookUrl : null;
    const query = hook ? `?fal_webhook=${encodeURIComponent(hook)}` : "";
    const url = `${QUEUE_BASE}/${path}${query}`;
    const extra: Record<string, string> = {};
    if (lifetime !== null) {
      const preference = { expiration_duration_seconds: lifetime };
      extra["x-fal-object-lifecycle-preference"] = JSON.stringify(preference);
    }
    const response = await send(keyed(url, "POST", JSON.stringify(body), extra), false, signal);
    if (response.status === 404) {
      // An unknown endpoint is a route mistake, not a missing video.
      await response.body?.cancel();
      const detail = `POST ${path}: HTTP 404`;
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
  };

  const derived = async (
    path: string | null,
    input: ExtendInput | EditInput,
    extension: boolean,
  ): Promise<CreatedUpstreamJob> => {
    if (path === null) {
      const detail = `the route sets no ${extension ? "extend_path" : "edit_path"}`;
      throw new ProviderError("misconfigured", "The video provider is not configured.", detail);
    }
    authorization(); // a missing key fails before anything is uploaded
    const bytes = await input.source.bytes();
    const url = await upload({ bytes, mime: "video/mp4" }, input.signal);
    const body = mapDerivedInput(options, input, url, extension);
    return submit(path, body, input.webhookUrl, input.signal);
  };

  const provider: Provider = {
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
            : dataUri(input.image.mime, input.image.bytes);
      }
      return submit(options.model_path, body, input.webhookUrl, input.signal);
    },

    // Extensions and edits: the source goes to fal storage first (the universal way to hand fal
    // a file, §2), then to the route's endpoint for it; the answer is polled like any job.
    async extend(input) {
      return derived(options.extend_path, input, true);
    },

    async edit(input) {
      return derived(options.edit_path, input, false);
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
      const init = { headers: forwardedRange(request.range) };
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
  };
  // Deny by default: without our account id, a delivery signed for anyone's fal job verifies.
  const account = options.webhook_user_id;
  if (account !== null) {
    provider.verifyWebhook = (request) => {
      const { fetch, now, sleep, jwksCache } = ctx;
      return verifyFalWebhook(request, { fetch, now, sleep, jwksCache, account });
    };
  }
  return provider;
}
