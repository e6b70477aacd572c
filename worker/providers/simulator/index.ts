/**
 * The built-in simulator: an embedded provider so `npm start` works with no key and no network.
 *
 * It is stateless and deterministic: everything a job needs (start time, duration, size, seconds,
 * forced outcome) is encoded in its upstream id, which never leaves the worker. The timeline is
 * queued for the first 15 % of the duration, then in_progress with linear progress, then
 * completed — unless a prompt marker forces one of the failure kinds, so the widget and the tests
 * can show every error state. Media are real files made by scripts/make-simulator-media.sh.
 * Extensions and edits work on any source of a size it has media for, uploaded or its own.
 */
import { z } from "zod";
import { rangeResponse } from "../../media/range";
import { ProviderError } from "../errors";
import type {
  CreateInput,
  CreatedUpstreamJob,
  Provider,
  ProviderContext,
  UpstreamState,
} from "../types";
import { SIMULATOR_SECONDS, SIMULATOR_SIZES, simulatorMedia } from "./media";
import { markerIn, type Outcome } from "./markers";

export const simulatorProviderOptions = z
  .object({
    type: z.literal("simulator"),
    /** Wall-clock time from create to completed. */
    duration_ms: z.number().int().min(500).max(600_000).default(12_000),
  })
  .strict();
export type SimulatorOptions = z.infer<typeof simulatorProviderOptions>;

const QUEUED_SHARE = 0.15;

interface SimJob {
  createdMs: number;
  durationMs: number;
  size: string;
  seconds: string;
  outcome: Outcome;
}

export function createSimulatorProvider(options: SimulatorOptions, ctx: ProviderContext): Provider {
  const start = (prompt: string, size: string, seconds: string): CreatedUpstreamJob => {
    const outcome = markerIn(prompt);
    if (outcome.at === "create") throw outcome.error();
    if (!simulatorMedia(size, seconds, "video")) {
      throw new ProviderError(
        "input_rejected",
        `The simulator has no ${seconds}-second clip at ${size}: it makes ${SIMULATOR_SECONDS.join(", ")}-second clips at ${SIMULATOR_SIZES.join(" or ")}.`,
      );
    }
    const job: SimJob = {
      createdMs: ctx.now(),
      durationMs: options.duration_ms,
      size,
      seconds,
      outcome,
    };
    return { upstreamId: encode(job), ...stateAt(job, job.createdMs) };
  };

  return {
    kind: "simulator",
    async create(input: CreateInput) {
      return start(input.prompt, input.size, input.seconds);
    },
    async retrieve(upstreamId) {
      return stateAt(decode(upstreamId), ctx.now());
    },
    async remix(upstreamId, input) {
      const source = decode(upstreamId);
      if (stateAt(source, ctx.now()).status !== "completed") {
        throw new ProviderError("input_rejected", "Only a completed video can be remixed.");
      }
      return start(input.prompt, source.size, source.seconds);
    },
    // An extension is the source followed by a new segment, so the result is the stitched total
    // (and its media the clip of that length); an edit keeps the source's size and length.
    async extend(input) {
      return start(input.prompt, input.source.size, input.totalSeconds);
    },
    async edit(input) {
      return start(input.prompt, input.source.size, input.seconds);
    },
    async content(upstreamId, request) {
      const job = decode(upstreamId);
      const asset = simulatorMedia(job.size, job.seconds, request.variant);
      if (!asset || stateAt(job, ctx.now()).status !== "completed") {
        throw new ProviderError("not_found", `This video has no ${request.variant} to download.`);
      }
      const etag = `"sim-${job.size}-${job.seconds}-${request.variant}"`;
      return rangeResponse(asset.bytes, asset.contentType, request.range, etag);
    },
  };
}

/** Where the job stands at `nowMs`: a pure function of the encoded job and the clock. */
function stateAt(job: SimJob, nowMs: number): UpstreamState {
  const share = Math.min(1, Math.max(0, (nowMs - job.createdMs) / job.durationMs));
  const failure = job.outcome.at === "run" ? job.outcome : null;
  if (failure && share >= failure.share) {
    return {
      status: "failed",
      progress: Math.floor(failure.share * 100),
      error: failure.error,
      expiresAt: null,
    };
  }
  if (share >= 1) return { status: "completed", progress: 100, error: null, expiresAt: null };
  if (share < QUEUED_SHARE) return { status: "queued", progress: 0, error: null, expiresAt: null };
  const progress = Math.min(99, Math.floor(((share - QUEUED_SHARE) / (1 - QUEUED_SHARE)) * 100));
  return { status: "in_progress", progress, error: null, expiresAt: null };
}

// Upstream ids look like `sim.<created>.<duration>.<size>.<seconds>.<marker>`; only we read them.
function encode(job: SimJob): string {
  return ["sim", job.createdMs, job.durationMs, job.size, job.seconds, job.outcome.marker].join(
    ".",
  );
}

function decode(upstreamId: string): SimJob {
  const [tag, created, duration, size, seconds, marker] = upstreamId.split(".");
  const createdMs = Number(created);
  const durationMs = Number(duration);
  if (
    tag !== "sim" ||
    !Number.isFinite(createdMs) ||
    !Number.isFinite(durationMs) ||
    !size ||
    !seconds
  ) {
    throw new ProviderError("not_found", "The simulator does not know this video.");
  }
  return { createdMs, durationMs, size, seconds, outcome: markerIn(`[sim:${marker ?? "ok"}]`) };
}
