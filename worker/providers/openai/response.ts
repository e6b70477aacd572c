/**
 * Reading OpenAI's Video objects (docs/providers/openai.md): the fields we use, mapped onto our
 * job state; odd values fall back rather than fail, because relays vary the shape.
 */
import { z } from "zod";
import { ProviderError } from "../errors";
import { isPolicyCode } from "../kit/errors";
import { sanitizeUpstreamText } from "../kit/sanitize";
import {
  VIDEO_STATUSES,
  type CreatedUpstreamJob,
  type FailureCode,
  type UpstreamState,
  type VideoStatus,
} from "../types";

/** Upstream ids go into URL paths, so they must be plain tokens (OpenAI's look like `video_…`). */
export const UPSTREAM_ID = /^[A-Za-z0-9_-]{1,128}$/;

export function checkedId(job: CreatedUpstreamJob): CreatedUpstreamJob {
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

export function parseVideo(text: string, redact: readonly string[]): UpstreamVideo {
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

export function toState(video: UpstreamVideo, redact: readonly string[]): UpstreamState {
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
