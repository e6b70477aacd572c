/**
 * The widget's client for the Stillmotion worker (docs/api-contract.md): model routes
 * and the OpenAI-shaped `/v1/videos` calls, authorised by a visitor session (session.ts).
 * Every failure becomes one `ApiProblem` (problem.ts).
 */
import {
  ApiProblem,
  isRecord,
  problemFrom,
  throwIfAborted,
  toProblem,
  unexpected,
} from "./problem";
import { withRetry } from "./retry";
import { defaultStorage, SessionKeeper, type Session, type Store } from "./session";
import type { ContentUrls, ModelRoute, Video } from "./types";

/** How to reach the worker; everything but `endpoint` and `siteKey` has a browser default. */
export interface ClientOptions {
  /** The worker's origin (and optional base path), e.g. `https://video.example.com`. */
  endpoint: string;
  /** Publishable site key (`pk_…`). */
  siteKey: string;
  fetch?: typeof fetch;
  /** Where the visitor token is kept; defaults to `localStorage`, `null` keeps it in memory only. */
  storage?: Store | null;
  /** Milliseconds since the epoch. */
  now?: () => number;
  /**
   * For sites that require Cloudflare Turnstile: a fresh token for each `POST /v1/sessions`,
   * sent as `turnstile_token` (tokens are single-use, so one is asked for every request).
   */
  turnstileToken?: (signal: AbortSignal) => Promise<string>;
}

interface Call {
  method: "GET" | "POST";
  path: string;
  json?: unknown;
  form?: FormData;
  headers?: Record<string, string>;
  auth: boolean;
}

/** Talks to one worker for one site. Safe calls retry transient failures; create/remix never do. */
export class StillMotionClient {
  readonly #endpoint: string;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #sessions: SessionKeeper;

  constructor(options: ClientOptions) {
    this.#endpoint = options.endpoint.replace(/\/+$/, "");
    const siteKey = options.siteKey;
    // Late-bound so that a fetch replaced after construction (tests, polyfills) is honoured.
    this.#fetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.#now = options.now ?? Date.now;
    this.#sessions = new SessionKeeper({
      storage: options.storage === undefined ? defaultStorage() : options.storage,
      key: `stillmotion:session:${this.#endpoint}#${siteKey}`,
      now: this.#now,
      open: async (previous, signal) => {
        const headers = previous ? { authorization: `Bearer ${previous}` } : undefined;
        const proof = options.turnstileToken;
        const json = proof
          ? { site_key: siteKey, turnstile_token: await proof(signal).catch(rethrow(signal)) }
          : { site_key: siteKey };
        const call: Call = { method: "POST", path: "/v1/sessions", json, headers, auth: false };
        return this.#send(call, null, signal);
      },
    });
  }

  /** A valid visitor token: cached per endpoint+siteKey in storage, renewed ~60 s before expiry by POST /v1/sessions with the previous token as Bearer (keeps visitor_id); concurrent callers share one request. */
  async session(signal?: AbortSignal): Promise<Session> {
    return this.#sessions.session(signal);
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

  /** One job as it is now (GET /v1/videos/{id}). */
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
    return retry ? withRetry(once, signal) : once();
  }

  /** A 401 means our token went stale (expired, secret rotated): renew once and resend. */
  async #authorized(call: Call, signal: AbortSignal | undefined): Promise<unknown> {
    const { token } = await this.session(signal);
    try {
      return await this.#send(call, token, signal);
    } catch (error) {
      if (!(error instanceof ApiProblem) || error.status !== 401) throw error;
      this.#sessions.invalidate(token);
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
}

/** Whatever a token provider throws surfaces as an `ApiProblem`, like every other failure. */
const rethrow = (signal: AbortSignal) => (error: unknown) => {
  throw toProblem(error, signal);
};

function idempotency(key: string | undefined): Record<string, string> | undefined {
  return key ? { "idempotency-key": key } : undefined;
}

function fileName(image: Blob): string {
  if (image instanceof File && image.name) return image.name;
  const extension = { "image/png": "png", "image/webp": "webp" }[image.type] ?? "jpg";
  return `input.${extension}`;
}

function listOf(body: unknown): unknown[] {
  if (isRecord(body) && Array.isArray(body.data)) return body.data;
  throw unexpected();
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
