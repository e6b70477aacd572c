/**
 * The widget's client for the Stillmotion worker (/work/shared/api-contract.md): visitor
 * sessions, model routes and the OpenAI-shaped `/v1/videos` calls. Every failure becomes one
 * `ApiProblem` whose `kind` tells the element what to show and whether trying again can help.
 */

/** Extension field: short-lived signed media URLs, because `<video>`/`<img>` cannot send headers. */
export interface ContentUrls {
  video: string;
  thumbnail: string;
  spritesheet: string;
  /** Unix seconds. */
  expires_at: number;
}

/** OpenAI's Video object plus the `content_urls` extension (null until completed). */
export interface Video {
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
  content_urls: ContentUrls | null;
}

/** One configured model route from `GET /v1/models`. */
export interface ModelRoute {
  id: string;
  label: string;
  owned_by: string;
  simulated: boolean;
  sizes: string[];
  default_size: string;
  seconds: string[];
  default_seconds: string;
  input_image: "required" | "optional" | "none";
  remix: boolean;
  audio: boolean;
  price_per_second_usd: number;
  prompt_max_chars: number;
}

export type ProblemKind =
  | "network"
  | "auth"
  | "input"
  | "policy"
  | "rate_limit"
  | "budget"
  | "provider"
  | "not_found"
  | "server"
  | "aborted";

export interface ApiProblemInit {
  kind: ProblemKind;
  status?: number;
  code?: string | null;
  param?: string | null;
  retryAfter?: number | null;
  cause?: unknown;
}

/** A failed call. `message` is the server's human message when it sent one (the widget shows it). */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  /** HTTP status; 0 when no response arrived (network, aborted). */
  readonly status: number;
  readonly code: string | null;
  readonly param: string | null;
  readonly kind: ProblemKind;
  /** Seconds the server asked us to wait (`Retry-After`), if it said. */
  readonly retryAfter: number | null;

  constructor(message: string, init: ApiProblemInit) {
    super(message, { cause: init.cause });
    this.kind = init.kind;
    this.status = init.status ?? 0;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.retryAfter = init.retryAfter ?? null;
  }

  /** Whether the same request may succeed later: the contract keeps the job on 502/503/504. */
  get transient(): boolean {
    return (
      this.kind === "network" ||
      this.kind === "rate_limit" ||
      (this.kind === "provider" && [502, 503, 504].includes(this.status))
    );
  }
}

export interface ClientOptions {
  /** The worker's origin (and optional base path), e.g. `https://video.example.com`. */
  endpoint: string;
  /** Publishable site key (`pk_…`). */
  siteKey: string;
  fetch?: typeof fetch;
  /** Where the visitor token is kept; defaults to `localStorage`, `null` keeps it in memory only. */
  storage?: Pick<Storage, "getItem" | "setItem" | "removeItem"> | null;
  /** Milliseconds since the epoch. */
  now?: () => number;
}

/** A visitor session; `expiresAt` is in unix seconds like every timestamp of the API. */
export interface Session {
  token: string;
  visitorId: string;
  expiresAt: number;
}

type Store = Pick<Storage, "getItem" | "setItem" | "removeItem">;

interface Call {
  method: "GET" | "POST";
  path: string;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  auth: boolean;
}

/** A session request shared by concurrent callers; aborted only when every waiter has left. */
interface SharedRenewal {
  promise: Promise<Session>;
  controller: AbortController;
  waiters: number;
}

const RENEW_BEFORE_MS = 60_000;
const RETRY_DELAYS_MS = [500, 1000, 2000];
const MAX_RETRY_DELAY_MS = 20_000;

/** Talks to one worker for one site. Safe calls retry transient failures; create/remix never do. */
export class StillMotionClient {
  readonly #endpoint: string;
  readonly #siteKey: string;
  readonly #fetch: typeof fetch;
  readonly #storage: Store | null;
  readonly #now: () => number;
  readonly #storageKey: string;
  /** Also kept in memory: storage may throw or be unavailable (Safari private mode). */
  #memory: Session | null = null;
  #renewal: SharedRenewal | null = null;

  constructor(options: ClientOptions) {
    this.#endpoint = options.endpoint.replace(/\/+$/, "");
    this.#siteKey = options.siteKey;
    // Late-bound so that a fetch replaced after construction (tests, polyfills) is honoured.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#storage = options.storage === undefined ? defaultStorage() : options.storage;
    this.#now = options.now ?? Date.now;
    this.#storageKey = `stillmotion:session:${this.#endpoint}#${this.#siteKey}`;
  }

  /** A valid visitor token: cached per endpoint+siteKey in storage, renewed ~60 s before expiry by POST /v1/sessions with the previous token as Bearer (keeps visitor_id); concurrent callers share one request. */
  async session(signal?: AbortSignal): Promise<Session> {
    throwIfAborted(signal);
    const current = this.#cached();
    if (current && current.expiresAt * 1000 - this.#now() > RENEW_BEFORE_MS) return { ...current };
    return this.#joinRenewal(signal);
  }

  /** The configured model routes (public: no session needed). */
  async models(signal?: AbortSignal): Promise<ModelRoute[]> {
    const body = await this.#call({ method: "GET", path: "/v1/models", auth: false }, signal, true);
    return listOf(body).map(asModel);
  }

  /** Starts a job. Never retried here: the element retries with the same idempotency key. */
  async create(
    input: {
      image: Blob;
      prompt: string;
      model: string;
      size: string;
      seconds: string;
      audio?: boolean;
    },
    options: { signal?: AbortSignal; idempotencyKey?: string } = {},
  ): Promise<Video> {
    const form = new FormData();
    form.append("prompt", input.prompt);
    form.append("model", input.model);
    form.append("size", input.size);
    form.append("seconds", input.seconds);
    // Not an OpenAI field: the worker ignores it, routes with an `audio` capability may use it.
    if (input.audio !== undefined) form.append("audio", String(input.audio));
    form.append("input_reference", input.image, fileName(input.image));
    const call: Call = { method: "POST", path: "/v1/videos", form, auth: true };
    call.headers = idempotency(options.idempotencyKey);
    return asVideo(await this.#call(call, options.signal, false));
  }

  async retrieve(id: string, signal?: AbortSignal): Promise<Video> {
    const path = `/v1/videos/${encodeURIComponent(id)}`;
    return asVideo(await this.#call({ method: "GET", path, auth: true }, signal, true));
  }

  /** Starts a new job from a completed one. Never retried here, like `create`. */
  async remix(
    id: string,
    prompt: string,
    options: { signal?: AbortSignal; idempotencyKey?: string } = {},
  ): Promise<Video> {
    const path = `/v1/videos/${encodeURIComponent(id)}/remix`;
    const headers = idempotency(options.idempotencyKey);
    const call: Call = { method: "POST", path, json: { prompt }, headers, auth: true };
    return asVideo(await this.#call(call, options.signal, false));
  }

  /** The visitor's most recent videos (GET /v1/videos?limit=N), newest first. */
  async recent(limit = 10, signal?: AbortSignal): Promise<Video[]> {
    const path = `/v1/videos?limit=${Math.min(100, Math.max(1, Math.floor(limit)))}`;
    return listOf(await this.#call({ method: "GET", path, auth: true }, signal, true)).map(asVideo);
  }

  async #call(call: Call, signal: AbortSignal | undefined, retry: boolean): Promise<unknown> {
    const once = () =>
      call.auth ? this.#authorized(call, signal) : this.#send(call, null, signal);
    return retry ? this.#withRetry(once, signal) : once();
  }

  /** A 401 means our token went stale (expired, secret rotated): renew once and resend. */
  async #authorized(call: Call, signal: AbortSignal | undefined): Promise<unknown> {
    const { token } = await this.session(signal);
    try {
      return await this.#send(call, token, signal);
    } catch (error) {
      if (!(error instanceof ApiProblem) || error.status !== 401) throw error;
      this.#invalidate(token);
      return this.#send(call, (await this.session(signal)).token, signal);
    }
  }

  async #send(call: Call, token: string | null, signal?: AbortSignal): Promise<unknown> {
    throwIfAborted(signal);
    const headers = new Headers(call.headers);
    if (token) headers.set("authorization", `Bearer ${token}`);
    let body: BodyInit | undefined = call.form;
    if (call.json !== undefined) {
      headers.set("content-type", "application/json");
      body = JSON.stringify(call.json);
    }
    try {
      const init: RequestInit = { method: call.method, headers, body, signal, credentials: "omit" };
      const response = await this.#fetch(this.#endpoint + call.path, init);
      const text = await response.text();
      if (!response.ok) throw problemFrom(response, text, this.#now());
      return JSON.parse(text);
    } catch (error) {
      throw toProblem(error, signal);
    }
  }

  async #withRetry<T>(attempt: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    for (let retry = 0; ; retry++) {
      try {
        return await attempt();
      } catch (error) {
        const delay = RETRY_DELAYS_MS[retry];
        if (!(error instanceof ApiProblem) || !error.transient || delay === undefined) throw error;
        const wanted = error.retryAfter === null ? delay : error.retryAfter * 1000;
        await sleep(Math.min(wanted, MAX_RETRY_DELAY_MS), signal);
      }
    }
  }

  #joinRenewal(signal: AbortSignal | undefined): Promise<Session> {
    let shared = this.#renewal;
    if (!shared) {
      const controller = new AbortController();
      const promise = this.#withRetry(
        () => this.#startSession(controller.signal),
        controller.signal,
      );
      shared = { promise, controller, waiters: 0 };
      this.#renewal = shared;
      const done = () => this.#renewal === shared && (this.#renewal = null);
      promise.then(done, done);
    }
    const renewal = shared;
    renewal.waiters++;
    return new Promise<Session>((resolve, reject) => {
      const leave = () => {
        reject(abortedProblem(signal?.reason));
        if (--renewal.waiters > 0) return;
        if (this.#renewal === renewal) this.#renewal = null;
        renewal.controller.abort();
      };
      signal?.addEventListener("abort", leave, { once: true });
      renewal.promise.then(
        (session) => (signal?.removeEventListener("abort", leave), resolve({ ...session })),
        (error: unknown) => (signal?.removeEventListener("abort", leave), reject(error)),
      );
    });
  }

  async #startSession(signal: AbortSignal): Promise<Session> {
    // The previous token, even expired, lets the worker keep this visitor's id and so its jobs.
    const previous = this.#cached()?.token;
    const headers = previous ? { authorization: `Bearer ${previous}` } : undefined;
    const json = { site_key: this.#siteKey };
    const body = await this.#send(
      { method: "POST", path: "/v1/sessions", json, headers, auth: false },
      null,
      signal,
    );
    const session = asSession(body);
    this.#save(session);
    return session;
  }

  #cached(): Session | null {
    let stored: Session | null = null;
    try {
      const raw = this.#storage?.getItem(this.#storageKey);
      stored = raw ? asSession(JSON.parse(raw), true) : null;
    } catch {
      // Unreadable or corrupted storage: the memory copy (or a new session) will do.
    }
    const memory = this.#memory;
    if (!stored) return memory;
    return memory && memory.expiresAt > stored.expiresAt ? memory : stored;
  }

  #save(session: Session): void {
    this.#memory = session;
    try {
      this.#storage?.setItem(this.#storageKey, JSON.stringify(session));
    } catch {
      // Quota or private mode: the session lives as long as the page.
    }
  }

  /** Marks the token stale but keeps it as the renewal credential (keeps the visitor's id). */
  #invalidate(token: string): void {
    const current = this.#cached();
    if (current?.token === token) this.#save({ ...current, expiresAt: 0 });
  }
}

function defaultStorage(): Store | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // sandboxed iframes throw on access
  }
}

function idempotency(key: string | undefined): Record<string, string> | undefined {
  return key ? { "idempotency-key": key } : undefined;
}

function fileName(image: Blob): string {
  if (image instanceof File && image.name) return image.name;
  const extension = { "image/png": "png", "image/webp": "webp" }[image.type] ?? "jpg";
  return `input.${extension}`;
}

function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    throwIfAborted(signal);
    const onAbort = () => (clearTimeout(timer), reject(abortedProblem(signal?.reason)));
    const timer = setTimeout(() => (signal?.removeEventListener("abort", onAbort), resolve()), ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedProblem(signal.reason);
}

function abortedProblem(cause: unknown): ApiProblem {
  return new ApiProblem("The request was cancelled.", { kind: "aborted", cause });
}

/** Anything thrown while fetching or reading becomes an ApiProblem. */
function toProblem(error: unknown, signal: AbortSignal | undefined): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (signal?.aborted || (error instanceof DOMException && error.name === "AbortError")) {
    return abortedProblem(error);
  }
  if (error instanceof SyntaxError) {
    return new ApiProblem("The video service sent an unreadable answer. Try again later.", {
      kind: "server",
      cause: error,
    });
  }
  // fetch rejects with a TypeError when no response arrived (offline, DNS, CORS refusal).
  return new ApiProblem("Could not reach the video service. Check your connection and try again.", {
    kind: "network",
    cause: error,
  });
}

/** Reads OpenAI's envelope `{ error: { message, type, param, code } }` into a problem. */
function problemFrom(response: Response, text: string, nowMs: number): ApiProblem {
  let error: Record<string, unknown> = {};
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body) && isRecord(body.error)) error = body.error;
  } catch {
    // Not an envelope (a proxy's HTML page, say): the status alone decides.
  }
  const code = typeof error.code === "string" ? error.code : null;
  const message = typeof error.message === "string" && error.message ? error.message : null;
  return new ApiProblem(
    message ?? `The video service refused the request (HTTP ${response.status}).`,
    {
      kind: kindOf(response.status, code),
      status: response.status,
      code,
      param: typeof error.param === "string" ? error.param : null,
      retryAfter: retryAfter(response.headers.get("retry-after"), nowMs),
    },
  );
}

function kindOf(status: number, code: string | null): ProblemKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 400 && code === "policy_violation") return "policy";
  if (status === 402 || code === "budget_exceeded") return "budget";
  if (status === 404) return "not_found";
  if (status === 429) return "rate_limit";
  if (status === 502 || status === 503 || status === 504) return "provider";
  return status >= 400 && status < 500 ? "input" : "server";
}

/** RFC 9110 §10.2.3: either delay-seconds or an HTTP-date. */
function retryAfter(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === "") return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - nowMs) / 1000));
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function unexpected(): ApiProblem {
  return new ApiProblem("The video service sent an unexpected answer. Try again later.", {
    kind: "server",
  });
}

function listOf(body: unknown): unknown[] {
  if (isRecord(body) && Array.isArray(body.data)) return body.data;
  throw unexpected();
}

function asSession(body: unknown, stored = false): Session {
  const token = isRecord(body) ? body.token : undefined;
  const visitorId = isRecord(body) ? (stored ? body.visitorId : body.visitor_id) : undefined;
  const expiresAt = isRecord(body) ? (stored ? body.expiresAt : body.expires_at) : undefined;
  if (typeof token !== "string" || typeof visitorId !== "string" || typeof expiresAt !== "number")
    throw unexpected();
  return { token, visitorId, expiresAt };
}

function asVideo(body: unknown): Video {
  if (!isRecord(body) || body.object !== "video" || typeof body.id !== "string") throw unexpected();
  // An OpenAI-compatible server without our extension omits content_urls altogether.
  return {
    ...(body as unknown as Video),
    content_urls: (body.content_urls as ContentUrls) ?? null,
  };
}

function asModel(body: unknown): ModelRoute {
  if (!isRecord(body) || typeof body.id !== "string" || !Array.isArray(body.sizes))
    throw unexpected();
  return body as unknown as ModelRoute;
}
