/**
 * The public Video object: a job record seen by its owner. Upstream ids and owners stay inside;
 * completed videos get signed content URLs (an extension field OpenAI clients ignore).
 */
import type { z } from "@hono/zod-openapi";
import { signContentToken } from "../auth/tokens";
import type { Config } from "../config";
import { VARIANTS } from "../providers/types";
import type { JobRecord } from "../store/jobs";
import type { VideoSchema } from "./schemas";

export type Video = z.infer<typeof VideoSchema>;

export interface VideoView {
  config: Config;
  /** Origin of the worker as the caller reached it, for absolute media URLs. */
  origin: string;
  nowSeconds: number;
}

export async function toVideo(record: JobRecord, view: VideoView): Promise<Video> {
  // Our copy, once made, is what stays downloadable; before it, the provider's and ours.
  const expiresAt = record.result
    ? Math.min(record.result.expires_at, record.record_expires_at)
    : record.upstream_expires_at === null
      ? record.record_expires_at
      : Math.min(record.upstream_expires_at, record.record_expires_at);
  const variants = record.result
    ? VARIANTS.filter((variant) => record.result!.variants[variant] !== undefined)
    : null;
  return {
    id: record.id,
    object: "video",
    model: record.route,
    status: record.status,
    progress: Math.round(record.progress),
    created_at: record.created_at,
    completed_at: record.completed_at,
    expires_at: expiresAt,
    prompt: record.prompt,
    size: record.size,
    seconds: record.seconds,
    remixed_from_video_id: record.remixed_from_video_id,
    source: record.source ?? null,
    error: record.error,
    content_urls: record.status === "completed" ? await contentUrls(record.id, view) : null,
    content_variants: variants,
  };
}

async function contentUrls(id: string, { config, origin, nowSeconds }: VideoView) {
  // Round the expiry down to the minute so repeated polls return identical URLs (cacheable).
  const expiresAt = Math.floor((nowSeconds + config.limits.contentUrlTtlSeconds) / 60) * 60;
  const [video, thumbnail, spritesheet] = await Promise.all(
    VARIANTS.map(async (variant) => {
      const token = await signContentToken(config.sessionSecret, id, variant, expiresAt);
      return `${origin}/v1/videos/${id}/content?variant=${variant}&token=${token}`;
    }),
  );
  return { video: video!, thumbnail: thumbnail!, spritesheet: spritesheet!, expires_at: expiresAt };
}
