/**
 * Secrets hygiene (issue 5): one deployment with a route for EVERY provider kind the registry
 * knows (simulator, openai, fal, veo, runway, replicate), each behind its contract fake, with a
 * distinctive value for every secret the configuration reads — provider keys, webhook signing
 * secrets, SESSION_SECRET, the server keys and the Turnstile secret. The test drives every route
 * of the API, happy paths and error paths (upstream 401/429/503 bodies that echo the key back,
 * bad webhook signatures, misconfiguration), captures every response (status, every header, the
 * body) and every console line, and asserts that no secret — nor any 12-character slice of one —
 * shows up anywhere. It also checks what the structured `job_created` lines record: who spent
 * what on which route, never the prompt.
 */
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import {
  BLOG,
  deployment,
  PROMPT,
  PROVIDERS,
  ROUTES,
  SECRETS,
  SHOP,
  SHOP_ORIGIN,
  type Deployment,
} from "../../helpers/deployment";
import { harness, type Harness } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";
/** Every text the outside world could see: one entry per response and per console line. */
interface Seen {
  label: string;
  text: string;
}

interface Failures {
  /** The next create on this route fails upstream with `status` and a body quoting `echo`. */
  create: (status: number, echo: string) => void;
  /** The next status poll on this route fails upstream with 503 and a body quoting `echo`. */
  poll: (echo: string) => void;
}

/** Scripted upstream failures, in each provider's own error shape. */
function failures({ fakes }: Deployment, model: string): Failures {
  const retry = { "retry-after": "2" };
  switch (model) {
    case "relay":
    case "azure":
      return {
        create: (status, echo) =>
          void fakes[model].failNext(status, {
            method: "POST",
            path: "/videos",
            headers: retry,
            error: { message: echo, code: "invalid_api_key" },
          }),
        poll: (echo) =>
          void fakes[model].failNext(503, {
            method: "GET",
            path: /^\/videos\/[^/]+$/,
            error: { message: echo },
          }),
      };
    case "kling-fal":
      return {
        create: (status, echo) =>
          void fakes.fal.failNext(status, {
            method: "POST",
            url: /^https:\/\/queue\.fal\.run\/fal-ai\//,
            headers: retry,
            body: { detail: echo, error_type: "authentication_error" },
          }),
        poll: (echo) =>
          void fakes.fal.failNext(503, { method: "GET", url: /\/status$/, body: { detail: echo } }),
      };
    case "veo":
      return {
        create: (status, echo) =>
          void fakes.veo.failNext(status, {
            method: "POST",
            headers: retry,
            grpc: { 429: "RESOURCE_EXHAUSTED", 503: "UNAVAILABLE" }[status] ?? "INVALID_ARGUMENT",
            message: echo,
          }),
        poll: (echo) =>
          void fakes.veo.failNext(503, {
            method: "GET",
            path: /\/operations\//,
            grpc: "UNAVAILABLE",
            message: echo,
          }),
      };
    case "runway":
      return {
        create: (status, echo) =>
          void fakes.runway.failNext(status, {
            method: "POST",
            path: "/v1/image_to_video",
            headers: retry,
            error: echo,
          }),
        poll: (echo) =>
          void fakes.runway.failNext(503, { method: "GET", path: /^\/v1\/tasks\//, error: echo }),
      };
    case "veo-replicate":
      return {
        create: (status, echo) =>
          void fakes.replicate.failNext(status, {
            method: "POST",
            url: /\/predictions$/,
            headers: retry,
            title: "Unauthenticated",
            detail: echo,
          }),
        poll: (echo) =>
          void fakes.replicate.failNext(503, {
            method: "GET",
            url: /\/predictions\/[a-z0-9]+$/,
            detail: echo,
          }),
      };
    case "veo-openrouter":
      return {
        create: (status, echo) =>
          void fakes.openrouter.failNext(status, {
            method: "POST",
            path: /\/videos$/,
            headers: retry,
            message: echo,
          }),
        poll: (echo) =>
          void fakes.openrouter.failNext(503, {
            method: "GET",
            path: /\/videos\/[^/]+$/,
            message: echo,
          }),
      };
  }
  throw new Error(`no scripted failures for ${model}`);
}

/** Captures every console line from now on (restored after each test). */
function captureConsole(): string[] {
  const lines: string[] = [];
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map((a) => (typeof a === "string" ? a : safeString(a))).join(" "));
    });
  }
  return lines;
}

function safeString(value: unknown): string {
  if (value instanceof Error) return `${value.name}: ${value.message}\n${value.stack ?? ""}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

afterEach(() => vi.restoreAllMocks());

/** The whole response as text: status line, every header, the body (bytes as Latin-1). */
async function describeResponse(response: Response): Promise<{ full: string; body: string }> {
  const bytes = new Uint8Array(await response.arrayBuffer());
  let body = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    body += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  const headers = [...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n");
  return { full: `${response.status} ${response.statusText}\n${headers}\n\n${body}`, body };
}

interface Video {
  id: string;
  status: string;
  error: { code: string } | null;
  content_urls: { video: string; thumbnail: string; spritesheet: string } | null;
}

/**
 * Drives every route of the API against `d`, recording everything a client or a log reader
 * could see. Returns the recorded responses; console lines go to `lines`.
 */
async function sweep(d: Deployment): Promise<Seen[]> {
  const { h, fakes } = d;
  const seen: Seen[] = [];
  const record = async (label: string, response: Response): Promise<string> => {
    const { full, body } = await describeResponse(response);
    seen.push({ label: `${label} → ${response.status}`, text: full });
    return body;
  };
  const json = async <T>(label: string, response: Response): Promise<T> =>
    JSON.parse(await record(label, response)) as T;
  const path = (url: string) => url.slice(new URL(url).origin.length);

  // Public and meta endpoints.
  await record("GET /healthz", await h.call("/healthz"));
  await record("GET /openapi.json", await h.call("/openapi.json"));
  await record("GET /v1/models", await h.call("/v1/models"));
  await record("GET /", await h.call("/"));
  await record("GET /widget.js", await h.call("/widget.js", { headers: { origin: SHOP_ORIGIN } }));
  await record("GET /nowhere", await h.call("/nowhere"));
  await record(
    "OPTIONS /v1/videos (preflight)",
    await h.call("/v1/videos", {
      method: "OPTIONS",
      headers: {
        origin: SHOP_ORIGIN,
        "access-control-request-method": "POST",
        "access-control-request-headers": "authorization, content-type, idempotency-key",
      },
    }),
  );

  // Sessions: Turnstile passes, fails, is unavailable, or Cloudflare refuses our secret.
  const startSession = (body: object, origin = SHOP_ORIGIN, headers: HeadersInit = {}) =>
    h.call("/v1/sessions", {
      method: "POST",
      headers: { "content-type": "application/json", origin, ...headers },
      body: JSON.stringify(body),
    });
  const shop = await json<{ token: string; visitor_id: string }>(
    "POST /v1/sessions (shop, Turnstile ok)",
    await startSession({ site_key: SHOP.publishable_key, turnstile_token: "good-token" }),
  );
  expect(shop.token).toBeTruthy();
  for (const token of ["bad-token", "outage", "fail-secret"]) {
    await record(
      `POST /v1/sessions (Turnstile ${token})`,
      await startSession({ site_key: SHOP.publishable_key, turnstile_token: token }),
    );
  }
  await record(
    "POST /v1/sessions (no Turnstile token)",
    await startSession({ site_key: SHOP.publishable_key }),
  );
  const blog = await json<{ token: string }>(
    "POST /v1/sessions (blog)",
    await startSession({ site_key: BLOG.publishable_key }, BLOG.origins[0]!),
  );
  await record(
    "POST /v1/sessions (renewal)",
    await startSession({ site_key: BLOG.publishable_key }, BLOG.origins[0]!, {
      authorization: `Bearer ${blog.token}`,
    }),
  );
  await record(
    "POST /v1/sessions (forged origin)",
    await startSession({ site_key: BLOG.publishable_key }, "https://evil.example"),
  );
  await record(
    "POST /v1/sessions (unknown key)",
    await startSession({ site_key: "pk_unknown_000000" }),
  );

  const visitor = (init: RequestInit = {}, origin = SHOP_ORIGIN) => ({
    ...init,
    headers: { ...(init.headers as Record<string, string>), origin },
  });
  const asShop = (p: string, init?: RequestInit) => h.as(shop.token, p, visitor(init));
  const server = (p: string, init?: RequestInit) => h.as(SECRETS.SERVER_KEY_BACKEND, p, init);
  const partner = (p: string, init?: RequestInit) => h.as(SECRETS.SERVER_KEY_PARTNER, p, init);

  // Authentication failures.
  await record("GET /v1/videos (no token)", await h.call("/v1/videos"));
  await record(
    "GET /v1/videos (wrong key)",
    await h.as(`${SECRETS.SERVER_KEY_BACKEND}x`, "/v1/videos"),
  );
  await record(
    "GET /v1/videos (key prefix)",
    await h.as(SECRETS.SERVER_KEY_BACKEND.slice(0, 20), "/v1/videos"),
  );
  await record(
    "GET /v1/videos (blog token, shop origin)",
    await h.as(blog.token, "/v1/videos", visitor()),
  );

  const pollToEnd = async (label: string, call: typeof server, id: string): Promise<Video> => {
    let video = { status: "queued" } as Video;
    for (let i = 0; i < 15 && !["completed", "failed"].includes(video.status); i++) {
      h.advance(2500);
      video = await json<Video>(
        `${label} GET /v1/videos/{id} #${i}`,
        await call(`/v1/videos/${id}`),
      );
    }
    return video;
  };

  /** One provider route end to end, plus the upstream's error paths with the key echoed. */
  const drive = async (
    model: string,
    seconds: string,
    fail: Failures,
    key: string,
    caller: typeof server = server,
  ) => {
    const label = `[${model}]`;
    const created = await json<Video>(
      `${label} POST /v1/videos`,
      await caller("/v1/videos", {
        ...post(createForm({ model, seconds, prompt: PROMPT })),
        headers: { "idempotency-key": `create-${model}` },
      }),
    );
    expect(created.id, `${label} create`).toMatch(/^video_/);
    await record(
      `${label} POST /v1/videos (replayed Idempotency-Key)`,
      await caller("/v1/videos", {
        ...post(createForm({ model, seconds, prompt: PROMPT })),
        headers: { "idempotency-key": `create-${model}` },
      }),
    );
    await record(
      `${label} POST /v1/videos (Idempotency-Key reused, other body)`,
      await caller("/v1/videos", {
        ...post(createForm({ model, seconds, prompt: `${PROMPT}!` })),
        headers: { "idempotency-key": `create-${model}` },
      }),
    );

    // A poll the upstream answers with an error that quotes our key.
    fail.poll(`upstream trouble for key ${key} (Bearer ${key}) at https://x.test/?key=${key}`);
    h.advance(2500);
    await record(
      `${label} GET /v1/videos/{id} (upstream 503)`,
      await caller(`/v1/videos/${created.id}`),
    );

    const done = await pollToEnd(label, caller, created.id);
    expect(done.status, `${label} finished`).toBe("completed");
    await record(`${label} GET /v1/videos`, await caller("/v1/videos?limit=100&order=asc"));
    for (const variant of ["video", "thumbnail", "spritesheet"]) {
      await record(
        `${label} GET content ${variant}`,
        await caller(`/v1/videos/${created.id}/content?variant=${variant}`, {
          headers: { range: "bytes=0-99" },
        }),
      );
    }
    await record(
      `${label} GET content via signed URL`,
      await h.call(path(done.content_urls!.video)),
    );
    await record(
      `${label} POST remix`,
      await caller(`/v1/videos/${created.id}/remix`, post({ prompt: `${PROMPT}, at night` })),
    );
    await record(`${label} GET other owner's video`, await partner(`/v1/videos/${created.id}`));

    // Creates the upstream refuses, each quoting our key back.
    for (const status of [401, 429, 503, 400]) {
      fail.create(status, `Incorrect API key provided: ${key}. Authorization: Bearer ${key}`);
      await record(
        `${label} POST /v1/videos (upstream ${status})`,
        await caller("/v1/videos", post(createForm({ model, seconds, prompt: PROMPT }))),
      );
    }

    await record(`${label} DELETE`, await caller(`/v1/videos/${created.id}`, { method: "DELETE" }));
    await record(`${label} GET after DELETE`, await caller(`/v1/videos/${created.id}`));
    return created.id;
  };

  for (const provider of PROVIDERS) {
    const id = await drive(
      provider.model,
      provider.seconds,
      failures(d, provider.model),
      provider.key,
    );
    expect(id).toMatch(/^video_/);
  }

  // Visitors: create on the paid relay and on the simulator, poll, list, content, remix, delete.
  for (const model of ["relay", "sim"]) {
    const label = `[visitor ${model}]`;
    const created = await json<Video>(
      `${label} POST /v1/videos`,
      await asShop("/v1/videos", post(createForm({ model, prompt: PROMPT }))),
    );
    const done = await pollToEnd(label, asShop, created.id);
    expect(done.status, `${label} finished`).toBe("completed");
    await record(`${label} GET /v1/videos`, await asShop("/v1/videos"));
    await record(`${label} content`, await asShop(`/v1/videos/${created.id}/content`));
    await record(`${label} signed thumbnail`, await h.call(path(done.content_urls!.thumbnail)));
    await record(
      `${label} remix`,
      await asShop(`/v1/videos/${created.id}/remix`, post({ prompt: `${PROMPT} again` })),
    );
    await record(`${label} DELETE`, await asShop(`/v1/videos/${created.id}`, { method: "DELETE" }));
  }
  // Simulated provider failures (markers), at create and while running.
  for (const marker of [
    "refuse_policy",
    "rate_limited",
    "unavailable",
    "create_timeout",
    "provider_error",
  ]) {
    await record(
      `[sim] POST /v1/videos [sim:${marker}]`,
      await server(
        "/v1/videos",
        post(createForm({ model: "sim", prompt: `${PROMPT} [sim:${marker}]` })),
      ),
    );
  }

  // Webhooks: a verified one, and bad signatures for every receiver; no receiver for others.
  const live = await json<Video>(
    "[veo-replicate] POST /v1/videos (for webhooks)",
    await server("/v1/videos", post(createForm({ model: "veo-replicate", prompt: PROMPT }))),
  );
  expect(live.id).toMatch(/^video_/);
  const replicateUpstream = [...fakes.replicate.predictions.keys()].at(-1)!;
  const webhookUrl = "https://api.stillmotion.test/webhooks/replicate";
  const genuine = await fakes.replicate.signedDelivery(webhookUrl, replicateUpstream, {
    secret: SECRETS.REPLICATE_WEBHOOK_SECRET,
  });
  await record("POST /webhooks/replicate (verified)", await h.call("/webhooks/replicate", genuine));
  const forged = await fakes.replicate.signedDelivery(webhookUrl, replicateUpstream, {
    secret: `whsec_${btoa("not-the-replicate-secret-000000")}`,
  });
  await record("POST /webhooks/replicate (forged)", await h.call("/webhooks/replicate", forged));
  const standardHeaders = {
    "content-type": "application/json",
    "webhook-id": "msg_bad",
    "webhook-timestamp": String(Math.floor(h.clock.ms / 1000)),
    "webhook-signature": "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
  };
  await record(
    "POST /webhooks/veo (bad signature)",
    await h.call("/webhooks/veo", {
      method: "POST",
      headers: standardHeaders,
      body: JSON.stringify({ type: "video.generated", data: { id: "models/x/operations/y" } }),
    }),
  );
  await record(
    "POST /webhooks/fal (bad signature)",
    await h.call("/webhooks/fal", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-fal-webhook-request-id": "0b7c0001-45d3-4afd-883e-ad3abe2a1c4d",
        "x-fal-webhook-user-id": "user_123",
        "x-fal-webhook-timestamp": String(Math.floor(h.clock.ms / 1000)),
        "x-fal-webhook-signature": "00".repeat(64),
      },
      body: JSON.stringify({ request_id: "0b7c0001-45d3-4afd-883e-ad3abe2a1c4d", status: "OK" }),
    }),
  );
  for (const kind of ["openai", "runway", "simulator", "nobody"]) {
    await record(
      `POST /webhooks/${kind}`,
      await h.call(`/webhooks/${kind}`, { method: "POST", body: "{}" }),
    );
  }

  // A misconfigured deployment: a route names a secret that is not set.
  const broken = harness({
    routes: [
      { ...ROUTES[0]!, provider: { ...ROUTES[0]!.provider, api_key_secret: "MISSING_KEY" } },
    ],
    vars: { SESSION_SECRET: SECRETS.SESSION_SECRET, RELAY_KEY: SECRETS.RELAY_KEY },
  });
  await record("GET /v1/models (misconfigured)", await broken.call("/v1/models"));

  // What the job store holds is not a response, but a record read back must not carry secrets
  // either.
  for (const { name } of (await env.JOBS.list()).keys) {
    seen.push({ label: `KV ${name}`, text: `${name} ${(await env.JOBS.get(name)) ?? ""}` });
  }
  for (const fake of Object.values(fakes)) fake.assertClean();
  return seen;
}

/** Every 12-character slice of every secret, with where it was found. */
/** Known kind prefixes (publishing them gives nothing away); the rest of a key is its body. */
const KEY_PREFIXES = ["sk-proj-", "sk-or-v1-", "sk-", "r8_", "key_", "AIza"];

/**
 * Slices of a key's body an upstream might quote: 4, 6 and 11 characters from its start, middle
 * and end (the end always included: "…ends in 3b8a1c6"). Each slice holds a digit, so ordinary
 * words in a message cannot be mistaken for a leak.
 */
function keySlices(key: string): string[] {
  const prefix = KEY_PREFIXES.find((p) => key.startsWith(p)) ?? "";
  const body = key.slice(prefix.length);
  const slices = new Set<string>();
  for (const length of [4, 6, 11]) {
    for (const start of [0, Math.floor((body.length - length) / 2), body.length - length]) {
      // Walk towards the end until the slice holds a digit (the last one always tried as is).
      let at = start;
      while (at + length < body.length && !/\d/.test(body.slice(at, at + length))) at++;
      slices.add(body.slice(at, at + length));
    }
  }
  slices.add(body.slice(-6));
  return [...slices];
}

function leaks(everything: Seen[]): string[] {
  const found: string[] = [];
  for (const [name, secret] of Object.entries(SECRETS)) {
    const slices = new Set<string>();
    for (let i = 0; i + 12 <= secret.length; i++) slices.add(secret.slice(i, i + 12));
    for (const { label, text } of everything) {
      const hit = [...slices].find((slice) => text.includes(slice));
      if (hit) {
        const at = text.indexOf(hit);
        const context = text.slice(Math.max(0, at - 60), at + 72).replace(/\s+/g, " ");
        found.push(`${name} (slice ${JSON.stringify(hit)}) in ${label}: …${context}…`);
      }
    }
  }
  return found;
}

interface LogLine {
  level: string;
  event: string;
  [field: string]: unknown;
}

const parsed = (lines: string[]): LogLine[] =>
  lines.flatMap((line) => {
    try {
      const value = JSON.parse(line) as LogLine;
      return value && typeof value === "object" && typeof value.event === "string" ? [value] : [];
    } catch {
      return [];
    }
  });

describe("secrets hygiene", () => {
  it("shows no configured secret, nor any 12-character slice of one, in any response or log line", async () => {
    const d = deployment();
    const lines = captureConsole();
    const seen = await sweep(d);
    const everything = [...seen, ...lines.map((text, i) => ({ label: `console line ${i}`, text }))];
    expect(seen.length).toBeGreaterThan(120);
    expect(lines.length).toBeGreaterThan(20);
    // The sweep really went everywhere: every provider was called, and Turnstile was asked.
    for (const host of [
      "relay.example.test",
      "queue.fal.run",
      "generativelanguage.googleapis.com",
      "api.dev.runwayml.com",
      "api.replicate.com",
    ]) {
      expect(
        d.outbound.some((line) => line.includes(`//${host}/`)),
        host,
      ).toBe(true);
    }
    expect(d.siteverifyCalls.length).toBeGreaterThanOrEqual(3);
    expect(leaks(everything)).toEqual([]);
  });

  it("records in job_created who spent what on which route, and never the prompt", async () => {
    const d = deployment();
    const lines = captureConsole();
    await sweep(d);
    const logs = parsed(lines);
    const created = logs.filter((l) => l.event === "job_created");
    // Six provider routes by the backend key (plus the relay remix and a simulator remix and
    // the marker runs), two by a visitor, each with its remix.
    expect(created.length).toBeGreaterThanOrEqual(9);
    for (const line of created) {
      expect(line).toMatchObject({
        level: "info",
        video_id: expect.stringMatching(/^video_[0-9a-z]{26}$/),
        route: expect.stringMatching(
          /^(relay|azure|kling-fal|veo|runway|veo-replicate|veo-openrouter|sim)$/,
        ),
        owner: expect.stringMatching(/^(key:backend|site:shop:vis_[0-9a-z]{26})$/),
        seconds: expect.stringMatching(/^\d+$/),
        size: expect.stringMatching(/^\d+x\d+$/),
        price_micro_usd: expect.any(Number),
      });
      expect(Object.keys(line)).not.toContain("prompt");
    }
    const routes = new Set(created.map((l) => l.route));
    expect([...routes].sort()).toEqual(
      [
        "azure",
        "kling-fal",
        "relay",
        "runway",
        "sim",
        "veo",
        "veo-openrouter",
        "veo-replicate",
      ].sort(),
    );
    expect(created.some((l) => String(l.owner).startsWith("site:shop:vis_"))).toBe(true);
    // Price = route price × seconds, in micro-USD: e.g. Veo at $0.40/s for 4 s.
    const veo = created.find((l) => l.route === "veo")!;
    expect(veo).toMatchObject({ seconds: "4", size: "1280x720", price_micro_usd: 1_600_000 });
    const relay = created.find((l) => l.route === "relay" && l.owner === "key:backend")!;
    expect(relay.price_micro_usd).toBe(400_000);

    // No log line at all carries the prompt (or a recognisable piece of it).
    for (const piece of [PROMPT, "Maria Example", "12 Quiet Lane"]) {
      const carrying = lines.filter((line) => line.includes(piece));
      expect(carrying, `log lines carrying ${JSON.stringify(piece)}`).toEqual([]);
    }
  });

  it("redacts a key that an upstream quotes only in part", async () => {
    // Upstreams that quote a key often shorten it ("Incorrect API key provided: sk-abc…wxyz").
    // Redacting the exact key (or 8-character windows of it, the first rule here) is not enough:
    // an outside review saw 11 characters including the last 6 reach a caller. Every provider
    // quotes slices of 4, 6 and 11 characters from the start, middle and end of its key's body
    // in a refused create; not one of those exact slices may reach a response or a log line.
    const d = deployment();
    const lines = captureConsole();
    const seen: Seen[] = [];
    const quoted = new Map<string, string[]>();
    for (const { model, seconds, key } of PROVIDERS) {
      const slices = keySlices(key);
      quoted.set(model, slices);
      // 401: the caller gets a fixed message, the detail goes to the log. 400: the upstream's
      // reason is passed on to the caller (sanitized), so a quoted key part would reach them.
      for (const status of [401, 400]) {
        failures(d, model).create(
          status,
          `Invalid key ${slices.map((s, i) => (i % 2 ? `ends in ${s}` : `${s}…`)).join(" / ")}`,
        );
        const response = await d.h.as(
          SECRETS.SERVER_KEY_BACKEND,
          "/v1/videos",
          post(createForm({ model, seconds, prompt: PROMPT })),
        );
        const { full } = await describeResponse(response);
        seen.push({ label: `[${model}] upstream ${status} → ${response.status}`, text: full });
      }
    }
    const everything = [...seen, ...lines.map((text, i) => ({ label: `console line ${i}`, text }))];
    expect(leaks(everything)).toEqual([]);
    // Ids minted by us or by the fakes (video ids, UUIDs, reservation and event ids) are random:
    // a four-character slice of a hex key turns up inside one by chance now and then. They are
    // taken out before looking; nothing of a key can be in them.
    const withoutIds = (text: string) =>
      text
        .replace(/\bvideo_[0-9a-z]{26}\b/g, "<id>")
        .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, "<id>")
        .replace(/\bmsg_[0-9a-f]{32}\b/g, "<id>");
    const fragments: string[] = [];
    for (const [model, slices] of quoted) {
      for (const slice of slices) {
        for (const { label, text: raw } of everything) {
          const text = withoutIds(raw);
          if (text.includes(slice))
            fragments.push(`[${model}] ${JSON.stringify(slice)} in ${label}`);
        }
      }
    }
    expect(fragments).toEqual([]);
  });

  it("never logs a prompt that an upstream quotes back in its refusal", async () => {
    // Prompts are the visitor's words (names, places): the logs record who spent what, never
    // what they asked for. An upstream that quotes the prompt in its error must not carry it
    // into a log line through the refusal's detail.
    const d = deployment();
    const lines = captureConsole();
    for (const { model, seconds } of PROVIDERS) {
      failures(d, model).create(400, `Your prompt "${PROMPT}" was flagged by the safety system.`);
      const response = await d.h.as(
        SECRETS.SERVER_KEY_BACKEND,
        "/v1/videos",
        post(createForm({ model, seconds, prompt: PROMPT })),
      );
      expect(response.status, model).toBe(400);
    }
    for (const piece of [PROMPT, "Maria Example", "12 Quiet Lane"]) {
      const carrying = lines.filter((line) => line.includes(piece));
      expect.soft(carrying, `log lines carrying ${JSON.stringify(piece)}`).toEqual([]);
    }
  });
});
