/**
 * Reads an extension or edit request the way OpenAI accepted one: the source `video` either as a
 * reference to one of the caller's videos — JSON `video: { id }`, or the Node SDK's multipart
 * bracket field `video[id]` — or as an uploaded MP4 file in multipart `video`. The upload is only
 * read here; worker/api/derive.ts judges its structure, length and size.
 */
import type { Context } from "hono";
import type { z } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { invalidRequest } from "../errors";
import { isJson, isMultipart } from "./content-type";
import { DeriveVideoFields, EditVideoJson, ExtendVideoJson } from "./schemas";
import { parseWith } from "./validate";

export type SourceRef = { kind: "video"; id: string } | { kind: "upload"; bytes: Uint8Array };

export interface SourceRequest {
  fields: z.infer<typeof DeriveVideoFields>;
  source: SourceRef;
}

const TEXT_FIELDS = ["prompt", "seconds", "model"] as const;

export async function readSourceRequest(
  c: Context<AppEnv>,
  operation: "extension" | "edit",
): Promise<SourceRequest> {
  const type = c.req.header("content-type");
  if (isMultipart(type)) return readMultipart(c, operation);
  if (isJson(type)) return readJson(c, operation);
  throw invalidRequest(
    "Send the request as multipart/form-data (with the source as the video file, or video[id]) or application/json with video: { id }.",
    null,
    "unsupported_content_type",
  );
}

async function readMultipart(
  c: Context<AppEnv>,
  operation: "extension" | "edit",
): Promise<SourceRequest> {
  let form: FormData;
  try {
    form = await c.req.raw.formData();
  } catch {
    throw invalidRequest(
      "The multipart body could not be read. Check the form encoding and try again.",
      null,
      "malformed_body",
    );
  }
  const fields: Record<string, string> = {};
  for (const name of TEXT_FIELDS) {
    const values = form.getAll(name);
    if (values.length > 1) throw invalidRequest(`Send ${name} only once.`, name);
    const value = values[0];
    if (value === undefined) continue;
    if (typeof value !== "string") {
      throw invalidRequest(`${name} must be a text field, not a file.`, name);
    }
    fields[name] = value;
  }
  if (operation === "edit" && fields.seconds !== undefined) throw editSeconds();
  const parsed = parseWith(DeriveVideoFields, fields);
  if (operation === "extension" && parsed.seconds === undefined) throw extensionSeconds();

  const files = form.getAll("video");
  const ids = form.getAll("video[id]");
  if (files.length + ids.length === 0) throw missingVideo();
  if (files.length + ids.length > 1) {
    throw invalidRequest("Send one source video: a video file or video[id].", "video");
  }
  const id = ids[0];
  if (id !== undefined) {
    if (typeof id !== "string") throw invalidRequest("video[id] must be text.", "video.id");
    return { fields: parsed, source: { kind: "video", id } };
  }
  const file = files[0]!;
  if (typeof file === "string") {
    throw invalidRequest(
      "video must be an MP4 file, or send video[id] to name one of your videos.",
      "video",
    );
  }
  const bytes = new Uint8Array(await file.arrayBuffer());
  if (bytes.byteLength === 0) throw invalidRequest("The video file is empty.", "video");
  return { fields: parsed, source: { kind: "upload", bytes } };
}

async function readJson(
  c: Context<AppEnv>,
  operation: "extension" | "edit",
): Promise<SourceRequest> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch {
    throw invalidRequest(
      "The JSON body could not be parsed. Check its syntax and try again.",
      null,
      "malformed_body",
    );
  }
  if (typeof body === "object" && body !== null && !("video" in body)) throw missingVideo();
  if (operation === "edit") {
    if (typeof body === "object" && body !== null && "seconds" in body) throw editSeconds();
    const { video, ...fields } = parseWith(EditVideoJson, body);
    return { fields, source: { kind: "video", id: video.id } };
  }
  const { video, ...fields } = parseWith(ExtendVideoJson, body);
  return { fields, source: { kind: "video", id: video.id } };
}

const missingVideo = () =>
  invalidRequest(
    "video is required: { id } of one of your finished videos (multipart video[id]), or an MP4 file.",
    "video",
  );

const extensionSeconds = () =>
  invalidRequest('seconds is required: the length to add, a string such as "4".', "seconds");

const editSeconds = () =>
  invalidRequest(
    "An edit keeps its source's length: leave seconds out (extensions take it).",
    "seconds",
  );
