/**
 * `/v1/files`: OpenAI's uploads, so `files.create` then `videos.create({ input_reference:
 * { file_id } })` works unchanged. Only images are useful here, so only a well-formed JPEG, PNG
 * or WebP is stored (worker/store/files.ts), for `FILE_TTL_SECONDS`. Every call is its owner's:
 * someone else's file answers exactly like a missing one.
 */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import { checkImageBytes } from "../api/checks";
import {
  DeletedFileSchema,
  FileIdParam,
  FileListQuery,
  FileListSchema,
  FileSchema,
  FileUpload,
} from "../api/schemas";
import type { AppEnv } from "../context";
import { invalidRequest, notFound } from "../errors";
import { newFileId } from "../ids";
import { requireAuth } from "../middleware/auth";
import { limitBody } from "../middleware/limits";
import { noStore } from "../middleware/no-store";
import { createBrakes } from "../middleware/rate-limit";
import { MEDIA_CSP } from "../media/media-type";
import {
  deleteFile,
  findFile,
  listFiles,
  openFile,
  saveFile,
  type FileLookup,
  type StoredFile,
} from "../store/files";
import { errorResponses, jsonContent } from "./openapi-helpers";

type C = Context<AppEnv>;

/** Longest filename kept: R2 custom metadata is small (2 KB for all of it). */
const MAX_FILENAME = 255;

export function registerFileRoutes(app: OpenAPIHono<AppEnv>): void {
  app.use("/v1/files", requireAuth(), noStore);
  app.use("/v1/files/*", requireAuth(), noStore);

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/files",
      summary: "Upload an image (JPEG, PNG or WebP) to use as input_reference.file_id",
      security: [{ bearer: [] }],
      middleware: [createBrakes("uploads"), limitBody({ param: "file" })] as const,
      request: {
        body: { required: true, content: { "multipart/form-data": { schema: FileUpload } } },
      },
      responses: {
        200: jsonContent(FileSchema, "The stored file"),
        ...errorResponses(400, 401, 413),
      },
    }),
    async (c) => {
      const form = c.req.valid("form");
      const { file, purpose } = form;
      const ttl = lifetime(c, form["expires_after[anchor]"], form["expires_after[seconds]"]);
      const { bytes, mime, filename } = await readUpload(file);
      const created = Math.floor(c.var.deps.now() / 1000);
      const stored = await saveFile(
        c.env.RESULTS,
        {
          id: newFileId(),
          owner: c.var.principal.owner,
          filename,
          purpose,
          mime,
          created_at: created,
          expires_at: created + ttl,
        },
        bytes,
      );
      return c.json(fileObject(stored), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/files",
      summary: "List your files, newest first",
      security: [{ bearer: [] }],
      request: { query: FileListQuery },
      responses: {
        200: jsonContent(FileListSchema, "A page of your files"),
        ...errorResponses(400, 401),
      },
    }),
    async (c) => {
      const query = c.req.valid("query");
      const page = await listFiles(c.env.RESULTS, {
        owner: c.var.principal.owner,
        nowMs: c.var.deps.now(),
        limit: Math.min(query.limit, MAX_PAGE),
        order: query.order,
        after: query.after,
        purpose: query.purpose,
      });
      const data = page.files.map(fileObject);
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
      path: "/v1/files/{file_id}",
      summary: "Retrieve one of your files",
      security: [{ bearer: [] }],
      request: { params: FileIdParam },
      responses: { 200: jsonContent(FileSchema, "The file"), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const file = await findFile(c.env.RESULTS, lookup(c, c.req.valid("param").file_id));
      if (!file) throw fileNotFound();
      return c.json(fileObject(file), 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/files/{file_id}/content",
      summary: "Download one of your files",
      security: [{ bearer: [] }],
      request: { params: FileIdParam },
      responses: {
        200: {
          description: "The image as uploaded, typed by its bytes",
          content: Object.fromEntries(
            ["image/jpeg", "image/png", "image/webp"].map((type) => [
              type,
              { schema: { type: "string" as const, format: "binary" } },
            ]),
          ),
        },
        ...errorResponses(401, 404),
      },
    }),
    async (c) => {
      const opened = await openFile(c.env.RESULTS, lookup(c, c.req.valid("param").file_id));
      if (!opened) throw fileNotFound();
      const { file, body } = opened;
      return c.body(body, 200, {
        "content-type": file.mime,
        "content-length": String(file.bytes),
        "content-disposition": `attachment; filename*=UTF-8''${encodeURIComponent(file.filename)}`,
        "x-content-type-options": "nosniff",
        "content-security-policy": MEDIA_CSP,
      });
    },
  );

  app.openapi(
    createRoute({
      method: "delete",
      path: "/v1/files/{file_id}",
      summary: "Delete one of your files",
      security: [{ bearer: [] }],
      request: { params: FileIdParam },
      responses: { 200: jsonContent(DeletedFileSchema, "Deleted"), ...errorResponses(401, 404) },
    }),
    async (c) => {
      const file = await findFile(c.env.RESULTS, lookup(c, c.req.valid("param").file_id));
      if (!file) throw fileNotFound();
      await deleteFile(c.env.RESULTS, file);
      return c.json({ id: file.id, object: "file" as const, deleted: true as const }, 200);
    },
  );
}

/** The most files one list page holds; the SDKs follow `has_more` with `after`. */
const MAX_PAGE = 100;
/** OpenAI's shortest `expires_after` (an hour). */
const MIN_TTL_SECONDS = 3600;

/** `expires_after.seconds`, within an hour and this deployment's FILE_TTL_SECONDS (the default). */
function lifetime(c: C, anchor: string | undefined, seconds: string | undefined): number {
  const max = c.var.config.limits.fileTtlSeconds;
  if (seconds === undefined) {
    if (anchor !== undefined) {
      throw invalidRequest(
        "expires_after needs seconds as well as anchor.",
        "expires_after.seconds",
      );
    }
    return max;
  }
  const value = Number(seconds);
  if (value < MIN_TTL_SECONDS || value > max) {
    throw invalidRequest(
      `expires_after.seconds must be between ${MIN_TTL_SECONDS} and ${max} here (files last at most ${max} seconds).`,
      "expires_after.seconds",
    );
  }
  return value;
}

const lookup = (c: C, id: string): FileLookup => ({
  id,
  owner: c.var.principal.owner,
  nowMs: c.var.deps.now(),
});

const fileNotFound = () => notFound("file", "file_id");

/** The form's `file` part, checked as an image by its bytes (its declared type is ignored). */
async function readUpload(part: unknown) {
  if (!(part instanceof File)) {
    throw invalidRequest("file must be one uploaded image file (JPEG, PNG or WebP).", "file");
  }
  const bytes = new Uint8Array(await part.arrayBuffer());
  const { mime } = checkImageBytes(bytes, "file");
  return { bytes, mime, filename: filenameOf(part.name) };
}

/** The name as sent, without control characters and cut to what metadata can hold. */
function filenameOf(name: string): string {
  // Control characters (C0, C1) and bidi overrides could spoof what a name shows; the cut is by
  // code point, so no surrogate pair is split (encodeURIComponent would throw on half of one).
  const clean = name.replace(/[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, "").trim();
  return Array.from(clean).slice(0, MAX_FILENAME).join("") || "upload";
}

function fileObject(file: StoredFile) {
  return {
    id: file.id,
    object: "file" as const,
    bytes: file.bytes,
    created_at: file.created_at,
    expires_at: file.expires_at,
    filename: file.filename,
    purpose: file.purpose,
    status: "processed" as const,
  };
}
