/**
 * Spend caps through the API: every create reserves its price in the ledger before the provider
 * is called, a refused create says which cap and when it resets, the money is settled when a
 * job completes and given back when nothing was billed.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { nextUtcMidnight } from "../../../worker/ledger/sql";
import {
  harness,
  SERVER_KEY,
  SIM_ROUTE,
  SITES,
  todayUtcAt,
  type Harness,
} from "../../helpers/harness";
import { reservationOf, usageOn, withoutBrakes } from "../../helpers/ledger";
import { createForm, post } from "../../helpers/requests";

/** The simulator at $0.10 a second: a 4 s video reserves $0.40, an 8 s one $0.80. */
const PAID = { ...SIM_ROUTE, id: "paid", price_per_second_usd: 0.1 };
const FREE = SIM_ROUTE;
const NOON = todayUtcAt(12);
/** The UTC midnight after NOON, when daily caps reset. */
const MIDNIGHT = nextUtcMidnight(NOON);

interface Envelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}
type Video = { id: string; status: string; error: { code: string } | null };

function setup(vars: Record<string, string> = {}) {
  return harness({ routes: [PAID, FREE], vars, clock: { ms: NOON } });
}

/** A create by `token` (a visitor's) or the backend key, from the network of `ip` if given. */
const create = (h: Harness, fields: Record<string, string> = {}, token?: string, ip?: string) => {
  const headers: Record<string, string> = ip ? { "cf-connecting-ip": ip } : {};
  return token
    ? h.as(token, "/v1/videos", {
        ...post(createForm(fields)),
        headers: { origin: SITES[0]!.origins[0]!, ...headers },
      })
    : h.as(SERVER_KEY, "/v1/videos", { ...post(createForm(fields)), headers });
};

async function expectBudgetExceeded(response: Response, message: RegExp, retryAfter = "43200") {
  expect(response.status).toBe(429);
  expect(response.headers.get("retry-after")).toBe(retryAfter);
  expect(response.headers.get("x-should-retry")).toBe("false");
  const { error } = (await response.json()) as Envelope;
  expect(error).toMatchObject({ type: "rate_limit_error", code: "budget_exceeded", param: null });
  expect(error.message).toMatch(message);
  return error.message;
}

const RESETS = new RegExp(
  `It resets at ${new Date(MIDNIGHT).toISOString().slice(0, 10)}T00:00:00Z \\(in 12 hours\\)\\.`,
);

describe("spend caps on POST /v1/videos", () => {
  it("refuses the create that would pass the global cap, saying when it resets", async () => {
    const h = setup({ SPEND_CAP_GLOBAL_USD_PER_DAY: "1" });
    expect((await create(h)).status).toBe(200);
    expect((await create(h)).status).toBe(200);
    const message = await expectBudgetExceeded(await create(h), RESETS);
    expect(message).toMatch(/^This service's daily spending limit for videos has been reached/);
    expect((await usageOn(NOON)).global).toEqual({ microUsd: 800_000, count: 2 });
    expect((await env.JOBS.list({ prefix: "v1:job:" })).keys).toHaveLength(2);

    h.clock.ms = MIDNIGHT + 1000; // a new UTC day
    expect((await create(h)).status).toBe(200);
  });

  it("caps each server key on its own", async () => {
    const h = setup({ SPEND_CAP_SERVER_KEY_USD_PER_DAY: "0.80" });
    expect((await create(h, { seconds: "8" })).status).toBe(200);
    const message = await expectBudgetExceeded(await create(h), RESETS);
    expect(message).toMatch(/^This API key's daily spending limit/);
    const partner = await h.as(
      "sk_test_partner_0123456789abcdef",
      "/v1/videos",
      post(createForm()),
    );
    expect(partner.status).toBe(200);
  });

  it("caps each site on its own, across its visitors", async () => {
    const h = setup({ SPEND_CAP_SITE_USD_PER_DAY: "0.8", SPEND_CAP_NETWORK_USD_PER_DAY: "0.4" });
    const [a, b] = [await h.session(), await h.session()];
    // From two networks: one network alone may spend only a quarter of the site's day.
    expect((await create(h, {}, a.token, "198.51.100.1")).status).toBe(200);
    expect((await create(h, {}, b.token, "198.51.100.2")).status).toBe(200);
    const message = await expectBudgetExceeded(
      await create(h, {}, a.token, "198.51.100.3"),
      RESETS,
    );
    expect(message).toMatch(/^This site's daily spending limit/);
    const blog = await h.session(SITES[1]!.publishable_key, SITES[1]!.origins[0]!);
    const other = await h.as(blog.token, "/v1/videos", {
      ...post(createForm()),
      headers: { origin: SITES[1]!.origins[0]! },
    });
    expect(other.status).toBe(200);
  });

  it("caps what one network spends, however many visitors it mints", async () => {
    const h = setup(); // site $20 a day, so each network may spend $5 (a quarter)
    withoutBrakes(h);
    const fresh = async (ip: string) => create(h, {}, (await h.session()).token, ip);
    // One client's /48 holds 65,536 /64s: spread over them, it is still one network.
    for (let i = 0; i < 12; i++) expect((await fresh(`2001:db8:1:${i}::1`)).status).toBe(200);
    // The 13th $0.40 video from a new visitor in the same IPv6 /48 would pass $5.
    const message = await expectBudgetExceeded(await fresh("2001:db8:1:ffff::9"), RESETS);
    expect(message).toMatch(/^Your network's daily spending limit/);
    expect((await usageOn(NOON))["net:2001:db8:1::/48"]).toEqual({
      microUsd: 4_800_000,
      count: 12,
    });
    // Another /48, or an IPv4 address, is another network; a server key is not a visitor.
    expect((await fresh("2001:db8:2::1")).status).toBe(200);
    expect((await fresh("203.0.113.7")).status).toBe(200);
    expect((await create(h, {}, undefined, "2001:db8:1:2::1")).status).toBe(200);
    // A malformed address is its own key, never an error.
    expect((await fresh("1:2:3:4:5:6:7:8::9")).status).toBe(200);
  });

  it("bounds the network cap below the site cap", async () => {
    const h = setup({ SPEND_CAP_SITE_USD_PER_DAY: "10", SPEND_CAP_NETWORK_USD_PER_DAY: "10" });
    const response = await h.call("/healthz");
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).toContain("SPEND_CAP_NETWORK_USD_PER_DAY");
    expect(text).toContain("SPEND_CAP_SITE_USD_PER_DAY");
    const ok = setup({ SPEND_CAP_SITE_USD_PER_DAY: "10", SPEND_CAP_NETWORK_USD_PER_DAY: "9.99" });
    expect((await ok.call("/healthz")).status).toBe(200);
  });

  it("caps each visitor's money and number of videos per day", async () => {
    const h = setup({
      SPEND_CAP_VISITOR_USD_PER_DAY: "0.40",
      SPEND_CAP_VISITOR_VIDEOS_PER_DAY: "3",
    });
    const visitor = await h.session();
    expect((await create(h, {}, visitor.token)).status).toBe(200);
    const money = await expectBudgetExceeded(await create(h, {}, visitor.token), RESETS);
    expect(money).toMatch(/^Your daily spending limit/);
    expect((await create(h, { model: "sim" }, visitor.token)).status).toBe(200);
    expect((await create(h, { model: "sim" }, visitor.token)).status).toBe(200);
    const count = await expectBudgetExceeded(
      await create(h, { model: "sim" }, visitor.token),
      RESETS,
    );
    expect(count).toMatch(/^You have reached your daily limit of 3 videos\./);
    expect((await create(h, {}, (await h.session()).token)).status).toBe(200);
  });

  it("says so when one video costs more than the cap allows at all", async () => {
    const h = setup({ SPEND_CAP_VISITOR_USD_PER_DAY: "0.50" });
    const visitor = await h.session();
    await expectBudgetExceeded(
      await create(h, { seconds: "8" }, visitor.token),
      /costs more than your daily spending limit allows\. Choose a shorter duration/,
    );
  });

  it("counts minutes when the reset is less than an hour away", async () => {
    const h = setup({ SPEND_CAP_GLOBAL_USD_PER_DAY: "0.40" });
    h.clock.ms = MIDNIGHT - 25 * 60_000;
    expect((await create(h)).status).toBe(200);
    await expectBudgetExceeded(await create(h), /\(in 25 minutes\)\.$/, "1500");
  });

  it("treats a cap of 0 as paid videos switched off", async () => {
    const h = setup({ SPEND_CAP_SITE_USD_PER_DAY: "0" });
    const visitor = await h.session();
    await expectBudgetExceeded(
      await create(h, {}, visitor.token),
      /^Paid videos are switched off: this site's daily spending limit is 0\.$/,
    );
    expect((await create(h, { model: "sim" }, visitor.token)).status).toBe(200);
  });

  it("lets exactly as many creates through as the cap allows when 30 race for it", async () => {
    const h = setup({ SPEND_CAP_GLOBAL_USD_PER_DAY: "2.30" }); // room for five $0.40 videos
    withoutBrakes(h); // they would stop this flood first; here the ledger must hold the line
    const responses = await Promise.all(Array.from({ length: 30 }, () => create(h)));
    const statuses = responses.map((r) => r.status);
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 429)).toHaveLength(25);
    const { global } = await usageOn(NOON);
    expect(global).toEqual({ microUsd: 2_000_000, count: 5 });
    expect(global!.microUsd).toBeLessThanOrEqual(2_300_000);
    expect((await env.JOBS.list({ prefix: "v1:job:" })).keys).toHaveLength(5);
  });
});

describe("settling and refunding", () => {
  async function createdVideo(h: Harness, prompt: string): Promise<Video> {
    const response = await create(h, { prompt });
    expect(response.status).toBe(200);
    return (await response.json()) as Video;
  }

  async function finish(h: Harness, id: string): Promise<Video> {
    h.advance(11_000);
    return (await (await h.server(`/v1/videos/${id}`)).json()) as Video;
  }

  it("settles the reservation when the job completes, keeping the money spent", async () => {
    const h = setup();
    const video = await createdVideo(h, "a slow pan");
    expect(await reservationOf(video.id)).toEqual({
      state: "reserved",
      amountMicroUsd: 400_000,
      videoId: video.id,
    });
    expect((await finish(h, video.id)).status).toBe("completed");
    expect(await reservationOf(video.id)).toMatchObject({ state: "settled" });
    expect((await usageOn(NOON))["key:backend"]).toEqual({ microUsd: 400_000, count: 1 });
  });

  /** The ledger binding, with `methods` failing as in an outage (everything else works). */
  function failingLedger(h: Harness, methods: string[]): () => void {
    const real = h.env.LEDGER;
    h.env.LEDGER = {
      idFromName: (name: string) => real.idFromName(name),
      get: (id: DurableObjectId) => {
        const stub = real.get(id) as unknown as Record<string, (...args: unknown[]) => unknown>;
        return new Proxy(
          {},
          {
            get: (_, method: string) =>
              methods.includes(method)
                ? () => Promise.reject(new Error("Durable Object reset"))
                : (...args: unknown[]) => stub[method]!(...args),
          },
        );
      },
    } as unknown as Env["LEDGER"];
    return () => void (h.env.LEDGER = real);
  }

  it("settles on the next sight a job that finished while the ledger was unreachable", async () => {
    const h = setup();
    const video = await createdVideo(h, "a slow pan");
    const restore = failingLedger(h, ["settle", "refund"]);
    expect((await finish(h, video.id)).status).toBe("completed");
    expect(await reservationOf(video.id)).toMatchObject({ state: "reserved" });
    restore();
    expect((await h.server(`/v1/videos/${video.id}`)).status).toBe(200);
    expect(await reservationOf(video.id)).toMatchObject({ state: "settled" });
    const stored = await env.JOBS.get<{ spend_settled?: boolean }>(`v1:job:${video.id}`, "json");
    expect(stored?.spend_settled).toBe(true);
  });

  it("settles the reservation of a job whose route was removed, when it is next seen", async () => {
    const h = setup();
    const video = await createdVideo(h, "a slow pan");
    const later = harness({ routes: [FREE], clock: h.clock }); // "paid" is gone from the config
    const seen = await later.server(`/v1/videos/${video.id}`);
    expect(seen.status).toBe(200);
    expect(await reservationOf(video.id)).toMatchObject({ state: "settled" });
  });

  it("refunds a job the provider blocked on policy grounds", async () => {
    const h = setup();
    const video = await createdVideo(h, "a slow pan [sim:policy_violation]");
    const failed = await finish(h, video.id);
    expect(failed).toMatchObject({ status: "failed", error: { code: "policy_violation" } });
    expect(await reservationOf(video.id)).toMatchObject({ state: "refunded" });
    expect((await usageOn(NOON)).global).toEqual({ microUsd: 0, count: 0 });
  });

  it("keeps the money of a job that failed while generating (it may be billed)", async () => {
    const h = setup();
    const video = await createdVideo(h, "a slow pan [sim:provider_error]");
    expect((await finish(h, video.id)).error).toMatchObject({ code: "provider_error" });
    expect(await reservationOf(video.id)).toMatchObject({ state: "settled" });
  });

  it.each([
    ["refuse_policy", 400],
    ["unavailable", 503],
    ["rate_limited", 429],
  ])(
    "gives the money back when the provider refuses at create ([sim:%s])",
    async (marker, status) => {
      const h = setup({ SPEND_CAP_GLOBAL_USD_PER_DAY: "0.40" });
      expect((await create(h, { prompt: `pan [sim:${marker}]` })).status).toBe(status);
      expect((await usageOn(NOON)).global).toEqual({ microUsd: 0, count: 0 });
      expect((await create(h)).status).toBe(200); // the cap has room again
    },
  );

  it("keeps the money when the create's outcome is unknown (a timeout may have started it)", async () => {
    const h = setup();
    expect((await create(h, { prompt: "pan [sim:create_timeout]" })).status).toBe(504);
    expect((await usageOn(NOON)).global).toEqual({ microUsd: 400_000, count: 1 });
  });
});

describe("the kill switch", () => {
  it("refuses every paid create and lets free ones through", async () => {
    const h = setup({ SPEND_KILL_SWITCH: "on" });
    const response = await create(h);
    await expectBudgetExceeded(response, /paused by the operator/, "3600");
    expect((await create(h, { model: "sim" })).status).toBe(200);
    expect((await usageOn(NOON)).global).toEqual({ microUsd: 0, count: 1 });
  });
});

describe("spend configuration", () => {
  it.each([
    ["SPEND_CAP_GLOBAL_USD_PER_DAY", "-1"],
    ["SPEND_CAP_SITE_USD_PER_DAY", "ten"],
    ["SPEND_CAP_VISITOR_USD_PER_DAY", "0.1234567"],
    ["SPEND_CAP_SERVER_KEY_USD_PER_DAY", "2000000"],
    ["SPEND_CAP_VISITOR_VIDEOS_PER_DAY", "1.5"],
    ["SPEND_KILL_SWITCH", "yes"],
  ])("answers 500 misconfigured naming %s=%s", async (name, value) => {
    const h = setup({ [name]: value });
    const response = await h.call("/healthz");
    expect(response.status).toBe(500);
    const { error } = (await response.json()) as Envelope;
    expect(error.code).toBe("misconfigured");
    expect(error.message).toContain(name);
  });
});
