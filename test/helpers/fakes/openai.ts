/**
 * A contract fake of OpenAI's `/v1/videos`, built from docs/providers/openai.md.
 *
 * It serves only the documented routes under its base URL and checks every request the way the
 * contract demands (auth header, multipart fields, `seconds` as a string, documented sizes, the
 * input image's type and exact size). Legitimate refusals are answered like the real API, with
 * its error envelope; anything our adapter should never send is a contract violation: recorded
 * and thrown. Retrying code may swallow the throw, so tests also call `assertClean()`.
 */
import { ContractFake, ContractViolation, imageInfo, patternBytes } from "./base";
import type { RecordedBase, ScriptedBase } from "./base";
import type { Variant } from "../../../worker/providers/types";
import { rangeAnswer } from "./range";

export interface FakeAsset {
  bytes: Uint8Array;
  type: string;
}

export interface FakeOpenAIOptions {
  apiKey: string;
  /** `bearer` (OpenAI, relays) or `api-key` (Azure). */
  auth?: "bearer" | "api-key";
  /** Up to and including `/v1`. */
  baseUrl?: string;
  /** Status polls from queued to completed. */
  pollsToComplete?: number;
  /** Downloadable variants; spritesheet is absent by default (its type is unconfirmed). */
  media?: Partial<Record<Variant, FakeAsset>>;
  now?: () => number;
}

/** One request as the fake saw it, for assertions. */
export interface RecordedRequest extends RecordedBase {
  /** Below the base URL, e.g. `/videos/video_1/content`. */
  path: string;
  /** Text fields of a multipart body, or the top-level values of a JSON body. */
  fields: Record<string, unknown>;
  file: { name: string; type: string; bytes: Uint8Array } | null;
}

export interface FakeVideo {
  id: string;
  object: "video";
  model: string;
  status: "queued" | "in_progress" | "completed" | "failed";
  progress: number;
  created_at: number;
  completed_at: number | null;
  expires_at: number | null;
  prompt: string;
  size: string;
  seconds: string;
  remixed_from_video_id: string | null;
  error: { code: string; message: string } | null;
  polls: number;
}

export interface ScriptedAnswer extends ScriptedBase<RecordedRequest> {
  /** Matched against `RecordedRequest.path`. */
  path?: string | RegExp;
}

export const DOCUMENTED_SIZES = ["720x1280", "1280x720", "1024x1792", "1792x1024"];
const SECONDS = ["4", "8", "12"];
const SORA_2_SIZES = ["720x1280", "1280x720"];
const VARIANTS = ["video", "thumbnail", "spritesheet"];
const CREATE_FIELDS = new Set(["prompt", "model", "seconds", "size", "input_reference"]);

export { ContractViolation };

export class FakeOpenAI extends ContractFake<RecordedRequest, ScriptedAnswer> {
  readonly baseUrl: string;
  readonly videos = new Map<string, FakeVideo>();
  private readonly media: Partial<Record<Variant, FakeAsset>>;
  private readonly now: () => number;
  private nextId = 1;

  constructor(private readonly options: FakeOpenAIOptions) {
    super({ pattern: (a) => a.path, subject: (r) => r.path });
    this.baseUrl = options.baseUrl ?? "https://relay.example.test/v1";
    this.now = options.now ?? Date.now;
    this.media = options.media ?? {
      video: { bytes: patternBytes(64 * 1024), type: "video/mp4" },
      thumbnail: { bytes: patternBytes(512), type: "image/webp" },
    };
  }

  /** The next matching request(s) fail with `status` and OpenAI's error envelope. */
  failNext(
    status: number,
    opts: Omit<ScriptedAnswer, "respond"> & {
      headers?: Record<string, string>;
      error?: { message?: string; type?: string; code?: string | null };
    } = {},
  ): this {
    const { headers, error, ...match } = opts;
    const message = error?.message ?? `Scripted failure ${status}`;
    return this.script({
      ...match,
      respond: () =>
        errorResponse(status, message, error?.type ?? "server_error", error?.code ?? null, headers),
    });
  }

  /** Makes a job fail as a refused or broken generation does: a 200 with `status: "failed"`. */
  failVideo(id: string, error: { code: string; message: string }): void {
    const video = this.mustGet(id);
    Object.assign(video, { status: "failed", error, completed_at: null });
  }

  protected async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const recorded = this.record(request, {
      path: url.href.startsWith(`${this.baseUrl}/`)
        ? url.pathname.slice(new URL(this.baseUrl).pathname.length)
        : "",
      fields: {},
      file: null,
    });
    await readBody(request, recorded).catch((e: unknown) =>
      this.violate(recorded, `unreadable body: ${e}`),
    );
    const route = this.route(recorded);
    this.checkAuthShape(recorded);
    if (!this.keyMatches(recorded)) {
      return errorResponse(
        401,
        `Incorrect API key provided: ${mask(this.presentedKey(recorded))}. You can find your API key at https://platform.openai.com/account/api-keys.`,
        "invalid_request_error",
        "invalid_api_key",
      );
    }
    route.check?.();
    const scripted = this.scripted(recorded);
    if (scripted) return scripted.respond(recorded);
    return route.answer();
  }

  /** The documented routes; anything else is a violation. */
  private route(r: RecordedRequest): { check?: () => void; answer: () => Response } {
    if ([...r.url.searchParams.keys()].some((k) => k !== "variant")) {
      this.violate(r, "unexpected query");
    }
    const [, collection, rawId, action, ...rest] = r.path.split("/");
    let id = "";
    try {
      id = rawId === undefined ? "" : decodeURIComponent(rawId);
    } catch {
      this.violate(r, "malformed id");
    }
    const shape = `${r.method} /${collection}${rawId === undefined ? "" : "/{id}"}${action === undefined ? "" : `/${action}`}`;
    if (rest.length > 0 || rawId === "") return this.violate(r, "no such route");
    switch (shape) {
      case "POST /videos":
        return { check: () => this.checkCreate(r), answer: () => this.create(r) };
      case "GET /videos/{id}":
        return { answer: () => this.retrieve(id) };
      case "DELETE /videos/{id}":
        return { answer: () => this.delete(id) };
      case "POST /videos/{id}/remix":
        return { check: () => this.checkRemix(r), answer: () => this.remix(id, r) };
      case "GET /videos/{id}/content":
        return { answer: () => this.content(id, r) };
      default:
        return this.violate(r, "no such route");
    }
  }

  private checkAuthShape(r: RecordedRequest): void {
    const bearer = r.headers.get("authorization");
    const apiKey = r.headers.get("api-key");
    if (this.options.auth === "api-key") {
      if (!apiKey || bearer !== null) this.violate(r, "expected only an api-key header");
    } else if (!bearer?.startsWith("Bearer ") || apiKey !== null) {
      this.violate(r, "expected only an Authorization: Bearer header");
    }
    if (r.url.href.includes(this.options.apiKey)) this.violate(r, "the key is in the URL");
  }

  private presentedKey(r: RecordedRequest): string {
    if (this.options.auth === "api-key") return r.headers.get("api-key") ?? "";
    return (r.headers.get("authorization") ?? "").slice("Bearer ".length);
  }

  private keyMatches(r: RecordedRequest): boolean {
    return this.presentedKey(r) === this.options.apiKey;
  }

  private checkCreate(r: RecordedRequest): void {
    const { fields, file } = r;
    for (const name of Object.keys(fields))
      if (!CREATE_FIELDS.has(name)) this.violate(r, `unknown field ${name}`);
    const prompt = fields.prompt;
    if (typeof prompt !== "string" || prompt.length < 1 || prompt.length > 32_000)
      this.violate(r, "bad prompt");
    if (fields.model !== undefined && typeof fields.model !== "string")
      this.violate(r, "bad model");
    if (fields.seconds !== undefined && !SECONDS.includes(String(fields.seconds)))
      this.violate(r, "bad seconds");
    if (fields.size !== undefined && !DOCUMENTED_SIZES.includes(String(fields.size)))
      this.violate(r, "bad size");
    if (file) {
      const sniffed = imageInfo(file.bytes);
      if (!sniffed || sniffed.type !== file.type)
        this.violate(r, `input_reference is not a ${file.type}`);
    }
  }

  private create(r: RecordedRequest): Response {
    const { fields, file } = r;
    // Only JSON can carry a number; the API rejects it (facts: "an integer is rejected with 400").
    if (typeof fields.seconds === "number")
      return invalid("Invalid type for 'seconds': expected a string.", "seconds");
    const model = String(fields.model ?? "sora-2");
    const size = String(fields.size ?? "720x1280");
    if (model === "sora-2" && !SORA_2_SIZES.includes(size))
      return invalid(`Invalid size '${size}' for model sora-2.`, "size");
    if (file) {
      const info = imageInfo(file.bytes);
      if (`${info?.width}x${info?.height}` !== size) {
        return invalid(
          "Inpaint image must match the requested width and height",
          "input_reference",
        );
      }
    }
    const video = this.newVideo(
      model,
      String(fields.prompt),
      size,
      String(fields.seconds ?? "4"),
      null,
    );
    return Response.json(publicVideo(video));
  }

  private retrieve(id: string): Response {
    const video = this.videos.get(id);
    if (!video) return notFound(id);
    if (video.status === "queued" || video.status === "in_progress") this.advance(video);
    return Response.json(publicVideo(video));
  }

  private delete(id: string): Response {
    if (!this.videos.delete(id)) return notFound(id);
    return Response.json({ id, object: "video.deleted", deleted: true });
  }

  private checkRemix(r: RecordedRequest): void {
    const keys = Object.keys(r.fields);
    if (keys.length !== 1 || typeof r.fields.prompt !== "string" || r.fields.prompt.length === 0) {
      this.violate(r, "remix takes exactly {prompt}");
    }
  }

  private remix(id: string, r: RecordedRequest): Response {
    const source = this.videos.get(id);
    if (!source) return notFound(id);
    // The facts file does not give this refusal's wording; the status is the plausible one.
    if (source.status !== "completed")
      return invalid("Only a completed video can be remixed.", null);
    const video = this.newVideo(
      source.model,
      String(r.fields.prompt),
      source.size,
      source.seconds,
      id,
    );
    return Response.json(publicVideo(video));
  }

  private content(id: string, r: RecordedRequest): Response {
    const video = this.videos.get(id);
    if (!video) return notFound(id);
    const variant = r.url.searchParams.get("variant") ?? "video";
    if (!VARIANTS.includes(variant))
      return invalid(`Invalid value for 'variant': '${variant}'.`, "variant");
    // "Content before completion is a 4xx" (facts); which one is unconfirmed.
    if (video.status !== "completed") return invalid("Video is not ready yet.", null);
    const asset = this.media[variant as Variant];
    if (!asset)
      return errorResponse(404, `No ${variant} for video '${id}'.`, "invalid_request_error", null);
    return mediaAnswer(asset, r.headers.get("range"), `"${id}-${variant}"`);
  }

  private newVideo(
    model: string,
    prompt: string,
    size: string,
    seconds: string,
    from: string | null,
  ): FakeVideo {
    const id = `video_${String(this.nextId++).padStart(24, "0")}`;
    const video: FakeVideo = {
      id,
      object: "video",
      model,
      status: "queued",
      progress: 0,
      created_at: Math.floor(this.now() / 1000),
      completed_at: null,
      expires_at: null,
      prompt,
      size,
      seconds,
      remixed_from_video_id: from,
      error: null,
      polls: 0,
    };
    this.videos.set(id, video);
    return video;
  }

  /** queued → in_progress (rising) → completed, one step per status poll. */
  private advance(video: FakeVideo): void {
    const total = this.options.pollsToComplete ?? 3;
    video.polls++;
    if (video.polls < total) {
      Object.assign(video, {
        status: "in_progress",
        progress: Math.floor((100 * video.polls) / total),
      });
      return;
    }
    const completed = Math.floor(this.now() / 1000);
    Object.assign(video, {
      status: "completed",
      progress: 100,
      completed_at: completed,
      expires_at: completed + 3600,
    });
  }

  private mustGet(id: string): FakeVideo {
    return this.must(this.videos, id, "video");
  }
}

async function readBody(request: Request, into: RecordedRequest): Promise<void> {
  const type = request.headers.get("content-type") ?? "";
  if (type.startsWith("multipart/form-data")) {
    for (const [name, value] of await request.formData()) {
      if (typeof value === "string") into.fields[name] = value;
      else
        into.file = {
          name: value.name,
          type: value.type,
          bytes: new Uint8Array(await value.arrayBuffer()),
        };
      if (typeof value !== "string" && name !== "input_reference")
        throw new Error(`unexpected file ${name}`);
    }
  } else if (type.startsWith("application/json")) {
    Object.assign(into.fields, await request.json());
  } else if ((await request.arrayBuffer()).byteLength > 0) {
    throw new Error(`a body of type "${type}"`);
  }
}

/** OpenAI's error envelope. */
export function errorResponse(
  status: number,
  message: string,
  type: string,
  code: string | null,
  headers: Record<string, string> = {},
  param: string | null = null,
): Response {
  return Response.json({ error: { message, type, param, code } }, { status, headers });
}

const invalid = (message: string, param: string | null) =>
  errorResponse(400, message, "invalid_request_error", null, {}, param);
const notFound = (id: string) =>
  errorResponse(404, `Video with id '${id}' not found.`, "invalid_request_error", null);

function publicVideo(video: FakeVideo): Omit<FakeVideo, "polls"> {
  const { polls: _, ...rest } = video;
  return rest;
}

/** Masks a key the way OpenAI's 401 does: a few characters each end. */
function mask(key: string): string {
  return key.length > 10 ? `${key.slice(0, 8)}***${key.slice(-4)}` : "***";
}

/** Media with Range support, and headers a client must not see (test/helpers/fakes/range.ts). */
function mediaAnswer(asset: FakeAsset, range: string | null, etag: string): Response {
  return rangeAnswer(asset.bytes, range, {
    "content-type": asset.type,
    etag,
    "last-modified": "Wed, 01 Oct 2025 12:00:00 GMT",
    "x-request-id": "req_fake123",
    "openai-organization": "org-fake",
    "set-cookie": "__cf_bm=fake; path=/; HttpOnly",
  });
}
