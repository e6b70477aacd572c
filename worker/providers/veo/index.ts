/**
 * The `veo` adapter: Google Veo 3.x through the Gemini API. Facts:
 * docs/providers/veo.md §1 (and §11, §12.1). Helpers: `veo-request.ts` builds the
 * create body, `veo-upstream.ts` reads operations and errors, `veo-webhooks.ts` verifies
 * static webhooks.
 *
 * The key travels only in the `x-goog-api-key` header, and only to generativelanguage.googleapis.com
 * (never as `?key=`, which the AI SDK appends, §1 "Result"). URLs are built from one fixed base
 * and checked operation names; the video file is fetched server-side and streamed through.
 */
import { z } from "zod";
import { passThroughMediaResponse } from "../media/pass-through";
import { log } from "../log";
import { ProviderError } from "./errors";
import { sender } from "./kit/send";
import type { Provider, ProviderContext } from "./types";
import { sanitizeUpstreamText } from "./upstream-errors";
import { OPERATION_NAME, mapOperation, veoErrorFromResponse, veoOperation } from "./veo-upstream";
import { requestBody } from "./veo-request";
import { verifyVeoWebhook } from "./veo-webhooks";

const API_HOST = "generativelanguage.googleapis.com";
const BASE_URL = `https://${API_HOST}/v1beta`;

const secretName = z.string().regex(/^[A-Z][A-Z0-9_]*$/);

/** The `provider` block of a MODEL_ROUTES route served by Veo on the Gemini API. */
export const veoProviderOptions = z
  .object({
    type: z.literal("veo"),
    /** Name of the worker secret holding the Gemini API key (never the key itself). */
    api_key_secret: secretName.default("GEMINI_API_KEY"),
    /**
     * Name of the secret holding the `whsec_…` signing secret of a static project webhook
     * pointed at `/webhooks/veo`; without it the adapter only polls.
     */
    webhook_secret_secret: secretName.optional(),
    /** Sent as `personGeneration` only when set (§1: some models refuse `allow_adult`). */
    person_generation: z.enum(["allow_all", "allow_adult", "dont_allow"]).optional(),
    /** Sent as `negativePrompt` on every job of the route. */
    negative_prompt: z.string().trim().min(1).max(1_000).optional(),
    /** For the progress estimate: Veo reports none; latency is 11 s to 6 min (§1 "Result"). */
    typical_seconds: z.number().int().min(10).max(900).default(90),
    /** Per attempt, until the response headers arrive. */
    timeout_ms: z.number().int().min(1_000).max(300_000).default(30_000),
    /** Retries of idempotent calls only (poll, download); create is sent once. */
    max_retries: z.number().int().min(0).max(5).default(2),
  })
  .strict();
export type VeoProviderOptions = z.infer<typeof veoProviderOptions>;

/** What the adapter needs beyond the shared context. */
export type VeoProviderContext = ProviderContext & {
  apiKey: string;
  /** The `whsec_…` value named by `webhook_secret_secret`. */
  webhookSecret?: string;
  sleep?: (ms: number) => Promise<void>;
};

const HEADER_SAFE = /^[\x21-\x7e]+$/;
const BYTE_RANGE = /^bytes=\d*-\d*$/;

/** Builds the adapter for one route. Never throws here: a missing key fails each call instead. */
export function createVeoProvider(options: VeoProviderOptions, ctx: VeoProviderContext): Provider {
  const redact = [ctx.apiKey, ctx.webhookSecret ?? ""];
  const typicalMs = options.typical_seconds * 1000;

  const keyHeaders = (extra: Record<string, string>): Headers => {
    if (!HEADER_SAFE.test(ctx.apiKey)) {
      throw new ProviderError(
        "misconfigured",
        "The video provider is not configured.",
        `secret ${options.api_key_secret} is missing or not a valid header value`,
      );
    }
    return new Headers({ ...extra, "x-goog-api-key": ctx.apiKey });
  };

  const send = sender(ctx, options);

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
    const op = veoOperation.safeParse(await readJson(response, redact));
    if (!op.success) throw unreadable("not an operation");
    const mapped = mapOperation(op.data, { now: ctx.now(), startedAt, typicalMs, redact });
    if (mapped.hint) log("warn", "veo_job_failed", { provider: "veo", detail: mapped.hint });
    return mapped;
  };

  /**
   * GET the file with the key; the kit follows Google's redirect to its download host without
   * the key (kit/redirects.ts), and only to Google hosts.
   */
  const download = (uri: string, range: string | null, signal?: AbortSignal) => {
    const url = checkedUrl(uri, true);
    const h = keyHeaders(range ? { range } : {});
    return send(() => new Request(url, { headers: h }), true, signal, {
      media: true,
      allowHost: (target) => isGoogleUrl(target, false),
    });
  };

  const provider: Provider = {
    kind: "veo",

    async create(input) {
      const body = JSON.stringify(requestBody(input, options));
      const url = `${BASE_URL}/models/${input.model}:predictLongRunning`;
      const h = keyHeaders({ "content-type": "application/json", accept: "application/json" });
      // No idempotency key exists on this API: one attempt only (docs/decisions/0005).
      const response = await send(
        () => new Request(url, { method: "POST", headers: h, body }),
        false,
        input.signal,
      );
      if (!response.ok) {
        const error = await fail(response, "video");
        // On create, "not found" can only mean the route's model id.
        if (error.kind !== "not_found") throw error;
        throw new ProviderError(
          "misconfigured",
          "The video provider is not configured.",
          `${error.detail} — check upstream_model`,
        );
      }
      const created = z.object({ name: z.string() }).safeParse(await readJson(response, redact));
      if (!created.success || !OPERATION_NAME.test(created.data.name)) {
        throw unreadable("operation name failed the format check");
      }
      return {
        upstreamId: created.data.name,
        status: "queued",
        progress: 0,
        error: null,
        expiresAt: null,
      };
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
      const range = request.range?.trim() ?? "";
      const response = await download(
        videoUri,
        BYTE_RANGE.test(range) ? range : null,
        request.signal,
      );
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

function unreadable(detail: string): ProviderError {
  return new ProviderError(
    "bad_response",
    "The video provider answered something unreadable.",
    detail,
  );
}

/** A body cut off after a 200: the call may have taken effect, so the outcome is unknown. */
async function readJson(response: Response, redact: readonly string[]): Promise<unknown> {
  let text: string;
  try {
    text = await response.text();
  } catch (error) {
    const detail = sanitizeUpstreamText(
      error instanceof Error ? error.message : String(error),
      redact,
    );
    throw new ProviderError(
      "timeout",
      "The video provider did not answer in time.",
      `body read failed: ${detail}`,
    );
  }
  try {
    return JSON.parse(text);
  } catch {
    throw unreadable(`not JSON: ${sanitizeUpstreamText(text.slice(0, 200), redact)}`);
  }
}
