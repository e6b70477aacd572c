/**
 * The provider conformance suite: the same contract, run against EVERY adapter the registry
 * knows, each built by `createProvider` from its route block in the shared deployment
 * (test/helpers/deployment.ts) and talking to its contract fake. An adapter that passes its own
 * tests but not these does not keep the seam's promises (docs/decisions/0005-provider-seam.md):
 *
 * - create, then retrieve until completed; the upstream id round-trips;
 * - content streams the video, a single Range is a 206 of exactly those bytes, and a variant the
 *   provider lacks is a `ProviderError`, never a made-up file;
 * - one status → kind mapping (400 input_rejected, 401 misconfigured, 404 not_found,
 *   429 rate_limited with Retry-After, 500/502 upstream_failed, 503 unavailable), and a create
 *   cut off (timeout, reset) is `timeout`: its outcome is unknown, so its money stays reserved;
 * - a redirect off the upstream's origin carries no credential and no body, and never a write;
 * - no four characters of the key beyond its known prefix reach any error, however the upstream
 *   quotes it.
 *
 * Outbound requests that no fake claims fail the test (the deployment's fetch throws).
 */
import { describe, expect, it } from "vitest";
import { ProviderError } from "../../../worker/providers/errors";
import { createProvider, providerOptions } from "../../../worker/providers/registry";
import type { CreateInput, Provider } from "../../../worker/providers/types";
import { deployment, PROMPT, PROVIDERS, ROUTES, SECRETS } from "../../helpers/deployment";
import { images } from "../../helpers/requests";

const EVIL = "collector.evil.example";
const CREDENTIAL_HEADERS = ["authorization", "api-key", "x-goog-api-key", "x-api-key"];
/** The kind prefixes a key may show (they say what a key is, not which). */
const PREFIXES = ["sk-proj-", "sk-or-v1-", "sk-", "r8_", "key_", "AIza"];

/** The request that starts a paid job, per route: the one to fail, cut or redirect. */
const CREATE: Record<string, (request: Request) => boolean> = {
  relay: (r) => r.method === "POST" && new URL(r.url).pathname.endsWith("/videos"),
  azure: (r) => r.method === "POST" && new URL(r.url).pathname.endsWith("/videos"),
  "kling-fal": (r) => r.method === "POST" && new URL(r.url).hostname === "queue.fal.run",
  veo: (r) => r.method === "POST" && r.url.includes(":predictLongRunning"),
  runway: (r) => r.method === "POST" && new URL(r.url).pathname === "/v1/image_to_video",
  "veo-replicate": (r) => r.method === "POST" && new URL(r.url).pathname.endsWith("/predictions"),
  "veo-openrouter": (r) => r.method === "POST" && new URL(r.url).pathname.endsWith("/videos"),
};
/** Where a provider documents another kind for an HTTP status on create, and why. */
const CREATE_EXCEPTIONS: Record<string, Partial<Record<number, string>>> = {
  // A 404 on create means the model (path) is wrong: the operator's configuration, not a
  // missing job (worker/providers/veo/index.ts, fal/index.ts).
  veo: { 404: "misconfigured" },
  "kling-fal": { 404: "misconfigured" },
};

interface Arrival {
  method: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * One route's adapter behind the deployment's fakes. `answer` may answer any outbound request
 * first (a failure, a redirect); requests to EVIL are recorded and answered with a tiny MP4.
 */
function adapter(
  model: string,
  answer?: (request: Request) => Response | Promise<Response> | null,
  overrides: Record<string, unknown> = {},
  hang?: (request: Request) => boolean,
) {
  const arrivals: Arrival[] = [];
  const d = deployment({
    intercept: async (request) => {
      if (new URL(request.url).hostname === EVIL) {
        arrivals.push({
          method: request.method,
          headers: Object.fromEntries(request.headers),
          body: request.body ? await request.text() : "",
        });
        return new Response(new Uint8Array(64), { headers: { "content-type": "video/mp4" } });
      }
      return (await answer?.(request)) ?? null;
    },
  });
  const route = ROUTES.find((r) => r.id === model)!;
  const options = providerOptions.parse({ ...route.provider, ...overrides });
  const keys: Record<string, string> = { ...SECRETS };
  /** The adapter's own requests: one `hang` matches never answers, until the adapter aborts it. */
  const fetch: typeof globalThis.fetch = (input, init) => {
    if (input instanceof Request && hang?.(input)) {
      const { signal } = input;
      return new Promise((_, reject) => {
        if (signal.aborted) reject(signal.reason);
        signal.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    }
    return d.fetch(input, init);
  };
  const provider = createProvider(options, { fetch, now: () => d.h.clock.ms }, keys);
  const input = (seconds: string): CreateInput => ({
    jobId: "video_conformance0000000000000",
    model: route.upstream_model,
    prompt: PROMPT,
    seconds,
    size: "1280x720",
    image: { bytes: images.landscapeJpeg, mime: "image/jpeg", width: 1280, height: 720 },
  });
  return { d, provider, input, arrivals };
}

async function completed(provider: Provider, d: { h: { advance(ms: number): void } }, id: string) {
  let status = "queued";
  for (let i = 0; i < 20 && status !== "completed"; i++) {
    d.h.advance(2500);
    status = (await provider.retrieve(id, { startedAt: 0 })).status;
  }
  return status;
}

async function providerError(call: () => Promise<unknown>): Promise<ProviderError> {
  try {
    await call();
  } catch (error) {
    if (error instanceof ProviderError) return error;
    throw error;
  }
  throw new Error("expected a ProviderError");
}

/** Every 4-character slice of the key's body (what follows its known prefix). */
function slicesOf(key: string): string[] {
  const prefix = PREFIXES.find((p) => key.startsWith(p)) ?? "";
  const body = key.slice(prefix.length);
  const out: string[] = [];
  for (let i = 0; i + 4 <= body.length; i++) out.push(body.slice(i, i + 4));
  return out;
}

describe.each(PROVIDERS)("provider conformance: $model", ({ model, seconds, key }) => {
  it("creates, polls to completed, and streams the video with byte ranges", async () => {
    const { d, provider, input } = adapter(model);
    const created = await provider.create(input(seconds));
    expect(created.upstreamId).toMatch(/\S/);
    expect(["queued", "in_progress", "completed"]).toContain(created.status);
    expect(await completed(provider, d, created.upstreamId)).toBe("completed");

    const whole = await provider.content(created.upstreamId, { variant: "video", range: null });
    expect(whole.status).toBe(200);
    const bytes = new Uint8Array(await whole.arrayBuffer());
    expect(bytes.byteLength).toBeGreaterThan(10);

    const part = await provider.content(created.upstreamId, {
      variant: "video",
      range: "bytes=0-9",
    });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toMatch(/^bytes 0-9\/\d+$/);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(bytes.subarray(0, 10));
  });

  it("refuses a variant it lacks with a ProviderError, or serves a real one", async () => {
    const { d, provider, input } = adapter(model);
    const { upstreamId } = await provider.create(input(seconds));
    expect(await completed(provider, d, upstreamId)).toBe("completed");
    for (const variant of ["thumbnail", "spritesheet"] as const) {
      try {
        const response = await provider.content(upstreamId, { variant, range: null });
        // Only an OpenAI-shaped host has other variants; then they are real files.
        expect(model === "relay" || model === "azure").toBe(true);
        expect(response.status).toBe(200);
        await response.body?.cancel();
      } catch (error) {
        expect(error).toBeInstanceOf(ProviderError);
        expect(["not_found", "unsupported"]).toContain((error as ProviderError).kind);
      }
    }
  });

  it.each([
    [400, "input_rejected"],
    [401, "misconfigured"],
    [403, "misconfigured"],
    [404, "not_found"],
    [429, "rate_limited"],
    [500, "upstream_failed"],
    [502, "upstream_failed"],
    [503, "unavailable"],
  ] as const)("maps an HTTP %i on create to %s, with no slice of the key", async (status, kind) => {
    // The upstream quotes the key whole, cut and reversed in every field a provider might use.
    const quote = `key ${key} / ${key.slice(-11)} / ${key.slice(3, 14)}`;
    const body = {
      error: { message: quote, type: "invalid_request_error", code: null },
      detail: quote,
      message: quote,
      title: quote,
    };
    let armed = true;
    const { provider, input } = adapter(model, (request) => {
      if (!armed || !CREATE[model]!(request)) return null;
      armed = false;
      return Response.json(body, { status, headers: { "retry-after": "7" } });
    });
    const error = await providerError(() => provider.create(input(seconds)));
    expect(armed).toBe(false);
    expect(error.kind).toBe(CREATE_EXCEPTIONS[model]?.[status] ?? kind);
    if (kind === "rate_limited") expect(error.retryAfter).toBe(7);
    const text = `${error.message} ${error.publicMessage} ${error.detail ?? ""}`;
    const leaked = slicesOf(key).filter((slice) => text.includes(slice));
    expect(leaked).toEqual([]);
  });

  it("answers a create cut off by a reset as timeout (outcome unknown)", async () => {
    let armed = true;
    const { provider, input } = adapter(model, (request) => {
      if (!armed || !CREATE[model]!(request)) return null;
      armed = false;
      return Promise.reject(new TypeError("Network connection lost."));
    });
    const error = await providerError(() => provider.create(input(seconds)));
    expect(error.kind).toBe("timeout");
  });

  it("answers a create that never answers as timeout, after its timeout_ms", async () => {
    const { provider, input } = adapter(model, undefined, { timeout_ms: 1_000 }, (request) =>
      CREATE[model]!(request),
    );
    const error = await providerError(() => provider.create(input(seconds)));
    expect(error.kind).toBe("timeout");
    expect(error.detail).toMatch(/1000 ms/);
  });

  it.each([307, 308, 302])(
    "sends nothing to another origin when create is redirected (%i)",
    async (status) => {
      let armed = true;
      const { provider, input, arrivals } = adapter(model, (request) => {
        if (!armed || !CREATE[model]!(request)) return null;
        armed = false;
        return new Response(null, { status, headers: { location: `https://${EVIL}/collect` } });
      });
      await providerError(() => provider.create(input(seconds)));
      expect(armed).toBe(false);
      expect(arrivals).toEqual([]);
    },
  );

  it("follows a content redirect to another origin without any credential", async () => {
    let armed = false;
    const { d, provider, input, arrivals } = adapter(model, (request) => {
      if (!armed || request.method !== "GET") return null;
      armed = false;
      return new Response(null, { status: 302, headers: { location: `https://${EVIL}/v.mp4` } });
    });
    const { upstreamId } = await provider.create(input(seconds));
    expect(await completed(provider, d, upstreamId)).toBe("completed");
    armed = true;
    try {
      const response = await provider.content(upstreamId, { variant: "video", range: "bytes=0-9" });
      await response.arrayBuffer();
    } catch (error) {
      // Refusing the hop is allowed too; carrying a key along is not.
      expect(error).toBeInstanceOf(ProviderError);
    }
    expect(armed).toBe(false);
    for (const arrival of arrivals) {
      expect(arrival.method).toBe("GET");
      expect(arrival.body).toBe("");
      for (const name of CREDENTIAL_HEADERS) expect(arrival.headers[name]).toBeUndefined();
      const text = JSON.stringify(arrival);
      expect(slicesOf(key).filter((slice) => text.includes(slice))).toEqual([]);
    }
  });
});
