/**
 * An ambiguous answer to a create keeps the money reserved. A relay that forwards the job and
 * then answers 500 may have started (and will bill) it; refunding would let a client push a
 * server key past its cap by repeating creates that "failed". Only answers that promise nothing
 * started — 503, 429, 4xx refusals — give the money back. The Idempotency-Key of an ambiguous
 * create stays held too: a retry under it must not start a second job that may double the bill.
 */
import { describe, expect, it } from "vitest";
import { RELAY_ROUTE } from "../../fixtures/routes";
import { FakeOpenAI } from "../../helpers/fakes/openai";
import { harness, todayUtcAt } from "../../helpers/harness";
import { usageOn, withoutBrakes } from "../../helpers/ledger";
import { createForm, post } from "../../helpers/requests";

const API_KEY = "sk-test-FAKEKEY-ambiguous-0123456789abcdefgh";
const NOON = todayUtcAt(12);
/** $0.10 a second: a 4 s video reserves $0.40. */
const RELAY = RELAY_ROUTE;

/** The job timeout: how long an ambiguous create's key stays held (past the 10-minute lease). */
const JOB_TIMEOUT_SECONDS = 1800;

function setup(fetch?: (fake: FakeOpenAI) => typeof globalThis.fetch) {
  const fake = new FakeOpenAI({ apiKey: API_KEY });
  const h = harness({
    clock: { ms: NOON },
    routes: [RELAY],
    fetch: fetch ? fetch(fake) : fake.fetch,
    vars: {
      RELAY_KEY: API_KEY,
      SPEND_CAP_SERVER_KEY_USD_PER_DAY: "1",
      JOB_TIMEOUT_SECONDS: String(JOB_TIMEOUT_SECONDS),
    },
  });
  withoutBrakes(h);
  const create = (key?: string) => {
    const init = post(createForm({ model: "relay" }));
    if (key) init.headers = { ...(init.headers as Record<string, string>), "idempotency-key": key };
    return h.server("/v1/videos", init);
  };
  return { fake, h, create };
}

/** A fetch whose first create is cut off after it was sent (the connection reset). */
const resetOnFirstCreate = (fake: FakeOpenAI): typeof globalThis.fetch => {
  let cut = false;
  return async (input, init) => {
    const request = new Request(input, init);
    if (!cut && request.method === "POST") {
      cut = true;
      await fake.fetch(request); // it reached the provider…
      throw new TypeError("Network connection lost."); // …and the answer never came back
    }
    return fake.fetch(request);
  };
};

const code = async (response: Response) =>
  ((await response.json()) as { error: { code: string } }).error.code;

describe("a create whose outcome is unknown", () => {
  it.each([500, 502])(
    "keeps the money of a create answered %i, so repeats cannot pass the cap",
    async (status) => {
      const { fake, create } = setup();
      fake.failNext(status, { method: "POST", path: "/videos", times: 5 });
      const first = await create();
      expect(first.status).toBe(502);
      expect(await code(first)).toBe("provider_error");
      expect((await create()).status).toBe(502);
      // $0.80 of the $1 cap is held by the two answers nobody can read: a third is refused
      // before the provider is asked.
      const third = await create();
      expect(third.status).toBe(429);
      expect(await code(third)).toBe("budget_exceeded");
      expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(2);
      expect((await usageOn(NOON))["key:backend"]).toEqual({ microUsd: 800_000, count: 2 });
    },
  );

  it("gives the money back for a 503, which promises nothing was started", async () => {
    const { fake, create } = setup();
    fake.failNext(503, { method: "POST", path: "/videos", times: 3 });
    for (let i = 0; i < 3; i++) expect((await create()).status).toBe(503);
    expect((await usageOn(NOON))["key:backend"]).toEqual({ microUsd: 0, count: 0 });
    expect((await create()).status).toBe(200);
  });

  it.each([
    ["a 500", (fake: FakeOpenAI) => fake.failNext(500, { method: "POST", path: "/videos" }).fetch],
    ["a connection reset", resetOnFirstCreate],
  ])("holds the Idempotency-Key after %s until the job timeout has passed", async (_, fetch) => {
    const { fake, h, create } = setup(fetch);
    const first = await create("order-42");
    expect(first.status).toBeGreaterThanOrEqual(500);
    const posts = () => fake.requests.filter((r) => r.method === "POST").length;
    expect(posts()).toBe(1);

    // The SDK's retry (same key, same body) would start a second, paid job: it is refused
    // without asking the provider, with a message that says why and until when.
    for (const after of [1_000, 11 * 60_000, JOB_TIMEOUT_SECONDS * 1000 - 2_000]) {
      h.clock.ms = NOON + after;
      const retry = await create("order-42");
      expect(retry.status).toBe(409);
      expect(retry.headers.get("x-should-retry")).toBe("false");
      const wait = Number(retry.headers.get("retry-after"));
      expect(wait).toBe(Math.ceil((JOB_TIMEOUT_SECONDS * 1000 - after) / 1000));
      const { error } = (await retry.json()) as { error: { code: string; message: string } };
      expect(error.code).toBe("idempotency_outcome_unknown");
      expect(error.message).toMatch(/outcome is not known.*send a new key/i);
    }
    expect(posts()).toBe(1);
    expect((await usageOn(NOON))["key:backend"]).toEqual({ microUsd: 400_000, count: 1 });

    // Once the route's job timeout has passed, the key may start a job again; the first
    // attempt's money stays counted for its day.
    h.clock.ms = NOON + JOB_TIMEOUT_SECONDS * 1000;
    expect((await create("order-42")).status).toBe(200);
    expect(posts()).toBe(2);
    expect((await usageOn(NOON))["key:backend"]).toEqual({ microUsd: 800_000, count: 2 });
  });

  it("frees the key at once after a definite refusal (a 503), so a retry goes through", async () => {
    const { fake, create } = setup();
    fake.failNext(503, { method: "POST", path: "/videos" });
    expect((await create("order-43")).status).toBe(503);
    expect((await create("order-43")).status).toBe(200);
    expect((await usageOn(NOON))["key:backend"]).toEqual({ microUsd: 400_000, count: 1 });
  });
});
