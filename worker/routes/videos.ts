/**
 * `/v1/videos`: create, list, retrieve, delete and remix — thin handlers over the job store and
 * the provider seam. Nothing is stored or spent until every check has passed, and a job is
 * stored as soon as the provider has accepted it (retrying the write), so no paid job is lost.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import {
  checkAudio,
  checkImageSize,
  checkOptions,
  checkPrompt,
  impliedSize,
  readImage,
  resolveRoute,
} from "../api/checks";
import { readCreateInput } from "../api/create-input";
import {
  CreateVideoJson,
  CreateVideoMultipart,
  DeletedVideoSchema,
  ListQuery,
  RemixBody,
  VideoIdParam,
  VideoListSchema,
  VideoSchema,
} from "../api/schemas";
import { toVideo } from "../api/video";
import type { Route } from "../config";
import type { AppEnv } from "../context";
import { ApiError, fromProviderError, invalidRequest } from "../errors";
import { newVideoId } from "../ids";
import { log } from "../log";
import { ProviderError } from "../providers/errors";
import type { CreatedUpstreamJob } from "../providers/types";
import type { JobRecord } from "../store/jobs";
import { isTerminal } from "../store/refresh";
import { errorResponses, jsonContent } from "./openapi-helpers";
import {
  checkVideoId,
  jobStore,
  loadOwned,
  providerFor,
  refreshed,
  routeOf,
  view,
  webhookUrl,
} from "./shared";
import { limitBody } from "../middleware/limits";
import { requireAuth } from "../middleware/auth";

type C = Context<AppEnv>;

export function registerVideoRoutes(app: OpenAPIHono<AppEnv>): void {
  app.use("/v1/videos", requireAuth());
  app.use("/v1/videos/:video_id", requireAuth());
  app.use("/v1/videos/:video_id/remix", requireAuth());

  // Create parses its own body (multipart or JSON, image bytes sniffed), so it is documented
  // here and validated in the handler with the same schemas.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/v1/videos",
    summary: "Create a video from an image and a prompt",
    security: [{ bearer: [] }],
    request: {
      body: {
        required: true,
        content: {
          "multipart/form-data": { schema: CreateVideoMultipart },
          "application/json": { schema: CreateVideoJson },
        },
      },
    },
    responses: {
      200: jsonContent(VideoSchema, "The new job"),
      ...errorResponses(400, 401, 413, 429, 502, 503, 504),
    },
  });
  app.post("/v1/videos", limitBody(), createVideo);

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/videos",
      summary: "List your videos",
      security: [{ bearer: [] }],
      request: { query: ListQuery },
      responses: {
        200: jsonContent(VideoListSchema, "A page of your videos"),
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      if (query.after !== undefined) checkVideoId(query.after);
      const page = await jobStore(c).list(c.var.principal.owner, query);
      const data = await Promise.all(page.records.map((r) => toVideo(r, view(c))));
      return c.json(
        {
          object: "list" as const,
          data,
          first_id: data[0]?.id ?? null,
          last_id: data.at(-1)?.id ?? null,
          has_more: page.hasMore,
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/videos/{video_id}",
      summary: "Retrieve a video (refreshes its status from the provider)",
      security: [{ bearer: [] }],
      request: { params: VideoIdParam },
      responses: { 200: jsonContent(VideoSchema, "The video"), ...errorResponses(400, 401, 404) },
    }),
    async (c) => {
      const record = await refreshed(c, await loadOwned(c, c.req.valid("param").video_id));
      return c.json(await toVideo(record, view(c)), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/videos/{video_id}",
      summary: "Delete a video",
      security: [{ bearer: [] }],
      request: { params: VideoIdParam },
      responses: {
        200: jsonContent(DeletedVideoSchema, "Deleted"),
        ...errorResponses(400, 401, 404),
      },
    }),
    async (c) => {
      const record = await loadOwned(c, c.req.valid("param").video_id);
      const route = c.var.config.routes.find((r) => r.id === record.route);
      const provider = route ? providerFor(c, route) : undefined;
      if (provider?.delete) {
        // Best effort: our record goes regardless; the provider's copy expires on its own.
        await provider
          .delete(record.upstream_id)
          .catch((error: unknown) =>
            log("warn", "upstream_delete_failed", { video_id: record.id, error: String(error) }),
          );
      }
      await jobStore(c).delete(record);
      c.var.deps.refresher.forget(record.id);
      return c.json(
        { id: record.id, object: "video.deleted" as const, deleted: true as const },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/videos/{video_id}/remix",
      summary: "Remix a completed video with a new prompt (a new job)",
      security: [{ bearer: [] }],
      middleware: [limitBody(64 * 1024)] as const,
      request: {
        params: VideoIdParam,
        body: { required: true, content: { "application/json": { schema: RemixBody } } },
      },
      responses: {
        200: jsonContent(VideoSchema, "The new job"),
        ...errorResponses(400, 401, 404, 429, 502, 503, 504),
      },
    }),
    async (c) => {
      const source = await refreshed(c, await loadOwned(c, c.req.valid("param").video_id));
      const route = routeOf(c, source);
      const provider = providerFor(c, route);
      if (!route.remix || !provider.remix) {
        throw invalidRequest(
          `${route.id} cannot remix videos.`,
          "video_id",
          "unsupported_for_model",
        );
      }
      if (source.status !== "completed") {
        throw invalidRequest(
          "Only a completed video can be remixed; wait until it has finished.",
          "video_id",
          "video_not_ready",
        );
      }
      const prompt = checkPrompt(route, c.req.valid("json").prompt);
      const id = newVideoId();
      const created = await callProvider(
        () => provider.remix!(source.upstream_id, { jobId: id, prompt }),
        "prompt",
      );
      const record = newRecord(
        c,
        { id, route, prompt, size: source.size, seconds: source.seconds, remixOf: source.id },
        created,
      );
      const kind = provider.verifyWebhook ? provider.kind : undefined;
      return c.json(await toVideo(await persist(c, record, kind), view(c)), 200);
    },
  );
}

async function createVideo(c: C): Promise<Response> {
  const { fields, image } = await readCreateInput(c);
  const route = resolveRoute(c.var.config, fields.model);
  const input = readImage(route, image);
  const { size, seconds } = checkOptions(
    route,
    fields.size ?? impliedSize(route, input),
    fields.seconds,
  );
  checkImageSize(input, size);
  const prompt = checkPrompt(route, fields.prompt);
  const audio = checkAudio(route, fields.audio);
  const provider = providerFor(c, route);
  const id = newVideoId();
  const created = await callProvider(
    () =>
      provider.create({
        jobId: id,
        model: route.upstream_model,
        prompt,
        seconds,
        size,
        image: input,
        audio,
        webhookUrl: provider.verifyWebhook ? webhookUrl(c, route) : undefined,
      }),
    "input_reference",
  );
  const record = newRecord(c, { id, route, prompt, size, seconds, remixOf: null }, created);
  log("info", "job_created", {
    video_id: id,
    route: route.id,
    owner: c.var.principal.owner,
    seconds,
    size,
  });
  const kind = provider.verifyWebhook ? provider.kind : undefined;
  return c.json(await toVideo(await persist(c, record, kind), view(c)), 200);
}

/** Runs a provider call that starts a job; its refusals become envelopes naming `param`. */
async function callProvider(call: () => Promise<CreatedUpstreamJob>, param: string) {
  try {
    return await call();
  } catch (error) {
    if (!(error instanceof ProviderError)) throw error;
    log("warn", "provider_refused", { kind: error.kind, detail: error.detail });
    throw fromProviderError(
      error,
      error.kind === "input_rejected" || error.kind === "policy_violation" ? param : null,
    );
  }
}

interface NewJob {
  id: string;
  route: Route;
  prompt: string;
  size: string;
  seconds: string;
  remixOf: string | null;
}

function newRecord(c: C, job: NewJob, created: CreatedUpstreamJob): JobRecord {
  const nowMs = c.var.deps.now();
  const nowSeconds = Math.floor(nowMs / 1000);
  return {
    v: 1,
    id: job.id,
    owner: c.var.principal.owner,
    route: job.route.id,
    upstream_id: created.upstreamId,
    status: created.status,
    progress: created.status === "completed" ? 100 : Math.min(99, created.progress),
    error: created.error,
    prompt: job.prompt,
    size: job.size,
    seconds: job.seconds,
    remixed_from_video_id: job.remixOf,
    created_at: nowSeconds,
    completed_at: isTerminal(created) ? nowSeconds : null,
    upstream_expires_at: created.expiresAt,
    record_expires_at: nowSeconds + c.var.config.limits.jobTtlSeconds,
    checked_at: nowMs,
  };
}

/**
 * Stores a job the provider has accepted. The provider may already be spending money, so a
 * failed KV write is retried before giving up — and then logged with everything needed to
 * reconcile by hand (never the key).
 */
async function persist(c: C, record: JobRecord, upstreamKind?: string): Promise<JobRecord> {
  const store = jobStore(c);
  for (let attempt = 1; ; attempt++) {
    try {
      await store.put(record, { upstreamKind });
      return record;
    } catch (error) {
      if (attempt >= 3) {
        log("error", "job_not_stored", {
          video_id: record.id,
          route: record.route,
          owner: record.owner,
          upstream_id: record.upstream_id,
          error: String(error),
        });
        throw new ApiError(
          503,
          "The video was started but could not be recorded. Try again in a moment.",
          { code: "storage_unavailable" },
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}
