/**
 * The `runway` adapter: Runway's own task API, which serves Gen-4.5 and Gen-4 Turbo and resells
 * Veo 3.x and Gemini Omni Flash. Facts: docs/providers/runway.md §4, §11, §12.1.
 *
 * Runway has no webhooks (§4, §11.5), so jobs are polled; it is the one provider here with a real
 * `progress` figure. Results are signed URLs that expire in 24–48 h, so `content` re-reads the
 * task for a fresh one each time and fetches it WITHOUT the key, from an allow-listed host only.
 */
import { z } from "zod";
import { passThroughMediaResponse } from "../../media/pass-through";
import { ProviderError } from "../errors";
import { readJson, unreadable } from "../kit/body";
import { providerErrorFromResponse } from "../kit/errors";
import { credentialHeader, forwardedRange } from "../kit/headers";
import { estimatedProgress } from "../kit/progress";
import { sanitizeUpstreamText } from "../kit/sanitize";
import { sender } from "../kit/send";
import type { CreatedUpstreamJob, Provider } from "../types";
import {
  RUNWAY_API_VERSION,
  type RunwayProviderContext,
  type RunwayProviderOptions,
} from "./options";
import { runwayCreateBody, runwayEditBody } from "./request";
import {
  checkedOutputUrl,
  onOutputHost,
  runwayTask,
  runwayTaskState,
  type RunwayTask,
} from "./response";

export {
  RUNWAY_API_BASE,
  RUNWAY_API_VERSION,
  RUNWAY_DEFAULT_OUTPUT_HOSTS,
  runwayProviderOptions,
  type RunwayProviderOptions,
} from "./options";
export { RUNWAY_MODELS, type RunwayModel } from "./request";

/** Task ids are UUIDs ([SDK] tasks.ts examples); anything else never reaches a URL. */
const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Builds the adapter for one route. Never throws here: a missing key fails each call instead. */
export function createRunwayProvider(
  options: RunwayProviderOptions,
  ctx: RunwayProviderContext,
): Provider {
  const redact = [ctx.apiKey];
  const base = options.base_url;

  const headers = (extra: Record<string, string> = {}): Headers =>
    new Headers({
      accept: "application/json",
      ...extra,
      ...credentialHeader("authorization", "Bearer ", ctx.apiKey, options.api_key_secret),
      "x-runway-version": RUNWAY_API_VERSION,
    });

  const send = sender(ctx, options, redact);

  const fail = async (response: Response, what: string) => {
    const error = await providerErrorFromResponse(response, { what, now: ctx.now(), redact });
    // Runway's error body is `{error: "<text>"}` with no code, so a refusal on safety grounds
    // can only be told from a bad parameter by its words.
    if (
      error.kind === "input_rejected" &&
      /moderat|safety|public figure/i.test(error.detail ?? "")
    ) {
      const message = "The video provider refused this request on content policy grounds.";
      return new ProviderError("policy_violation", message, error.detail);
    }
    return error;
  };

  const taskUrl = (upstreamId: string): string => {
    if (!TASK_ID.test(upstreamId)) {
      const detail = "upstream id failed the format check";
      throw new ProviderError("not_found", "The video provider has no such video.", detail);
    }
    return `${base}/v1/tasks/${upstreamId}`;
  };

  const getTask = async (upstreamId: string, signal?: AbortSignal): Promise<RunwayTask> => {
    const url = taskUrl(upstreamId);
    const h = headers();
    const response = await send(() => new Request(url, { headers: h }), true, signal);
    if (!response.ok) throw await fail(response, "video");
    return readJson(response, runwayTask, "a task", redact);
  };

  /** POSTs a task-starting body (sent once, never retried) and reads the new task's id. */
  const startTask = async (
    path: "/v1/image_to_video" | "/v1/video_to_video",
    payload: Record<string, unknown>,
    signal?: AbortSignal,
  ): Promise<CreatedUpstreamJob> => {
    const body = JSON.stringify(payload);
    const h = headers({ "content-type": "application/json" });
    const url = `${base}${path}`;
    const response = await send(
      () => new Request(url, { method: "POST", headers: h, body }),
      false,
      signal,
    );
    if (!response.ok) throw await fail(response, "video");
    const created = z.object({ id: z.string() });
    const { id } = await readJson(response, created, "a task id", redact);
    if (!TASK_ID.test(id)) throw unreadable("task id failed the format check");
    return { upstreamId: id, status: "queued", progress: 0, error: null, expiresAt: null };
  };

  const provider: Provider = {
    kind: "runway",

    async create(input) {
      const body = runwayCreateBody(input, options.public_figure_threshold);
      return startTask("/v1/image_to_video", body, input.signal);
    },

    async retrieve(upstreamId, { signal, startedAt } = {}) {
      const task = await getTask(upstreamId, signal);
      const elapsedMs = startedAt === undefined ? 0 : ctx.now() - startedAt;
      return runwayTaskState(task, {
        estimate: () => estimatedProgress(elapsedMs, options.typical_seconds * 1000),
        nowSeconds: Math.floor(ctx.now() / 1000),
        redact,
      });
    },

    async content(upstreamId, request) {
      if (request.variant !== "video") throw noContent(`Runway makes no ${request.variant}`);
      // Signed URLs expire (§4 Result): ask for a fresh one every time, never store it.
      const task = await getTask(upstreamId, request.signal);
      const output = task.status === "SUCCEEDED" ? task.output?.[0] : undefined;
      if (!output) throw noContent(`task is ${sanitizeUpstreamText(task.status)}`);
      const url = checkedOutputUrl(output, options.output_hosts);
      // No key here: the URL carries its own signature, and the CDN is not Runway's API.
      const h = forwardedRange(request.range);
      const response = await send(() => new Request(url, { headers: h }), true, request.signal, {
        media: true,
        allowHost: (target) => onOutputHost(target, options.output_hosts),
      });
      if (response.ok || response.status === 416) return passThroughMediaResponse(response);
      if ([403, 404, 410].includes(response.status)) {
        await response.body?.cancel();
        // A URL signed a moment ago that no longer works: the task's result is gone.
        throw noContent(`result download answered HTTP ${response.status}`);
      }
      throw await fail(response, "video content");
    },

    async delete(upstreamId) {
      // Cancels a task still pending or running, deletes a finished one ([SDK] tasks.ts).
      const url = taskUrl(upstreamId);
      const h = headers({ accept: "*/*" });
      const response = await send(() => new Request(url, { method: "DELETE", headers: h }), true);
      if (response.ok || response.status === 404) {
        await response.body?.cancel();
        return;
      }
      throw await fail(response, "video");
    },
  };

  const editModel = options.edit_model;
  if (editModel === null) return provider;
  return {
    ...provider,
    // Edits are `video_to_video` tasks (§4a), polled and downloaded like any other task.
    async edit(input) {
      const threshold = options.public_figure_threshold;
      runwayEditBody(editModel, input, null, threshold); // refusals before the source is read
      headers(); // and a missing key, too
      const body = runwayEditBody(editModel, input, await input.source.bytes(), threshold);
      return startTask("/v1/video_to_video", body, input.signal);
    },
  };
}

const noContent = (detail: string) =>
  new ProviderError("not_found", "The video provider has no such video content.", detail);
