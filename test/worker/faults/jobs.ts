/** What the fault tests share: a paid relay job, made and polled the way a client does. */
import { expect } from "vitest";
import type { Harness } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

export type Video = {
  id: string;
  status: string;
  progress: number;
  content_urls: { video: string } | null;
};

/** Creates a job on the `relay` route; its id. */
export async function createRelayJob(h: Harness): Promise<string> {
  const response = await h.server("/v1/videos", post(createForm({ model: "relay" })));
  expect(response.status).toBe(200);
  return ((await response.json()) as Video).id;
}

/** One poll past the refresh interval (so it asks the watcher, which asks upstream): a 200. */
export async function pollOnce(h: Harness, id: string): Promise<Video> {
  h.advance(2500);
  const response = await h.server(`/v1/videos/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Video;
}

/** Polls until the job is completed (a few polls of the fake's lifecycle). */
export async function untilCompleted(h: Harness, id: string): Promise<Video> {
  let video = await pollOnce(h, id);
  for (let i = 0; i < 6 && video.status !== "completed"; i++) video = await pollOnce(h, id);
  expect(video.status).toBe("completed");
  return video;
}

/** A signed media URL as a path the harness can call. */
export const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;
