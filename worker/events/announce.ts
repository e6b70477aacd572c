/**
 * Announcing a finished job to the owner's endpoints (docs/events.md): the event is built and
 * stored in each matching endpoint's outbox, then this returns. Delivery, signing and retries
 * happen later, in the outbox's alarm (outbox.ts), so no request waits on a receiver.
 */
import type { Video } from "../api/video";
import { backgroundDeps } from "../background/deps";
import type { WorkerEnv } from "../env";
import type { EventEndpoint, VideoEventType } from "./config";
import { eventId } from "./sign";

export type { EventEndpoint, VideoEventType } from "./config";

/** Who the job belongs to: a visitor of a site, or a backend by its server key's name. */
export type EventOwner = { site_id: string; visitor_id: string } | { server_key: string };

export interface VideoEvent {
  type: VideoEventType;
  video: Video;
  owner: EventOwner;
}

/** The outbox of one endpoint (one Durable Object per URL; see outbox.ts for why). */
export function outboxFor(env: WorkerEnv, url: string) {
  return env.EVENTS.get(env.EVENTS.idFromName(url));
}

/** Whether `endpoint` asked for this event: its type, and its site or server-key filters. */
export function wants(endpoint: EventEndpoint, event: Omit<VideoEvent, "video">): boolean {
  if (!endpoint.events.includes(event.type)) return false;
  // No owner filter: every job. With filters, only the jobs one of them names.
  if (!endpoint.sites && !endpoint.serverKeys) return true;
  const { owner } = event;
  return "site_id" in owner
    ? (endpoint.sites?.includes(owner.site_id) ?? false)
    : (endpoint.serverKeys?.includes(owner.server_key) ?? false);
}

/**
 * Enqueues the event for every endpoint whose filters match; resolves once stored in the outbox
 * (so the caller can record that it announced). Throws on storage failure (caller retries later).
 * The event id comes from (video id, type) alone, so announcing the same thing twice stores
 * nothing new and, were it ever delivered twice, receivers see one `webhook-id`.
 */
export async function announce(
  env: WorkerEnv,
  endpoints: EventEndpoint[],
  event: VideoEvent,
): Promise<void> {
  const targets = endpoints.filter((endpoint) => wants(endpoint, event));
  if (targets.length === 0) return;
  const id = await eventId(event.video.id, event.type);
  const body = JSON.stringify({
    type: event.type,
    timestamp: occurredAt(event.video),
    data: { ...event.video, owner: event.owner },
  });
  await Promise.all(
    targets.map((endpoint) =>
      outboxFor(env, endpoint.url).enqueue({
        eventId: id,
        type: event.type,
        videoId: event.video.id,
        body,
        url: endpoint.url,
      }),
    ),
  );
}

/**
 * When the event happened (the spec's `timestamp`, not the attempt's): the job's own finishing
 * time, so a re-announcement carries the same one; the worker's clock when it has none.
 */
function occurredAt(video: Video): string {
  const ms = video.completed_at === null ? backgroundDeps().now() : video.completed_at * 1000;
  return new Date(ms).toISOString();
}
