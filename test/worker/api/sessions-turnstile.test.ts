/**
 * The optional bot check on POST /v1/sessions. Siteverify is a small fake `fetch` (the app's
 * injected one): every answer Cloudflare can give is listed here, and nothing reaches the network.
 */
import { describe, expect, it } from "vitest";
import { SITEVERIFY_URL } from "../../../worker/auth/turnstile";
import { parseConfig } from "../../../worker/config";
import { harness, SIM_ROUTE, SITES } from "../../helpers/harness";

const SECRET = "0x4AAAAAAAtest_live_secret_0123456789";
const TEST_PASS_SECRET = "1x0000000000000000000000000000000AA";
const shop = {
  ...SITES[0]!,
  turnstile: { secret_secret: "TURNSTILE_SECRET_SHOP", site_key: "0x4AAAAAAAshopSiteKey" },
};
const ORIGIN = shop.origins[0]!;
const GOOD = {
  success: true,
  "error-codes": [],
  challenge_ts: new Date().toISOString(),
  hostname: "shop.example",
  action: "stillmotion-session",
};

interface Envelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** A siteverify fake: answers each call with the next of `answers` (the last one repeats). */
function siteverify(...answers: (object | Error | Response)[]) {
  const calls: URLSearchParams[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    if (request.url !== SITEVERIFY_URL || request.method !== "POST") {
      throw new Error(`unexpected ${request.method} ${request.url}`);
    }
    calls.push(new URLSearchParams(await request.text()));
    const answer = answers[Math.min(calls.length, answers.length) - 1]!;
    if (answer instanceof Error) throw answer;
    return answer instanceof Response ? answer : Response.json(answer);
  };
  return { fetch, calls };
}

function setup(answers: (object | Error | Response)[], vars: Record<string, string> = {}) {
  const fake = siteverify(...answers);
  const h = harness({
    fetch: fake.fetch,
    vars: {
      SITES: JSON.stringify([shop, SITES[1]]),
      TURNSTILE_SECRET_SHOP: SECRET,
      ...vars,
    },
  });
  const start = (body: object, origin = ORIGIN) =>
    h.call("/v1/sessions", {
      method: "POST",
      headers: { "content-type": "application/json", origin, "cf-connecting-ip": "203.0.113.7" },
      body: JSON.stringify({ site_key: shop.publishable_key, ...body }),
    });
  return { h, calls: fake.calls, start };
}

async function errorOf(response: Response) {
  return ((await response.json()) as Envelope).error;
}

describe("POST /v1/sessions with Turnstile", () => {
  it("issues a session once siteverify confirms the token for this page and action", async () => {
    const { calls, start } = setup([GOOD]);
    const response = await start({ turnstile_token: "token-abc" });
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(1);
    const form = calls[0]!;
    expect(form.get("secret")).toBe(SECRET);
    expect(form.get("response")).toBe("token-abc");
    expect(form.get("remoteip")).toBe("203.0.113.7");
    expect(form.get("idempotency_key")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("asks for a token with 400 turnstile_required, without calling siteverify", async () => {
    const { calls, start } = setup([GOOD]);
    const response = await start({});
    expect(response.status).toBe(400);
    expect(await errorOf(response)).toMatchObject({
      param: "turnstile_token",
      code: "turnstile_required",
    });
    expect(calls).toHaveLength(0);
  });

  it.each([
    ["solved on another site", { ...GOOD, hostname: "evil.example" }],
    ["minted for another action", { ...GOOD, action: "login" }],
    ["without an action", { ...GOOD, action: undefined }],
    ["spent or expired", { success: false, "error-codes": ["timeout-or-duplicate"] }],
    ["forged", { success: false, "error-codes": ["invalid-input-response"] }],
  ])("refuses a token %s with 403 turnstile_failed", async (_, answer) => {
    const { start } = setup([answer]);
    const response = await start({ turnstile_token: "token-abc" });
    expect(response.status).toBe(403);
    const error = await errorOf(response);
    expect(error).toMatchObject({ param: "turnstile_token", code: "turnstile_failed" });
    expect(error.message).not.toContain("evil");
  });

  it.each([
    ["a network error", new TypeError("connection reset")],
    ["a 5xx", new Response("bad gateway", { status: 502 })],
    ["an unreadable answer", new Response("<html>", { status: 200 })],
    ["its own internal error", { success: false, "error-codes": ["internal-error"] }],
  ])("answers 503 when siteverify has %s, after one retry with the same key", async (_, answer) => {
    const { calls, start } = setup([answer]);
    const response = await start({ turnstile_token: "token-abc" });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("10");
    expect((await errorOf(response)).code).toBe("turnstile_unavailable");
    expect(calls).toHaveLength(2);
    expect(calls[1]!.get("idempotency_key")).toBe(calls[0]!.get("idempotency_key"));
  });

  it("recovers when the retry succeeds", async () => {
    const { calls, start } = setup([new TypeError("reset"), GOOD]);
    expect((await start({ turnstile_token: "token-abc" })).status).toBe(200);
    expect(calls).toHaveLength(2);
  });

  it("reports a secret Cloudflare refuses as a misconfiguration, never echoing the secret", async () => {
    const { start } = setup([{ success: false, "error-codes": ["invalid-input-secret"] }]);
    const response = await start({ turnstile_token: "token-abc" });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).toContain("TURNSTILE_SECRET_SHOP");
    expect(text).not.toContain(SECRET);
  });

  it("refuses a token longer than any Turnstile token before calling siteverify", async () => {
    const { calls, start } = setup([GOOD]);
    const response = await start({ turnstile_token: "x".repeat(2049) });
    expect(response.status).toBe(400);
    expect((await errorOf(response)).param).toBe("turnstile_token");
    expect(calls).toHaveLength(0);
  });

  it("checks the origin first, so a foreign page costs no siteverify call", async () => {
    const { calls, start } = setup([GOOD]);
    const response = await start({ turnstile_token: "token-abc" }, "https://evil.example");
    expect(response.status).toBe(403);
    expect((await errorOf(response)).code).toBe("origin_not_allowed");
    expect(calls).toHaveLength(0);
  });

  it("leaves sites without turnstile alone", async () => {
    const { h, calls } = setup([GOOD]);
    const blog = SITES[1]!;
    const response = await h.call("/v1/sessions", {
      method: "POST",
      headers: { "content-type": "application/json", origin: blog.origins[0]! },
      body: JSON.stringify({ site_key: blog.publishable_key, turnstile_token: "ignored" }),
    });
    expect(response.status).toBe(200);
    expect(calls).toHaveLength(0);
  });

  it("accepts Cloudflare's test secret outside production, whose answers name their own host", async () => {
    const { start } = setup([{ ...GOOD, hostname: "example.com", action: "" }], {
      TURNSTILE_SECRET_SHOP: TEST_PASS_SECRET,
    });
    expect((await start({ turnstile_token: "XXXX.DUMMY.TOKEN.XXXX" })).status).toBe(200);
  });
});

describe("SITES turnstile configuration", () => {
  const vars = (overrides: Record<string, string>) =>
    ({
      MODEL_ROUTES: JSON.stringify([SIM_ROUTE]),
      SITES: JSON.stringify([shop]),
      ENVIRONMENT: "test",
      SESSION_SECRET: "a-test-run-sets-its-own-secret",
      ...overrides,
    }) as unknown as Env;

  it("reads the named secret and defaults the action", () => {
    const config = parseConfig(vars({ TURNSTILE_SECRET_SHOP: SECRET }));
    expect(config.turnstileSecrets).toEqual({ TURNSTILE_SECRET_SHOP: SECRET });
    expect(config.sites[0]!.turnstile?.action).toBe("stillmotion-session");
  });

  it("requires the named secret to be set", () => {
    expect(() => parseConfig(vars({}))).toThrow(
      "SITES[0].turnstile.secret_secret: the secret TURNSTILE_SECRET_SHOP is not set",
    );
  });

  it("refuses Cloudflare's always-pass test secret in production", () => {
    const production = {
      ENVIRONMENT: "production",
      SESSION_SECRET: "Zq8!rT2#mW9vL4$kX7pN3&hB6yC1uF5j",
      TURNSTILE_SECRET_SHOP: TEST_PASS_SECRET,
    };
    expect(() => parseConfig(vars(production))).toThrow(/Turnstile test secret/);
  });

  it.each([
    ["a secret value instead of its name", { secret_secret: SECRET }],
    ["a malformed site key", { site_key: "pk_not_turnstile" }],
    ["an action Turnstile would refuse", { action: "has spaces" }],
    ["an unknown field", { secret: SECRET }],
  ])("names the field for %s", (_, patch) => {
    const site = { ...shop, turnstile: { ...shop.turnstile, ...patch } };
    expect(() =>
      parseConfig(vars({ SITES: JSON.stringify([site]), TURNSTILE_SECRET_SHOP: SECRET })),
    ).toThrow(/^SITES\[0\]\.turnstile/);
  });
});
