/**
 * `POST /v1/videos/extensions` and `POST /v1/videos/edits`: new jobs made from a finished video —
 * one of the caller's (by id) or an uploaded MP4. They are owned, priced, reserved, idempotent and
 * listed exactly like creates (worker/routes/start-job.ts): an extension is priced by the seconds
 * it adds and reports the stitched total as its `seconds`; an edit is priced by its length.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { checkPrompt } from "../api/checks";
import {
  checkEdit,
  checkExtension,
  checkSourceReach,
  checkSourceSize,
  checkUploadedVideo,
  deriveRoute,
  type Operation,
} from "../api/derive-checks";
import {
  EditVideoJson,
  EditVideoMultipart,
  ExtendVideoJson,
  ExtendVideoMultipart,
  IdempotencyHeader,
  VideoSchema,
} from "../api/schemas";
import { readSourceRequest, type SourceRef } from "../api/source-input";
import { toVideo } from "../api/video";
import type { Route } from "../config";
import type { AppEnv } from "../context";
import { ApiError, invalidRequest } from "../errors";
import { newVideoId } from "../ids";
import { perSecondUsd } from "../ledger/budget";
import { idempotencyKeyOf, startSpend } from "../ledger/spend";
import { readCapped } from "../media/read-capped";
import { requireAuth } from "../middleware/auth";
import { limitBody } from "../middleware/limits";
import { noStore } from "../middleware/no-store";
import { createBrakes } from "../middleware/rate-limit";
import { ProviderError } from "../providers/errors";
import { extensionBillingOf } from "../providers/registry";
import type { SourceVideo } from "../providers/types";
import { resultKey } from "../results/keys";
import type { JobRecord } from "../store/jobs";
import { errorResponses, jsonContent } from "./openapi-helpers";
import { loadOwned, providerFor, refreshed, routeOf, view, webhookUrl } from "./shared";
import { startJob } from "./start-job";

type C = Context<AppEnv>;

const PATHS = { extension: "/v1/videos/extensions", edit: "/v1/videos/edits" } as const;

export function registerDeriveRoutes(app: OpenAPIHono<AppEnv>): void {
  for (const operation of ["extension", "edit"] as const) {
    const path = PATHS[operation];
    app.use(path, requireAuth(), noStore);
    app.openAPIRegistry.registerPath({
      method: "post",
      path,
      summary:
        operation === "extension"
          ? "Extend a finished video by `seconds` (a new job; its `seconds` is the stitched total)"
          : "Edit a finished video per a prompt (a new job of the same size and length)",
      security: [{ bearer: [] }],
      request: {
        headers: IdempotencyHeader,
        body: {
          required: true,
          content: {
            "multipart/form-data": {
              schema: operation === "extension" ? ExtendVideoMultipart : EditVideoMultipart,
            },
            "application/json": {
              schema: operation === "extension" ? ExtendVideoJson : EditVideoJson,
            },
          },
        },
      },
      responses: {
        200: jsonContent(
          VideoSchema,
          "The new job (or, for a repeated Idempotency-Key, the first)",
        ),
        ...errorResponses(400, 401, 404, 409, 413, 429, 502, 503, 504),
      },
    });
    // Braked after auth and before the body (up to MAX_VIDEO_UPLOAD_BYTES) is read; a JSON
    // body names its source by id, so it is held to remix's small limit.
    const limit = limitBody({ video: true, jsonBytes: 64 * 1024 });
    app.post(path, createBrakes(), limit, (c) => derive(c, operation));
  }
}

async function derive(c: C, operation: Operation): Promise<Response> {
  const idempotencyKey = idempotencyKeyOf(c);
  const { fields, source: ref } = await readSourceRequest(c, operation);
  const source = await resolveSource(c, ref, operation);
  const route = deriveRoute(c.var.config, operation, fields.model, source.route);
  checkSourceReach(route, operation, source.route);
  checkSourceSize(route, source.video.size);
  const prompt = checkPrompt(route, fields.prompt);
  const provider = providerFor(c, route);
  const sourceVideo: SourceVideo = {
    ...source.video,
    // Only the route that made it knows the provider's id; another route gets the bytes.
    upstreamId: source.route === route.id ? source.video.upstreamId : null,
  };
  const extension =
    operation === "extension"
      ? checkExtension(route, fields.seconds!, source.video.durationSeconds)
      : null;
  const seconds = extension
    ? extension.totalSeconds
    : checkEdit(route, sourceVideo.durationSeconds);
  const call = operation === "extension" ? provider.extend : provider.edit;
  if (!call) throw new ApiError(500, `The provider of ${route.id} cannot ${operation}.`);

  const id = newVideoId();
  const spend = await startSpend(c, {
    videoId: id,
    route,
    idempotencyKey,
    perSecondUsd: perSecondUsd(route, operation),
    fingerprint: {
      endpoint: `${operation}:${source.videoId ?? "upload"}`,
      model: route.id,
      prompt,
      size: sourceVideo.size,
      // Priced by what is generated and billed: the added segment (or, for a model asked for
      // the stitched total, all of it), or the edited length.
      seconds: !extension
        ? seconds
        : extensionBillingOf(route.provider) === "total"
          ? extension.totalSeconds
          : extension.seconds,
      image: source.upload,
    },
  });
  if ("replay" in spend) return c.json(await toVideo(spend.replay, view(c)), 200);
  const hook = provider.verifyWebhook ? webhookUrl(c, route) : undefined;
  const record = await startJob(
    c,
    {
      id,
      route,
      prompt,
      size: sourceVideo.size,
      seconds,
      remixOf: null,
      source: { type: operation, video_id: source.videoId },
    },
    {
      reservation: spend.reservation,
      provider,
      call: () =>
        extension
          ? provider.extend!({
              jobId: id,
              model: route.upstream_model,
              prompt,
              seconds: extension.seconds,
              totalSeconds: extension.totalSeconds,
              source: sourceVideo,
              webhookUrl: hook,
            })
          : provider.edit!({
              jobId: id,
              model: route.upstream_model,
              prompt,
              seconds,
              source: sourceVideo,
              webhookUrl: hook,
            }),
      param: "video",
      policyParam: "prompt",
    },
  );
  return c.json(await toVideo(record, view(c)), 200);
}

interface ResolvedSource {
  /** The source job's route, or null for an upload. */
  route: string | null;
  /** Our id of the source video, or null for an upload. */
  videoId: string | null;
  /** An upload's bytes, which also key its idempotency fingerprint. */
  upload?: Uint8Array;
  video: SourceVideo;
}

async function resolveSource(c: C, ref: SourceRef, operation: Operation): Promise<ResolvedSource> {
  if (ref.kind === "upload") {
    const info = checkUploadedVideo(ref.bytes);
    return {
      route: null,
      videoId: null,
      upload: ref.bytes,
      video: {
        upstreamId: null,
        size: `${info.width}x${info.height}`,
        durationSeconds: info.durationSeconds,
        bytes: async () => ref.bytes,
      },
    };
  }
  // Someone else's video, a deleted one and a missing one read alike (404).
  const record = await refreshed(c, await loadOwned(c, ref.id, "video"));
  if (record.status !== "completed") {
    throw invalidRequest(
      `Only a completed video can be ${operation === "extension" ? "extended" : "edited"}; ${record.status === "failed" ? "this one failed" : "wait until it has finished"}.`,
      "video",
      "video_not_ready",
    );
  }
  // Where its bytes would come from is settled now, before any money is reserved: a source
  // whose route was removed and that has no copy of ours is refused here, not after.
  const origin = record.result?.variants.video ? null : routeOf(c, record, "video");
  return {
    route: record.route,
    videoId: record.id,
    video: {
      upstreamId: record.upstream_id,
      size: record.size,
      durationSeconds: Number(record.seconds),
      bytes: () => beforeUpstream(sourceBytes(c, record, origin)),
    },
  };
}

/**
 * The source's MP4, for providers that are sent it: our R2 copy when it exists, else the
 * provider's, read whole under the upload limit (a provider takes it as one body).
 */
async function sourceBytes(c: C, record: JobRecord, origin: Route | null): Promise<Uint8Array> {
  const max = c.var.config.limits.maxVideoUploadBytes;
  const tooLarge = () =>
    new ProviderError(
      "input_rejected",
      `The source video is larger than ${Math.round(max / 1024 / 1024)} MB, the most sent to a provider.`,
    );
  if (record.result?.variants.video) {
    const object = await c.env.RESULTS.get(resultKey(record.id, "video"));
    if (object) return readCapped(new Response(object.body), max, tooLarge);
  }
  const response = await providerFor(c, origin ?? routeOf(c, record, "video")).content(
    record.upstream_id,
    {
      variant: "video",
      range: null,
    },
  );
  return readCapped(response, max, tooLarge);
}

/**
 * Reading the source happens before the target provider is asked for anything, so whatever
 * goes wrong there — R2, the source's own provider timing out — is a definite "nothing started"
 * for this job: the reservation is refunded, never held as if the upstream might be working.
 */
async function beforeUpstream(read: Promise<Uint8Array>): Promise<Uint8Array> {
  try {
    return await read;
  } catch (error) {
    if (error instanceof ProviderError && error.kind === "input_rejected") throw error;
    if (error instanceof ProviderError && error.kind === "not_found") {
      const message = "The source video's media is no longer available to send to a provider.";
      throw new ProviderError("input_rejected", message, error.detail);
    }
    const detail = `reading the source failed: ${error instanceof Error ? error.message : "unknown"}`;
    throw new ProviderError(
      "unavailable",
      "The source video could not be read just now; try again.",
      detail,
    );
  }
}
