/**
 * A fake of the Stillmotion worker API (docs/api-contract.md) for widget tests in real
 * Chromium. It answers like worker/routes/*.ts — OpenAI's Video shape, the error envelope with
 * the worker's codes, visitor sessions and ownership (another visitor's job is a 404) — so the
 * widget is tested against the contract rather than against its own assumptions.
 *
 * Media: completed videos point at `${endpoint}/media/…`, answered through the patched fetch
 * with the simulator's real MP4/WebP/JPEG. `<video>`/`<img>` do not use fetch, so they cannot
 * load those URLs; tests that need playable media must fetch them and use object URLs.
 */
import type { ModelRoute, Video } from "../../../widget/api/types";

/** One request as the fake saw it. `path` is below `endpoint`, without the query. */
export interface FakeRequest {
  method: string;
  path: string;
  url: string;
  headers: Headers;
  form?: FormData;
  json?: unknown;
}

interface Match {
  method?: string;
  path?: RegExp;
  times?: number;
}

interface Rule extends Required<Pick<Match, "times">>, Omit<Match, "times"> {
  drop?: true;
  status?: number;
  error?: { message: string; code?: string | null; param?: string | null };
  retryAfter?: number;
}

/** A refusal, written as the worker's error envelope by `#answer`. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

const SIM_ROUTE: ModelRoute = {
  id: "sim",
  label: "Simulator",
  owned_by: "simulator",
  simulated: true,
  sizes: ["1280x720", "720x1280"],
  default_size: "1280x720",
  seconds: ["4", "8"],
  default_seconds: "4",
  input_image: "required",
  remix: true,
  audio: false,
  price_per_second_usd: 0,
  prompt_max_chars: 500,
};

const SESSION_TTL_SECONDS = 3600;
const JOB_TTL_SECONDS = 7 * 86_400;
const MEDIA_TTL_SECONDS = 3600;
const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
/** The simulator's committed media; literal URLs so Vite can resolve and serve them. */
const MEDIA = {
  "1280x720": {
    video: new URL(
      "../../../worker/providers/simulator/media/clip-1280x720-4s.mp4",
      import.meta.url,
    ),
    thumbnail: new URL(
      "../../../worker/providers/simulator/media/thumb-1280x720.webp",
      import.meta.url,
    ),
    spritesheet: new URL(
      "../../../worker/providers/simulator/media/sprite-1280x720.jpg",
      import.meta.url,
    ),
  },
  "720x1280": {
    video: new URL(
      "../../../worker/providers/simulator/media/clip-720x1280-4s.mp4",
      import.meta.url,
    ),
    thumbnail: new URL(
      "../../../worker/providers/simulator/media/thumb-720x1280.webp",
      import.meta.url,
    ),
    spritesheet: new URL(
      "../../../worker/providers/simulator/media/sprite-720x1280.jpg",
      import.meta.url,
    ),
  },
};
const MEDIA_TYPES = { video: "video/mp4", thumbnail: "image/webp", spritesheet: "image/jpeg" };

/** Same format as worker/ids.ts: a prefix and 26 Crockford base32 characters. */
const newId = (prefix: string) =>
  prefix + Array.from(crypto.getRandomValues(new Uint8Array(26)), (b) => ALPHABET[b & 31]).join("");
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A fake Stillmotion worker reachable through `fetch` (patched globally or injected). */
export class FakeStillMotionApi {
  readonly endpoint: string;
  readonly siteKey: string;
  /** Same behaviour as a plain fetch function, for injecting without touching globals. */
  readonly fetch: typeof fetch;
  readonly requests: FakeRequest[] = [];
  readonly videos = new Map<string, Video>();
  readonly #models: ModelRoute[];
  readonly #pollsToComplete: number;
  readonly #latencyMs: number;
  readonly #realFetch: typeof fetch;
  readonly #tokens = new Map<string, { visitorId: string; expiresAt: number }>();
  readonly #owners = new Map<string, string>();
  readonly #polls = new Map<string, number>();
  readonly #doomed = new Map<string, { code: string; message: string }>();
  readonly #idempotent = new Map<string, string>();
  /** Set when the site requires Turnstile: the tokens already spent (they are single-use). */
  readonly #turnstile: Set<string> | null;
  readonly #media = new Map<URL, Promise<Blob>>();
  #rules: Rule[] = [];

  /** `latencyMs` (not in the worker) delays every answer, to observe in-between states. */
  constructor(
    options: {
      endpoint?: string;
      siteKey?: string;
      models?: ModelRoute[];
      pollsToComplete?: number;
      latencyMs?: number;
      /** Require `turnstile_token` on sessions, like a SITES entry with `turnstile`. */
      turnstile?: boolean;
    } = {},
  ) {
    this.endpoint = (options.endpoint ?? "https://api.fake-stillmotion.test").replace(/\/+$/, "");
    this.siteKey = options.siteKey ?? "pk_test_widget";
    this.#models = options.models ?? [SIM_ROUTE];
    this.#pollsToComplete = options.pollsToComplete ?? 3;
    this.#latencyMs = options.latencyMs ?? 0;
    this.#turnstile = options.turnstile ? new Set() : null;
    this.#realFetch = globalThis.fetch.bind(globalThis);
    this.fetch = (input, init) => this.#fetch(input, init);
  }

  /** Replaces window.fetch for requests to `endpoint` (others go to the real fetch); returns an uninstall function. */
  install(): () => void {
    const previous = globalThis.fetch;
    const fake = this.fetch;
    globalThis.fetch = fake;
    return () => {
      if (globalThis.fetch === fake) globalThis.fetch = previous;
    };
  }

  /** The next matching request answers with OpenAI's error envelope. */
  failNext(
    status: number,
    error: { message: string; code?: string | null; param?: string | null },
    match: Match & { retryAfter?: number } = {},
  ): this {
    this.#rules.push({ ...match, times: match.times ?? 1, status, error });
    return this;
  }

  /** Makes an existing job fail on its next poll. */
  failJob(id: string, code: string, message: string): void {
    if (!this.videos.has(id)) throw new Error(`failJob: the fake has no video ${id}`);
    this.#doomed.set(id, { code, message });
  }

  /** Network failure (TypeError) for the next matching requests. */
  dropNext(match: Match = {}): this {
    this.#rules.push({ ...match, times: match.times ?? 1, drop: true });
    return this;
  }

  async #fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    // The URL is read without building a Request, which would consume a passed-through body.
    const url = input instanceof Request ? input.url : new URL(input, location.href).href;
    if (url !== this.endpoint && !url.startsWith(`${this.endpoint}/`)) {
      return this.#realFetch(input, init);
    }
    const request = new Request(input, init);
    const { signal } = request;
    signal.throwIfAborted();
    // Like a real fetch, an abort rejects at once, whatever the server is doing.
    return new Promise<Response>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      this.#serve(request)
        .then(resolve, reject)
        .finally(() => signal.removeEventListener("abort", onAbort));
    });
  }

  async #serve(request: Request): Promise<Response> {
    const recorded = await this.#record(request);
    if (this.#latencyMs > 0) await new Promise((r) => setTimeout(r, this.#latencyMs));
    const rule = this.#rules.find(
      (r) =>
        r.times > 0 &&
        (r.method === undefined || r.method.toUpperCase() === recorded.method) &&
        (r.path === undefined || r.path.test(recorded.path)),
    );
    if (rule) {
      rule.times--;
      this.#rules = this.#rules.filter((r) => r.times > 0);
      if (rule.drop) throw new TypeError("Failed to fetch");
      const retry: Record<string, string> =
        rule.retryAfter === undefined ? {} : { "retry-after": String(rule.retryAfter) };
      const { message, code = null, param = null } = rule.error!;
      return answer(new Refusal(rule.status!, message, code, param, retry));
    }
    try {
      return await this.#route(request, recorded);
    } catch (error) {
      if (error instanceof Refusal) return answer(error);
      throw error;
    }
  }

  async #record(request: Request): Promise<FakeRequest> {
    const [path = "/"] = request.url.slice(this.endpoint.length).split("?");
    const entry: FakeRequest = {
      method: request.method,
      path,
      url: request.url,
      headers: new Headers(request.headers),
    };
    const type = request.headers.get("content-type") ?? "";
    if (type.startsWith("multipart/form-data")) {
      entry.form = await request
        .clone()
        .formData()
        .catch(() => undefined);
    } else if (type.startsWith("application/json")) {
      entry.json = await request
        .clone()
        .json()
        .catch(() => undefined);
    }
    this.requests.push(entry);
    return entry;
  }

  async #route(request: Request, { method, path, form, json }: FakeRequest): Promise<Response> {
    const [, videoId, action] = /^\/v1\/videos\/([^/]+)(?:\/([^/]+))?$/.exec(path) ?? [];
    const media = /^\/media\/([^/]+)\/(video|thumbnail|spritesheet)$/.exec(path);
    if (method === "POST" && path === "/v1/sessions") return this.#session(request, json);
    if (method === "GET" && path === "/v1/models") {
      const data = this.#models.map((m) => ({ ...m, object: "model", created: 0 }));
      return ok({ object: "list", data });
    }
    if (method === "POST" && path === "/v1/videos") return this.#create(request, form);
    if (method === "GET" && path === "/v1/videos") return this.#list(request);
    if (method === "GET" && videoId && !action)
      return ok(this.#advance(this.#owned(request, videoId)));
    if (method === "POST" && videoId && action === "remix")
      return this.#remix(request, videoId, json);
    if (method === "GET" && media) return this.#serveMedia(media[1]!, media[2] as "video");
    throw new Refusal(
      404,
      `The fake Stillmotion API has no route ${method} ${path}.`,
      "unknown_route",
    );
  }

  #session(request: Request, json: unknown): Response {
    const body = (json ?? {}) as { site_key?: unknown; turnstile_token?: unknown };
    if (body.site_key !== this.siteKey) {
      throw new Refusal(
        401,
        "Unknown site_key. Copy the publishable key (pk_…) from your configuration.",
        "invalid_site_key",
      );
    }
    if (this.#turnstile) this.#checkTurnstile(body.turnstile_token);
    // A previous token of ours, even expired, keeps the visitor (worker/routes/sessions.ts).
    const previous = this.#tokens.get(bearer(request) ?? "");
    const visitorId = previous?.visitorId ?? newId("vis_");
    const token = newId("tok_");
    const expiresAt = nowSeconds() + SESSION_TTL_SECONDS;
    this.#tokens.set(token, { visitorId, expiresAt });
    return ok({ token, expires_at: expiresAt, visitor_id: visitorId });
  }

  /** As the worker's siteverify check, minus Cloudflare: present, and never seen before. */
  #checkTurnstile(token: unknown): void {
    if (typeof token !== "string" || !token) {
      const message = "This site requires the bot check: send a fresh Turnstile token.";
      throw new Refusal(400, message, "turnstile_required", "turnstile_token");
    }
    if (this.#turnstile!.has(token)) {
      const message = "The bot check did not pass. Complete it again, then try again.";
      throw new Refusal(403, message, "turnstile_failed", "turnstile_token");
    }
    this.#turnstile!.add(token);
  }

  /** The caller's visitor id, or the worker's 401. */
  #visitor(request: Request): string {
    const session = this.#tokens.get(bearer(request) ?? "");
    if (!session || session.expiresAt <= nowSeconds()) {
      throw new Refusal(
        401,
        "The token is invalid or has expired. Use a valid key or start a new session.",
        "invalid_token",
      );
    }
    return session.visitorId;
  }

  #owned(request: Request, id: string): Video {
    if (!/^video_[0-9a-hjkmnp-tv-z]{26}$/.test(id)) {
      throw new Refusal(
        400,
        "That is not a video id from this API (they look like video_…).",
        "invalid_id",
        "video_id",
      );
    }
    const video = this.videos.get(id);
    if (!video || this.#owners.get(id) !== this.#visitor(request)) {
      throw new Refusal(
        404,
        "No video with that id exists for this caller.",
        "not_found",
        "video_id",
      );
    }
    return video;
  }

  async #create(request: Request, form: FormData | undefined): Promise<Response> {
    const visitor = this.#visitor(request);
    const replay = this.#replay(request, visitor);
    if (replay) return ok(replay);
    if (!form) {
      throw new Refusal(
        400,
        "Send the video request as multipart/form-data.",
        "unsupported_content_type",
      );
    }
    const text = (name: string) => {
      const value = form.get(name);
      if (value !== null && typeof value !== "string")
        throw new Refusal(400, `${name} must be a text field, not a file.`, "invalid_value", name);
      return value ?? undefined;
    };
    const modelId = text("model");
    const model =
      modelId === undefined ? this.#models[0] : this.#models.find((m) => m.id === modelId);
    if (!model) throw new Refusal(400, `Unknown model "${modelId}".`, "unknown_model", "model");
    const size = text("size") ?? model.default_size;
    if (!model.sizes.includes(size))
      throw new Refusal(
        400,
        `size "${size}" is not offered by ${model.id}. Allowed sizes: ${model.sizes.join(", ")}.`,
        "unsupported_size",
        "size",
      );
    const seconds = text("seconds") ?? model.default_seconds;
    if (!model.seconds.includes(seconds))
      throw new Refusal(
        400,
        `seconds "${seconds}" is not offered by ${model.id}. Allowed: ${model.seconds.join(", ")}.`,
        "unsupported_seconds",
        "seconds",
      );
    const prompt = checkPrompt(model, text("prompt"));
    await checkImage(model, form.get("input_reference"), size);
    const video = this.#store(visitor, {
      model: model.id,
      prompt,
      size,
      seconds,
      remixed_from_video_id: null,
    });
    this.#remember(request, visitor, video);
    return ok(video);
  }

  #remix(request: Request, id: string, json: unknown): Response {
    const source = this.#owned(request, id);
    const visitor = this.#visitor(request);
    const replay = this.#replay(request, visitor);
    if (replay) return ok(replay);
    const model = this.#models.find((m) => m.id === source.model);
    if (!model?.remix)
      throw new Refusal(
        400,
        `${source.model} cannot remix videos.`,
        "unsupported_for_model",
        "video_id",
      );
    if (source.status !== "completed") {
      throw new Refusal(
        400,
        "Only a completed video can be remixed; wait until it has finished.",
        "video_not_ready",
        "video_id",
      );
    }
    const prompt = checkPrompt(model, (json as { prompt?: unknown } | undefined)?.prompt);
    const { size, seconds } = source;
    const video = this.#store(visitor, {
      model: model.id,
      prompt,
      size,
      seconds,
      remixed_from_video_id: id,
    });
    this.#remember(request, visitor, video);
    return ok(video);
  }

  #list(request: Request): Response {
    const visitor = this.#visitor(request);
    const limit = Number(new URL(request.url).searchParams.get("limit") ?? "20");
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw new Refusal(400, "limit must be an integer from 1 to 100.", "invalid_value", "limit");
    }
    // Newest first; among equal seconds, the later insertion first (Map keeps insertion order).
    const mine = [...this.videos.values()]
      .filter((v) => this.#owners.get(v.id) === visitor)
      .reverse();
    const data = mine.sort((a, b) => b.created_at - a.created_at).slice(0, limit);
    return ok({
      object: "list",
      data,
      first_id: data[0]?.id ?? null,
      last_id: data.at(-1)?.id ?? null,
      has_more: mine.length > limit,
    });
  }

  /** One status poll: queued → in_progress (progress grows) → completed after N polls. */
  #advance(video: Video): Video {
    const doom = this.#doomed.get(video.id);
    if (doom) {
      this.#doomed.delete(video.id);
      Object.assign(video, {
        status: "failed",
        error: doom,
        completed_at: nowSeconds(),
        content_urls: null,
      });
    } else if (video.status === "queued" || video.status === "in_progress") {
      const polls = (this.#polls.get(video.id) ?? 0) + 1;
      this.#polls.set(video.id, polls);
      if (polls >= this.#pollsToComplete) {
        const base = `${this.endpoint}/media/${video.id}`;
        const content_urls = {
          video: `${base}/video`,
          thumbnail: `${base}/thumbnail`,
          spritesheet: `${base}/spritesheet`,
          expires_at: nowSeconds() + MEDIA_TTL_SECONDS,
        };
        Object.assign(video, {
          status: "completed",
          progress: 100,
          completed_at: nowSeconds(),
          content_urls,
        });
      } else {
        Object.assign(video, {
          status: "in_progress",
          progress: Math.min(99, Math.floor((100 * polls) / this.#pollsToComplete)),
        });
      }
    }
    return structuredClone(video);
  }

  #store(
    visitor: string,
    fields: Pick<Video, "model" | "prompt" | "size" | "seconds" | "remixed_from_video_id">,
  ): Video {
    const created = nowSeconds();
    const video: Video = {
      id: newId("video_"),
      object: "video",
      status: "queued",
      progress: 0,
      created_at: created,
      completed_at: null,
      expires_at: created + JOB_TTL_SECONDS,
      error: null,
      content_urls: null,
      ...fields,
    };
    this.videos.set(video.id, video);
    this.#owners.set(video.id, visitor);
    return structuredClone(video);
  }

  /** Idempotency-Key (the contract): a repeated create by the same caller returns the first job. */
  #replay(request: Request, visitor: string): Video | null {
    const key = request.headers.get("idempotency-key");
    const id = key ? this.#idempotent.get(`${visitor} ${key}`) : undefined;
    const video = id ? this.videos.get(id) : undefined;
    return video ? structuredClone(video) : null;
  }

  #remember(request: Request, visitor: string, video: Video): void {
    const key = request.headers.get("idempotency-key");
    if (key) this.#idempotent.set(`${visitor} ${key}`, video.id);
  }

  async #serveMedia(id: string, variant: keyof typeof MEDIA_TYPES): Promise<Response> {
    const video = this.videos.get(id);
    if (!video || video.status !== "completed") {
      throw new Refusal(
        404,
        `This video's ${variant} is not available (it may have expired).`,
        "content_not_found",
        "variant",
      );
    }
    const [w = 0, h = 0] = video.size.split("x").map(Number);
    const shape = w >= h ? "1280x720" : "720x1280";
    const file = MEDIA[shape][variant];
    let bytes = this.#media.get(file);
    if (!bytes) {
      bytes = this.#realFetch(file).then((r) => {
        if (!r.ok)
          throw new Error(`The fake could not load simulator media ${file}: HTTP ${r.status}`);
        return r.blob();
      });
      this.#media.set(file, bytes);
    }
    const headers = {
      "content-type": MEDIA_TYPES[variant],
      "cross-origin-resource-policy": "cross-origin",
    };
    return new Response(await bytes, { status: 200, headers });
  }
}

function bearer(request: Request): string | null {
  return /^Bearer\s+(\S+)\s*$/i.exec(request.headers.get("authorization") ?? "")?.[1] ?? null;
}

function checkPrompt(model: ModelRoute, raw: unknown): string {
  const prompt = typeof raw === "string" ? raw.trim() : "";
  if (!prompt)
    throw new Refusal(
      400,
      "prompt is empty: describe what should happen in the video.",
      "invalid_value",
      "prompt",
    );
  if (prompt.length > model.prompt_max_chars) {
    throw new Refusal(
      400,
      `prompt is ${prompt.length} characters; ${model.id} accepts at most ${model.prompt_max_chars}. Shorten it.`,
      "prompt_too_long",
      "prompt",
    );
  }
  return prompt;
}

/** Decodes the upload for real: the worker refuses any image that is not exactly `size`. */
async function checkImage(
  model: ModelRoute,
  image: FormDataEntryValue | null,
  size: string,
): Promise<void> {
  if (image === null || (typeof image !== "string" && image.size === 0)) {
    if (model.input_image === "required")
      throw new Refusal(
        400,
        `${model.id} needs an input image: send it as input_reference.`,
        "image_required",
        "input_reference",
      );
    return;
  }
  if (typeof image === "string")
    throw new Refusal(
      400,
      "input_reference must be an image file (JPEG, PNG or WebP).",
      "invalid_value",
      "input_reference",
    );
  if (model.input_image === "none")
    throw new Refusal(
      400,
      `${model.id} does not take an input image; remove input_reference.`,
      "image_not_supported",
      "input_reference",
    );
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(image);
  } catch {
    throw new Refusal(
      400,
      "input_reference is damaged or not an image we can read. Upload a JPEG, PNG or WebP image.",
      "invalid_image",
      "input_reference",
    );
  }
  const actual = `${bitmap.width}x${bitmap.height}`;
  bitmap.close();
  if (actual !== size) {
    throw new Refusal(
      400,
      `input_reference is ${actual} pixels but size is ${size}. Crop or resize the image to exactly ${size} (the widget does this for you).`,
      "image_size_mismatch",
      "input_reference",
    );
  }
}

function ok(body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status: 200,
    headers: { "content-type": "application/json", "x-request-id": newId("req_") },
  });
}

/** The worker's envelope (worker/errors.ts), `type` derived from the status the same way. */
function answer(refusal: Refusal): Response {
  const { status, message, code, param } = refusal;
  const type =
    status === 401
      ? "authentication_error"
      : status === 404
        ? "not_found_error"
        : status === 409
          ? "conflict_error"
          : status === 429
            ? "rate_limit_error"
            : status >= 500
              ? status === 500
                ? "server_error"
                : "provider_error"
              : "invalid_request_error";
  const headers = {
    "content-type": "application/json",
    "x-request-id": newId("req_"),
    ...refusal.headers,
  };
  return new Response(JSON.stringify({ error: { message, type, param, code } }), {
    status,
    headers,
  });
}
