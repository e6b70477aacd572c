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
  IdempotencyHeader,
  ListQuery,
  RemixBody,
  VideoIdParam,
  VideoListSchema,
  VideoSchema,
} from "../api/schemas";
import { toVideo } from "../api/video";
import { watcherFor } from "../background/watcher";
import type { AppEnv } from "../context";
import { invalidRequest } from "../errors";
import { newVideoId } from "../ids";
import { idempotencyKeyOf, startSpend } from "../ledger/spend";
import { log } from "../log";
import { deleteResults } from "../results/keys";
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
import { startJob } from "./start-job";
import { limitBody } from "../middleware/limits";
import { requireAuth } from "../middleware/auth";
import { createBrakes } from "../middleware/rate-limit";
import { noStore } from "../middleware/no-store";

type C = Context<AppEnv>;

export function registerVideoRoutes(app: OpenAPIHono<AppEnv>): void {
  app.use("/v1/videos", requireAuth(), noStore);
  app.use("/v1/videos/:video_id", requireAuth(), noStore);
  app.use("/v1/videos/:video_id/remix", requireAuth(), noStore);

  // Create parses its own body (multipart or JSON, image bytes sniffed), so it is documented
  // here and validated in the handler with the same schemas.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/v1/videos",
    summary: "Create a video from an image and a prompt",
    security: [{ bearer: [] }],
    request: {
      headers: IdempotencyHeader,
      body: {
        required: true,
        content: {
          "multipart/form-data": { schema: CreateVideoMultipart },
          "application/json": { schema: CreateVideoJson },
        },
      },
    },
    responses: {
      200: jsonContent(VideoSchema, "The new job (or, for a repeated Idempotency-Key, the first)"),
      ...errorResponses(400, 401, 409, 413, 429, 502, 503, 504),
    },
  });
  // Braked after auth (the caller is known) and before the body is read.
  app.post("/v1/videos", createBrakes(), limitBody(), createVideo);

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
      await forgetEverywhere(c, record.id);
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
      middleware: [createBrakes(), limitBody({ bytes: 64 * 1024 })] as const,
      request: {
        params: VideoIdParam,
        headers: IdempotencyHeader,
        body: { required: true, content: { "application/json": { schema: RemixBody } } },
      },
      responses: {
        200: jsonContent(
          VideoSchema,
          "The new job (or, for a repeated Idempotency-Key, the first)",
        ),
        ...errorResponses(400, 401, 404, 409, 429, 502, 503, 504),
      },
    }),
    async (c) => {
      const idempotencyKey = idempotencyKeyOf(c);
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
      const { size, seconds } = source;
      const id = newVideoId();
      const spend = await startSpend(c, {
        videoId: id,
        route,
        idempotencyKey,
        fingerprint: { endpoint: `remix:${source.id}`, model: route.id, prompt, size, seconds },
      });
      if ("replay" in spend) return c.json(await toVideo(spend.replay, view(c)), 200);
      const record = await startJob(
        c,
        { id, route, prompt, size, seconds, remixOf: source.id },
        {
          reservation: spend.reservation,
          provider,
          call: () => provider.remix!(source.upstream_id, { jobId: id, prompt }),
          param: "prompt",
        },
      );
      return c.json(await toVideo(record, view(c)), 200);
    },
  );
}

async function createVideo(c: C): Promise<Response> {
  const idempotencyKey = idempotencyKeyOf(c);
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
  const spend = await startSpend(c, {
    videoId: id,
    route,
    idempotencyKey,
    fingerprint: {
      endpoint: "create",
      model: route.id,
      prompt,
      size,
      seconds,
      audio,
      image: input?.bytes,
    },
  });
  if ("replay" in spend) return c.json(await toVideo(spend.replay, view(c)), 200);
  const record = await startJob(
    c,
    { id, route, prompt, size, seconds, remixOf: null },
    {
      reservation: spend.reservation,
      provider,
      call: () =>
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
      param: "input_reference",
    },
  );
  return c.json(await toVideo(record, view(c)), 200);
}

/**
 * After the tombstone: our R2 copies go now, and the job's watcher stops (abandoning a copy in
 * flight). Either may fail; the tombstone already hides the job everywhere, and the watcher's
 * next alarm sees it and finishes the removal.
 */
async function forgetEverywhere(c: C, videoId: string): Promise<void> {
  const results = deleteResults(c.env.RESULTS, videoId).catch((error: unknown) =>
    log("warn", "result_delete_failed", { video_id: videoId, error: String(error) }),
  );
  const watcher = watcherFor(c.env, videoId)
    .stop(videoId)
    .catch((error: unknown) =>
      log("warn", "watcher_unavailable", { video_id: videoId, error: String(error) }),
    );
  await Promise.all([results, watcher]);
}
