/**
 * The `openrouter` adapter: one OpenRouter video model (e.g. `google/veo-3.1`) per route,
 * through `/api/v1/videos`. Facts: docs/providers/openrouter.md §0–§6, §10.
 *
 * The key lives only in the one Bearer header built here, sent only to the configured base. Job
 * and content URLs are rebuilt from that base and a checked id — never from `polling_url` or
 * `unsigned_urls` in an answer (§2, §10). The content proxy needs the key (§4); a redirect from
 * it to another origin is followed without any credential (kit/redirects.ts), and a create is
 * never redirected anywhere. There is no cancel or delete (§5), so neither is offered.
 */
import { passThroughMediaResponse } from "../../media/pass-through";
import { ProviderError } from "../errors";
import { unreadable } from "../kit/body";
import { credentialHeader, forwardedRange } from "../kit/headers";
import { sender } from "../kit/send";
import type { CreatedUpstreamJob, Provider } from "../types";
import type { OpenRouterProviderContext, OpenRouterProviderOptions } from "./options";
import { createBody } from "./request";
import { JOB_ID, openRouterError, parseJob, toState, type OpenRouterJob } from "./response";
import { verifyOpenRouterWebhook } from "./webhooks";

export {
  OPENROUTER_API_BASE,
  OPENROUTER_ASPECT_RATIOS,
  OPENROUTER_RESOLUTIONS,
  openRouterProviderOptions,
  type OpenRouterProviderContext,
  type OpenRouterProviderOptions,
} from "./options";
export { JOB_ID as OPENROUTER_JOB_ID } from "./response";

/** Builds the adapter for one route. Never throws here: a missing key fails each call instead. */
export function createOpenRouterProvider(
  options: OpenRouterProviderOptions,
  ctx: OpenRouterProviderContext,
): Provider {
  const redact = [ctx.apiKey, ctx.webhookSecret ?? ""];
  const base = options.base_url;
  const send = sender(ctx, options, redact);

  const headers = (extra: Record<string, string> = {}): Headers =>
    new Headers({
      accept: "application/json",
      ...extra,
      ...credentialHeader("authorization", "Bearer ", ctx.apiKey, options.api_key_secret),
    });

  /** `/videos/{id}…` for a stored id that passed the format check, else nothing is sent. */
  const jobUrl = (upstreamId: string, suffix = ""): string => {
    if (!JOB_ID.test(upstreamId)) {
      const detail = "upstream id failed the format check";
      throw new ProviderError("not_found", "The video provider has no such video.", detail);
    }
    return `${base}/videos/${upstreamId}${suffix}`;
  };

  const fail = (response: Response, what: string) =>
    openRouterError(response, { what, now: ctx.now(), redact });

  const getJob = async (upstreamId: string, signal?: AbortSignal): Promise<OpenRouterJob> => {
    const url = jobUrl(upstreamId);
    const h = headers();
    const response = await send(() => new Request(url, { headers: h }), true, signal);
    if (!response.ok) throw await fail(response, "video");
    const found = await parseJob(response, redact);
    if (found.id !== upstreamId) throw unreadable("the job answered for another id");
    return found;
  };

  const provider: Provider = {
    kind: "openrouter",

    async create(input) {
      if (input.model !== options.model) {
        const detail = "the route's upstream_model must equal provider.model";
        throw new ProviderError("misconfigured", "The video provider is not configured.", detail);
      }
      // A callback only where its signature can be checked (§6: signed only with a secret).
      const callback = ctx.webhookSecret !== undefined ? input.webhookUrl : undefined;
      const body = JSON.stringify(createBody(options, input, callback)); // refusals first
      const h = headers({ "content-type": "application/json" });
      const url = `${base}/videos`;
      // Sent once: no submit idempotency key is documented, so a retry could start a second
      // paid job (§1 "SDK retry policy"); the kit refuses any redirect of a POST off-origin.
      const response = await send(
        () => new Request(url, { method: "POST", headers: h, body }),
        false,
        input.signal,
      );
      if (!response.ok) throw await fail(response, "video");
      const created = await parseJob(response, redact);
      const state = toState(created, {
        now: ctx.now(),
        startedAt: ctx.now(),
        typicalMs: options.typical_seconds * 1000,
        redact,
      });
      return { upstreamId: created.id, ...state } satisfies CreatedUpstreamJob;
    },

    async retrieve(upstreamId, { signal, startedAt } = {}) {
      const found = await getJob(upstreamId, signal);
      const typicalMs = options.typical_seconds * 1000;
      return toState(found, { now: ctx.now(), startedAt, typicalMs, redact });
    },

    async content(upstreamId, request) {
      if (request.variant !== "video") {
        const detail = `OpenRouter returns no ${request.variant}`;
        throw new ProviderError("not_found", "The video provider has no such content.", detail);
      }
      // One video per job (§4: `maxVideosPerCall = 1`), always at index 0.
      const url = jobUrl(upstreamId, "/content?index=0");
      const h = headers({ accept: "video/mp4", ...forwardedRange(request.range) });
      const response = await send(() => new Request(url, { headers: h }), true, request.signal, {
        media: true,
      });
      if (response.ok || response.status === 416) return passThroughMediaResponse(response);
      // 409 and a 400 before completion are "not ready" (§4, UNCONFIRMED), 410 "gone".
      if ([400, 409, 410].includes(response.status)) {
        await response.body?.cancel();
        const detail = `video content: HTTP ${response.status}`;
        const message =
          response.status === 410 ? "The video is no longer available." : "The video is not ready.";
        throw new ProviderError("not_found", message, detail);
      }
      throw await fail(response, "video content");
    },
  };

  const secret = ctx.webhookSecret;
  if (secret === undefined) return provider;
  return {
    ...provider,
    /** HMAC over `t,rawBody` (§6); the body is a hint: the worker re-reads the job. */
    verifyWebhook: (request) =>
      verifyOpenRouterWebhook(request, secret, options.webhook_secret_secret, ctx.now()),
  };
}
