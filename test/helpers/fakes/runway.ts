/**
 * A contract fake of Runway's task API and its result CDN, built from
 * docs/providers/runway.md §4.
 *
 * API calls must carry `Authorization: Bearer <key>` and `X-Runway-Version: 2024-11-06`; create
 * bodies are checked field by field against the model's documented union (ratio, integer
 * duration, data URI ≤ 5 MB whose bytes match its type, promptText ≤ 1000 UTF-16 units, `audio`
 * only for veo3.1*, `contentModeration` only for gen4*). Result downloads must carry NO key and a
 * signature the fake issued and has not expired. Anything our adapter should never send is a
 * contract violation: recorded and thrown; retrying code may swallow the throw, so tests also
 * call `assertClean()`.
 */
import { ContractFake, ContractViolation, imageInfo, patternBytes } from "./base";
import type { RecordedBase, ScriptedBase } from "./base";
import { rangeAnswer } from "./range";

export const RUNWAY_BASE = "https://api.dev.runwayml.com";
export const RUNWAY_CDN = "dnznrvs05pmza.cloudfront.net";
export const RUNWAY_VERSION = "2024-11-06";

/** One documented task state ([SDK] tasks.ts). */
export interface FakeTaskState {
  status: "PENDING" | "THROTTLED" | "RUNNING" | "SUCCEEDED" | "FAILED" | "CANCELLED";
  progress?: number;
  failure?: string;
  failureCode?: string;
  /** Replaces the signed CDN URL of a SUCCEEDED task, for host checks. */
  output?: string[];
}

export interface FakeRunwayOptions {
  apiKey: string;
  baseUrl?: string;
  cdnHost?: string;
  /** The states successive status polls see; the last one sticks. */
  lifecycle?: FakeTaskState[];
  video?: Uint8Array;
}

export interface RecordedRequest extends RecordedBase {
  /** The parsed JSON body, when there was one. */
  body: Record<string, unknown> | null;
}

export interface ScriptedAnswer extends ScriptedBase<RecordedRequest> {
  /** Matched against the URL's pathname. */
  path?: string | RegExp;
}

export interface FakeTask {
  id: string;
  createdAt: string;
  body: Record<string, unknown>;
  polls: number;
  /** Set by a test: overrides the lifecycle from now on. */
  forced: FakeTaskState | null;
}

export const DEFAULT_LIFECYCLE: FakeTaskState[] = [
  { status: "PENDING" },
  { status: "THROTTLED" },
  { status: "RUNNING", progress: 0.3 },
  { status: "RUNNING", progress: 0.7 },
  { status: "SUCCEEDED" },
];

const GEN4 = ["1280:720", "720:1280", "1104:832", "960:960", "832:1104", "1584:672"];
const VEO31 = ["1280:720", "720:1280", "1080:1920", "1920:1080"];
const span = (a: number, b: number) => Array.from({ length: b - a + 1 }, (_, i) => a + i);
/** §4 Create, per model: ratios, durations, and which optional fields the union allows. */
const MODELS: Record<string, { ratios: string[]; durations: number[]; extra: string[] }> = {
  "gen4.5": { ratios: GEN4, durations: span(2, 10), extra: ["contentModeration", "seed"] },
  gen4_turbo: { ratios: GEN4, durations: span(2, 10), extra: ["contentModeration", "seed"] },
  "veo3.1": { ratios: VEO31, durations: [4, 6, 8], extra: ["audio", "seed"] },
  "veo3.1_fast": { ratios: VEO31, durations: [4, 6, 8], extra: ["audio", "seed"] },
  veo3: { ratios: ["1280:720", "720:1280"], durations: [8], extra: ["seed"] },
  gemini_omni_flash: { ratios: ["1280:720", "720:1280"], durations: span(3, 10), extra: ["seed"] },
};
const COMMON = ["model", "promptImage", "promptText", "ratio", "duration"];
const DATA_URI = /^data:(image\/(?:jpeg|png|webp));base64,([A-Za-z0-9+/]*={0,2})$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export { ContractViolation };

export class FakeRunway extends ContractFake<RecordedRequest, ScriptedAnswer> {
  readonly baseUrl: string;
  readonly cdnHost: string;
  readonly tasks = new Map<string, FakeTask>();
  /** Every accepted `video_to_video` request: the model, the source's bytes and the prompt. */
  readonly edited: Array<{ model: string; video: Uint8Array; prompt: string | undefined }> = [];
  readonly video: Uint8Array;
  /** Signatures issued in result URLs that still work. */
  private readonly liveTokens = new Set<string>();
  private nextId = 1;
  private nextToken = 1;

  constructor(private readonly options: FakeRunwayOptions) {
    super({ pattern: (a) => a.path, subject: (r) => r.url.pathname });
    this.baseUrl = options.baseUrl ?? RUNWAY_BASE;
    this.cdnHost = options.cdnHost ?? RUNWAY_CDN;
    this.video = options.video ?? patternBytes(64 * 1024);
  }

  /** The next matching request(s) fail with `status` and Runway's `{error}` body. */
  failNext(
    status: number,
    opts: Omit<ScriptedAnswer, "respond"> & {
      error?: string;
      headers?: Record<string, string>;
    } = {},
  ): this {
    const { error, headers, ...match } = opts;
    const body = { error: error ?? `Scripted failure ${status}` };
    return this.script({ ...match, respond: () => Response.json(body, { status, headers }) });
  }

  /** Pins a task to one state (a failure shape, a cancellation, an odd progress). */
  setState(id: string, state: FakeTaskState): void {
    this.must(this.tasks, id, "task").forced = state;
  }

  /** Every result URL handed out so far stops working, as signed URLs do after 24–48 h. */
  expireUrls(): void {
    this.liveTokens.clear();
  }

  protected async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const text = await request.text();
    const recorded = this.record(request, { body: null });
    if (url.hostname === this.cdnHost) return this.download(recorded);
    if (!url.href.startsWith(`${this.baseUrl}/v1/`)) return this.violate(recorded, "unknown host");
    this.checkHeaders(recorded);
    if (text) {
      try {
        recorded.body = JSON.parse(text) as Record<string, unknown>;
      } catch {
        this.violate(recorded, "a body that is not JSON");
      }
    }
    const answer = this.route(recorded);
    if (recorded.headers.get("authorization") !== `Bearer ${this.options.apiKey}`) {
      return Response.json({ error: "Invalid API key." }, { status: 401 });
    }
    const scripted = this.scripted(recorded);
    if (scripted) return scripted.respond(recorded);
    return answer();
  }

  private checkHeaders(r: RecordedRequest): void {
    // Runway refuses calls without the version header (§4); our adapter must never send one.
    if (r.headers.get("x-runway-version") !== RUNWAY_VERSION) {
      this.violate(r, "missing or wrong X-Runway-Version");
    }
    if (!r.headers.get("authorization")?.startsWith("Bearer ")) this.violate(r, "no Bearer auth");
    if (r.url.href.includes(this.options.apiKey)) this.violate(r, "the key is in the URL");
    if (r.url.search) this.violate(r, "unexpected query");
  }

  private route(r: RecordedRequest): () => Response {
    const path = r.url.pathname;
    if (r.method === "POST" && path === "/v1/image_to_video") {
      this.checkCreate(r);
      return () => this.create(r);
    }
    if (r.method === "POST" && path === "/v1/video_to_video") {
      this.checkEdit(r);
      return () => this.create(r);
    }
    const m = path.match(/^\/v1\/tasks\/([^/]+)$/);
    if (!m || !UUID.test(m[1]!)) return this.violate(r, "no such route");
    const id = m[1]!;
    if (r.body !== null) this.violate(r, "a body on a task call");
    if (r.method === "GET") return () => this.retrieve(id);
    if (r.method === "DELETE") return () => this.delete(id);
    return this.violate(r, "no such route");
  }

  private checkCreate(r: RecordedRequest): void {
    if (!r.headers.get("content-type")?.startsWith("application/json")) {
      this.violate(r, "create must be JSON");
    }
    const b = r.body ?? {};
    const model = MODELS[String(b.model)];
    if (!model) return void this.violate(r, `unknown model ${String(b.model)}`);
    for (const key of Object.keys(b)) {
      if (!COMMON.includes(key) && !model.extra.includes(key)) {
        this.violate(r, `field ${key} is not allowed for ${String(b.model)}`);
      }
    }
    const uri = typeof b.promptImage === "string" ? b.promptImage : "";
    const m = uri.match(DATA_URI);
    if (!m) this.violate(r, "promptImage is not an image data URI");
    if (uri.length > 5_000_000) this.violate(r, "promptImage data URI over 5 MB");
    const bytes = Uint8Array.from(atob(m![2]!), (c) => c.charCodeAt(0));
    if (imageInfo(bytes)?.type !== m![1])
      this.violate(r, "promptImage bytes do not match its type");
    const text = b.promptText;
    if (text !== undefined && (typeof text !== "string" || text.length < 1 || text.length > 1000)) {
      this.violate(r, "promptText must be 1–1000 UTF-16 units");
    }
    if (!model.ratios.includes(String(b.ratio))) this.violate(r, `bad ratio ${String(b.ratio)}`);
    if (!Number.isInteger(b.duration) || !model.durations.includes(b.duration as number)) {
      this.violate(r, `bad duration ${JSON.stringify(b.duration)}`);
    }
    if (b.audio !== undefined && typeof b.audio !== "boolean") this.violate(r, "audio not boolean");
    const cm = b.contentModeration as { publicFigureThreshold?: unknown } | undefined;
    if (
      cm !== undefined &&
      (Object.keys(cm).join() !== "publicFigureThreshold" ||
        !["auto", "low"].includes(String(cm.publicFigureThreshold)))
    ) {
      this.violate(r, "contentModeration must be {publicFigureThreshold: auto|low}");
    }
  }

  /**
   * §4a `video_to_video`: `model` one of the edit models, `videoUri` a video data URI of at
   * most 16 MB whose bytes are an MP4, `promptText` 1–1000 units (required for gen4_aleph),
   * optional `seed`/`contentModeration`; no image-to-video fields (`ratio` is deprecated).
   */
  private checkEdit(r: RecordedRequest): void {
    const b = r.body ?? {};
    const allowed = ["model", "videoUri", "promptText", "seed", "contentModeration"];
    if (b.model !== "gen4_aleph" && b.model !== "aleph2") {
      return void this.violate(r, `unknown video_to_video model ${String(b.model)}`);
    }
    for (const key of Object.keys(b)) {
      if (!allowed.includes(key)) this.violate(r, `field ${key} is not allowed for ${b.model}`);
    }
    const uri = typeof b.videoUri === "string" ? b.videoUri : "";
    const m = uri.match(/^data:video\/mp4;base64,([A-Za-z0-9+/]*={0,2})$/);
    if (!m) return void this.violate(r, "videoUri is not a video/mp4 data URI");
    if (uri.length > 16_000_000) this.violate(r, "videoUri data URI over 16 MB");
    const bytes = Uint8Array.from(atob(m[1]!), (c) => c.charCodeAt(0));
    if (String.fromCharCode(...bytes.subarray(4, 8)) !== "ftyp") {
      this.violate(r, "videoUri bytes are not an MP4");
    }
    const text = b.promptText;
    if (b.model === "gen4_aleph" && text === undefined)
      this.violate(r, "gen4_aleph needs promptText");
    if (text !== undefined && (typeof text !== "string" || text.length < 1 || text.length > 1000)) {
      this.violate(r, "promptText must be 1–1000 UTF-16 units");
    }
    this.edited.push({ model: String(b.model), video: bytes, prompt: text as string | undefined });
  }

  private create(r: RecordedRequest): Response {
    const id = `00000000-0000-4000-8000-${String(this.nextId++).padStart(12, "0")}`;
    const createdAt = new Date().toISOString();
    this.tasks.set(id, { id, createdAt, body: r.body!, polls: 0, forced: null });
    return Response.json({ id });
  }

  private retrieve(id: string): Response {
    const task = this.tasks.get(id);
    if (!task) return Response.json({ error: "Task not found." }, { status: 404 });
    const lifecycle = this.options.lifecycle ?? DEFAULT_LIFECYCLE;
    const state = task.forced ?? lifecycle[Math.min(task.polls, lifecycle.length - 1)]!;
    task.polls++;
    const { output, ...rest } = state;
    const body: Record<string, unknown> = { id, createdAt: task.createdAt, ...rest };
    if (state.status === "SUCCEEDED") body.output = output ?? [this.signedUrl(id)];
    return Response.json(body);
  }

  private delete(id: string): Response {
    // Cancels or deletes; either way the task can never be fetched again ([SDK] tasks.ts).
    if (!this.tasks.delete(id)) return Response.json({ error: "Task not found." }, { status: 404 });
    return new Response(null, { status: 204 });
  }

  private signedUrl(id: string): string {
    const token = `eyJfake.${this.nextToken++}.sig`;
    this.liveTokens.add(token);
    return `https://${this.cdnHost}/${id}.mp4?_jwt=${token}`;
  }

  /** The CDN: no key, a live signature, single byte ranges. */
  private download(r: RecordedRequest): Response | Promise<Response> {
    for (const name of ["authorization", "x-runway-version"]) {
      if (r.headers.has(name)) this.violate(r, `${name} sent to the CDN`);
    }
    if (r.method !== "GET") this.violate(r, "CDN takes GET only");
    const id = r.url.pathname.match(/^\/([0-9a-f-]{36})\.mp4$/)?.[1];
    const token = r.url.searchParams.get("_jwt") ?? "";
    if (!id || !this.tasks.has(id) || !this.liveTokens.has(token)) {
      const xml = "<Error><Code>AccessDenied</Code><Message>Access denied</Message></Error>";
      return new Response(xml, { status: 403, headers: { "content-type": "text/xml" } });
    }
    const scripted = this.scripted(r);
    if (scripted) return scripted.respond(r);
    return mediaAnswer(this.video, r.headers.get("range"));
  }
}

/** Media with Range support, and headers a client must not see (test/helpers/fakes/range.ts). */
function mediaAnswer(bytes: Uint8Array, range: string | null): Response {
  return rangeAnswer(bytes, range, {
    "content-type": "video/mp4",
    etag: '"fake-etag"',
    "x-amz-cf-id": "fake-cloudfront-id",
    "x-cache": "Hit from cloudfront",
    "set-cookie": "cdn=1; path=/",
  });
}
