/**
 * The objects the worker answers with (docs/api-contract.md): OpenAI's Video plus our
 * `content_urls` extension, and the model routes of `GET /v1/models`.
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
