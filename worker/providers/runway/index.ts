/**
 * The `runway` adapter: Runway's own task API, which serves Gen-4.5 and Gen-4 Turbo and resells
 * Veo 3.x and Gemini Omni Flash. Facts: docs/providers/runway.md §4, §11, §12.1.
 *
 * Runway has no webhooks (§4, §11.5), so jobs are polled; it is the one provider here with a real
 * `progress` figure. Results are signed URLs that expire in 24–48 h, so `content` re-reads the
 * task for a fresh one each time and fetches it WITHOUT the key, from an allow-listed host only.
 */
import { z } from "zod";
import { passThroughMediaResponse } from "../media/pass-through";
import { ProviderError } from "./errors";
import { sender } from "./kit/send";
import { estimatedProgress } from "./progress";
import { providerErrorFromResponse, sanitizeUpstreamText } from "./upstream-errors";
import { runwayCreateBody, runwayTask, runwayTaskState, type RunwayTask } from "./runway-shapes";
import type { Provider, ProviderContext } from "./types";

export { RUNWAY_MODELS, type RunwayModel } from "./runway-shapes";

/** The only upstream (§4, [SDK] client.ts); `base_url` may swap it for an https proxy. */
export const RUNWAY_API_BASE = "https://api.dev.runwayml.com";
/** Required on every call (§4): Runway pins its API shape to this date. */
export const RUNWAY_API_VERSION = "2024-11-06";

/**
 * Hosts (and their subdomains) a result URL may point at. The CloudFront distributions are the
 * ones public integrations see Runway serve `output[0]` from (third-party, UNCONFIRMED: §4 only
 * says "signed URLs"); runwayml.com is Runway's own domain. Shared parents are never allowed.
 */
export const RUNWAY_DEFAULT_OUTPUT_HOSTS = [
  "dnznrvs05pmza.cloudfront.net",
  "d2jqrm6oza8nb6.cloudfront.net",
  "runwayml.com",
] as const;
const SHARED_PARENTS = new Set([
  ...["cloudfront.net", "amazonaws.com", "s3.amazonaws.com", "googleapis.com", "r2.dev"],
  ...["workers.dev", "azureedge.net", "blob.core.windows.net", "fastly.net", "akamaized.net"],
]);

const hostSuffix = z
  .string()
  .regex(/^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, "a lowercase host name")
  .refine((host) => !SHARED_PARENTS.has(host), "a shared hosting domain: name the exact host");

const httpsBase = z
  .string()
  .refine((value) => {
    const url = URL.canParse(value) ? new URL(value) : null;
    return !!url && url.protocol === "https:" && !url.username && !url.password && !url.search;
  }, "must be an https:// URL without credentials or query")
  .transform((value) => value.replace(/\/+$/, ""));

/** The `provider` block of a route in MODEL_ROUTES for Runway. */
export const runwayProviderOptions = z
  .object({
    type: z.literal("runway"),
    /** Name of the worker secret holding the key (the SDK's own variable name by default). */
    api_key_secret: z
      .string()
      .regex(/^[A-Z][A-Z0-9_]*$/)
      .default("RUNWAYML_API_SECRET"),
    /** Only for tests and proxies; the key is sent here, so https only. */
    base_url: httpsBase.default(RUNWAY_API_BASE),
    /** Used only when a RUNNING task carries no `progress` (3P: 15–45 s for 5 s of gen4.5). */
    typical_seconds: z.number().int().min(5).max(3600).default(60),
    /** Per attempt, until the response headers arrive. */
    timeout_ms: z.number().int().min(1_000).max(300_000).default(30_000),
    /** Retries of idempotent calls only (retrieve, content, delete). */
    max_retries: z.number().int().min(0).max(5).default(2),
    /** `low` lets recognisable public figures through (§4 Faces); sent only to gen4* models. */
    public_figure_threshold: z.enum(["auto", "low"]).optional(),
    /** Hosts (with subdomains) `content` may download a result from. */
    output_hosts: z
      .array(hostSuffix)
      .min(1)
      .max(10)
      .default([...RUNWAY_DEFAULT_OUTPUT_HOSTS]),
  })
  .strict();
export type RunwayProviderOptions = z.infer<typeof runwayProviderOptions>;

/** What the adapter needs beyond the shared context: its key and, for tests, an instant sleep. */
export type RunwayProviderContext = ProviderContext & {
  apiKey: string;
  sleep?: (ms: number) => Promise<void>;
};

/** Task ids are UUIDs ([SDK] tasks.ts examples); anything else never reaches a URL. */
const TASK_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEADER_SAFE = /^[\x21-\x7e]+$/;
/** A single byte range, the only form worth forwarding (RFC 9110 §14.2). */
const BYTE_RANGE = /^bytes=\d*-\d*$/;

/** Builds the adapter for one route. Never throws here: a missing key fails each call instead. */
export function createRunwayProvider(
  options: RunwayProviderOptions,
  ctx: RunwayProviderContext,
): Provider {
  const redact = [ctx.apiKey];
  const base = options.base_url;

  const headers = (extra: Record<string, string> = {}): Headers => {
    if (!HEADER_SAFE.test(ctx.apiKey)) {
      throw new ProviderError(
        "misconfigured",
        "The video provider is not configured.",
        `secret ${options.api_key_secret} is missing or not a valid header value`,
      );
    }
    return new Headers({
      accept: "application/json",
      ...extra,
      authorization: `Bearer ${ctx.apiKey}`,
      "x-runway-version": RUNWAY_API_VERSION,
    });
  };

  const send = sender(ctx, options);

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
    return parseJson(await readText(response), runwayTask, "a task", redact);
  };

  return {
    kind: "runway",

    async create(input) {
      const body = JSON.stringify(runwayCreateBody(input, options.public_figure_threshold));
      const h = headers({ "content-type": "application/json" });
      const url = `${base}/v1/image_to_video`;
      const response = await send(
        () => new Request(url, { method: "POST", headers: h, body }),
        false,
        input.signal,
      );
      if (!response.ok) throw await fail(response, "video");
      const created = z.object({ id: z.string() });
      const { id } = parseJson(await readText(response), created, "a task id", redact);
      if (!TASK_ID.test(id)) throw unreadable("task id failed the format check");
      return { upstreamId: id, status: "queued", progress: 0, error: null, expiresAt: null };
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
      const h = new Headers();
      const range = request.range?.trim();
      if (range && BYTE_RANGE.test(range)) h.set("range", range);
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
}

/** True for a plain https URL on one of the route's `output_hosts` (or a subdomain). */
function onOutputHost(url: URL, hosts: readonly string[]): boolean {
  const host = url.hostname;
  return (
    url.protocol === "https:" &&
    !url.username &&
    !url.password &&
    url.port === "" &&
    hosts.some((suffix) => host === suffix || host.endsWith(`.${suffix}`))
  );
}

/** The result URL exactly as returned, once it is https on an allowed host; else bad_response. */
function checkedOutputUrl(raw: string, hosts: readonly string[]): string {
  const url = URL.canParse(raw) ? new URL(raw) : null;
  const host = url?.hostname ?? "";
  if (!url || !onOutputHost(url, hosts)) {
    // The host only: the rest of a signed URL is a credential.
    const where = url ? `host ${host} over ${url.protocol.slice(0, -1)}` : "an unparseable URL";
    throw unreadable(`result URL not allowed by output_hosts: ${where}`);
  }
  return raw;
}

/** A body cut off after a 200: the call may have taken effect, so the outcome is unknown. */
async function readText(response: Response): Promise<string> {
  try {
    return await response.text();
  } catch (error) {
    const detail = sanitizeUpstreamText(error instanceof Error ? error.message : String(error));
    throw new ProviderError(
      "timeout",
      "The video provider did not answer in time.",
      `body read failed: ${detail}`,
    );
  }
}

function parseJson<T>(
  text: string,
  schema: z.ZodType<T>,
  what: string,
  redact: readonly string[],
): T {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return parsed.data;
  throw unreadable(`not ${what}: ${sanitizeUpstreamText(text.slice(0, 200), redact)}`);
}

const unreadable = (detail: string) =>
  new ProviderError("bad_response", "The video provider answered something unreadable.", detail);
const noContent = (detail: string) =>
  new ProviderError("not_found", "The video provider has no such video content.", detail);
