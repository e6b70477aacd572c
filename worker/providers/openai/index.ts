/**
 * The `openai` adapter: any host that speaks OpenAI's `/v1/videos` (OpenAI itself until its
 * shutdown, Azure's v1 path, LiteLLM, relays). Facts: docs/providers/openai.md.
 *
 * The key lives only in the one auth header built here; URLs are built only from the configured
 * base URL and checked ids; upstream JSON is parsed leniently because hosts omit and add fields.
 */
import { z } from "zod";
import { ProviderError } from "./errors";
import { passThroughMediaResponse } from "../media/pass-through";
import { sender } from "./kit/send";
import { isPolicyCode, providerErrorFromResponse, sanitizeUpstreamText } from "./upstream-errors";
import {
  VARIANTS,
  VIDEO_STATUSES,
  type CreatedUpstreamJob,
  type FailureCode,
  type ImageMime,
  type Provider,
  type ProviderContext,
  type UpstreamState,
  type VideoStatus,
} from "./types";

const LOCAL_HOSTS = new Set(["localhost", "127.0.0.1", "[::1]"]);

/** A base URL we may send the key to: https (http only for a relay on this machine), no userinfo. */
const baseUrl = z
  .string()
  .refine((value) => {
    if (!URL.canParse(value)) return false;
    const url = new URL(value);
    const local = url.protocol === "http:" && LOCAL_HOSTS.has(url.hostname);
    return (
      (url.protocol === "https:" || local) &&
      !url.username &&
      !url.password &&
      !url.search &&
      !url.hash
    );
  }, "must be an https:// URL (http:// only for localhost) without credentials, query or fragment")
  // Paths are appended as `${base}/videos`, so one canonical form without trailing slashes.
  .transform((value) => value.replace(/\/+$/, ""));

/** The `provider` block of a route in MODEL_ROUTES for an OpenAI-compatible host. */
export const openAIProviderOptions = z
  .object({
    type: z.literal("openai"),
    /** Up to and including `/v1`, e.g. `https://api.openai.com/v1`. */
    base_url: baseUrl,
    /** `bearer`: `Authorization: Bearer <key>`; `api-key`: Azure's `api-key: <key>` header. */
    auth: z.enum(["bearer", "api-key"]).default("bearer"),
    /** Name of the worker secret holding the key (never the key itself). */
    api_key_secret: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/)
      .default("OPENAI_API_KEY"),
    /** Per attempt, until the response headers arrive. */
    timeout_ms: z.number().int().min(1_000).max(300_000).default(30_000),
    /** Retries of idempotent calls only (retrieve, content, delete). */
    max_retries: z.number().int().min(0).max(5).default(2),
  })
  .strict();
export type OpenAIProviderOptions = z.infer<typeof openAIProviderOptions>;

/** What the adapter needs beyond the shared context: its key and, for tests, a clock-free sleep. */
export type OpenAIProviderContext = ProviderContext & {
  apiKey: string;
  sleep?: (ms: number) => Promise<void>;
};

/** Upstream ids go into URL paths, so they must be plain tokens (OpenAI's look like `video_…`). */
const UPSTREAM_ID = /^[A-Za-z0-9_-]{1,128}$/;
/** Visible ASCII only: anything else would make `Headers` throw, possibly quoting the value. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;
/** A single byte range, the only form worth forwarding; others are ignored (RFC 9110 §14.2). */
const BYTE_RANGE = /^bytes=\d*-\d*$/;
const IMAGE_EXTENSIONS: Record<ImageMime, string> = {
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/webp": "webp",
};

/** Builds the adapter for one route. Never throws here: a missing key fails each call instead. */
export function createOpenAIProvider(
  options: OpenAIProviderOptions,
  ctx: OpenAIProviderContext,
): Provider {
  const redact = [ctx.apiKey];

  const headers = (extra: Record<string, string>): Headers => {
    if (!HEADER_SAFE.test(ctx.apiKey)) {
      throw new ProviderError(
        "misconfigured",
        "The video provider is not configured.",
        `secret ${options.api_key_secret} is missing or not a valid header value`,
      );
    }
    const auth: Record<string, string> =
      options.auth === "api-key"
        ? { "api-key": ctx.apiKey }
        : { authorization: `Bearer ${ctx.apiKey}` };
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

  const send = sender(ctx, options);

  const fail = (response: Response, what: string) =>
    providerErrorFromResponse(response, { what, now: ctx.now(), redact });

  /** A Video answer: an error for a non-2xx, else the parsed and mapped state. */
  const readVideo = async (response: Response): Promise<CreatedUpstreamJob> => {
    if (!response.ok) throw await fail(response, "video");
    const video = parseVideo(await readText(response), redact);
    return { upstreamId: video.id, ...toState(video, redact) };
  };

  return {
    kind: "openai",

    async create(input) {
      const h = headers({ "idempotency-key": input.jobId });
      // Multipart, as the SDKs send it; `seconds` is a string ("4"), which the API insists on.
      const body = new FormData();
      body.set("prompt", input.prompt);
      body.set("model", input.model);
      body.set("seconds", input.seconds);
      body.set("size", input.size);
      if (input.image) {
        const { bytes, mime } = input.image;
        body.set(
          "input_reference",
          new File([bytes], `input.${IMAGE_EXTENSIONS[mime]}`, { type: mime }),
        );
      }
      const url = `${options.base_url}/videos`;
      const response = await send(
        () => new Request(url, { method: "POST", headers: h, body }),
        false,
        input.signal,
      );
      return checkedId(await readVideo(response));
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
      const body = JSON.stringify({ prompt: input.prompt });
      const response = await send(
        () => new Request(url, { method: "POST", headers: h, body }),
        false,
        input.signal,
      );
      return checkedId(await readVideo(response));
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
      const extra: Record<string, string> = { accept: "application/binary" };
      if (request.range && BYTE_RANGE.test(request.range.trim()))
        extra.range = request.range.trim();
      const h = headers(extra);
      // Relays may redirect to a storage host: followed without the key (kit/redirects.ts).
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

function checkedId(job: CreatedUpstreamJob): CreatedUpstreamJob {
  if (!UPSTREAM_ID.test(job.upstreamId)) {
    throw new ProviderError(
      "bad_response",
      "The video provider answered something unreadable.",
      "video id failed the format check",
    );
  }
  return job;
}

/** The fields of a Video we use; everything else is ignored, and odd values fall back. */
const upstreamVideo = z.object({
  id: z.string().min(1),
  status: z.string(),
  progress: z.coerce.number().catch(0),
  expires_at: z.number().int().positive().nullable().catch(null),
  error: z
    .object({ code: z.string().nullable().catch(null), message: z.string().nullable().catch(null) })
    .nullable()
    .catch(null),
});
type UpstreamVideo = z.infer<typeof upstreamVideo>;

/** A body cut off after a 200: the call may have taken effect, so the outcome is unknown. */
async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    const detail = sanitizeUpstreamText(error instanceof Error ? error.message : String(error));
    throw new ProviderError(
      "timeout",
      "The video provider did not answer in time.",
      `body read failed: ${detail}`,
    );
  }
}

function parseVideo(text: string, redact: readonly string[]): UpstreamVideo {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = upstreamVideo.safeParse(json);
  if (!parsed.success) {
    const sample = sanitizeUpstreamText(text.slice(0, 200), redact);
    throw new ProviderError(
      "bad_response",
      "The video provider answered something unreadable.",
      `not a Video: ${sample}`,
    );
  }
  return parsed.data;
}

/** Terminal words some hosts may use; without them such a job would poll forever. */
const TERMINAL = new Map<string, FailureCode>([
  ["cancelled", "cancelled"],
  ["canceled", "cancelled"],
  ["expired", "expired"],
]);

function toState(video: UpstreamVideo, redact: readonly string[]): UpstreamState {
  const expiresAt = video.expires_at;
  const terminal = TERMINAL.get(video.status);
  // Unknown words are treated as still running: polling stays safe, and the job times out.
  const status: VideoStatus = terminal
    ? "failed"
    : (VIDEO_STATUSES.find((s) => s === video.status) ?? "in_progress");
  if (status === "completed") return { status, progress: 100, error: null, expiresAt };
  const raw = Number.isFinite(video.progress) ? video.progress : 0;
  const progress = Math.min(99, Math.max(0, Math.floor(raw)));
  if (status !== "failed") return { status, progress, error: null, expiresAt };
  const error = terminal
    ? { code: terminal, message: `The video provider reports the job as ${video.status}.` }
    : mapFailure(video.error, redact);
  return { status, progress, error, expiresAt };
}

/** OpenAI lists no video error codes (facts file), so codes are classified by their words. */
function mapFailure(
  error: UpstreamVideo["error"],
  redact: readonly string[],
): UpstreamState["error"] {
  const code = error?.code ?? "";
  const message = sanitizeUpstreamText(error?.message ?? "", redact);
  if (isPolicyCode(code)) {
    return {
      code: "policy_violation",
      message: message || "The video was refused on content policy grounds.",
    };
  }
  if (/input|image|inpaint|invalid|param|size|dimension/i.test(code)) {
    return { code: "input_rejected", message: message || "The video provider rejected the input." };
  }
  if (/timeout|timed_out/i.test(code)) {
    return { code: "timeout", message: message || "The video provider took too long." };
  }
  return {
    code: "provider_error",
    message: message || "The video provider could not make this video.",
  };
}
