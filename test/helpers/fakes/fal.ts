/**
 * A contract fake of fal.ai's queue, storage, CDN and webhook keys, built from
 * docs/providers/fal.md §2 (and the fal docs it cites).
 *
 * It serves only the documented URLs and checks every request the way fal expects it: the
 * `Authorization: Key …` header on queue and storage calls and on nothing else (the CDN, the
 * signed upload URL and the JWKS are public), the model's own JSON input with only the fields
 * its schema declares, each of the right type. Legitimate refusals are answered like fal does
 * (its two error shapes); anything our adapter should never send is a contract violation:
 * recorded and thrown. Retrying code may swallow the throw, so tests also call `assertClean()`.
 */
import { ContractFake, ContractViolation, patternBytes } from "./base";
import type { RecordedBase, ScriptedBase } from "./base";
import { rangeAnswer } from "./range";

export const QUEUE = "https://queue.fal.run";
export const REST = "https://rest.alpha.fal.ai";
export const CDN = "https://v3.fal.media";
export const JWKS_URL = `${REST}/.well-known/jwks.json`;

/** The JSON type of one model input field; `image` is a URL (or a data URI where allowed). */
export type FieldType =
  "string" | "boolean" | "integer" | "image" | "video" | readonly (string | number)[];

/** Another endpoint of the same owner/app (an extend or edit endpoint), with its own schema. */
export interface FakeFalEndpoint {
  inputs: Record<string, FieldType>;
  required?: string[];
}

export interface FakeFalOptions {
  apiKey: string;
  /** The endpoint id, e.g. `fal-ai/kling-video/v3/standard/image-to-video`. */
  modelPath: string;
  /** The model's input schema: every field it accepts, and which are required. */
  inputs: Record<string, FieldType>;
  required?: string[];
  /** Whether the model decodes data URIs (several do not, §2). */
  acceptsDataUri?: boolean;
  /** Status polls answered IN_QUEUE (positions count down to 0), then IN_PROGRESS. */
  pollsInQueue?: number;
  pollsInProgress?: number;
  /** More endpoints under the same owner/app, by endpoint id (e.g. `…/extend-video`). */
  endpoints?: Record<string, FakeFalEndpoint>;
  /** Host of the status/response/cancel URLs fal returns; the adapter must not use them. */
  returnedUrlBase?: string;
}

/** How a job ends: a video, a typed error at the result URL, or a terminal status word. */
export type Outcome =
  | { kind: "video"; url?: string }
  | { kind: "result"; status: number; body: unknown; headers?: Record<string, string> }
  | { kind: "status"; status: "FAILED" | "CANCELED"; error?: string; error_type?: string };

export interface RecordedRequest extends RecordedBase {
  /** Parsed JSON body, when there was one. */
  json: unknown;
  bytes: Uint8Array;
}

export interface FakeJob {
  id: string;
  /** The endpoint it was submitted to. */
  endpoint: string;
  input: Record<string, unknown>;
  polls: number;
  outcome: Outcome;
  cancelled: boolean;
}

export interface ScriptedAnswer extends ScriptedBase<RecordedRequest> {
  /** Matched against the full URL. */
  url?: RegExp;
}

export const VIDEO_BYTES = patternBytes(64 * 1024);
const IMAGE_TYPES = ["image/jpeg", "image/png", "image/webp"];
const UPLOAD_TYPES = [...IMAGE_TYPES, "video/mp4"];

export { ContractViolation };

export class FakeFal extends ContractFake<RecordedRequest, ScriptedAnswer> {
  readonly jobs = new Map<string, FakeJob>();
  /** Uploaded files by their public URL. */
  readonly files = new Map<string, { type: string; bytes: Uint8Array }>();
  /** The public keys the JWKS serves (set by the test). */
  jwks: JsonWebKey[] = [];
  private readonly tickets = new Map<string, { type: string; fileUrl: string }>();
  private next = 1;

  constructor(private readonly options: FakeFalOptions) {
    super({ pattern: (a) => a.url, subject: (r) => r.url.href });
  }

  get owner(): string {
    return this.options.modelPath.split("/").slice(0, 2).join("/");
  }

  /** The next matching request(s) fail with a fal request error (`detail` + `error_type`). */
  failNext(
    status: number,
    match: Omit<ScriptedAnswer, "respond"> & { headers?: Record<string, string>; body?: unknown },
  ): this {
    const { headers = {}, body = { detail: `Scripted failure ${status}` }, ...rest } = match;
    return this.script({ ...rest, respond: () => Response.json(body, { status, headers }) });
  }

  /** Decides how a job ends (default: a video). */
  finish(id: string, outcome: Outcome): void {
    this.mustGet(id).outcome = outcome;
  }

  protected async handle(request: Request): Promise<Response> {
    const url = new URL(request.url);
    const bytes = new Uint8Array(await request.arrayBuffer());
    let json: unknown;
    if ((request.headers.get("content-type") ?? "").startsWith("application/json")) {
      try {
        json = JSON.parse(new TextDecoder().decode(bytes));
      } catch {
        json = undefined;
      }
    }
    const r = this.record(request, { json, bytes });
    if (url.href.includes(this.options.apiKey)) this.violate(r, "the key is in the URL");
    const route = this.route(r);
    if (route.keyed) {
      const auth = r.headers.get("authorization") ?? "";
      if (!auth.startsWith("Key ")) this.violate(r, "expected Authorization: Key <FAL_KEY>");
      if (auth !== `Key ${this.options.apiKey}`) {
        return Response.json({ detail: "Invalid credentials" }, { status: 401 });
      }
    } else if (r.headers.has("authorization")) {
      this.violate(r, "credentials sent to a public URL");
    }
    route.check?.();
    const scripted = this.scripted(r);
    if (scripted) return scripted.respond(r);
    return route.answer();
  }

  private route(r: RecordedRequest): {
    keyed: boolean;
    check?: () => void;
    answer: () => Response;
  } {
    const { url, method } = r;
    const base = `${url.origin}${url.pathname}`;
    if (method === "POST" && base === `${REST}/storage/upload/initiate`) {
      if (url.search !== "?storage_type=fal-cdn-v3") this.violate(r, "unexpected query");
      return { keyed: true, check: () => this.checkInitiate(r), answer: () => this.initiate(r) };
    }
    if (method === "PUT" && this.tickets.has(url.href)) {
      return { keyed: false, answer: () => this.store(r) };
    }
    if (method === "GET" && url.href === JWKS_URL) {
      return { keyed: false, answer: () => Response.json({ keys: this.jwks }) };
    }
    if (method === "GET" && url.origin === CDN && !url.search) {
      return { keyed: false, answer: () => this.media(r) };
    }
    const endpoint = this.endpointAt(base);
    if (method === "POST" && endpoint) {
      if ([...url.searchParams.keys()].some((k) => k !== "fal_webhook")) {
        this.violate(r, "unexpected query");
      }
      return {
        keyed: true,
        check: () => this.checkSubmit(r, endpoint),
        answer: () => this.submit(r, endpoint),
      };
    }
    const m = url.href.match(
      /^https:\/\/queue\.fal\.run\/([^/]+\/[^/]+)\/requests\/([^/?]+)(\/status|\/cancel)?(\?logs=1)?$/,
    );
    if (m && m[1] === this.owner) {
      const [, , id, action] = m;
      if (method === "GET" && action === "/status")
        return { keyed: true, answer: () => this.status(id!) };
      if (method === "GET" && !action) return { keyed: true, answer: () => this.result(id!) };
      if (method === "PUT" && action === "/cancel")
        return { keyed: true, answer: () => this.cancel(id!) };
    }
    return this.violate(r, "no such route");
  }

  private checkInitiate(r: RecordedRequest): void {
    const body = r.json as Record<string, unknown> | undefined;
    if (!body || Object.keys(body).sort().join() !== "content_type,file_name") {
      this.violate(r, "initiate takes exactly {content_type, file_name}");
    }
    if (!UPLOAD_TYPES.includes(String(body.content_type))) this.violate(r, "not an image or MP4");
    if (typeof body.file_name !== "string" || !/^[\w.-]+$/.test(body.file_name)) {
      this.violate(r, "bad file_name");
    }
  }

  private initiate(r: RecordedRequest): Response {
    const body = r.json as { content_type: string; file_name: string };
    const token = `tok${this.next++}`;
    const uploadUrl = `${CDN}/files/upload/${token}?signature=s1`;
    const fileUrl = `${CDN}/files/${token}/${body.file_name}`;
    this.tickets.set(uploadUrl, { type: body.content_type, fileUrl });
    return Response.json({ upload_url: uploadUrl, file_url: fileUrl });
  }

  private store(r: RecordedRequest): Response {
    const ticket = this.tickets.get(r.url.href)!;
    if (r.headers.get("content-type") !== ticket.type) this.violate(r, "content-type differs");
    if (r.bytes.length === 0) this.violate(r, "empty upload");
    this.files.set(ticket.fileUrl, { type: ticket.type, bytes: r.bytes });
    return new Response(null, { status: 200 });
  }

  /** The schema of the endpoint a submit URL names: the route's model or one of `endpoints`. */
  private endpointAt(base: string): (FakeFalEndpoint & { path: string }) | undefined {
    if (base === `${QUEUE}/${this.options.modelPath}`) {
      const { inputs, required } = this.options;
      return { path: this.options.modelPath, inputs, required };
    }
    for (const [path, endpoint] of Object.entries(this.options.endpoints ?? {})) {
      if (base === `${QUEUE}/${path}`) return { path, ...endpoint };
    }
    return undefined;
  }

  private checkSubmit(r: RecordedRequest, endpoint: FakeFalEndpoint): void {
    if (r.headers.get("content-type") !== "application/json") this.violate(r, "not JSON");
    const body = r.json;
    if (!body || typeof body !== "object" || Array.isArray(body)) {
      return void this.violate(r, "the body is the model's input object");
    }
    const hook = r.url.searchParams.get("fal_webhook");
    if (hook !== null && !hook.startsWith("https://")) this.violate(r, "webhook not https");
    const { inputs, required = ["prompt"] } = endpoint;
    for (const name of required) if (!(name in body)) this.violate(r, `missing ${name}`);
    for (const [name, value] of Object.entries(body)) {
      const type = inputs[name];
      if (!type) this.violate(r, `unknown field ${name}`);
      else if (!fits(type, value)) this.violate(r, `bad ${name}: ${JSON.stringify(value)}`);
    }
  }

  private submit(r: RecordedRequest, endpoint: FakeFalEndpoint & { path: string }): Response {
    const input = r.json as Record<string, unknown>;
    for (const [name, type] of Object.entries(endpoint.inputs)) {
      const value = input[name];
      if (
        type === "video" &&
        typeof value === "string" &&
        this.files.get(value)?.type !== "video/mp4"
      ) {
        return modelError(
          422,
          name,
          "Failed to load the video. Please check the URL.",
          "video_load_error",
        );
      }
      if (type !== "image" || typeof value !== "string") continue;
      const loadable = value.startsWith("data:")
        ? this.options.acceptsDataUri
        : this.files.has(value) || !value.startsWith(CDN);
      if (!loadable) {
        return modelError(
          422,
          name,
          "Failed to load the image. Please check the URL.",
          "image_load_error",
        );
      }
    }
    const id = `0b7c${String(this.next++).padStart(4, "0")}-45d3-4afd-883e-ad3abe2a1c4d`;
    this.jobs.set(id, {
      id,
      endpoint: endpoint.path,
      input,
      polls: 0,
      outcome: { kind: "video" },
      cancelled: false,
    });
    const base = `${this.options.returnedUrlBase ?? QUEUE}/${this.owner}/requests/${id}`;
    return Response.json({
      status: "IN_QUEUE",
      request_id: id,
      gateway_request_id: id,
      queue_position: this.options.pollsInQueue ?? 2,
      response_url: base,
      status_url: `${base}/status`,
      cancel_url: `${base}/cancel`,
    });
  }

  /** IN_QUEUE (positions counting down), IN_PROGRESS, then COMPLETED — one step per poll. */
  private status(id: string): Response {
    const job = this.jobs.get(id);
    if (!job) return Response.json({ detail: "Request not found" }, { status: 404 });
    const inQueue = this.options.pollsInQueue ?? 2;
    const inProgress = this.options.pollsInProgress ?? 2;
    const step = job.polls++;
    const urls = { request_id: id, response_url: `${QUEUE}/${this.owner}/requests/${id}` };
    if (!job.cancelled && step < inQueue) {
      const body = { status: "IN_QUEUE", queue_position: inQueue - 1 - step, ...urls };
      return Response.json(body, { status: 202 });
    }
    if (!job.cancelled && step < inQueue + inProgress) {
      return Response.json({ status: "IN_PROGRESS", logs: [], ...urls }, { status: 202 });
    }
    if (job.outcome.kind === "status") {
      const { status, error, error_type } = job.outcome;
      return Response.json({ status, error, error_type, ...urls });
    }
    return Response.json({
      status: "COMPLETED",
      logs: [],
      metrics: { inference_time: 41.2 },
      ...urls,
    });
  }

  private result(id: string): Response {
    const job = this.jobs.get(id);
    if (!job) return Response.json({ detail: "Request not found" }, { status: 404 });
    if (!job.cancelled && !this.completed(job))
      return Response.json({ detail: "Request is still in progress" }, { status: 400 });
    const { outcome } = job;
    if (outcome.kind === "result") {
      return Response.json(outcome.body, {
        status: outcome.status,
        headers: outcome.headers ?? {},
      });
    }
    if (outcome.kind === "status") return Response.json({ detail: outcome.error }, { status: 500 });
    const url = outcome.url ?? `${CDN}/files/out${id.slice(4, 8)}/output.mp4`;
    return Response.json({
      video: {
        url,
        content_type: "video/mp4",
        file_name: "output.mp4",
        file_size: VIDEO_BYTES.length,
      },
      seed: 1234,
    });
  }

  private cancel(id: string): Response {
    const job = this.jobs.get(id);
    if (!job) return Response.json({ status: "NOT_FOUND" }, { status: 404 });
    if (this.completed(job)) {
      return Response.json({ status: "ALREADY_COMPLETED" }, { status: 400 });
    }
    job.cancelled = true;
    job.outcome = {
      kind: "result",
      status: 499,
      body: { detail: "Request cancelled by the client", error_type: "client_cancelled" },
      headers: { "x-fal-error-type": "client_cancelled" },
    };
    return Response.json({ status: "CANCELLATION_REQUESTED" }, { status: 202 });
  }

  private media(r: RecordedRequest): Response {
    if (!/^\/files\/out\d{4}\/output\.mp4$/.test(r.url.pathname)) {
      return new Response("Not Found", { status: 404 });
    }
    return mediaAnswer(VIDEO_BYTES, r.headers.get("range"));
  }

  private completed(job: FakeJob): boolean {
    return job.polls > (this.options.pollsInQueue ?? 2) + (this.options.pollsInProgress ?? 2);
  }

  private mustGet(id: string): FakeJob {
    return this.must(this.jobs, id, "job");
  }

  /** fal has several hosts: a violation names the origin too. */
  protected override where(r: RecordedRequest): string {
    return `${r.url.origin}${r.url.pathname}`;
  }
}

function fits(type: FieldType, value: unknown): boolean {
  if (Array.isArray(type)) return type.includes(value as string | number);
  switch (type) {
    case "string":
      return typeof value === "string" && value.length > 0;
    case "boolean":
      return typeof value === "boolean";
    case "integer":
      return Number.isInteger(value);
    case "video":
      return typeof value === "string" && value.startsWith(`${CDN}/`);
    case "image":
      return (
        typeof value === "string" &&
        (/^https:\/\//.test(value) ||
          /^data:image\/(jpeg|png|webp);base64,[A-Za-z0-9+/]+=*$/.test(value))
      );
  }
  return false;
}

/** fal's model-error shape (docs.fal.ai "Model Errors"): a `detail` list of typed errors. */
export function modelError(status: number, field: string, msg: string, type: string): Response {
  const detail = [{ loc: ["body", field], msg, type, url: `https://docs.fal.ai/errors#${type}` }];
  return Response.json({ detail }, { status });
}

/** fal's request-error shape (docs.fal.ai "Request Error Types"): body and header agree. */
export function requestError(status: number, detail: string, type: string): Outcome {
  return {
    kind: "result",
    status,
    body: { detail, error_type: type },
    headers: { "x-fal-error-type": type },
  };
}

/** Media with Range support, and headers a client must not see (test/helpers/fakes/range.ts). */
function mediaAnswer(bytes: Uint8Array, range: string | null): Response {
  return rangeAnswer(bytes, range, {
    "content-type": "video/mp4",
    etag: '"fal-output"',
    "x-fal-request-id": "internal",
    "set-cookie": "cdn=1; HttpOnly",
  });
}

/** A delivery as fal sends it: Ed25519 over `requestId\nuserId\ntimestamp\nsha256hex(body)`. */
export async function signedDelivery(
  privateKey: CryptoKey,
  body: string,
  meta: { requestId: string; userId?: string; timestamp: number },
): Promise<Request> {
  const userId = meta.userId ?? "user_123";
  const digest = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(body)),
  );
  const hash = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
  const message = new TextEncoder().encode(
    `${meta.requestId}\n${userId}\n${meta.timestamp}\n${hash}`,
  );
  const signature = new Uint8Array(
    await crypto.subtle.sign({ name: "Ed25519" }, privateKey, message),
  );
  return new Request("https://worker.example.test/webhooks/fal", {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      "x-fal-webhook-request-id": meta.requestId,
      "x-fal-webhook-user-id": userId,
      "x-fal-webhook-timestamp": String(meta.timestamp),
      "x-fal-webhook-signature": Array.from(signature, (b) => b.toString(16).padStart(2, "0")).join(
        "",
      ),
    },
  });
}
