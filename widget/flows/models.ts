/**
 * Loading: fetch the model routes, narrow them to the owner's choice, and pick up a job the
 * visitor started before a reload.
 */
import { ApiProblem } from "../api/problem";
import type { FitMode } from "../fit";
import { restrictRoutes, type Restrictions } from "../state/routes";
import type { Problem } from "../state/types";
import type { FlowHost } from "./host";
import { fail } from "./job";

/** The owner's attributes read once the routes arrive (the element itself). */
export interface ModelOptions extends Restrictions {
  fit: FitMode;
}

/** Runs while the state is `loading-models`: routes in, then resume the newest job if any. */
export async function loadModels(host: FlowHost, owner: ModelOptions): Promise<void> {
  const signal = host.epoch();
  try {
    const all = await host.services().client.models(signal);
    if (signal.aborted || host.flow().name !== "loading-models") return;
    const routes = restrictRoutes(all, owner);
    if (!routes.length) {
      const message = host.strings().errorNoModels;
      const problem: Problem = { kind: "setup", code: "no_models", message, retryAfter: null };
      return host.send({ type: "request-failed", problem });
    }
    host.send({
      type: "models-loaded",
      routes,
      mode: owner.fit === "contain" ? "contain" : "cover",
    });
    await resume(host, signal);
  } catch (error) {
    if (!signal.aborted && host.flow().name === "loading-models") fail(host, error);
  }
}

/** Picks up the newest unfinished job, else shows the newest completed one (after a reload). */
async function resume(host: FlowHost, signal: AbortSignal): Promise<void> {
  const { client, memory } = host.services();
  const jobs = memory.list();
  const candidate =
    jobs.find((j) => j.status === "queued" || j.status === "in_progress") ??
    jobs.find((j) => j.status === "completed");
  if (!candidate) return;
  try {
    const video = await client.retrieve(candidate.id, signal);
    memory.remember(video);
    const expired = video.expires_at !== null && video.expires_at * 1000 < Date.now();
    if (!expired) host.send({ type: "resumed", video });
  } catch (error) {
    // Gone (expired, another visitor's token): forget it. Anything else: just start fresh.
    if (error instanceof ApiProblem && error.kind === "not_found") memory.forget(candidate.id);
  }
}
