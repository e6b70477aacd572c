/**
 * Reads a create request the way OpenAI accepted it: multipart/form-data with the image as the
 * `input_reference` file, or a reference object — JSON `input_reference.image_url`, or the Node
 * SDK's multipart `input_reference[image_url]` — holding a data: URL, or `file_id` naming the
 * caller's upload from `POST /v1/files`. An https image URL is fetched for server keys only,
 * under worker/media/remote-image.ts's rules; a visitor's page uploads the file.
 */
import type { Context } from "hono";
import type { AppEnv } from "../context";
import { invalidRequest } from "../errors";
import { decodeDataUrl, parseJsonWithDataUrl } from "../media/data-url";
import { fetchRemoteImage } from "../media/remote-image";
import { openFile } from "../store/files";
import { isJson, isMultipart } from "./content-type";
import { CreateVideoFields, CreateVideoJson } from "./schemas";
import { parseWith } from "./validate";

export interface CreateInputRaw {
  fields: { prompt: string; model?: string; seconds?: string; size?: string; audio?: boolean };
  image: Uint8Array | null;
}

const TEXT_FIELDS = ["prompt", "model", "seconds", "size", "audio"] as const;

export async function readCreateInput(c: Context<AppEnv>): Promise<CreateInputRaw> {
  const type = c.req.header("content-type");
  if (isMultipart(type)) return readMultipart(c);
  if (isJson(type)) return readJson(c);
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
  const reference = referenceObjectOf(form);
  if (files.length + (reference ? 1 : 0) > 1) {
    throw invalidRequest("Send one input_reference image.", "input_reference");
  }
  const parsed = parseWith(CreateVideoFields, fields);
  if (reference) return { fields: parsed, image: await imageOfReference(c, reference) };
  const file = files[0];
  if (file !== undefined && typeof file === "string") {
    throw invalidRequest(
      "input_reference must be an image file (JPEG, PNG or WebP).",
      "input_reference",
    );
  }
  const image = file ? new Uint8Array(await file.arrayBuffer()) : null;
  return { fields: parsed, image: image?.byteLength ? image : null };
}

/**
 * A reference object sent as multipart: the Node SDK encodes `input_reference: { image_url }`
 * (or `{ file_id }`) as bracketed fields, `input_reference[image_url]`. Read like JSON's.
 */
function referenceObjectOf(form: FormData): { image_url?: string; file_id?: string } | null {
  const reference: { image_url?: string; file_id?: string } = {};
  for (const key of ["image_url", "file_id"] as const) {
    const values = form.getAll(`input_reference[${key}]`);
    if (values.length === 0) continue;
    const value = values[0];
    if (values.length > 1 || typeof value !== "string") {
      throw invalidRequest(`Send input_reference[${key}] once, as text.`, `input_reference.${key}`);
    }
    reference[key] = value;
  }
  return Object.keys(reference).length > 0 ? reference : null;
}

/** The image a reference object names: a data: URL decoded, or the caller's uploaded file. */
async function imageOfReference(
  c: Context<AppEnv>,
  reference: { image_url?: string; file_id?: string },
): Promise<Uint8Array> {
  if (reference.image_url !== undefined && reference.file_id !== undefined) {
    throw invalidRequest(
      "Send input_reference with either image_url or file_id, not both.",
      "input_reference",
    );
  }
  if (reference.file_id !== undefined) return imageOfFile(c, reference.file_id);
  const url = reference.image_url!;
  if (/^https:\/\//i.test(url)) return imageOfRemoteUrl(c, url);
  return imageOfDataUrl(url);
}

/**
 * An https image URL, fetched for a server key's backend only: a visitor's request comes from a
 * public page, which must not be able to aim the worker at any host (the widget uploads the
 * file instead). The fetch's own rules are in worker/media/remote-image.ts.
 */
async function imageOfRemoteUrl(c: Context<AppEnv>, url: string): Promise<Uint8Array> {
  if (c.var.principal.kind !== "server") {
    throw invalidRequest(
      "input_reference.image_url must be a base64 data: URL here: upload the image file instead of linking it.",
      "input_reference.image_url",
    );
  }
  return fetchRemoteImage(url, {
    fetch: c.var.deps.fetch,
    maxBytes: c.var.config.limits.maxUploadBytes,
  });
}

/**
 * The bytes of the caller's own, unexpired upload, exactly as a multipart `input_reference` file
 * would give them: the same checks follow. Unknown, someone else's and expired read alike.
 */
async function imageOfFile(c: Context<AppEnv>, fileId: string): Promise<Uint8Array> {
  const opened = await openFile(c.env.RESULTS, {
    id: fileId,
    owner: c.var.principal.owner,
    nowMs: c.var.deps.now(),
  });
  if (!opened) {
    throw invalidRequest(
      `input_reference.file_id names no file of yours: it is unknown, was deleted, or has expired (uploads last ${hours(c.var.config.limits.fileTtlSeconds)}). Upload the image again with POST /v1/files, or send it as input_reference.`,
      "input_reference.file_id",
      "file_not_found",
    );
  }
  return new Uint8Array(await new Response(opened.body).arrayBuffer());
}

const hours = (seconds: number) => {
  const h = Math.round(seconds / 3600);
  return h === 1 ? "1 hour" : `${h} hours`;
};

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
  if (lifted && url !== undefined && lifted.url === url) return { fields, image: lifted.bytes };
  return { fields, image: await imageOfReference(c, input_reference) };
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
      : "input_reference.image_url must be a base64 data: URL (data:image/png;base64,…) or, for a server key, an https:// URL. Or upload the file as multipart.",
    "input_reference.image_url",
  );
}
