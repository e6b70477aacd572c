/**
 * A contract fake of Veo on the Gemini API, built from docs/providers/veo.md §1.
 *
 * It serves the three documented calls — `POST /v1beta/models/{m}:predictLongRunning`,
 * `GET /v1beta/{operation name}`, and the file download `GET /v1beta/files/{id}:download` —
 * and checks every request the way the API and its SDK do: the key only in `x-goog-api-key`
 * (never `?key=`), a JSON body with only Gemini-API fields of the right types (Vertex-only ones
 * such as `generateAudio` are violations, as the SDK throws on them), numbers where numbers are
 * due. Legitimate refusals are answered with Google's error envelope; anything our adapter
 * should never send is recorded and thrown. Retrying code may swallow the throw, so tests also
 * call `assertClean()`.
 */
import { ContractFake, ContractViolation, imageInfo, patternBytes } from "./base";
import type { RecordedBase, ScriptedBase } from "./base";
import { rangeAnswer } from "./range";

export const API_ORIGIN = "https://generativelanguage.googleapis.com";
/** Where downloads are redirected when `redirectDownloads` is on (the real target is UNCONFIRMED). */
export const STORAGE_ORIGIN = "https://video-downloads.googleusercontent.com";

/** §1 "Model ids"; anything else is answered 404 like an unknown model. */
export const MODELS = [
  "veo-3.1-generate-preview",
  "veo-3.1-fast-generate-preview",
  "veo-3.1-lite-generate-preview",
  "veo-3.0-generate-001",
  "veo-3.0-fast-generate-001",
];
const INSTANCE_FIELDS = new Set(["prompt", "image", "video"]);
const PARAMETER_FIELDS = new Set([
  "aspectRatio",
  "durationSeconds",
  "resolution",
  "personGeneration",
  "negativePrompt",
]);
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];

export interface FakeVeoOptions {
  apiKey: string;
  /** Operation polls until `done` (the last one answers done). */
  pollsToComplete?: number;
  /** The generated file. */
  video?: Uint8Array;
  /** Answer a download with a 302 to a signed storage URL instead of the bytes. */
  redirectDownloads?: boolean;
}

/** One request as the fake saw it. */
export interface RecordedRequest extends RecordedBase {
  redirect: string;
  /** The parsed JSON body, if any. */
  json: unknown;
}

export interface ScriptedAnswer extends ScriptedBase<RecordedRequest> {
  /** Matched against the URL's pathname. */
  path?: string | RegExp;
}

/** What `done` looks like for one operation. */
type Outcome =
  | { kind: "video" }
  | { kind: "error"; error: { code: number; message: string } }
  | { kind: "filtered"; count: number; reasons: string[] };

interface FakeOperation {
  name: string;
  fileId: string;
  polls: number;
  outcome: Outcome;
}

export { ContractViolation };

export class FakeVeo extends ContractFake<RecordedRequest, ScriptedAnswer> {
  readonly operations = new Map<string, FakeOperation>();
  readonly video: Uint8Array;
  private nextId = 1;

  constructor(private readonly options: FakeVeoOptions) {
    super({ pattern: (a) => a.path, subject: (r) => r.url.pathname });
    this.video = options.video ?? patternBytes(64 * 1024);
  }

  /** The next matching request(s) fail with Google's error envelope. */
  failNext(
    status: number,
    opts: Omit<ScriptedAnswer, "respond"> & {
      grpc?: string;
      message?: string;
      details?: unknown[];
      headers?: Record<string, string>;
    } = {},
  ): this {
    const { grpc, message, details, headers, ...match } = opts;
    return this.script({
      ...match,
      respond: () =>
        googleError(status, grpc ?? "INTERNAL", message ?? `Scripted ${status}`, details, headers),
    });
  }

  /** The operation will finish `done` with `error {code, message}`. */
  failOperation(name: string, error: { code: number; message: string }): void {
    this.mustGet(name).outcome = { kind: "error", error };
  }

  /** The operation will finish `done` with no samples, held back by the RAI filter. */
  filterOperation(name: string, count: number, reasons: string[]): void {
    this.mustGet(name).outcome = { kind: "filtered", count, reasons };
  }

  protected async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const recorded = this.record(request, { redirect: request.redirect, json: undefined });
    const text = await request.text();
    if (text) {
      if (!request.headers.get("content-type")?.startsWith("application/json")) {
        this.violate(recorded, "a body that is not application/json");
      }
      try {
        recorded.json = JSON.parse(text);
      } catch {
        this.violate(recorded, "a body that is not JSON");
      }
    }
    if (url.href.includes(this.options.apiKey) || url.searchParams.has("key")) {
      this.violate(recorded, "the key is in the URL");
    }
    if (url.origin === STORAGE_ORIGIN) return this.storage(recorded);
    if (url.origin !== API_ORIGIN) this.violate(recorded, "a host other than the Gemini API");
    const route = this.route(recorded);
    if (recorded.headers.has("authorization")) this.violate(recorded, "an Authorization header");
    if (recorded.headers.get("x-goog-api-key") !== this.options.apiKey) {
      // What the API says to a bad key: 400, not 401 (Gemini troubleshooting page).
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [{ "@type": "type.googleapis.com/google.rpc.ErrorInfo", reason: "API_KEY_INVALID" }],
      );
    }
    route.check?.();
    const scripted = this.scripted(recorded);
    if (scripted) return scripted.respond(recorded);
    return route.answer();
  }

  private route(r: RecordedRequest): { check?: () => void; answer: () => Response } {
    const path = r.url.pathname;
    let m = /^\/v1beta\/models\/([^/:]+):predictLongRunning$/.exec(path);
    if (m && r.method === "POST") {
      const model = m[1]!;
      if (r.url.search) this.violate(r, "unexpected query");
      return { check: () => this.checkCreate(r), answer: () => this.create(model, r) };
    }
    m = /^\/v1beta\/(models\/[^/]+\/operations\/[^/]+)$/.exec(path);
    if (m && r.method === "GET" && !r.url.search) return { answer: () => this.poll(m![1]!) };
    m = /^\/v1beta\/files\/([a-z0-9]+):download$/.exec(path);
    if (m && r.method === "GET") {
      const fileId = m[1]!;
      return { check: () => this.checkDownload(r), answer: () => this.download(fileId, r) };
    }
    return this.violate(r, "no such route");
  }

  private checkCreate(r: RecordedRequest): void {
    const body = r.json as Record<string, unknown> | undefined;
    if (!isObject(body) || !sameKeys(body, ["instances", "parameters"])) {
      return this.violate(r, "body must be exactly {instances, parameters}");
    }
    const { instances, parameters } = body;
    if (!Array.isArray(instances) || instances.length !== 1 || !isObject(instances[0])) {
      return this.violate(r, "instances must hold exactly one object");
    }
    const instance = instances[0];
    for (const key of Object.keys(instance)) {
      if (!INSTANCE_FIELDS.has(key)) this.violate(r, `unknown instance field ${key}`);
    }
    if (typeof instance.prompt !== "string" || instance.prompt.length === 0) {
      this.violate(r, "prompt must be a non-empty string");
    }
    if (instance.image !== undefined) this.checkImage(r, instance.image);
    if (!isObject(parameters)) return this.violate(r, "parameters must be an object");
    if (instance.video !== undefined) return this.checkExtension(r, instance, parameters);
    for (const key of Object.keys(parameters)) {
      // Includes the Vertex-only ones (generateAudio, seed, …) and webhookConfig (§1).
      if (!PARAMETER_FIELDS.has(key)) this.violate(r, `unknown or Vertex-only parameter ${key}`);
    }
    const { aspectRatio, durationSeconds, resolution, personGeneration, negativePrompt } =
      parameters;
    if (!["16:9", "9:16"].includes(aspectRatio as string)) this.violate(r, "bad aspectRatio");
    if (typeof durationSeconds !== "number") this.violate(r, "durationSeconds must be a number");
    if (!["720p", "1080p", "4k"].includes(resolution as string)) this.violate(r, "bad resolution");
    if (
      personGeneration !== undefined &&
      !["allow_all", "allow_adult", "dont_allow"].includes(personGeneration as string)
    ) {
      this.violate(r, "bad personGeneration");
    }
    if (negativePrompt !== undefined && typeof negativePrompt !== "string") {
      this.violate(r, "negativePrompt must be a string");
    }
  }

  /**
   * An extension (docs/providers/veo.md "Extension"): `video: {uri}` of an earlier generation, no
   * image, 720p, and none of the create-only parameters the docs rule out with it.
   */
  private checkExtension(
    r: RecordedRequest,
    instance: Record<string, unknown>,
    parameters: Record<string, unknown>,
  ): void {
    const { video } = instance;
    if (!isObject(video) || !sameKeys(video, ["uri"]) || typeof video.uri !== "string") {
      return this.violate(r, "video must be exactly {uri} (the mldev form)");
    }
    if (instance.image !== undefined) this.violate(r, "image is not allowed with video");
    for (const key of Object.keys(parameters)) {
      if (!["resolution", "negativePrompt", "personGeneration"].includes(key)) {
        this.violate(r, `parameter ${key} is not sent with an extension`);
      }
    }
    if (parameters.resolution !== "720p") this.violate(r, "extensions are 720p only");
  }

  private checkImage(r: RecordedRequest, image: unknown): void {
    if (!isObject(image) || !sameKeys(image, ["bytesBase64Encoded", "mimeType"])) {
      // `gcsUri` is Vertex-only (§1): the SDK throws on it.
      return this.violate(r, "image must be exactly {bytesBase64Encoded, mimeType}");
    }
    const { bytesBase64Encoded: b64, mimeType } = image;
    if (typeof mimeType !== "string" || !IMAGE_TYPES.includes(mimeType)) {
      this.violate(r, "bad image mimeType");
    }
    let bytes: Uint8Array;
    try {
      bytes = Uint8Array.from(atob(String(b64)), (c) => c.charCodeAt(0));
    } catch {
      return this.violate(r, "image bytes are not base64");
    }
    if (imageInfo(bytes)?.type !== mimeType) this.violate(r, `image is not a ${mimeType}`);
  }

  /** The documented rules are answered like the API: 400 INVALID_ARGUMENT (§1). */
  private create(model: string, r: RecordedRequest): Response {
    if (!MODELS.includes(model)) {
      return googleError(404, "NOT_FOUND", `models/${model} is not found for API version v1beta.`);
    }
    const body = r.json as { instances: [{ video?: { uri: string } }]; parameters: never };
    const source = body.instances[0].video;
    if (source) return this.extend(model, source.uri);
    const { durationSeconds, resolution } = (r.json as { parameters: Record<string, unknown> })
      .parameters;
    if (![4, 6, 8].includes(durationSeconds as number)) {
      return googleError(400, "INVALID_ARGUMENT", "durationSeconds must be 4, 6 or 8.");
    }
    if (resolution !== "720p" && durationSeconds !== 8) {
      return googleError(400, "INVALID_ARGUMENT", `${resolution} requires durationSeconds 8.`);
    }
    if (resolution === "4k" && model.includes("lite")) {
      return googleError(400, "INVALID_ARGUMENT", "4k is not supported by this model.");
    }
    return this.newOperation(model);
  }

  /** Only a finished generation's own file can be extended, and not by Lite (§ "Extension"). */
  private extend(model: string, uri: string): Response {
    if (!/^veo-3\.1-(fast-)?generate/.test(model)) {
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "Video extension is not supported by this model.",
      );
    }
    const op = [...this.operations.values()].find((o) => this.fileUri(o.fileId) === uri);
    if (!op || op.outcome.kind !== "video" || op.polls < (this.options.pollsToComplete ?? 3)) {
      return googleError(
        400,
        "INVALID_ARGUMENT",
        "The input video must come from a previous generation.",
      );
    }
    this.extended.push({ from: op.name, uri });
    return this.newOperation(model);
  }

  /** Extensions accepted, in order: which operation's file each continued. */
  readonly extended: { from: string; uri: string }[] = [];

  private newOperation(model: string): Response {
    const id = `op${String(this.nextId).padStart(10, "0")}`;
    const name = `models/${model}/operations/${id}`;
    this.operations.set(name, {
      name,
      fileId: `file${this.nextId++}`,
      polls: 0,
      outcome: { kind: "video" },
    });
    return Response.json({ name });
  }

  /** Not done (no `done` field at all, as proto3 JSON omits false) until the last poll. */
  private poll(name: string): Response {
    const op = this.operations.get(name);
    if (!op) return googleError(404, "NOT_FOUND", `Operation ${name} not found.`);
    op.polls++;
    if (op.polls < (this.options.pollsToComplete ?? 3)) return Response.json({ name });
    const { outcome } = op;
    if (outcome.kind === "error") return Response.json({ name, done: true, error: outcome.error });
    const generateVideoResponse =
      outcome.kind === "filtered"
        ? { raiMediaFilteredCount: outcome.count, raiMediaFilteredReasons: outcome.reasons }
        : { generatedSamples: [{ video: { uri: this.fileUri(op.fileId) } }] };
    return Response.json({
      name,
      done: true,
      response: {
        "@type":
          "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
        generateVideoResponse,
      },
    });
  }

  /** The `video.uri` of a finished operation (§1 "Result"). */
  fileUri(fileId: string): string {
    return `${API_ORIGIN}/v1beta/files/${fileId}:download?alt=media`;
  }

  private checkDownload(r: RecordedRequest): void {
    if (r.url.searchParams.get("alt") !== "media" || [...r.url.searchParams].length !== 1) {
      this.violate(r, "a download takes exactly ?alt=media");
    }
    // With `follow`, fetch would carry the key header to wherever Google redirects.
    if (r.redirect !== "manual") this.violate(r, "a download must not follow redirects blindly");
  }

  private download(fileId: string, r: RecordedRequest): Response {
    const known = [...this.operations.values()].some((op) => op.fileId === fileId);
    if (!known) {
      return googleError(
        403,
        "PERMISSION_DENIED",
        `You do not have permission to access the File ${fileId} or it may not exist.`,
      );
    }
    if (this.options.redirectDownloads) {
      const location = `${STORAGE_ORIGIN}/v/${fileId}?sig=fake-signature`;
      return new Response(null, { status: 302, headers: { location } });
    }
    return mediaAnswer(this.video, r.headers.get("range"));
  }

  private storage(r: RecordedRequest): Response | Promise<Response> {
    if (r.headers.has("x-goog-api-key")) this.violate(r, "the key was sent to the storage host");
    if (r.method !== "GET" || !/^\/v\/file\d+$/.test(r.url.pathname)) {
      this.violate(r, "no such storage object");
    }
    const scripted = this.scripted(r);
    if (scripted) return scripted.respond(r);
    return mediaAnswer(this.video, r.headers.get("range"));
  }

  private mustGet(name: string): FakeOperation {
    return this.must(this.operations, name, "operation");
  }
}

/** Google's error envelope (Gemini API troubleshooting page). */
export function googleError(
  status: number,
  grpc: string,
  message: string,
  details?: unknown[],
  headers: Record<string, string> = {},
): Response {
  const error = { code: status, message, status: grpc, ...(details ? { details } : {}) };
  return Response.json({ error }, { status, headers });
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sameKeys(value: Record<string, unknown>, required: string[]): boolean {
  const keys = Object.keys(value);
  return keys.length === required.length && required.every((k) => keys.includes(k));
}

/** Media with Range support, and headers a client must not see (test/helpers/fakes/range.ts). */
function mediaAnswer(bytes: Uint8Array, range: string | null): Response {
  return rangeAnswer(bytes, range, {
    "content-type": "video/mp4",
    etag: '"fake-veo-file"',
    "x-goog-request-id": "fake-request",
    "x-guploader-uploadid": "fake-upload",
    "set-cookie": "NID=fake; path=/; HttpOnly",
  });
}
