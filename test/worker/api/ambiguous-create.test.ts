/**
 * An ambiguous answer to a create keeps the money reserved. A relay that forwards the job and
 * then answers 500 may have started (and will bill) it; refunding would let a client push a
 * server key past its cap by repeating creates that "failed". Only answers that promise nothing
 * started — 503, 429, 4xx refusals — give the money back.
 */
import { describe, expect, it } from "vitest";
import { RELAY_PROVIDER } from "../../fixtures/routes";
import { FakeOpenAI } from "../../helpers/fake-openai";
import { harness, SIM_ROUTE, todayUtcAt } from "../../helpers/harness";
import { usageOn, withoutBrakes } from "../../helpers/ledger";
import { createForm, post } from "../../helpers/requests";

const API_KEY = "sk-test-FAKEKEY-ambiguous-0123456789abcdefgh";
const NOON = todayUtcAt(12);
/** $0.10 a second: a 4 s video reserves $0.40. */
const RELAY = {
  ...SIM_ROUTE,
  id: "relay",
  provider: RELAY_PROVIDER,
  upstream_model: "sora-2",
  price_per_second_usd: 0.1,
};

function setup() {
  const fake = new FakeOpenAI({ apiKey: API_KEY });
  const h = harness({
    clock: { ms: NOON },
    routes: [RELAY],
    fetch: fake.fetch,
    vars: { RELAY_KEY: API_KEY, SPEND_CAP_SERVER_KEY_USD_PER_DAY: "1" },
  });
  withoutBrakes(h);
  const create = () => h.server("/v1/videos", post(createForm({ model: "relay" })));
  return { fake, h, create };
}

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
});
