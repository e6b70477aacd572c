/**
 * A contract fake of OpenRouter's video API (`/api/v1/videos`), built from
 * docs/providers/openrouter.md §1–§8 and nothing else.
 *
 * It serves only the four documented routes (§0) and checks every request as the contract
 * demands: `Authorization: Bearer <key>` on each (401 in OpenRouter's envelope otherwise), a JSON
 * create body whose fields have the spec's types and whose values are in the model's catalog
 * sets (400 in the `{error:{code,message,metadata}}` envelope otherwise, as the real API answers
 * a value outside them, §10), images as `frame_images` data URLs whose bytes are that type.
 * Jobs move `pending → … → completed` one status per poll (§3); content is served with single
 * byte ranges (test/helpers/fakes/range.ts), optionally through a redirect to a media host that
 * must never see the key.
 *
 * Anything our adapter should never send (an undocumented route or field, the key in a URL or on
 * the media host, a query on create) is a contract violation: recorded and thrown. Retrying code
 * may swallow the throw, so tests also call `assertClean()`.
 */
import { ContractFake, ContractViolation, patternBytes } from "./base";
import type { RecordedBase, ScriptedBase } from "./base";
import { rangeAnswer } from "./range";
import { hmacSha256 } from "../hmac";

export const OPENROUTER_BASE = "https://openrouter.ai/api/v1";
/** Not OpenRouter's: a stand-in storage host for the content-redirect tests (§4 "Redirects"). */
export const OPENROUTER_MEDIA_ORIGIN = "https://media.storage.example.test";

/** One `/videos/models` entry's sets (§7); null = the model does not say. */
export interface FakeVideoModel {
  supported_durations: number[] | null;
  supported_resolutions: string[] | null;
  supported_aspect_ratios: string[] | null;
  supported_sizes: string[] | null;
  supported_frame_images: Array<"first_frame" | "last_frame"> | null;
  generate_audio: boolean | null;
  seed: boolean | null;
}

/** `google/veo-3.1` as the 2026-08-21 catalog snapshot lists it (§7). */
export const VEO_31: FakeVideoModel = {
  supported_durations: [4, 6, 8],
  supported_resolutions: ["720p", "1080p", "4K"],
  supported_aspect_ratios: ["16:9", "9:16"],
  supported_sizes: ["1280x720", "1080x1920", "1920x1080", "720x1280", "3840x2160", "2160x3840"],
  supported_frame_images: ["first_frame", "last_frame"],
  generate_audio: true,
  seed: true,
};

/** `minimax/hailuo-2.3` (§7): no audio, first frame only. */
export const HAILUO_23: FakeVideoModel = {
  supported_durations: [6, 10],
  supported_resolutions: ["1080p"],
  supported_aspect_ratios: ["16:9"],
  supported_sizes: ["1920x1080"],
  supported_frame_images: ["first_frame"],
  generate_audio: false,
  seed: null,
};

/** The request's enums (§2). */
const RESOLUTIONS = ["360p", "480p", "720p", "768p", "1080p", "1K", "2K", "4K"];
const ASPECT_RATIOS = ["16:9", "9:16", "1:1", "4:3", "3:4", "3:2", "2:3", "21:9", "9:21"];
/** Every `VideoGenerationRequest` property (§2); anything else is a violation. */
const REQUEST_FIELDS = new Set([
  ...["model", "prompt", "duration", "resolution", "aspect_ratio", "size", "frame_images"],
  ...["input_references", "generate_audio", "seed", "callback_url", "provider", "creativity"],
  ...["upscale_factor", "user", "session_id", "trace", "previous_job_id"],
]);
/** Fields our adapter has no business sending, though the API takes them. */
const NEVER_SENT = new Set(["input_references", "provider", "creativity", "upscale_factor"]);
const DATA_URL = /^data:(image\/(?:png|jpeg|webp));base64,([A-Za-z0-9+/]*={0,2})$/;

export type FakeJobStatus =
  "pending" | "in_progress" | "completed" | "failed" | "cancelled" | "expired";

/** One poll's answer; `status` may be any word, for the open enum (§3). */
export interface FakeJobState {
  status: FakeJobStatus | (string & {});
  error?: string;
  /** Replaces the default `[<base>/videos/{id}/content?index=0]` of a completed job. */
  unsigned_urls?: string[];
}

export interface FakeOpenRouterOptions {
  apiKey: string;
  baseUrl?: string;
  models?: Record<string, FakeVideoModel>;
  /** The states successive polls see; the last one sticks (§3: `in_progress` may be skipped). */
  lifecycle?: FakeJobState[];
  video?: Uint8Array;
  /** The content proxy answers 302 to the media host instead of serving the bytes itself. */
  redirectContent?: boolean;
  now?: () => number;
}

export interface RecordedRequest extends RecordedBase {
  /** The parsed JSON body, when there was one. */
  json: Record<string, unknown> | null;
}

export interface ScriptedAnswer extends ScriptedBase<RecordedRequest> {
  /** Matched against the URL's pathname. */
  path?: string | RegExp;
}

export interface FakeJob {
  id: string;
  body: Record<string, unknown>;
  polls: number;
  /** Set by a test: overrides the lifecycle from now on. */
  forced: FakeJobState | null;
  /** What the last poll answered. */
  last: FakeJobState;
}

export const DEFAULT_LIFECYCLE: FakeJobState[] = [
  { status: "pending" },
  { status: "pending" },
  { status: "in_progress" },
  { status: "completed" },
];

export { ContractViolation, patternBytes };

export class FakeOpenRouter extends ContractFake<RecordedRequest, ScriptedAnswer> {
  readonly baseUrl: string;
  readonly jobs = new Map<string, FakeJob>();
  readonly video: Uint8Array;
  private readonly models: Record<string, FakeVideoModel>;
  private readonly basePath: string;
  private readonly now: () => number;
  private nextId = 1;

  constructor(private readonly options: FakeOpenRouterOptions) {
    super({ pattern: (a) => a.path, subject: (r) => r.url.pathname });
    this.baseUrl = options.baseUrl ?? OPENROUTER_BASE;
    this.basePath = new URL(this.baseUrl).pathname.replace(/\/+$/, "");
    this.models = options.models ?? { "google/veo-3.1": VEO_31, "minimax/hailuo-2.3": HAILUO_23 };
    this.video = options.video ?? patternBytes(64 * 1024);
    this.now = options.now ?? Date.now;
  }

  /** The next matching request(s) fail with `status` in OpenRouter's error envelope (§1). */
  failNext(
    status: number,
    opts: Omit<ScriptedAnswer, "respond"> & {
      message?: string;
      metadata?: Record<string, unknown>;
      headers?: Record<string, string>;
    } = {},
  ): this {
    const { message, metadata, headers, ...match } = opts;
    return this.script({
      ...match,
      respond: () => failure(status, message ?? `Scripted failure ${status}`, metadata, headers),
    });
  }

  /** Pins a job to one state (a failure, a cancellation, an odd status). */
  setState(id: string, state: FakeJobState): void {
    this.mustGet(id).forced = state;
  }

  /**
   * A delivery as OpenRouter sends it (§6): the `{type, created_at, data}` envelope, signed
   * `t=<unix s>,v1=<hex HMAC-SHA256 of "t," + body>` with the workspace secret, and the
   * `<job id>-<status>` idempotency key.
   */
  async signedDelivery(
    url: string,
    id: string,
    opts: { secret: string; status?: FakeJobStatus; timestamp?: number; error?: string },
  ): Promise<Request> {
    const job = this.mustGet(id);
    const status = opts.status ?? "completed";
    const data: Record<string, unknown> = {
      id,
      status,
      generation_id: `gen-${id}`,
      model: job.body.model,
    };
    if (status === "completed") {
      data.unsigned_urls = [this.contentUrl(id)];
      data.usage = { cost: 0.5, is_byok: false };
    } else {
      data.error = opts.error ?? "model returned no output";
    }
    const body = JSON.stringify({
      type: `video.generation.${status}`,
      created_at: new Date(this.now()).toISOString(),
      data,
    });
    const timestamp = String(opts.timestamp ?? Math.floor(this.now() / 1000));
    return new Request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-openrouter-signature": `t=${timestamp},v1=${await signOpenRouter(opts.secret, timestamp, body)}`,
        "x-openrouter-idempotency-key": `${id}-${status}`,
      },
      body,
    });
  }

  protected async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = await request.text();
    const recorded = this.record(request, { json: null });
    if (url.href.includes(this.options.apiKey)) this.violate(recorded, "the key is in the URL");
    if (url.origin === OPENROUTER_MEDIA_ORIGIN) return this.media(recorded, text);
    if (!url.href.startsWith(`${this.baseUrl}/`)) return this.violate(recorded, "unknown host");
    if (request.redirect !== "manual") this.violate(recorded, "redirects not handled manually");

    const route = this.route(recorded, text);
    const auth = recorded.headers.get("authorization");
    if (!auth) return failure(401, "Missing Authentication header");
    if (auth !== `Bearer ${this.options.apiKey}`) return failure(401, "User not found.");
    const scripted = this.scripted(recorded);
    if (scripted) return scripted.respond(recorded);
    return route();
  }

  /** Violations throw here; the API's own refusals are answered by the returned function. */
  private route(r: RecordedRequest, text: string): () => Response {
    const path = r.url.pathname.slice(this.basePath.length);
    if (r.method === "POST" && path === "/videos") {
      if (r.url.search) this.violate(r, "a query on create");
      if (!r.headers.get("content-type")?.startsWith("application/json")) {
        this.violate(r, "create must be JSON");
      }
      this.checkFields(r, text);
      return () => this.create(r, text);
    }
    if (r.method !== "GET") return this.violate(r, "no such route");
    if (text) this.violate(r, "a body on a GET");
    if (path === "/videos/models") return () => this.catalog();
    const m = path.match(/^\/videos\/([^/]+)(\/content)?$/);
    if (!m || !/^[A-Za-z0-9_-]+$/.test(m[1]!)) return this.violate(r, "no such route");
    const id = m[1]!;
    if (!m[2]) {
      if (r.url.search) this.violate(r, "a query on a poll");
      return () => this.retrieve(id);
    }
    if (!/^\?index=\d+$/.test(r.url.search)) this.violate(r, "content takes only ?index=N");
    return () => this.content(r, id, Number(r.url.searchParams.get("index")));
  }

  private create(r: RecordedRequest, text: string): Response {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return failure(400, "Invalid JSON in request body");
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      return failure(400, "Invalid request parameters");
    }
    const b = parsed as Record<string, unknown>;
    const invalid = this.invalidFields(r, b);
    if (invalid.length > 0) {
      return failure(400, invalid.join("; "), { error_type: "invalid_request" });
    }
    const id = `Fk${String(this.nextId++).padStart(18, "0")}`;
    this.jobs.set(id, { id, body: b, polls: 0, forced: null, last: { status: "pending" } });
    // The spec's relative `polling_url` (§2); the adapter must not use it anyway.
    return Response.json(
      { id, polling_url: `/api/v1/videos/${id}`, status: "pending" },
      { status: 202 },
    );
  }

  /** Before auth and scripts: fields no spec version has, or that are never ours to send. */
  private checkFields(r: RecordedRequest, text: string): void {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      return; // the API's own 400, answered by `create`
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return;
    r.json = parsed as Record<string, unknown>;
    for (const key of Object.keys(r.json)) {
      if (!REQUEST_FIELDS.has(key)) this.violate(r, `field ${key} is not in the spec`);
      if (NEVER_SENT.has(key)) this.violate(r, `field ${key} is never ours to send`);
    }
  }

  /** The 400s the real API gives (§2 types, §7 sets, §10); each reason as its message. */
  private invalidFields(r: RecordedRequest, b: Record<string, unknown>): string[] {
    const out: string[] = [];
    if (typeof b.model !== "string") return ["model: Required"];
    const model = this.models[b.model];
    if (!model) return [`Model ${b.model} is not a video generation model`];
    const inSet = (name: string, value: unknown, set: readonly unknown[] | null) => {
      if (set && !set.includes(value)) out.push(`${name}: must be one of ${set.join(", ")}`);
    };
    if (b.prompt !== undefined && typeof b.prompt !== "string") out.push("prompt: Expected string");
    if (b.prompt === undefined && b.frame_images === undefined) out.push("prompt: Required");
    if (b.duration !== undefined) {
      if (!Number.isInteger(b.duration) || (b.duration as number) < 1) {
        out.push("duration: Expected integer >= 1");
      } else inSet("duration", b.duration, model.supported_durations);
    }
    if (b.resolution !== undefined) {
      if (!RESOLUTIONS.includes(String(b.resolution))) out.push("resolution: Invalid enum value");
      else inSet("resolution", b.resolution, model.supported_resolutions);
    }
    if (b.aspect_ratio !== undefined) {
      if (!ASPECT_RATIOS.includes(String(b.aspect_ratio))) {
        out.push("aspect_ratio: Invalid enum value");
      } else inSet("aspect_ratio", b.aspect_ratio, model.supported_aspect_ratios);
    }
    if (b.size !== undefined) {
      if (typeof b.size !== "string" || !/^\d+x\d+$/.test(b.size)) out.push("size: Invalid");
      else inSet("size", b.size, model.supported_sizes);
    }
    if (b.generate_audio !== undefined && typeof b.generate_audio !== "boolean") {
      out.push("generate_audio: Expected boolean");
    } else if (b.generate_audio === true && model.generate_audio === false) {
      out.push(`generate_audio: ${b.model} does not generate audio`);
    }
    if (b.callback_url !== undefined) {
      const ok = typeof b.callback_url === "string" && URL.canParse(b.callback_url);
      if (!ok || new URL(String(b.callback_url)).protocol !== "https:") {
        out.push("callback_url: Must be HTTPS");
      }
    }
    if (b.frame_images !== undefined) out.push(...this.invalidFrames(r, b.frame_images, model));
    return out;
  }

  private invalidFrames(r: RecordedRequest, frames: unknown, model: FakeVideoModel): string[] {
    if (!Array.isArray(frames)) return ["frame_images: Expected array"];
    const out: string[] = [];
    const seen = new Set<string>();
    for (const [i, frame] of frames.entries()) {
      const f = (frame ?? {}) as Record<string, unknown>;
      const url = (f.image_url as { url?: unknown } | undefined)?.url;
      if (f.type !== "image_url" || typeof url !== "string") {
        out.push(`frame_images.${i}: Expected {type:"image_url", image_url:{url}}`);
        continue;
      }
      const type = String(f.frame_type);
      if (!["first_frame", "last_frame"].includes(type)) {
        out.push(`frame_images.${i}.frame_type: Invalid enum value`);
      } else if (
        model.supported_frame_images &&
        !model.supported_frame_images.includes(type as "first_frame")
      ) {
        out.push(`frame_images.${i}.frame_type: ${type} is not supported by this model`);
      }
      if (seen.has(type)) out.push(`frame_images: more than one ${type}`);
      seen.add(type);
      if (url.startsWith("https://")) continue;
      const m = url.match(DATA_URL);
      if (!m) {
        out.push(`frame_images.${i}.image_url.url: must be an https or data URL`);
        continue;
      }
      const bytes = Uint8Array.from(atob(m[2]!), (c) => c.charCodeAt(0));
      if (sniff(bytes) !== m[1]) this.violate(r, `frame_images.${i} bytes are not ${m[1]}`);
    }
    return out;
  }

  private retrieve(id: string): Response {
    const job = this.jobs.get(id);
    if (!job) return failure(404, "Resource not found");
    const lifecycle = this.options.lifecycle ?? DEFAULT_LIFECYCLE;
    const state = job.forced ?? lifecycle[Math.min(job.polls, lifecycle.length - 1)]!;
    job.polls++;
    job.last = state;
    return Response.json(this.jobBody(job, state));
  }

  private jobBody(job: FakeJob, state: FakeJobState): Record<string, unknown> {
    const body: Record<string, unknown> = {
      id: job.id,
      polling_url: `${this.baseUrl}/videos/${job.id}`,
      status: state.status,
    };
    if (state.status !== "pending") body.generation_id = `gen-${job.id}`;
    if (state.status === "completed") {
      body.unsigned_urls = state.unsigned_urls ?? [this.contentUrl(job.id)];
      body.usage = { cost: 0.5, is_byok: false };
    }
    if (state.error !== undefined) body.error = state.error;
    return body;
  }

  /** The authenticated content proxy (§4): the bytes of a completed job, index 0 only. */
  private content(r: RecordedRequest, id: string, index: number): Response {
    const job = this.jobs.get(id);
    if (!job || index !== 0) return failure(404, "Resource not found");
    // 409 before completion is the SDK's code for it (§4, meaning UNCONFIRMED).
    if (job.last.status !== "completed") return failure(409, "Video generation is not complete");
    if (this.options.redirectContent) {
      const location = `${OPENROUTER_MEDIA_ORIGIN}/videos/${id}.mp4?sig=fake-signature`;
      return new Response(null, { status: 302, headers: { location } });
    }
    return rangeAnswer(this.video, r.headers.get("range"), {
      "content-type": "video/mp4",
      etag: '"fake-openrouter"',
      "set-cookie": "__cf_bm=fake; path=/; HttpOnly",
      "x-generation-id": `gen-${id}`,
      "cf-ray": "8f00fake-SJC",
    });
  }

  /** The stand-in storage host: no key, no body, single byte ranges. */
  private media(r: RecordedRequest, text: string): Response | Promise<Response> {
    if (r.headers.has("authorization")) this.violate(r, "the key was sent to the media host");
    if (r.method !== "GET" || text) this.violate(r, "the media host only serves GET");
    const scripted = this.scripted(r);
    if (scripted) return scripted.respond(r);
    const id = r.url.pathname.match(/^\/videos\/([A-Za-z0-9_-]+)\.mp4$/)?.[1];
    if (!id || !this.jobs.has(id)) return new Response("Not Found", { status: 404 });
    return rangeAnswer(this.video, r.headers.get("range"), {
      "content-type": "video/mp4",
      "x-goog-generation": "1700000000000000",
    });
  }

  private catalog(): Response {
    const data = Object.entries(this.models).map(([id, m]) => ({
      id,
      canonical_slug: id,
      name: id,
      created: 1_700_000_000,
      upscale_factor: null,
      creativity: null,
      allowed_passthrough_parameters: [],
      ...m,
    }));
    return Response.json({ data });
  }

  private contentUrl(id: string): string {
    return `${this.baseUrl}/videos/${id}/content?index=0`;
  }

  private mustGet(id: string): FakeJob {
    return this.must(this.jobs, id, "job");
  }
}

/** OpenRouter's error envelope; the HTTP status equals `error.code` (§1). */
export function failure(
  status: number,
  message: string,
  metadata?: Record<string, unknown>,
  headers: Record<string, string> = {},
): Response {
  const error: Record<string, unknown> = { code: status, message };
  if (metadata) error.metadata = metadata;
  return Response.json({ error, user_id: null }, { status, headers });
}

/** `hex(HMAC-SHA256(UTF-8 secret, "<t>," + body))` (§6), written apart from the adapter's. */
export async function signOpenRouter(secret: string, timestamp: string, body: string) {
  const mac = await hmacSha256(secret, `${timestamp},${body}`);
  return [...mac].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** The image type by its magic bytes, or null. */
function sniff(b: Uint8Array): string | null {
  const ascii = (at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
  if (b[0] === 0x89 && ascii(1, 3) === "PNG") return "image/png";
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return "image/jpeg";
  if (ascii(0, 4) === "RIFF" && ascii(8, 4) === "WEBP") return "image/webp";
  return null;
}
