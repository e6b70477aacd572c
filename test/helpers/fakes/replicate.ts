/**
 * A contract fake of Replicate's HTTP API and its file delivery host, built from
 * docs/providers/replicate.md §3 and the official JS client's tests.
 *
 * It serves only the documented routes and checks every request as the contract demands: the
 * Bearer token on the API host and never on the delivery host; a JSON create body of exactly
 * `{input, webhook?, webhook_events_filter?}`; every input field known to the model's schema
 * with the right type; images as data URIs whose bytes really are that type. Refusals Replicate
 * makes itself (a value outside an enum, a bad token, an unknown model) are answered with its
 * `{title, detail, status}` body; anything our adapter should never send is a violation:
 * recorded and thrown. Retrying code may swallow the throw, so tests also call `assertClean()`.
 */
import { ContractFake, ContractViolation, imageInfo, patternBytes } from "./base";
import type { RecordedBase, ScriptedBase } from "./base";
import { rangeAnswer } from "./range";

export const API_BASE = "https://api.replicate.com/v1";
export const DELIVERY_ORIGIN = "https://replicate.delivery";

/** `uri`: an image data URI; `file`: the URL of a file uploaded to this fake's Files API. */
type FieldType = "string" | "integer" | "number" | "boolean" | "uri" | "file";
export type ModelSchema = Record<string, { type: FieldType; enum?: unknown[]; required?: true }>;

/** google/veo-3.1's inputs (replicate.com/google/veo-3.1 API page, §3 "Create"). */
export const VEO_31_SCHEMA: ModelSchema = {
  prompt: { type: "string", required: true },
  image: { type: "uri" },
  last_frame: { type: "uri" },
  duration: { type: "integer", enum: [4, 6, 8] },
  aspect_ratio: { type: "string", enum: ["16:9", "9:16"] },
  resolution: { type: "string", enum: ["720p", "1080p"] },
  generate_audio: { type: "boolean" },
  negative_prompt: { type: "string" },
  seed: { type: "integer" },
};

/**
 * runwayml/gen4-aleph (replicate.com/runwayml/gen4-aleph API page, §3a): edits the first 5 s of
 * `video` (< 16 MB) per `prompt`.
 */
export const GEN4_ALEPH_SCHEMA: ModelSchema = {
  video: { type: "file", required: true },
  prompt: { type: "string", required: true },
  aspect_ratio: { type: "string", enum: ["16:9", "9:16", "4:3", "3:4", "1:1", "21:9"] },
  seed: { type: "integer" },
  reference_image: { type: "uri" },
};

/**
 * wan-video/wan-2.7-i2v in clip continuation (§3a): `first_clip` (2–10 s) and `duration`, the
 * stitched total (2–15 s).
 */
export const WAN_27_I2V_SCHEMA: ModelSchema = {
  prompt: { type: "string", required: true },
  first_clip: { type: "file" },
  first_frame: { type: "uri" },
  last_frame: { type: "uri" },
  duration: { type: "integer", enum: Array.from({ length: 14 }, (_, i) => i + 2) },
  resolution: { type: "string", enum: ["720p", "1080p"] },
  negative_prompt: { type: "string" },
  enable_prompt_expansion: { type: "boolean" },
  seed: { type: "integer" },
};

/** wan-video/wan-2.7-videoedit (§3a): edits `video` (2–10 s) per `prompt`. */
export const WAN_27_VIDEOEDIT_SCHEMA: ModelSchema = {
  video: { type: "file", required: true },
  prompt: { type: "string", required: true },
  reference_image: { type: "uri" },
  resolution: { type: "string", enum: ["720p", "1080p"] },
  aspect_ratio: { type: "string", enum: ["auto", "16:9", "9:16", "1:1", "4:3", "3:4"] },
  duration: { type: "integer", enum: Array.from({ length: 9 }, (_, i) => i + 2) },
  audio_setting: { type: "string", enum: ["auto", "origin"] },
  seed: { type: "integer" },
};

const WEBHOOK_EVENTS = ["start", "output", "logs", "completed"];
const CREATE_KEYS = new Set(["input", "webhook", "webhook_events_filter"]);

export interface FakeAsset {
  bytes: Uint8Array;
  type: string;
}

export interface FakeReplicateOptions {
  apiKey: string;
  /** Official models by `owner/name`. */
  models?: Record<string, ModelSchema>;
  /** Status polls from `starting` to `succeeded` (default 3: processing, processing, succeeded). */
  pollsToComplete?: number;
  /** Some models return `output` as an array of URLs. */
  outputAsArray?: boolean;
  media?: FakeAsset;
  now?: () => number;
}

export interface RecordedRequest extends RecordedBase {
  /** The parsed JSON body, or null when there was none. */
  json: Record<string, unknown> | null;
}

export interface FakePrediction {
  id: string;
  model: string;
  version: string;
  input: Record<string, unknown>;
  logs: string;
  output: unknown;
  data_removed: boolean;
  error: unknown;
  status: "starting" | "processing" | "succeeded" | "failed" | "canceled" | "aborted";
  created_at: string;
  started_at: string | null;
  completed_at: string | null;
  urls: Record<string, string>;
  metrics: Record<string, number>;
  source: "api";
  webhook?: string;
}

export interface ScriptedAnswer extends ScriptedBase<RecordedRequest> {
  /** Matched against the full URL. */
  url?: string | RegExp;
}

export { ContractViolation };

export class FakeReplicate extends ContractFake<RecordedRequest, ScriptedAnswer> {
  readonly predictions = new Map<string, FakePrediction & { polls: number }>();
  /** Output files the delivery host serves; deleted when a prediction expires. */
  readonly files = new Map<string, FakeAsset>();
  /** Files uploaded through `POST /v1/files`, by the `urls.get` URL handed back. */
  readonly uploads = new Map<string, FakeAsset>();
  private readonly models: Record<string, ModelSchema>;
  private readonly now: () => number;
  private nextId = 1;

  constructor(private readonly options: FakeReplicateOptions) {
    super({ pattern: (a) => a.url, subject: (r) => r.url.href });
    this.models = options.models ?? { "google/veo-3.1": VEO_31_SCHEMA };
    this.now = options.now ?? Date.now;
  }

  /** The next matching request(s) fail with `status` and Replicate's problem body. */
  failNext(
    status: number,
    opts: Omit<ScriptedAnswer, "respond"> & {
      headers?: Record<string, string>;
      detail?: string;
      title?: string;
    } = {},
  ): this {
    const { headers, detail, title, ...match } = opts;
    return this.script({
      ...match,
      respond: () => problem(status, title ?? `Scripted ${status}`, detail ?? "", headers),
    });
  }

  /** Ends a prediction the way a failed, cancelled or aborted run does: a 200 with that status. */
  endPrediction(id: string, status: "failed" | "canceled" | "aborted", error: unknown): void {
    Object.assign(this.mustGet(id), { status, error, completed_at: this.iso() });
  }

  /** Replicate's one-hour cleanup: the file is gone; with `removeData`, the output field too. */
  expire(id: string, removeData = false): void {
    const prediction = this.mustGet(id);
    this.files.delete(this.outputPath(id));
    if (removeData) Object.assign(prediction, { output: null, data_removed: true });
  }

  /** A delivery as Replicate sends it: the prediction, Standard-Webhooks signed (§3 "Webhooks"). */
  async signedDelivery(
    url: string,
    id: string,
    opts: { secret: string; msgId?: string; timestamp?: number },
  ): Promise<Request> {
    const body = JSON.stringify(publicPrediction(this.mustGet(id)));
    const msgId = opts.msgId ?? `msg_${id}`;
    const timestamp = String(opts.timestamp ?? Math.floor(this.now() / 1000));
    const signature = await sign(opts.secret, `${msgId}.${timestamp}.${body}`);
    return new Request(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "webhook-id": msgId,
        "webhook-timestamp": timestamp,
        "webhook-signature": `v1,${signature}`,
      },
      body,
    });
  }

  protected async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const recorded = this.record(request, { json: null });
    if (request.method === "POST" && url.href === `${API_BASE}/files`) {
      return this.upload(recorded, request);
    }
    const text = await request.text();
    if (url.href.includes(this.options.apiKey)) this.violate(recorded, "the token is in the URL");
    if (url.origin === DELIVERY_ORIGIN) return this.delivery(recorded, text);
    if (!url.href.startsWith(`${API_BASE}/`)) return this.violate(recorded, "unknown host");
    if (url.search) this.violate(recorded, "unexpected query");
    if (text) {
      if (!request.headers.get("content-type")?.startsWith("application/json"))
        this.violate(recorded, "a body that is not JSON");
      try {
        recorded.json = JSON.parse(text) as Record<string, unknown>;
      } catch {
        this.violate(recorded, "malformed JSON");
      }
    }
    if (recorded.headers.has("prefer")) this.violate(recorded, "Prefer: wait is useless for video");
    const route = this.route(recorded);
    if (recorded.headers.get("authorization") !== `Bearer ${this.options.apiKey}`) {
      return problem(401, "Unauthenticated", "You did not pass a valid authentication token");
    }
    const refusal = route.check?.();
    if (refusal) return refusal;
    const scripted = this.scripted(recorded);
    if (scripted) return scripted.respond(recorded);
    return route.answer();
  }

  private route(r: RecordedRequest): { check?: () => Response | null; answer: () => Response } {
    const path = r.url.pathname.slice(new URL(API_BASE).pathname.length);
    const create = path.match(/^\/models\/([^/]+)\/([^/]+)\/predictions$/);
    if (r.method === "POST" && create) {
      const model = `${create[1]}/${create[2]}`;
      return { check: () => this.checkCreate(r, model), answer: () => this.create(r, model) };
    }
    const one = path.match(/^\/predictions\/([a-z0-9]+)(\/cancel)?$/);
    if (one && r.method === "GET" && !one[2]) return { answer: () => this.retrieve(one[1]!) };
    if (one && r.method === "POST" && one[2]) {
      if (r.json !== null) this.violate(r, "cancel takes no body");
      return { answer: () => this.cancel(one[1]!) };
    }
    return this.violate(r, "no such route");
  }

  /** Violations throw; Replicate's own refusals (422, unknown model) are returned. */
  private checkCreate(r: RecordedRequest, model: string): Response | null {
    const body = r.json ?? this.violate(r, "create needs a JSON body");
    for (const key of Object.keys(body))
      if (!CREATE_KEYS.has(key)) this.violate(r, `unknown body field ${key}`);
    const { input, webhook, webhook_events_filter: filter } = body;
    if (webhook !== undefined) {
      if (typeof webhook !== "string" || !webhook.startsWith("https://"))
        this.violate(r, "webhook must be an https URL");
      if (!Array.isArray(filter) || !filter.every((e) => WEBHOOK_EVENTS.includes(String(e))))
        this.violate(r, "webhook_events_filter must list documented events");
    } else if (filter !== undefined) this.violate(r, "webhook_events_filter without a webhook");
    const schema = this.models[model];
    if (!schema) return problem(404, "Not found", "The requested resource could not be found.");
    if (typeof input !== "object" || input === null || Array.isArray(input))
      return this.violate(r, "input must be an object");
    const invalid: string[] = [];
    for (const [name, value] of Object.entries(input)) {
      const field = schema[name] ?? this.violate(r, `input.${name} is not an input of ${model}`);
      if (!hasType(value, field.type)) this.violate(r, `input.${name} is not a ${field.type}`);
      if (field.type === "uri") this.checkImage(r, name, String(value));
      if (field.type === "file" && !this.uploads.has(String(value))) {
        this.violate(r, `input.${name} is not a file uploaded to this account`);
      }
      if (field.enum && !field.enum.includes(value))
        invalid.push(`- input.${name}: ${name} must be one of: ${field.enum.join(", ")}`);
    }
    for (const [name, field] of Object.entries(schema))
      if (field.required && !(name in input)) invalid.push(`- input: ${name} is required`);
    if (invalid.length === 0) return null;
    return problem(422, "Input validation failed", `${invalid.join("\n")}\n`);
  }

  /**
   * The Files API (§3a): multipart with the file in `content` (plus optional `filename`, `type`,
   * `metadata`), the token required; answers the file object whose `urls.get` names it.
   */
  private async upload(r: RecordedRequest, request: Request): Promise<Response> {
    if (!request.headers.get("content-type")?.startsWith("multipart/form-data")) {
      this.violate(r, "a file upload must be multipart/form-data");
    }
    if (r.headers.get("authorization") !== `Bearer ${this.options.apiKey}`) {
      return problem(401, "Unauthenticated", "You did not pass a valid authentication token");
    }
    const form = await request.formData();
    for (const name of form.keys()) {
      if (!["content", "filename", "type", "metadata"].includes(name)) {
        this.violate(r, `unknown upload field ${name}`);
      }
    }
    const content = form.get("content");
    if (!(content instanceof File)) return this.violate(r, "no file in content");
    const bytes = new Uint8Array(await content.arrayBuffer());
    const scripted = this.scripted(r);
    if (scripted) return scripted.respond(r);
    const id = `f${String(this.nextId++).padStart(8, "0")}upload${"y".repeat(10)}`;
    const get = `${API_BASE}/files/${id}`;
    this.uploads.set(get, { bytes, type: content.type });
    return Response.json(
      {
        id,
        checksums: { sha256: "fake" },
        content_type: content.type,
        created_at: this.iso(),
        expires_at: new Date(this.now() + 86_400_000).toISOString(),
        metadata: {},
        size: bytes.length,
        urls: { get },
      },
      { status: 201 },
    );
  }

  private checkImage(r: RecordedRequest, name: string, value: string): void {
    const m = value.match(/^data:(image\/(?:png|jpeg|webp));base64,([A-Za-z0-9+/]*={0,2})$/);
    if (!m) return this.violate(r, `input.${name} is not an image data URI`);
    const bytes = Uint8Array.from(atob(m[2]!), (c) => c.charCodeAt(0));
    if (imageInfo(bytes)?.type !== m[1]) this.violate(r, `input.${name} bytes are not ${m[1]}`);
  }

  private create(r: RecordedRequest, model: string): Response {
    const id = `p${String(this.nextId++).padStart(8, "0")}fakefake${"x".repeat(9)}`;
    const prediction = {
      id,
      model,
      version: "hidden",
      input: r.json!.input as Record<string, unknown>,
      logs: "",
      output: null,
      data_removed: false,
      error: null,
      status: "starting" as const,
      created_at: this.iso(),
      started_at: null,
      completed_at: null,
      urls: {
        get: `${API_BASE}/predictions/${id}`,
        cancel: `${API_BASE}/predictions/${id}/cancel`,
        web: `https://replicate.com/p/${id}`,
      },
      metrics: {},
      source: "api" as const,
      polls: 0,
      ...(typeof r.json!.webhook === "string" ? { webhook: r.json!.webhook } : {}),
    };
    this.predictions.set(id, prediction);
    return Response.json(publicPrediction(prediction), { status: 201 });
  }

  private retrieve(id: string): Response {
    const prediction = this.predictions.get(id);
    if (!prediction) return problem(404, "Not found", "The requested resource could not be found.");
    if (prediction.status === "starting" || prediction.status === "processing")
      this.advance(prediction);
    return Response.json(publicPrediction(prediction));
  }

  private cancel(id: string): Response {
    const prediction = this.predictions.get(id);
    if (!prediction) return problem(404, "Not found", "The requested resource could not be found.");
    if (prediction.status === "starting" || prediction.status === "processing")
      Object.assign(prediction, { status: "canceled", completed_at: this.iso() });
    return Response.json(publicPrediction(prediction));
  }

  /** starting → processing … → succeeded, one step per status poll. */
  private advance(p: FakePrediction & { polls: number }): void {
    p.polls++;
    if (p.polls < (this.options.pollsToComplete ?? 3)) {
      Object.assign(p, { status: "processing", started_at: p.started_at ?? this.iso() });
      p.logs += `${p.polls * 10}%|##        | step ${p.polls}\n`;
      return;
    }
    const url = `${DELIVERY_ORIGIN}${this.outputPath(p.id)}`;
    this.files.set(this.outputPath(p.id), this.options.media ?? defaultMedia());
    Object.assign(p, {
      status: "succeeded",
      output: this.options.outputAsArray ? [url] : url,
      completed_at: this.iso(),
      metrics: { predict_time: 61.2 },
    });
  }

  /** The public file host: no token may arrive here, and only single ranges are answered. */
  private delivery(r: RecordedRequest, text: string): Response | Promise<Response> {
    if (r.headers.has("authorization")) this.violate(r, "the token was sent to the delivery host");
    if (r.method !== "GET" || text) this.violate(r, "the delivery host only serves GET");
    const scripted = this.scripted(r);
    if (scripted) return scripted.respond(r);
    const asset = this.files.get(r.url.pathname);
    if (!asset) return new Response("Not Found", { status: 404 });
    return mediaAnswer(asset, r.headers.get("range"));
  }

  private outputPath(id: string): string {
    return `/xezq/${id}/output.mp4`;
  }

  private iso(): string {
    // Replicate's timestamps carry microseconds.
    return new Date(this.now()).toISOString().replace("Z", "123Z");
  }

  private mustGet(id: string) {
    return this.must(this.predictions, id, "prediction");
  }
}

function hasType(value: unknown, type: FieldType): boolean {
  if (type === "integer") return Number.isInteger(value);
  if (type === "uri" || type === "file") return typeof value === "string";
  return typeof value === type;
}

/** Replicate's error body (RFC 9457 style), as the official client's tests replay it. */
export function problem(
  status: number,
  title: string,
  detail: string,
  headers: Record<string, string> = {},
): Response {
  return Response.json(
    { title, detail, status },
    { status, headers: { "content-type": "application/problem+json", ...headers } },
  );
}

export function publicPrediction(p: FakePrediction & { polls?: number }): FakePrediction {
  const { polls: _, webhook: __, ...rest } = p;
  return rest;
}

function defaultMedia(): FakeAsset {
  return { bytes: patternBytes(64 * 1024), type: "video/mp4" };
}

/** Standard Webhooks: base64 HMAC-SHA256 over `id.timestamp.body` with the decoded secret. */
export async function sign(secret: string, content: string): Promise<string> {
  const raw = Uint8Array.from(atob(secret.replace(/^whsec_/, "")), (c) => c.charCodeAt(0));
  const key = await crypto.subtle.importKey("raw", raw, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(content)),
  );
  return btoa(String.fromCharCode(...mac));
}

/** Media with Range support, and headers a client must not see (test/helpers/fakes/range.ts). */
function mediaAnswer(asset: FakeAsset, range: string | null): Response {
  return rangeAnswer(asset.bytes, range, {
    "content-type": asset.type,
    etag: '"fake-output"',
    "last-modified": "Wed, 01 Oct 2025 12:00:00 GMT",
    "cf-ray": "8f00fake-SJC",
    "x-goog-generation": "1700000000000000",
    "set-cookie": "__cf_bm=fake; path=/; HttpOnly",
  });
}
