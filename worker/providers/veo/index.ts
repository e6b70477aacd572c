/**
 * The `veo` adapter: Google Veo 3.x through the Gemini API. Facts:
 * docs/providers/veo.md §1 (and §11, §12.1). `request.ts` builds the create body,
 * `response.ts` reads operations and errors, `webhooks.ts` verifies static webhooks.
 *
 * The key travels only in the `x-goog-api-key` header, and only to generativelanguage.googleapis.com
 * (never as `?key=`, which the AI SDK appends, §1 "Result"). URLs are built from one fixed base
 * and checked operation names; the video file is fetched server-side and streamed through, and
 * Google's redirect to its download host is followed by the kit without the key.
 */
import { z } from "zod";
import { log } from "../../log";
import { passThroughMediaResponse } from "../../media/pass-through";
import { ProviderError } from "../errors";
import { readJson, unreadable } from "../kit/body";
import { credentialHeader, forwardedRange } from "../kit/headers";
import { sender } from "../kit/send";
import type { Provider } from "../types";
import type { VeoProviderContext, VeoProviderOptions } from "./options";
import { extensionBody, requestBody } from "./request";
import { mapOperation, OPERATION_NAME, veoErrorFromResponse, veoOperation } from "./response";
import { verifyVeoWebhook } from "./webhooks";

export { veoProviderOptions, type VeoProviderOptions } from "./options";

const API_HOST = "generativelanguage.googleapis.com";
const BASE_URL = `https://${API_HOST}/v1beta`;

/** Builds the adapter for one route. Never throws here: a missing key fails each call instead. */
export function createVeoProvider(options: VeoProviderOptions, ctx: VeoProviderContext): Provider {
  const redact = [ctx.apiKey, ctx.webhookSecret ?? ""];
  const typicalMs = options.typical_seconds * 1000;

  const keyHeaders = (extra: Record<string, string>): Headers =>
    new Headers({
      ...extra,
      ...credentialHeader("x-goog-api-key", "", ctx.apiKey, options.api_key_secret),
    });

  const send = sender(ctx, options, redact);

  const fail = (response: Response, what: string) =>
    veoErrorFromResponse(response, { what, now: ctx.now(), redact });

  /** Polls the operation; the name is checked before it becomes a path under the fixed base. */
  const readOperation = async (upstreamId: string, signal?: AbortSignal, startedAt?: number) => {
    if (!OPERATION_NAME.test(upstreamId)) {
      throw new ProviderError(
        "not_found",
        "The video provider has no such video.",
        "operation name failed the format check",
      );
    }
    const url = `${BASE_URL}/${upstreamId}`;
    const h = keyHeaders({ accept: "application/json" });
    const response = await send(() => new Request(url, { headers: h }), true, signal);
    if (!response.ok) throw await fail(response, "video");
    const op = await readJson(response, veoOperation, "operation", redact);
    const mapped = mapOperation(op, { now: ctx.now(), startedAt, typicalMs, redact });
    if (mapped.hint) log("warn", "veo_job_failed", { provider: "veo", detail: mapped.hint });
    return mapped;
  };

  /**
   * GET the file with the key; the kit follows Google's redirect to its download host without
   * the key (kit/redirects.ts), and only to Google hosts.
   */
  const download = (uri: string, range: string | null, signal?: AbortSignal) => {
    const url = checkedUrl(uri, true);
    const h = keyHeaders(forwardedRange(range));
    return send(() => new Request(url, { headers: h }), true, signal, {
      media: true,
      allowHost: (target) => isGoogleUrl(target, false),
    });
  };

  /** One `predictLongRunning`; "not found" there can only mean the route's model id. */
  const start = async (model: string, payload: object, signal?: AbortSignal) => {
    const body = JSON.stringify(payload);
    const url = `${BASE_URL}/models/${model}:predictLongRunning`;
    const h = keyHeaders({ "content-type": "application/json", accept: "application/json" });
    // No idempotency key exists on this API: one attempt only (docs/decisions/0005).
    const response = await send(
      () => new Request(url, { method: "POST", headers: h, body }),
      false,
      signal,
    );
    if (!response.ok) {
      const error = await fail(response, "video");
      if (error.kind !== "not_found") throw error;
      throw new ProviderError(
        "misconfigured",
        "The video provider is not configured.",
        `${error.detail} — check upstream_model`,
      );
    }
    const created = await readJson(response, z.object({ name: z.string() }), "operation", redact);
    if (!OPERATION_NAME.test(created.name)) {
      throw unreadable("operation name failed the format check");
    }
    return {
      upstreamId: created.name,
      status: "queued" as const,
      progress: 0,
      error: null,
      expiresAt: null,
    };
  };

  const provider: Provider = {
    kind: "veo",

    async create(input) {
      return start(input.model, requestBody(input, options), input.signal);
    },

    /**
     * Continues one of this route's own videos: its operation is read again for the file URI,
     * which goes back to Veo (docs/providers/veo.md "Extension"); uploads cannot be extended.
     */
    async extend(input) {
      const source = input.source.upstreamId;
      if (source === null) {
        throw new ProviderError(
          "input_rejected",
          "Veo extends only videos it made itself: pick one of this model's videos.",
        );
      }
      const { state, videoUri } = await readOperation(source, input.signal);
      if (state.status !== "completed" || !videoUri) {
        throw new ProviderError("input_rejected", "The source video is not finished at Veo.");
      }
      return start(input.model, extensionBody(input, options, videoUri), input.signal);
    },

    async retrieve(upstreamId, { signal, startedAt } = {}) {
      return (await readOperation(upstreamId, signal, startedAt)).state;
    },

    async content(upstreamId, request) {
      if (request.variant !== "video") {
        throw new ProviderError(
          "not_found",
          "The video provider has no such video content.",
          "Veo makes only the video variant",
        );
      }
      const { state, videoUri } = await readOperation(upstreamId, request.signal);
      if (state.status !== "completed" || !videoUri) {
        throw new ProviderError(
          "not_found",
          "The video provider has no such video content.",
          `operation is ${state.status}`,
        );
      }
      const response = await download(videoUri, request.range, request.signal);
      if (response.ok || response.status === 416) return passThroughMediaResponse(response);
      const error = await fail(response, "video content");
      // A file past its 2 days (§1) is gone; the Files API is reported to answer 403 "… or it
      // may not exist" rather than 404 for that (UNCONFIRMED), so both mean not_found here.
      if (response.status !== 403 && response.status !== 404) throw error;
      throw new ProviderError(
        "not_found",
        "The video is no longer available from the provider.",
        error.detail,
      );
    },
  };

  // Static project webhooks only (§1 "Webhooks"): per-request `webhookConfig` deliveries are
  // RS256 JWTs, which this adapter does not verify, so it never asks for them.
  const secret = ctx.webhookSecret;
  if (options.webhook_secret_secret && secret) {
    provider.verifyWebhook = (request) => verifyVeoWebhook(request, secret, ctx.now());
  }
  return provider;
}

/** https on the API host (or, unless `apiHostOnly`, another Google host), with no credentials. */
function isGoogleUrl(url: URL, apiHostOnly: boolean): boolean {
  const host = url.hostname;
  const google =
    host === API_HOST ||
    (!apiHostOnly && (host.endsWith(".googleusercontent.com") || host.endsWith(".googleapis.com")));
  return (
    google &&
    url.protocol === "https:" &&
    url.port === "" &&
    !url.username &&
    !url.password &&
    !url.searchParams.has("key")
  );
}

/**
 * A URL from Google's answer we may fetch: https, no credentials or key parameter; the file URI
 * itself must be on the API host (§1 "Result"), a redirect may go to another Google host.
 */
function checkedUrl(value: string, apiHostOnly: boolean): string {
  const url = URL.canParse(value) ? new URL(value) : null;
  if (!url || !isGoogleUrl(url, apiHostOnly)) {
    throw unreadable(
      `video URI is not an https URL on ${apiHostOnly ? API_HOST : "a Google host"}`,
    );
  }
  return value;
}
