/**
 * `GET /v1/videos/{id}/content`: media bytes for the owner (Bearer) or for whoever holds a
 * signed content URL for exactly this video and variant (`<video>`/`<img>` cannot send
 * headers). Our R2 copy first (worker/results/serve.ts: ranges, ETags, 304s), so a video
 * outlives the provider's retention; until the copy exists, streamed from the provider
 * untouched — no buffering, `Range`/206 passed through. What type the bytes are served as is
 * decided by worker/media/media-type.ts, never by the provider.
 */
import type { OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ContentQuery, VideoIdParam } from "../api/schemas";
import { parseWith } from "../api/validate";
import { verifyContentToken } from "../auth/tokens";
import type { AppEnv } from "../context";
import { ApiError, invalidRequest, notFound } from "../errors";
import { authenticate } from "../middleware/auth";
import { servedMedia, type MediaVariant } from "../media/media-type";
import { resultKey } from "../results/keys";
import { serveResult } from "../results/serve";
import { ProviderError } from "../providers/errors";
import type { JobRecord } from "../store/jobs";
import { errorResponses } from "./openapi-helpers";
import { log } from "../log";
import { rememberPrompt } from "../log-prompts";
import { checkVideoId, jobStore, loadOwned, providerFor, refreshed, routeOf } from "./shared";

type C = Context<AppEnv>;

export function registerContentRoute(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath({
    method: "get",
    path: "/v1/videos/{video_id}/content",
    summary: "Download the video, its thumbnail or its spritesheet (Range supported)",
    security: [{ bearer: [] }, {}],
    request: { params: VideoIdParam, query: ContentQuery },
    responses: {
      200: {
        description:
          "The bytes: video/mp4, image/webp (thumbnail) or image/jpeg (spritesheet) inline when they are that, otherwise application/octet-stream as an attachment",
        content: Object.fromEntries(
          ["video/mp4", "image/webp", "image/jpeg", "application/octet-stream"].map((type) => [
            type,
            { schema: { type: "string", format: "binary" } },
          ]),
        ),
      },
      206: { description: "The requested byte range" },
      304: { description: "Not modified: the `If-None-Match` ETag is current" },
      416: { description: "Range not satisfiable" },
      ...errorResponses(400, 401, 404, 502, 503, 504),
    },
  });
  app.get("/v1/videos/:video_id/content", async (c) => {
    const { variant, token, download } = parseWith(ContentQuery, c.req.query());
    const id = checkVideoId(c.req.param("video_id"));
    const record =
      token === undefined ? await ownedViaBearer(c, id) : await viaSignedUrl(c, id, variant, token);
    return stream(c, record, variant, download);
  });
}

async function ownedViaBearer(c: C, id: string): Promise<JobRecord> {
  c.set("principal", await authenticate(c));
  return loadOwned(c, id);
}

async function viaSignedUrl(c: C, id: string, variant: string, token: string): Promise<JobRecord> {
  const { config, deps } = c.var;
  if (
    !(await verifyContentToken(
      config.sessionSecret,
      token,
      id,
      variant,
      Math.floor(deps.now() / 1000),
    ))
  ) {
    throw new ApiError(
      401,
      "This media link has expired or is not valid for this file. Fetch the video again for a fresh link.",
      {
        code: "invalid_content_token",
        param: "token",
      },
    );
  }
  const record = await jobStore(c).get(id);
  if (!record) throw notFound();
  rememberPrompt(record.prompt);
  return record;
}

async function stream(
  c: C,
  stored: JobRecord,
  variant: MediaVariant,
  download: boolean,
): Promise<Response> {
  const record = await refreshed(c, stored);
  if (record.status !== "completed") {
    throw invalidRequest(
      record.status === "failed"
        ? "This video failed, so it has nothing to download."
        : "This video is not finished yet; wait for status completed.",
      "video_id",
      "video_not_ready",
    );
  }
  const response =
    (await fromResults(c, record, variant, download)) ??
    (await fromProvider(c, record, variant, download));
  response.headers.set("cache-control", "private, max-age=300");
  // Media elements on the embedding page load these cross-origin.
  response.headers.set("cross-origin-resource-policy", "cross-origin");
  return response;
}

/** Our copy, or null while there is none (not made yet, or R2 lost it). */
async function fromResults(
  c: C,
  record: JobRecord,
  variant: MediaVariant,
  download: boolean,
): Promise<Response | null> {
  if (!record.result) return null;
  const stored = record.result.variants[variant];
  if (!stored) {
    throw new ApiError(404, `This video has no ${variant}: its provider does not make one.`, {
      code: "content_not_found",
      param: "variant",
    });
  }
  try {
    return await serveResult(c.env.RESULTS, resultKey(record.id, variant), stored, variant, {
      range: c.req.header("range") ?? null,
      ifNoneMatch: c.req.header("if-none-match") ?? null,
      ifRange: c.req.header("if-range") ?? null,
      download,
      filename: record.id,
    });
  } catch (error) {
    // R2 unreachable: the provider may still have it.
    log("warn", "result_unavailable", { video_id: record.id, variant, error: String(error) });
    return null;
  }
}

async function fromProvider(
  c: C,
  record: JobRecord,
  variant: MediaVariant,
  download: boolean,
): Promise<Response> {
  let upstream: Response;
  try {
    upstream = await providerFor(c, routeOf(c, record)).content(record.upstream_id, {
      variant,
      range: c.req.header("range") ?? null,
      signal: c.req.raw.signal,
    });
  } catch (error) {
    if (error instanceof ProviderError && error.kind === "not_found") {
      throw new ApiError(404, `This video's ${variant} is not available (it may have expired).`, {
        code: "content_not_found",
        param: "variant",
      });
    }
    throw error;
  }
  // Type, disposition, nosniff and CSP: whatever the provider said, media-type.ts decides.
  const response = await servedMedia(upstream, variant, record.id);
  if (download) {
    const disposition = response.headers.get("content-disposition") ?? "";
    response.headers.set("content-disposition", disposition.replace(/^inline/, "attachment"));
  }
  return response;
}
