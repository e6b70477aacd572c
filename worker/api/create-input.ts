/**
 * Reads a create request the way OpenAI accepted it: multipart/form-data with the image as the
 * `input_reference` file, or JSON with `input_reference.image_url` as a data: URL. Remote image
 * URLs are never fetched (that would let callers aim the worker at any host).
 */
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { invalidRequest } from "../errors";
import { decodeDataUrl, parseJsonWithDataUrl } from "../media/data-url";
import { CreateVideoFields, CreateVideoJson } from "./schemas";
import { parseWith } from "./validate";

export interface CreateInputRaw {
  fields: { prompt: string; model?: string; seconds?: string; size?: string; audio?: boolean };
  image: Uint8Array | null;
}

const TEXT_FIELDS = ["prompt", "model", "seconds", "size", "audio"] as const;

export async function readCreateInput(c: Context<AppEnv>): Promise<CreateInputRaw> {
  const type = (c.req.header("content-type") ?? "").toLowerCase();
  if (type.startsWith("multipart/form-data")) return readMultipart(c);
  if (type.startsWith("application/json")) return readJson(c);
  throw invalidRequest(
    "Send the video request as multipart/form-data (with the image as input_reference) or application/json.",
    null,
    "unsupported_content_type",
  );
}

async function readMultipart(c: Context<AppEnv>): Promise<CreateInputRaw> {
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
    if (typeof value !== "string")
      throw invalidRequest(`${name} must be a text field, not a file.`, name);
    fields[name] = value;
  }
  const files = form.getAll("input_reference");
  if (files.length > 1) throw invalidRequest("Send one input_reference image.", "input_reference");
  const file = files[0];
  if (file !== undefined && typeof file === "string") {
    throw invalidRequest(
      "input_reference must be an image file (JPEG, PNG or WebP).",
      "input_reference",
    );
  }
  const image = file ? new Uint8Array(await file.arrayBuffer()) : null;
  return { fields: parseWith(CreateVideoFields, fields), image: image?.byteLength ? image : null };
}

/** Where a JSON create carries its image; see parseJsonWithDataUrl for why it is lifted out. */
const IMAGE_URL_PATH = ["input_reference", "image_url"] as const;

async function readJson(c: Context<AppEnv>): Promise<CreateInputRaw> {
  const text = await readJsonText(c);
  const lifted = parseJsonWithDataUrl(text, IMAGE_URL_PATH);
  const body = lifted ? lifted.body : parseJsonText(text);
  const { input_reference, ...fields } = parseWith(CreateVideoJson, body);
  if (!input_reference) return { fields, image: null };
  const url = input_reference.image_url;
  // The same string (compared by identity first), unless the schema ever starts rewriting it.
  return { fields, image: lifted && lifted.url === url ? lifted.bytes : imageOfDataUrl(url) };
}

async function readJsonText(c: Context<AppEnv>): Promise<string> {
  try {
    return await c.req.text();
  } catch {
    throw malformedJson();
  }
}

function parseJsonText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw malformedJson();
  }
}

const malformedJson = () =>
  invalidRequest(
    "The JSON body could not be parsed. Check its syntax and try again.",
    null,
    "malformed_body",
  );

/** The image of a JSON create: a base64 data: URL, decoded (worker/media/data-url.ts). */
function imageOfDataUrl(url: string): Uint8Array {
  const decoded = decodeDataUrl(url);
  if (decoded.ok) return decoded.bytes;
  throw invalidRequest(
    decoded.reason === "invalid_base64"
      ? "input_reference.image_url is not valid base64."
      : "input_reference.image_url must be a base64 data: URL (data:image/png;base64,…); remote URLs are not fetched. Or upload the file as multipart.",
    "input_reference.image_url",
  );
}
