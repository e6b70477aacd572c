/**
 * Burst brakes, against Miniflare's emulation of the Rate Limiting bindings in wrangler.toml
 * (counters are reset between tests). The limits asserted here are the shipped defaults.
 */
import { Hono } from "hono";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { AppEnv } from "../../../worker/context";
import { onError } from "../../../worker/errors";
import { rateLimit } from "../../../worker/middleware/rate-limit";
import { harness, OTHER_SERVER_KEY, SERVER_KEY, SITES, type Harness } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

const shop = SITES[0]!;
const ORIGIN = shop.origins[0]!;
const SLOW = { timeout: 30_000 };

interface Envelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** The binding's windows are aligned to the wall clock: start each burst well inside one. */
async function insideOneWindow(): Promise<void> {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8_000) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

function startSession(
  h: Harness,
  ip: string,
  body: string = JSON.stringify({ site_key: shop.publishable_key }),
) {
  return h.call("/v1/sessions", {
    method: "POST",
    headers: { "content-type": "application/json", origin: ORIGIN, "cf-connecting-ip": ip },
    body,
  });
}

async function visitor(h: Harness, ip: string): Promise<string> {
  const response = await startSession(h, ip);
  expect(response.status).toBe(200);
  return ((await response.json()) as { token: string }).token;
}

function create(h: Harness, token: string, ip: string) {
  return h.as(token, "/v1/videos", {
    ...post(createForm()),
    headers: { origin: ORIGIN, "cf-connecting-ip": ip },
  });
}

async function expectBraked(response: Response, what: string): Promise<void> {
  expect(response.status).toBe(429);
  expect(response.headers.get("retry-after")).toBe("60");
  const { error } = (await response.json()) as Envelope;
  expect(error).toMatchObject({ type: "rate_limit_error", code: "rate_limited", param: null });
  expect(error.message).toContain(what);
  expect(error.message).toContain("Wait 60 seconds");
}

describe("POST /v1/sessions burst brake", () => {
  it(
    "refuses the 21st session a minute from one network, before reading the body",
    SLOW,
    async () => {
      const h = harness();
      await insideOneWindow();
      for (let i = 0; i < 20; i++) expect((await startSession(h, "203.0.113.7")).status).toBe(200);
      const braked = await startSession(h, "203.0.113.7", "{not json");
      await expectBraked(braked, "sessions started from your network");
      // The widget can read Retry-After cross-origin.
      expect(braked.headers.get("access-control-allow-origin")).toBe(ORIGIN);
      expect((await startSession(h, "198.51.100.9")).status).toBe(200);
    },
  );

  it("counts a whole IPv6 /64 as one network", SLOW, async () => {
    // The ledger's own cap on new visitors groups a /48; it must not decide this brake test.
    const h = harness({ vars: { NEW_VISITORS_PER_NETWORK_PER_HOUR: "1000" } });
    await insideOneWindow();
    for (let i = 0; i < 10; i++) {
      expect((await startSession(h, `2001:db8:1:2::${i + 1}`)).status).toBe(200);
      expect((await startSession(h, `2001:DB8:1:2:ffff:0:0:${i + 1}`)).status).toBe(200);
    }
    expect((await startSession(h, "2001:db8:1:2:abcd::1")).status).toBe(429);
    expect((await startSession(h, "2001:db8:1:3::1")).status).toBe(200);
  });

  it("counts an IPv4-mapped IPv6 address as its IPv4 address", SLOW, async () => {
    const h = harness();
    await insideOneWindow();
    for (let i = 0; i < 20; i++) expect((await startSession(h, "198.51.100.9")).status).toBe(200);
    expect((await startSession(h, "::ffff:198.51.100.9")).status).toBe(429);
    expect((await startSession(h, "::ffff:198.51.100.10")).status).toBe(200);
  });
});

describe("POST /v1/videos burst brakes", () => {
  it("brakes a visitor at 5 new videos a minute; another visitor is unaffected", SLOW, async () => {
    const h = harness();
    await insideOneWindow();
    const [alice, bob] = [await visitor(h, "203.0.113.7"), await visitor(h, "203.0.113.7")];
    for (let i = 0; i < 5; i++) expect((await create(h, alice, "203.0.113.7")).status).toBe(200);
    await expectBraked(await create(h, alice, "203.0.113.7"), "new videos from you");
    expect((await create(h, bob, "203.0.113.7")).status).toBe(200);
  });

  it(
    "brakes visitors at 10 new videos a minute per network; another network is unaffected",
    SLOW,
    async () => {
      const h = harness();
      await insideOneWindow();
      const ip = "203.0.113.7";
      const [a, b, c] = [await visitor(h, ip), await visitor(h, ip), await visitor(h, ip)];
      for (const token of [a, b]) {
        for (let i = 0; i < 5; i++) expect((await create(h, token, ip)).status).toBe(200);
      }
      await expectBraked(await create(h, c, ip), "new videos from your network");
      const elsewhere = await visitor(h, "198.51.100.9");
      expect((await create(h, elsewhere, "198.51.100.9")).status).toBe(200);
    },
  );

  it(
    "brakes a server key at 30 a minute, whatever its network; another key is unaffected",
    SLOW,
    async () => {
      const h = harness();
      await insideOneWindow();
      const ip = "192.0.2.10";
      for (let i = 0; i < 30; i++) expect((await create(h, SERVER_KEY, ip)).status).toBe(200);
      await expectBraked(await create(h, SERVER_KEY, ip), "new videos with this key");
      expect((await create(h, OTHER_SERVER_KEY, ip)).status).toBe(200);
    },
  );

  it("counts remixes as new videos and refuses them before anything is read", SLOW, async () => {
    const h = harness();
    await insideOneWindow();
    const alice = await visitor(h, "203.0.113.7");
    for (let i = 0; i < 5; i++) expect((await create(h, alice, "203.0.113.7")).status).toBe(200);
    // An unknown id and a broken body would be 400/404: the brake answers first.
    const remix = await h.as(alice, "/v1/videos/video_unknown/remix", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: ORIGIN,
        "cf-connecting-ip": "203.0.113.7",
      },
      body: "{",
    });
    await expectBraked(remix, "new videos from you");
  });

  it("authenticates before braking: a bad token is a 401 and counts for no one", async () => {
    const h = harness();
    const response = await create(h, "not-a-token", "203.0.113.7");
    expect(response.status).toBe(401);
  });
});

describe("rateLimit()", () => {
  const limiter = (outcome: () => Promise<RateLimitOutcome>): RateLimit => ({ limit: outcome });

  function app(options: Partial<Parameters<typeof rateLimit>[0]>) {
    const hono = new Hono<AppEnv>();
    hono.use(
      rateLimit({ binding: () => undefined, key: () => "k", what: "test calls", ...options }),
    );
    hono.get("/", (c) => c.text("passed"));
    hono.onError(onError);
    return (path = "/") => hono.request(path, {}, env);
  }

  it("lets requests through while the binding cannot answer (the ledger still caps spend)", async () => {
    const call = app({ binding: () => limiter(() => Promise.reject(new Error("down"))) });
    expect(await (await call()).text()).toBe("passed");
  });

  it("fails with a 500 naming the brake when its binding is missing", async () => {
    const response = await app({})();
    expect(response.status).toBe(500);
    const { error } = (await response.json()) as Envelope;
    expect(error.code).toBe("misconfigured");
    expect(error.message).toContain("test calls");
  });

  it("skips requests whose key is null and lets the caller shape the refusal", async () => {
    let counted = 0;
    const refuse = limiter(async () => (counted++, { success: false }));
    const skipped = app({ binding: () => refuse, key: () => null });
    expect((await skipped()).status).toBe(200);
    expect(counted).toBe(0);
    const custom = app({
      binding: () => refuse,
      period: 10,
      onLimited: (c, period) => c.text(`slow down for ${period}s`, 429),
    });
    expect(await (await custom()).text()).toBe("slow down for 10s");
  });

  it("rejects a period the platform does not offer", () => {
    expect(() =>
      rateLimit({ binding: () => undefined, key: () => "k", what: "x", period: 30 as 60 }),
    ).toThrow(/10 or 60/);
  });
});
