/**
 * The provider conformance suite: one contract, run against EVERY adapter the registry knows.
 * Each row of `ROWS` is one provider route of the shared deployment (test/helpers/deployment.ts):
 * its options block, the secrets it names, its contract fake (test/helpers/fakes/), how to script
 * a failure in that provider's own error envelope on create and on poll, how many polls finish a
 * job, its content reads, and what it lacks. Every adapter is built by `createProvider` from the
 * registry, never by its own factory. The same cases then run for every row:
 *
 * 1. create, then poll: well-formed states, the upstream id round-trips, the job completes;
 * 2. content: the video's bytes, a single Range as a 206 of exactly those bytes, and a variant
 *    the provider lacks as `ProviderError("not_found")` (types.ts), never a made-up file;
 * 3. one status → kind mapping on create and on poll (400 input_rejected, 401/403 misconfigured,
 *    404 not_found, 429 rate_limited with Retry-After, 500/502 upstream_failed, 503
 *    unavailable); a create cut off (hang past timeout_ms, connection reset) is `timeout`, whose
 *    outcome is unknown (errors.ts); a poll that hangs is `timeout`, a poll reset `unavailable`;
 * 4. redirects: a create sent elsewhere reaches nothing there; a content read sent elsewhere
 *    arrives with no credential and no body, or is refused, as the row says; a same-origin hop
 *    keeps working wherever the kit allows it (reads, and writes on 307/308);
 * 5. no four characters of a secret beyond its kind prefix (worker/redact.ts) in any error, or
 *    in anything that reaches another origin, however the upstream quotes the key.
 *
 * Outbound requests no fake claims fail the test, as does any contract violation a fake saw.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { ProviderError, type ProviderErrorKind } from "../../../worker/providers/errors";
import { createProvider, providerOptions } from "../../../worker/providers/registry";
import {
  VIDEO_STATUSES,
  type CreateInput,
  type UpstreamState,
} from "../../../worker/providers/types";
import {
  contractFakes,
  fakeFor,
  KLING,
  PROMPT,
  ROUTES,
  SECRETS,
  type ContractFakes,
} from "../../helpers/deployment";
import { patternBytes } from "../../helpers/fakes/base";
import type { ContractFake, RecordedBase, ScriptedBase } from "../../helpers/fakes/base";
import { VIDEO_BYTES } from "../../helpers/fakes/fal";
import { rangeAnswer } from "../../helpers/fakes/range";
import { STORAGE_ORIGIN } from "../../helpers/fakes/veo";
import { leakedSlices } from "../../helpers/provider-error";
import { images } from "../../helpers/requests";

/** A host no provider may send anything to; what arrives there is recorded. */
const EVIL = "collector.evil.example";
/** Every credential header an adapter sends (kit/headers.ts `credentialHeader`), and cookies. */
const CREDENTIALS = ["authorization", "api-key", "x-goog-api-key", "x-api-key", "cookie"];
/** The only headers the kit lets cross origins (kit/redirects.ts). */
const CROSS_ORIGIN_HEADERS = ["range", "if-range", "accept", "if-none-match", "if-modified-since"];
const NOW = Math.floor(Date.now() / 1000) * 1000;

type Call = "create" | "poll";
/** A scripted answer's match fields, in the fake's own terms (`path` or `url`). */
type Match<F> = F extends ContractFake<infer _R, infer A> ? Omit<A, "respond"> : never;
type Variant = "thumbnail" | "spritesheet";

/** One GET `content` makes, in order: where a redirect of it may lead. */
interface Read<F> {
  name: string;
  at: Match<F>;
  /**
   * A hop to another origin: `follows` (a media read: followed with no credential), or
   * `refused` (the kit's `bad_response`: not media, or not a host this provider serves media from).
   */
  elsewhere: "follows" | "refused";
  /** A foreign origin this adapter does accept media from, and the URL to send the hop to. */
  accepted?: (url: URL) => string;
}

interface Row<K extends keyof ContractFakes = keyof ContractFakes> {
  /** The route id in the shared deployment, whose provider block this row runs. */
  route: string;
  fake: K;
  seconds: string;
  /** The secrets the block names (API key first): exactly what `createProvider` is given. */
  secrets: Array<keyof typeof SECRETS>;
  /** Polls from create to completed with the fake's lifecycle. */
  polls: number;
  /** The fake knows a job by this upstream id. */
  knows: (fake: ContractFakes[K], upstreamId: string) => boolean;
  /** The bytes the fake serves as the video. */
  video: (fake: ContractFakes[K]) => Uint8Array;
  /** The request that starts a paid job, and a status poll. */
  at: Record<Call, Match<ContractFakes[K]>>;
  /** The next request matching `at` fails with `status` in the provider's own envelope. */
  fail: (
    fake: ContractFakes[K],
    at: Match<ContractFakes[K]>,
    status: number,
    message: string,
    headers: Record<string, string>,
  ) => void;
  /** Statuses the adapter documents another kind for on create, with where it says so. */
  createKinds?: Partial<Record<number, ProviderErrorKind>>;
  /** What each non-video variant is: a real file, the upstream's 404, or refused unsent. */
  variants: Record<Variant, "served" | "upstream 404" | "refused unsent">;
  reads: Array<Read<ContractFakes[K]>>;
}

const row = <K extends keyof ContractFakes>(r: Row<K>): Row => r as unknown as Row;

/** Any fake, seen through its base: scripting in its own match terms (`path` or `url`). */
type AnyFake = ContractFake<RecordedBase, ScriptedBase<RecordedBase>>;
const base = (fake: ContractFakes[keyof ContractFakes]) => fake as unknown as AnyFake;
/** Scripts `respond` for the next request `at` matches. */
const answer = (
  fake: ContractFakes[keyof ContractFakes],
  at: object,
  respond: (request: RecordedBase) => Response,
) => base(fake).script({ ...at, respond });

const GRPC: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  502: "UNKNOWN",
  503: "UNAVAILABLE",
};

const openAIRow = (route: string, fake: "relay" | "azure", key: "RELAY_KEY" | "AZURE_KEY") =>
  row({
    route,
    fake,
    seconds: "4",
    secrets: [key],
    polls: 3,
    knows: (f, id) => f.videos.has(id),
    video: () => patternBytes(64 * 1024),
    at: {
      create: { method: "POST", path: "/videos" },
      poll: { method: "GET", path: /^\/videos\/[^/]+$/ },
    },
    fail: (f, at, status, message, headers) =>
      f.failNext(status, { ...at, headers, error: { message, type: "invalid_request_error" } }),
    // The fake's host has a thumbnail but no spritesheet (its type is unconfirmed).
    variants: { thumbnail: "served", spritesheet: "upstream 404" },
    reads: [
      // Media may live on a storage host: followed there without the key (openai/index.ts).
      { name: "content", at: { method: "GET", path: /\/content$/ }, elsewhere: "follows" },
    ],
  });

const ROWS: Row[] = [
  openAIRow("relay", "relay", "RELAY_KEY"),
  openAIRow("azure", "azure", "AZURE_KEY"),
  row({
    route: "kling-fal",
    fake: "fal",
    seconds: "5",
    secrets: ["FAL_KEY"],
    polls: 5,
    knows: (f, id) => f.jobs.has(id),
    video: () => VIDEO_BYTES,
    at: {
      create: { method: "POST", url: new RegExp(`^https://queue\\.fal\\.run/${KLING}(\\?|$)`) },
      poll: { method: "GET", url: /\/requests\/[^/]+\/status$/ },
    },
    // fal's request-error shape: `detail` and `error_type` (docs.fal.ai "Request Error Types").
    fail: (f, at, status, message, headers) =>
      f.failNext(status, { ...at, headers, body: { detail: message } }),
    // A 404 on submit names an unknown endpoint: the route's mistake (fal/index.ts `create`).
    createKinds: { 404: "misconfigured" },
    variants: { thumbnail: "refused unsent", spritesheet: "refused unsent" },
    reads: [
      // The keyed result read is JSON, not media: never followed off queue.fal.run.
      { name: "result", at: { method: "GET", url: /\/requests\/[^/]+$/ }, elsewhere: "refused" },
      // The CDN read carries no key; it may move only to fal's own hosts (isFalAssetUrl).
      {
        name: "cdn",
        at: { method: "GET", url: /^https:\/\/v3\.fal\.media\// },
        elsewhere: "refused",
      },
    ],
  }),
  row({
    route: "veo",
    fake: "veo",
    seconds: "4",
    secrets: ["GEMINI_API_KEY", "VEO_WEBHOOK_SECRET"],
    polls: 3,
    knows: (f, id) => f.operations.has(id),
    video: (f) => f.video,
    at: {
      create: { method: "POST", path: /:predictLongRunning$/ },
      poll: { method: "GET", path: /\/operations\/[^/]+$/ },
    },
    // Google's envelope: `{error: {code, message, status}}`.
    fail: (f, at, status, message, headers) =>
      f.failNext(status, { ...at, headers, grpc: GRPC[status], message }),
    // On create, "not found" can only mean the model id (veo/index.ts `create`).
    createKinds: { 404: "misconfigured" },
    variants: { thumbnail: "refused unsent", spritesheet: "refused unsent" },
    reads: [
      {
        name: "download",
        at: { method: "GET", path: /:download$/ },
        // Only Google's hosts (isGoogleUrl): its download host gets the hop, without the key.
        elsewhere: "refused",
        accepted: (url) =>
          `${STORAGE_ORIGIN}/v/${url.pathname.match(/files\/(\w+):download/)![1]}?sig=fake`,
      },
    ],
  }),
  row({
    route: "runway",
    fake: "runway",
    seconds: "5",
    secrets: ["RUNWAYML_API_SECRET"],
    polls: 5,
    knows: (f, id) => f.tasks.has(id),
    video: (f) => f.video,
    at: {
      create: { method: "POST", path: "/v1/image_to_video" },
      poll: { method: "GET", path: /^\/v1\/tasks\/[^/]+$/ },
    },
    // Runway's `{error: "<text>"}`.
    fail: (f, at, status, message, headers) =>
      f.failNext(status, { ...at, headers, error: message }),
    variants: { thumbnail: "refused unsent", spritesheet: "refused unsent" },
    reads: [
      // The keyed task read (for a fresh signed URL) is JSON: never followed off the API.
      { name: "task", at: { method: "GET", path: /^\/v1\/tasks\// }, elsewhere: "refused" },
      // The CDN read carries no key; it may move only to the route's output_hosts.
      { name: "cdn", at: { method: "GET", path: /\.mp4$/ }, elsewhere: "refused" },
    ],
  }),
  row({
    route: "veo-replicate",
    fake: "replicate",
    seconds: "4",
    secrets: ["REPLICATE_API_TOKEN", "REPLICATE_WEBHOOK_SECRET"],
    polls: 3,
    knows: (f, id) => f.predictions.has(id),
    video: () => patternBytes(64 * 1024),
    at: {
      create: { method: "POST", url: /\/models\/[^/]+\/[^/]+\/predictions$/ },
      poll: { method: "GET", url: /\/v1\/predictions\/[a-z0-9]+$/ },
    },
    // Replicate's RFC 9457-style `{title, detail, status}`.
    fail: (f, at, status, message, headers) =>
      f.failNext(status, { ...at, headers, title: "Scripted", detail: message }),
    variants: { thumbnail: "refused unsent", spritesheet: "refused unsent" },
    reads: [
      // The keyed prediction read is JSON: never followed off the API.
      {
        name: "prediction",
        at: { method: "GET", url: /\/v1\/predictions\// },
        elsewhere: "refused",
      },
      // The delivery read carries no token; it may move only to Replicate's delivery hosts.
      {
        name: "delivery",
        at: { method: "GET", url: /^https:\/\/replicate\.delivery\// },
        elsewhere: "refused",
      },
    ],
  }),
  row({
    route: "veo-openrouter",
    fake: "openrouter",
    seconds: "4",
    secrets: ["OPENROUTER_API_KEY", "OPENROUTER_WEBHOOK_SECRET"],
    polls: 4,
    knows: (f, id) => f.jobs.has(id),
    video: (f) => f.video,
    at: {
      create: { method: "POST", path: "/api/v1/videos" },
      poll: { method: "GET", path: /^\/api\/v1\/videos\/[^/]+$/ },
    },
    // OpenRouter's `{error: {code, message, metadata}}`.
    fail: (f, at, status, message, headers) => f.failNext(status, { ...at, headers, message }),
    variants: { thumbnail: "refused unsent", spritesheet: "refused unsent" },
    reads: [
      // The content proxy needs the key; its redirect to storage is followed without it.
      { name: "content", at: { method: "GET", path: /\/content$/ }, elsewhere: "follows" },
    ],
  }),
];

const STATUSES: Array<[number, ProviderErrorKind]> = [
  [400, "input_rejected"],
  [401, "misconfigured"],
  [403, "misconfigured"],
  [404, "not_found"],
  [429, "rate_limited"],
  [500, "upstream_failed"],
  [502, "upstream_failed"],
  [503, "unavailable"],
];

interface Arrival {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const open: Array<{ fakes: ContractFakes; unclaimed: string[] }> = [];
afterEach(() => {
  vi.useRealTimers();
  for (const { fakes, unclaimed } of open.splice(0)) {
    expect(unclaimed, "requests no fake claims").toEqual([]);
    for (const fake of Object.values(fakes)) fake.assertClean();
  }
});

/** One row's adapter, built through the registry, behind every contract fake. */
function setup(r: Row) {
  const clock = { ms: NOW };
  const fakes = contractFakes(() => clock.ms);
  const unclaimed: string[] = [];
  const arrivals: Arrival[] = [];
  open.push({ fakes, unclaimed });
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (url.hostname === EVIL) {
      const body = await request.text();
      arrivals.push({
        method: request.method,
        url: request.url,
        headers: Object.fromEntries(request.headers),
        body,
      });
      const range = request.headers.get("range");
      return rangeAnswer(patternBytes(100), range, { "content-type": "video/mp4" });
    }
    const fake = fakeFor(fakes, url.host);
    if (fake) return fake.fetch(request);
    unclaimed.push(`${request.method} ${request.url}`);
    throw new Error(`no fake for ${request.method} ${request.url}`);
  };
  const route = ROUTES.find((x) => x.id === r.route)!;
  // max_retries 0 (the deployment's): each failure below is the first attempt's, unretried.
  const options = providerOptions.parse({ ...route.provider, timeout_ms: 1_000 });
  const keys = Object.fromEntries(r.secrets.map((name) => [name, SECRETS[name]]));
  const provider = createProvider(options, { fetch, now: () => clock.ms }, keys);
  const fake = fakes[r.fake];
  const input: CreateInput = {
    jobId: "video_conformance0000000000000",
    model: route.upstream_model,
    prompt: PROMPT,
    seconds: r.seconds,
    size: "1280x720",
    image: { bytes: images.landscapeJpeg, mime: "image/jpeg", width: 1280, height: 720 },
  };
  /** Polls `times` times, advancing the clock, checking every state; returns them all. */
  const poll = async (upstreamId: string, times: number): Promise<UpstreamState[]> => {
    const states: UpstreamState[] = [];
    for (let i = 0; i < times; i++) {
      clock.ms += 2_500;
      states.push(expectWellFormed(await provider.retrieve(upstreamId, { startedAt: NOW })));
    }
    return states;
  };
  /** A job created and polled to completed. */
  const finished = async (): Promise<string> => {
    const { upstreamId } = await provider.create(input);
    expect((await poll(upstreamId, r.polls)).at(-1)!.status).toBe("completed");
    return upstreamId;
  };
  const secrets = r.secrets.map((name) => SECRETS[name]);
  return { fakes, fake, provider, input, poll, finished, arrivals, secrets, key: secrets[0]! };
}

function expectWellFormed<S extends UpstreamState>(state: S): S {
  expect(VIDEO_STATUSES).toContain(state.status);
  expect(state.progress).toBeGreaterThanOrEqual(0);
  expect(state.progress).toBeLessThanOrEqual(state.status === "completed" ? 100 : 99);
  expect(state.error).toBeNull();
  if (state.expiresAt !== null) expect(Number.isInteger(state.expiresAt)).toBe(true);
  return state;
}

async function providerError(call: Promise<unknown>): Promise<ProviderError> {
  const error = await call.then(
    () => expect.fail("expected a ProviderError"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  return error as ProviderError;
}

/**
 * Every text of an error a caller or a log line could see. (Not the stack: past its first line,
 * which is `message`, it names source files, and the fixture keys name their provider.)
 */
const errorTexts = (e: ProviderError) => [
  e.message,
  e.publicMessage,
  e.detail ?? "",
  JSON.stringify(e),
];

/** The key as upstreams quote it: whole, cut from each end, from the middle, upper-cased. */
const quoting = (key: string) =>
  `bad key ${key}; key ending …${key.slice(-6)}; part ${key.slice(5, 12)}; ` +
  `${key.slice(-13, -5).toUpperCase()} (Authorization: Bearer ${key})`;

/** `call` with fake timers: a hang's 1 s timeout passes at once. */
async function pastTimeout<T>(call: () => Promise<T>): Promise<ProviderError> {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
  const pending = providerError(call());
  let done = false;
  void pending.finally(() => (done = true));
  for (let i = 0; i < 20 && !done; i++) await vi.advanceTimersByTimeAsync(250);
  return pending;
}

const redirect = (status: number, location: string) =>
  new Response(null, { status, headers: { location } });

describe.each(ROWS)("provider conformance: $route", (r) => {
  describe("create and poll", () => {
    it("creates a well-formed job whose upstream id round-trips, and polls it to completed", async () => {
      const s = setup(r);
      const created = expectWellFormed(await s.provider.create(s.input));
      expect(created.status).not.toBe("completed");
      expect(created.upstreamId).toMatch(/^\S+$/);
      expect(r.knows(s.fake, created.upstreamId)).toBe(true);
      const states = await s.poll(created.upstreamId, r.polls);
      expect(states.slice(0, -1).map((st) => st.status)).not.toContain("completed");
      expect(states.at(-1)!.status).toBe("completed");
      // The id went back upstream as given: every poll asked the fake for that job.
      const asked = s.fake.requests.filter((q) => q.url.href.includes(created.upstreamId));
      expect(asked.length).toBeGreaterThanOrEqual(r.polls);
    });
  });

  describe("content", () => {
    it("streams the video, and a Range of bytes=0-9 as a 206 of exactly those 10 bytes", async () => {
      const s = setup(r);
      const id = await s.finished();
      const video = r.video(s.fake);
      const whole = await s.provider.content(id, { variant: "video", range: null });
      expect(whole.status).toBe(200);
      expect(new Uint8Array(await whole.arrayBuffer())).toEqual(video);
      const part = await s.provider.content(id, { variant: "video", range: "bytes=0-9" });
      expect(part.status).toBe(206);
      expect(part.headers.get("content-range")).toBe(`bytes 0-9/${video.length}`);
      expect(new Uint8Array(await part.arrayBuffer())).toEqual(video.subarray(0, 10));
    });

    it.each(["thumbnail", "spritesheet"] as const)(
      "answers the %s variant as the row documents",
      async (variant) => {
        const s = setup(r);
        const id = await s.finished();
        const sent = s.fake.requests.length;
        const expected = r.variants[variant];
        if (expected === "served") {
          const response = await s.provider.content(id, { variant, range: null });
          expect(response.status).toBe(200);
          expect((await response.arrayBuffer()).byteLength).toBeGreaterThan(0);
          return;
        }
        const error = await providerError(s.provider.content(id, { variant, range: null }));
        expect(error.kind).toBe("not_found");
        if (expected === "refused unsent") expect(s.fake.requests.length).toBe(sent);
        else expect(s.fake.requests.length).toBeGreaterThan(sent);
      },
    );
  });

  describe.each(["create", "poll"] as const)("errors on %s", (call) => {
    /** The call under test; a poll is of a job that exists. */
    const run = async (s: ReturnType<typeof setup>) => {
      if (call === "create") return () => s.provider.create(s.input);
      const { upstreamId } = await s.provider.create(s.input);
      return () => s.provider.retrieve(upstreamId, { startedAt: NOW });
    };

    it.each(STATUSES)(
      "maps HTTP %i to %s, with no slice of a secret in the error",
      async (status, kind) => {
        const s = setup(r);
        const target = await run(s);
        r.fail(s.fake, r.at[call], status, quoting(s.key), {
          "retry-after": "7",
        });
        const error = await providerError(target());
        const expected = call === "create" ? (r.createKinds?.[status] ?? kind) : kind;
        expect(error.kind).toBe(expected);
        if (expected === "rate_limited") expect(error.retryAfter).toBe(7);
        expect(leakedSlices(errorTexts(error), s.secrets)).toEqual([]);
      },
    );

    it(`answers a ${call} that never answers as timeout, after timeout_ms`, async () => {
      const s = setup(r);
      const target = await run(s);
      base(s.fake).hangNext(r.at[call]);
      const error = await pastTimeout(target);
      expect(error.kind).toBe("timeout");
      expect(error.detail).toMatch(/1000 ms/);
    });

    // A create cut off may have started a job: `timeout` (outcome unknown) keeps its money
    // reserved; a read that could not be sent is `unavailable` (kit/send.ts AttemptFailure).
    const resetKind = call === "create" ? "timeout" : "unavailable";
    it(`answers a ${call} whose connection resets as ${resetKind}`, async () => {
      const s = setup(r);
      const target = await run(s);
      base(s.fake).resetNext(r.at[call], "Network connection lost.");
      const error = await providerError(target());
      expect(error.kind).toBe(resetKind);
      expect(error.detail).toContain("Network connection lost.");
    });

    // A runtime or proxy may quote the request in a failed fetch's message: kit/send.ts masks
    // it with the adapter's secrets (`sender` requires them) before it becomes `detail`.
    it(`keeps a key the ${call}'s connection error quotes out of the error`, async () => {
      const s = setup(r);
      const target = await run(s);
      base(s.fake).resetNext(r.at[call], `Network connection lost: ${quoting(s.key)}`);
      const error = await providerError(target());
      expect(error.kind).toBe(resetKind);
      expect(leakedSlices(errorTexts(error), s.secrets)).toEqual([]);
    });
  });

  describe("redirects", () => {
    it.each([307, 308, 302])(
      "sends nothing to another origin when create is redirected there (%i)",
      async (status) => {
        const s = setup(r);
        answer(s.fake, r.at.create, () => redirect(status, `https://${EVIL}/collect`));
        const error = await providerError(s.provider.create(s.input));
        expect(error.kind).toBe("bad_response");
        expect(s.arrivals).toEqual([]);
        expect(leakedSlices(errorTexts(error), s.secrets)).toEqual([]);
      },
    );

    it.each([307, 308])("repeats a create redirected to its own origin (%i)", async (status) => {
      const s = setup(r);
      answer(s.fake, r.at.create, (q) => redirect(status, `${q.url.pathname}${q.url.search}`));
      const created = await s.provider.create(s.input);
      expect(r.knows(s.fake, created.upstreamId)).toBe(true);
    });

    it("refuses a create that a 302 would turn into a GET, even on its own origin", async () => {
      const s = setup(r);
      answer(s.fake, r.at.create, (q) => redirect(302, q.url.href));
      expect((await providerError(s.provider.create(s.input))).kind).toBe("bad_response");
    });

    describe.each(r.reads.map((read) => ({ ...read, label: read.name })))(
      "on the $label read",
      (read) => {
        it(`${read.elsewhere === "follows" ? "follows" : "refuses"} a hop to another origin, carrying no credential`, async () => {
          const s = setup(r);
          const id = await s.finished();
          answer(s.fake, read.at, () => redirect(302, `https://${EVIL}/v.mp4`));
          if (read.elsewhere === "refused") {
            const error = await providerError(
              s.provider.content(id, { variant: "video", range: "bytes=0-9" }),
            );
            expect(error.kind).toBe("bad_response");
            expect(s.arrivals).toEqual([]);
            return;
          }
          const response = await s.provider.content(id, { variant: "video", range: "bytes=0-9" });
          expect(response.status).toBe(206);
          expect(new Uint8Array(await response.arrayBuffer())).toEqual(
            patternBytes(100).subarray(0, 10),
          );
          expect(s.arrivals).toHaveLength(1);
          const [arrival] = s.arrivals;
          expect(arrival!.method).toBe("GET");
          expect(arrival!.body).toBe("");
          for (const name of CREDENTIALS) expect(arrival!.headers).not.toHaveProperty(name);
          for (const name of Object.keys(arrival!.headers)) {
            expect(CROSS_ORIGIN_HEADERS).toContain(name);
          }
          expect(arrival!.headers.range).toBe("bytes=0-9");
          expect(leakedSlices([JSON.stringify(arrival)], s.secrets)).toEqual([]);
        });

        it("follows a hop to its own origin", async () => {
          const s = setup(r);
          const id = await s.finished();
          answer(s.fake, read.at, (q) => redirect(302, `${q.url.pathname}${q.url.search}`));
          const response = await s.provider.content(id, { variant: "video", range: "bytes=0-9" });
          expect(response.status).toBe(206);
          const video = r.video(s.fake);
          expect(new Uint8Array(await response.arrayBuffer())).toEqual(video.subarray(0, 10));
          expect(s.arrivals).toEqual([]);
        });

        if (read.accepted) {
          const accepted = read.accepted;
          it("follows a hop to a foreign host it serves media from, without the key", async () => {
            const s = setup(r);
            const id = await s.finished();
            let target = "";
            answer(s.fake, read.at, (q) => redirect(302, (target = accepted(q.url))));
            const response = await s.provider.content(id, { variant: "video", range: "bytes=0-9" });
            expect(response.status).toBe(206);
            const video = r.video(s.fake);
            expect(new Uint8Array(await response.arrayBuffer())).toEqual(video.subarray(0, 10));
            const origin = new URL(target).origin;
            const hops = s.fake.requests.filter((q) => q.url.origin === origin);
            expect(hops).toHaveLength(1);
            for (const name of CREDENTIALS) expect(hops[0]!.headers.has(name)).toBe(false);
            const sent = [...hops[0]!.headers].join("\n");
            expect(leakedSlices([sent], s.secrets)).toEqual([]);
          });
        }
      },
    );
  });
});
