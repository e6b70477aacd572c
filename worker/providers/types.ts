/**
 * The provider seam: the one small interface every upstream sits behind.
 *
 * Routes never know which provider they talk to. An adapter gets plain values (its parsed
 * options, a `fetch`, a clock, its secret) and speaks only in these types, so it can be tested
 * without Hono and without a network. Only the adapter knows the key and the upstream URL.
 */

export const VIDEO_STATUSES = ["queued", "in_progress", "completed", "failed"] as const;
export type VideoStatus = (typeof VIDEO_STATUSES)[number];

/** Normalized failure codes of a job that reached `status: "failed"` (see the API contract). */
export const FAILURE_CODES = [
  "policy_violation",
  "input_rejected",
  "provider_error",
  "timeout",
  "expired",
  "cancelled",
] as const;
export type FailureCode = (typeof FAILURE_CODES)[number];

export const VARIANTS = ["video", "thumbnail", "spritesheet"] as const;
export type Variant = (typeof VARIANTS)[number];

export type ImageMime = "image/jpeg" | "image/png" | "image/webp";

/** An input image that has already been sniffed and size-checked by the worker. */
export interface InputImage {
  bytes: Uint8Array;
  mime: ImageMime;
  width: number;
  height: number;
}

export interface CreateInput {
  /** Our opaque job id. Sent upstream as an idempotency key where supported; never part of a URL. */
  jobId: string;
  /** The route's upstream model name. */
  model: string;
  prompt: string;
  /** Whole seconds as a string, e.g. "4" (OpenAI's type). Already checked against the route. */
  seconds: string;
  /** `WxH`, already checked against the route. */
  size: string;
  image?: InputImage;
  /** The `audio` extension field; set only on routes whose model makes sound. */
  audio?: boolean;
  /**
   * Where the provider should send its signed webhook (`POST /webhooks/{route id}`), for
   * adapters that verify webhooks. Polling still works without it.
   */
  webhookUrl?: string;
  signal?: AbortSignal;
}

/**
 * The video an extension continues or an edit changes: one of the caller's finished videos or an
 * uploaded MP4, already structure-checked (worker/media/video.ts).
 */
export interface SourceVideo {
  /**
   * The provider's own id of the source when it was made on this same route, for providers that
   * can only continue their own output (Veo). Null for uploads and other routes' videos.
   */
  upstreamId: string | null;
  /** `WxH` of the source, which the result keeps. */
  size: string;
  /** The source's exact length in seconds. */
  durationSeconds: number;
  /** Its MP4 bytes, read only by adapters that send them (at most MAX_VIDEO_UPLOAD_BYTES). */
  bytes(): Promise<Uint8Array>;
}

export interface ExtendInput {
  jobId: string;
  model: string;
  prompt: string;
  /** The new segment's length (whole seconds as a string), already checked against the route. */
  seconds: string;
  /** The stitched result's length, source plus segment, which the job reports as `seconds`. */
  totalSeconds: string;
  source: SourceVideo;
  webhookUrl?: string;
  signal?: AbortSignal;
}

export interface EditInput {
  jobId: string;
  model: string;
  prompt: string;
  /** The result's length: the source's, rounded to whole seconds. */
  seconds: string;
  source: SourceVideo;
  webhookUrl?: string;
  signal?: AbortSignal;
}

export interface RetrieveOptions {
  signal?: AbortSignal;
  /** When the job was submitted (ms): providers without a progress figure estimate from it. */
  startedAt?: number;
}

export interface RemixInput {
  jobId: string;
  prompt: string;
  signal?: AbortSignal;
}

/** What the provider says about a job right now, already mapped onto the Video shape. */
export interface UpstreamState {
  status: VideoStatus;
  /** 0–100; adapters never report 100 before `completed`. */
  progress: number;
  error: { code: FailureCode; message: string } | null;
  /** Unix seconds when the upstream assets stop being downloadable, when known. */
  expiresAt: number | null;
}

export interface CreatedUpstreamJob extends UpstreamState {
  /** The provider's own id. Stored server-side only; never shown to a client. */
  upstreamId: string;
}

export interface ContentRequest {
  variant: Variant;
  /** The client's `Range` header, passed through verbatim. */
  range: string | null;
  signal?: AbortSignal;
}

/** A verified webhook delivery, reduced to what the worker acts on: which upstream job changed. */
export interface WebhookEvent {
  /** The delivery's own id, for handling retried deliveries once. */
  deliveryId: string;
  upstreamId: string;
}

export interface Provider {
  /** Adapter kind, e.g. "simulator" or "openai" (shown as `owned_by`). */
  readonly kind: string;
  create(input: CreateInput): Promise<CreatedUpstreamJob>;
  retrieve(upstreamId: string, options?: RetrieveOptions): Promise<UpstreamState>;
  /**
   * Media bytes as an upstream Response whose body is streamed to the client untouched
   * (200, 206 or 416). Throws `ProviderError("not_found")` for a variant the provider lacks.
   */
  content(upstreamId: string, request: ContentRequest): Promise<Response>;
  /** Present only when the provider can remix a finished job into a new one. */
  remix?(upstreamId: string, input: RemixInput): Promise<CreatedUpstreamJob>;
  /** Present when the provider can continue a finished video; the result is the stitched whole. */
  extend?(input: ExtendInput): Promise<CreatedUpstreamJob>;
  /** Present when the provider can change a finished video per a prompt (video-to-video). */
  edit?(input: EditInput): Promise<CreatedUpstreamJob>;
  /** Best-effort upstream deletion; absent when the provider has nothing to delete. */
  delete?(upstreamId: string): Promise<void>;
  /**
   * Present when the provider signs webhooks: verifies the raw delivery (signature, timestamp
   * window) before anything is parsed, and throws `ProviderError("input_rejected")` otherwise.
   * The worker then re-reads the job with `retrieve`, so a delivery is a hint, never the truth.
   */
  verifyWebhook?(request: Request): Promise<WebhookEvent>;
}

/** Injected I/O every adapter receives. */
export interface ProviderContext {
  fetch: typeof fetch;
  /** Milliseconds since the epoch. */
  now: () => number;
}
