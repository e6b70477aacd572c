/**
 * The `openai` adapter: any host that speaks OpenAI's `/v1/videos` (OpenAI itself until its
 * shutdown, Azure's v1 path, LiteLLM, relays). Facts: docs/providers/openai.md.
 *
 * The key lives only in the one credential header built here; URLs are built only from the
 * configured base URL and checked ids; upstream JSON is parsed leniently (hosts omit and add
 * fields). Media may be redirected to a storage host: followed without the key (kit/redirects).
 */
import { passThroughMediaResponse } from "../../media/pass-through";
import { ProviderError } from "../errors";
import { readBody } from "../kit/body";
import { providerErrorFromResponse } from "../kit/errors";
import { credentialHeader, forwardedRange } from "../kit/headers";
import { sender } from "../kit/send";
import { VARIANTS, type CreatedUpstreamJob, type Provider } from "../types";
import type { OpenAIProviderContext, OpenAIProviderOptions } from "./options";
import { createForm, remixBody } from "./request";
import { checkedId, parseVideo, toState, UPSTREAM_ID } from "./response";

export { openAIProviderOptions, type OpenAIProviderOptions } from "./options";

/** Builds the adapter for one route. Never throws here: a missing key fails each call instead. */
export function createOpenAIProvider(
  options: OpenAIProviderOptions,
  ctx: OpenAIProviderContext,
): Provider {
  const redact = [ctx.apiKey];
  const send = sender(ctx, options, redact);

  const headers = (extra: Record<string, string>): Headers => {
    const auth =
      options.auth === "api-key"
        ? credentialHeader("api-key", "", ctx.apiKey, options.api_key_secret)
        : credentialHeader("authorization", "Bearer ", ctx.apiKey, options.api_key_secret);
    return new Headers({ accept: "application/json", ...extra, ...auth });
  };

  const videoUrl = (upstreamId: string, suffix = ""): string => {
    if (!UPSTREAM_ID.test(upstreamId)) {
      throw new ProviderError(
        "not_found",
        "The video provider has no such video.",
        "upstream id failed the format check",
      );
    }
    return `${options.base_url}/videos/${encodeURIComponent(upstreamId)}${suffix}`;
  };

  const fail = (response: Response, what: string) =>
    providerErrorFromResponse(response, { what, now: ctx.now(), redact });

  /** A Video answer: an error for a non-2xx, else the parsed and mapped state. */
  const readVideo = async (response: Response): Promise<CreatedUpstreamJob> => {
    if (!response.ok) throw await fail(response, "video");
    const video = parseVideo((await readBody(response, "video")).text, redact);
    return { upstreamId: video.id, ...toState(video, redact) };
  };

  /** Create and remix start work upstream: sent once, never retried (kit/send.ts). */
  const start = async (url: string, h: Headers, body: BodyInit, signal?: AbortSignal) => {
    const response = await send(
      () => new Request(url, { method: "POST", headers: h, body }),
      false,
      signal,
    );
    return checkedId(await readVideo(response));
  };

  return {
    kind: "openai",

    async create(input) {
      const h = headers({ "idempotency-key": input.jobId });
      return start(`${options.base_url}/videos`, h, createForm(input), input.signal);
    },

    async retrieve(upstreamId, { signal } = {}) {
      const url = videoUrl(upstreamId);
      const h = headers({});
      const response = await send(() => new Request(url, { headers: h }), true, signal);
      const { status, progress, error, expiresAt } = await readVideo(response);
      return { status, progress, error, expiresAt };
    },

    async remix(upstreamId, input) {
      const url = videoUrl(upstreamId, "/remix");
      const h = headers({ "content-type": "application/json", "idempotency-key": input.jobId });
      return start(url, h, remixBody(input), input.signal);
    },

    async content(upstreamId, request) {
      if (!VARIANTS.includes(request.variant)) {
        throw new ProviderError(
          "not_found",
          "The video provider has no such video content.",
          "unknown variant",
        );
      }
      const url = videoUrl(upstreamId, `/content?variant=${encodeURIComponent(request.variant)}`);
      // The SDKs ask for `application/binary`; the real type comes back in Content-Type.
      const h = headers({ accept: "application/binary", ...forwardedRange(request.range) });
      const response = await send(() => new Request(url, { headers: h }), true, request.signal, {
        media: true,
      });
      if (response.ok || response.status === 416) return passThroughMediaResponse(response);
      throw await fail(response, "video content");
    },

    async delete(upstreamId) {
      const url = videoUrl(upstreamId);
      const h = headers({});
      const response = await send(() => new Request(url, { method: "DELETE", headers: h }), true);
      // Already gone is what we wanted.
      if (response.ok || response.status === 404) {
        await response.body?.cancel();
        return;
      }
      throw await fail(response, "video");
    },
  };
}
