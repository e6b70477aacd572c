/**
 * Reading fal's answers (docs/providers/fal.md §2): queue states, results, its two error bodies
 * and their types in our failure codes, and which URLs count as fal's own assets.
 */
import { z } from "zod";
import { ProviderError } from "../errors";
import { readBody } from "../kit/body";
import { isPolicyCode, upstreamFailure } from "../kit/errors";
import { sanitizeUpstreamText } from "../kit/sanitize";
import type { FailureCode, UpstreamState, VideoStatus } from "../types";
import { FAL_REQUEST_ID } from "./webhooks";

export const CANCELLED = {
  code: "cancelled" as const,
  message: "The job was cancelled at the video provider.",
};

/** A fal error, from either of its two bodies (§2; docs.fal.ai "Model Errors", "Request Error
 * Types"): model errors `{detail: [{loc, msg, type}]}`, request errors `{detail: "…",
 * error_type}` with the same type in `X-Fal-Error-Type`. */
export interface FalFailure {
  status: number;
  type: string | null;
  /** Sanitised: safe to show. */
  message: string;
  /** The body or headers were fal's own error shape (not an edge's bare 5xx). */
  typed: boolean;
  /** Only what the shared mapping reads: `retry-after(-ms)`. */
  headers?: Headers;
}

const falErrorBody = z.object({
  detail: z
    .union([
      z.string(),
      z.array(
        z
          .object({ msg: z.string().catch(""), type: z.string().catch("") })
          .catch({ msg: "", type: "" }),
      ),
    ])
    .nullish()
    .catch(null),
  error_type: z.string().nullish().catch(null),
});

export async function readFalError(
  response: Response,
  redact: readonly string[],
): Promise<FalFailure> {
  const body = falErrorBody.safeParse(
    (await readBody(response, "error").catch(() => null))?.json,
  ).data;
  const first = Array.isArray(body?.detail) ? body.detail[0] : undefined;
  const header = response.headers.get("x-fal-error-type");
  const type = header || body?.error_type || first?.type || null;
  const message = typeof body?.detail === "string" ? body.detail : (first?.msg ?? "");
  return {
    status: response.status,
    headers: response.headers,
    type: type ? sanitizeUpstreamText(type, redact).slice(0, 64) : null,
    message: sanitizeUpstreamText(message, redact),
    typed: Boolean(header || body?.error_type || body?.detail),
  };
}

/** A failed call, through the shared mapping (status → kind, Retry-After, redaction). */
export function falCallError(
  failure: FalFailure,
  what: string,
  now: number,
  redact: readonly string[],
) {
  const { status, type, message, headers = new Headers() } = failure;
  return upstreamFailure(status, headers, { message, type, code: type }, { what, now, redact });
}

const TIMEOUT_TYPES = new Set(["request_timeout", "startup_timeout", "generation_timeout"]);
/** fal's input-validation types (image_too_small, file_download_error, face_detection_error…). */
const INPUT_TYPES =
  /^(image|file|video|audio|face|unsupported|greater_than|less_than|one_of|multiple_of|sequence|feature_not_supported|invalid|archive|bad_request)/;

/** A finished job's error in our codes (§12.1), with fal's own words when it gave some. */
export function falJobFailure(failure: FalFailure): { code: FailureCode; message: string } {
  const type = failure.type ?? "";
  const said = (fallback: string) => failure.message || fallback;
  if (isPolicyCode(type)) {
    return {
      code: "policy_violation",
      message: said("The video provider refused this content on policy grounds."),
    };
  }
  if (TIMEOUT_TYPES.has(type) || failure.status === 504) {
    return { code: "timeout", message: said("The video provider took too long.") };
  }
  if (type === "client_cancelled") return CANCELLED;
  if (INPUT_TYPES.test(type) || (failure.status >= 400 && failure.status < 500)) {
    return { code: "input_rejected", message: said("The video provider rejected the input.") };
  }
  return { code: "provider_error", message: said("The video provider could not make this video.") };
}

/** Upload and media URLs fal hands out: its CDN (or its GCS bucket), https, no credentials. */
export function isFalAssetUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  if (url.protocol !== "https:" || url.username || url.password || url.port) return false;
  return (
    /(^|\.)fal\.(media|ai|run)$/.test(url.hostname) ||
    (url.hostname === "storage.googleapis.com" && url.pathname.startsWith("/falserverless/"))
  );
}

export const submitted = z.object({
  request_id: z.string().regex(FAL_REQUEST_ID),
  queue_position: z.number().int().nonnegative().nullish().catch(null),
});
export const uploadTicket = z.object({ upload_url: z.string(), file_url: z.string() });
/** fal-js `types/common.ts` L82–109; FAILED/CANCELED and `error(_type)` are read if seen (§2). */
export const queueStatus = z.object({
  status: z.string(),
  queue_position: z.number().int().nonnegative().nullish().catch(null),
  error: z.string().nullish().catch(null),
  error_type: z.string().nullish().catch(null),
});
export const videoResult = z.object({ video: z.object({ url: z.string() }) });

export const NO_VIDEO = "The video provider finished without a usable video.";

export const state = (
  status: VideoStatus,
  progress: number,
  error: UpstreamState["error"] = null,
  expiresAt: number | null = null,
): UpstreamState => ({ status, progress, error, expiresAt });
export const failed = (code: FailureCode, message: string) => state("failed", 0, { code, message });

/** Queue position → 0–5 (§12.1): the front of the queue reads 5, unknown reads 0. */
export const queuedProgress = (position: number | null) =>
  position === null ? 0 : Math.max(0, 5 - position);

export const noVideo = (detail: string) =>
  new ProviderError("not_found", "The video provider has no such video.", detail);
