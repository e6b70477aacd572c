/**
 * The news about a job, as flow events and the public events a page listens to: each poll
 * answer while waiting, and any request that failed for good (here or in another flow).
 */
import { ApiProblem } from "../api/problem";
import type { Video } from "../api/types";
import {
  StillMotionCompletedEvent,
  StillMotionFailedEvent,
  StillMotionProgressEvent,
} from "../events";
import type { Problem } from "../state/types";
import { describeError, describeJob } from "../views/problem";
import type { FlowHost } from "./host";

/** The poll's fetch; a transient failure shows "Retrying…" while the controller backs off. */
export async function retrieve(host: FlowHost, id: string, signal: AbortSignal): Promise<Video> {
  try {
    return await host.services().client.retrieve(id, AbortSignal.any([signal, host.epoch()]));
  } catch (error) {
    if (error instanceof ApiProblem && error.transient) host.send({ type: "retrying" });
    throw error;
  }
}

/** A fresh Video from the poll: remembered, moved into the state, and told to the page. */
export function onUpdate(host: FlowHost, video: Video): void {
  const s = host.flow();
  if (s.name !== "waiting" || s.video.id !== video.id) return;
  host.services().memory.remember(video);
  const problem = video.status === "failed" ? describeJob(video, host.strings()) : undefined;
  const changed = s.video.status !== video.status || s.video.progress !== video.progress;
  host.send({ type: "update", video, at: Date.now(), ...(problem ? { problem } : {}) });
  if (video.status === "completed") host.emit(new StillMotionCompletedEvent({ video }));
  else if (problem)
    host.emit(new StillMotionFailedEvent({ video, problem: publicProblem(problem) }));
  else if (changed) host.emit(new StillMotionProgressEvent({ video }));
}

/** A request failed for good: show it, and tell the page if the state did change. */
export function fail(host: FlowHost, error: unknown): void {
  const prev = host.flow();
  const problem = describeError(error, host.strings(), host.lang());
  host.send({ type: "request-failed", problem });
  if (host.flow() === prev) return;
  const video = prev.name === "waiting" ? prev.video : null;
  host.emit(new StillMotionFailedEvent({ video, problem: publicProblem(problem) }));
}

/** The event's view of a problem: no internal fields such as `retryAfter`. */
function publicProblem({ kind, code, message }: Problem) {
  return { kind, code, message };
}
