import { describe, expect, it, vi } from "vitest";
import { configFor, parseConfig, ConfigError } from "../../../worker/config";
import { harness, SERVER_KEY, SIM_ROUTE } from "../../helpers/harness";

const base = { MODEL_ROUTES: JSON.stringify([SIM_ROUTE]), SITES: "[]" };
const TEST_SECRET = "a-test-run-sets-its-own-secret";
const parse = (vars: Record<string, string | undefined>) => () =>
  parseConfig(vars as unknown as Env);

describe("configuration", () => {
  it("offers extend and edit only where the route's provider block can do them", () => {
    const runway = {
      ...SIM_ROUTE,
      id: "runway",
      provider: { type: "runway" },
      upstream_model: "gen4.5",
      edit: { max_source_seconds: 5 },
    };
    const vars = {
      ...base,
      ENVIRONMENT: "test",
      SESSION_SECRET: TEST_SECRET,
      RUNWAYML_API_SECRET: "key_test",
    };
    expect(parse({ ...vars, MODEL_ROUTES: JSON.stringify([runway]) })).toThrow(
      "MODEL_ROUTES[0].edit: the runway provider block cannot edit videos",
    );
    const aleph = { ...runway, provider: { type: "runway", edit_model: "gen4_aleph" } };
    expect(parse({ ...vars, MODEL_ROUTES: JSON.stringify([aleph]) })).not.toThrow();
    const extending = { ...aleph, extend: { seconds: ["5"], max_total_seconds: 10 } };
    expect(parse({ ...vars, MODEL_ROUTES: JSON.stringify([extending]) })).toThrow(
      "MODEL_ROUTES[0].extend: the runway provider block cannot extend videos",
    );
  });

  it("names the offending field of a bad route", () => {
    const routes = [{ ...SIM_ROUTE, default_size: "999x999" }];
    expect(parse({ ...base, ENVIRONMENT: "test", MODEL_ROUTES: JSON.stringify(routes) })).toThrow(
      "MODEL_ROUTES[0].default_size: must be one of sizes",
    );
    expect(parse({ ...base, ENVIRONMENT: "test", MODEL_ROUTES: "[{" })).toThrow(
      "MODEL_ROUTES: not valid JSON",
    );
    const typo = [{ ...SIM_ROUTE, pricee: 1 }];
    expect(parse({ ...base, ENVIRONMENT: "test", MODEL_ROUTES: JSON.stringify(typo) })).toThrow(
      /MODEL_ROUTES\[0\]/,
    );
  });

  it("refuses to run in production without real secrets", () => {
    expect(parse({ ...base, ENVIRONMENT: "production" })).toThrow(/SESSION_SECRET/);
    const secret = "Zq8!rT2#mW9vL4$kX7pN3&hB6yC1uF5j";
    expect(
      parse({
        ...base,
        ENVIRONMENT: "production",
        SESSION_SECRET: secret,
        SERVER_KEYS: '{"dev":"sk_dev_local"}',
      }),
    ).toThrow(/SERVER_KEYS entry 1/);
    const devSite = JSON.stringify([
      { id: "dev", publishable_key: "pk_dev_local", origins: ["http://localhost:8787"] },
    ]);
    expect(
      parse({ ...base, ENVIRONMENT: "production", SESSION_SECRET: secret, SITES: devSite }),
    ).toThrow(/pk_dev_local/);
    const ok = parseConfig({
      ...base,
      ENVIRONMENT: "production",
      SESSION_SECRET: secret,
    } as unknown as Env);
    expect(ok.serverKeys).toEqual([]);
    expect(ok.sites).toEqual([]);
  });

  describe("refuses unsafe production settings, naming the setting and never a value", () => {
    const secret = "Zq8!rT2#mW9vL4$kX7pN3&hB6yC1uF5j";
    const key = "sk_live_Hq8Zr2Lm5Nv9Tb3Xc7Wd1Ke6";
    const prod = (vars: Record<string, string>) =>
      parse({ ...base, ENVIRONMENT: "production", SESSION_SECRET: secret, ...vars });
    const site = (patch: object = {}) => ({
      id: "shop",
      publishable_key: "pk_live_shop0001",
      origins: ["https://shop.example"],
      ...patch,
    });
    it.each([
      ["a repeated character", "a".repeat(32)],
      ["a word typed again and again", "abcd1234".repeat(4)],
      ["too short", "Zq8!rT2#mW9vL4$k"],
    ])("a session secret that is %s", (_, weak) => {
      expect(prod({ SESSION_SECRET: weak })).toThrow(/^SESSION_SECRET: /);
      expect(prod({ SESSION_SECRET: weak })).not.toThrow(weak);
    });
    it("a server key equal to the session secret, or to another server key", () => {
      expect(prod({ SERVER_KEYS: JSON.stringify({ backend: secret }) })).toThrow(
        "SERVER_KEYS entry 1: the key must not be the same as SESSION_SECRET",
      );
      expect(prod({ SERVER_KEYS: JSON.stringify({ a: key, b: key }) })).toThrow(
        "SERVER_KEYS entry 2: the same key as SERVER_KEYS entry 1",
      );
      expect(prod({ SERVER_KEYS: JSON.stringify({ a: "k".repeat(30) }) })).toThrow(
        /^SERVER_KEYS entry 1: use a random key/,
      );
    });
    it("name and key swapped in SERVER_KEYS", () => {
      const swapped = { [key]: "backend" };
      for (const environment of ["production", "test"]) {
        const run = parse({
          ...base,
          ENVIRONMENT: environment,
          SESSION_SECRET: secret,
          SERVER_KEYS: JSON.stringify(swapped),
        });
        expect(run).toThrow(/^SERVER_KEYS entry 1: the name must be/);
        expect(run).not.toThrow(/Hq8Zr2|sk_live/);
      }
      // A lowercase key that passes as a name is still not shown: its "key" is too short.
      const lower = { sk_live_hq8zr2lm5nv9tb3xc7wd1ke6: "backend" };
      const run = prod({ SERVER_KEYS: JSON.stringify(lower) });
      expect(run).toThrow(
        "SERVER_KEYS entry 1: the key must be a string of at least 12 characters",
      );
    });
    it("duplicate site ids or publishable keys, in any environment", () => {
      const twoIds = JSON.stringify([site(), site({ publishable_key: "pk_live_shop0002" })]);
      expect(prod({ SITES: twoIds })).toThrow("SITES[1].id: the same id as SITES[0]");
      const twoKeys = JSON.stringify([site(), site({ id: "blog" })]);
      expect(prod({ SITES: twoKeys })).toThrow(
        "SITES[1].publishable_key: the same key as SITES[0]",
      );
      expect(parse({ ...base, ENVIRONMENT: "test", SITES: twoKeys })).toThrow(/publishable_key/);
    });
    it.each(["http://localhost:8787", "http://127.0.0.1:3000", "http://shop.example"])(
      "an origin that is not https (%s)",
      (origin) => {
        expect(prod({ SITES: JSON.stringify([site({ origins: [origin] })]) })).toThrow(
          "SITES[0].origins[0]: a production page must be served over https",
        );
      },
    );
  });

  it("warns at startup in production when a paid route is open to sites without Turnstile", () => {
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    const site = {
      id: "shop",
      publishable_key: "pk_live_shop0001",
      origins: ["https://shop.example"],
    };
    const env = (price: number) =>
      ({
        ENVIRONMENT: "production",
        SESSION_SECRET: "Zq8!rT2#mW9vL4$kX7pN3&hB6yC1uF5j",
        MODEL_ROUTES: JSON.stringify([{ ...SIM_ROUTE, price_per_second_usd: price }]),
        SITES: JSON.stringify([site]),
      }) as unknown as Env;
    configFor(env(0)); // free: nothing to warn of
    expect(lines).toEqual([]);
    const paid = env(0.1);
    configFor(paid);
    configFor(paid); // once per isolate, not per request
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({
      level: "warn",
      event: "paid_routes_without_bot_check",
      sites: ["shop"],
    });
    vi.restoreAllMocks();
  });

  it("gives no dev credentials to ENVIRONMENT=test", () => {
    const config = parseConfig({
      ...base,
      ENVIRONMENT: "test",
      SESSION_SECRET: TEST_SECRET,
    } as unknown as Env);
    expect(config.serverKeys).toEqual([]);
    expect(config.sites).toEqual([]);
    expect(config.sessionSecret).toBe(TEST_SECRET);
    expect(config.devCredentials).toBe(false);
  });

  it("refuses a missing SESSION_SECRET in every environment without a default", () => {
    for (const ENVIRONMENT of ["test", "production"]) {
      for (const SESSION_SECRET of [undefined, ""]) {
        expect(() =>
          parseConfig({ ...base, ENVIRONMENT, SESSION_SECRET } as unknown as Env),
        ).toThrow(/^SESSION_SECRET: /);
      }
    }
  });

  it("serves ENVIRONMENT=test only on loopback and .test hosts", async () => {
    const h = harness(); // ENVIRONMENT=test, weak test secrets production would refuse
    expect((await h.server("/v1/videos")).status).toBe(200); // https://api.stillmotion.test
    for (const url of ["https://stillmotion.example.workers.dev", "https://video.shop.example"]) {
      const deployed = await h.app.fetch(
        new Request(`${url}/v1/videos`, { headers: { authorization: `Bearer ${SERVER_KEY}` } }),
        h.env,
      );
      expect(deployed.status).toBe(500);
      const body = (await deployed.json()) as { error: { message: string } };
      expect(body.error.message).toContain("ENVIRONMENT: test serves only localhost");
      expect(body.error.message).not.toContain(SERVER_KEY);
    }
    const healthz = await h.app.fetch(new Request("https://a.workers.dev/healthz"), h.env);
    expect(healthz.status).toBe(500);
    const local = await h.app.fetch(
      new Request("http://127.0.0.1:8787/v1/videos", {
        headers: { authorization: `Bearer ${SERVER_KEY}` },
      }),
      h.env,
    );
    expect(local.status).toBe(200);
  });

  it("serves development's dev credentials only on a loopback host", async () => {
    const h = harness({
      vars: {
        ENVIRONMENT: "development",
        SESSION_SECRET: undefined as never,
        SERVER_KEYS: undefined as never,
        SITES: "[]",
      },
    });
    // The harness calls https://api.stillmotion.test: a deployment, as far as the worker knows.
    const deployed = await h.as("sk_dev_local", "/v1/videos");
    expect(deployed.status).toBe(500);
    const text = await deployed.text();
    expect(text).toContain("ENVIRONMENT: development serves only localhost");
    const local = await h.app.fetch(
      new Request("http://localhost:8787/v1/videos", {
        headers: { authorization: "Bearer sk_dev_local" },
      }),
      h.env,
    );
    expect(local.status).toBe(200);
    // A LAN client naming localhost in its Host header is still not this machine.
    const lan = await h.app.fetch(
      new Request("http://localhost:8787/v1/videos", {
        headers: { authorization: "Bearer sk_dev_local", "cf-connecting-ip": "192.168.1.23" },
      }),
      h.env,
    );
    expect(lan.status).toBe(500);
  });

  it("gives development the documented dev credentials", () => {
    const config = parseConfig({ ...base, ENVIRONMENT: "development" } as unknown as Env);
    expect(config.serverKeys).toEqual([{ name: "dev", key: "sk_dev_local" }]);
    expect(config.sites[0]).toMatchObject({
      publishable_key: "pk_dev_local",
      origins: ["http://localhost:8787", "http://127.0.0.1:8787"],
    });
  });

  it("requires the secret an openai route names", () => {
    const route = {
      ...SIM_ROUTE,
      id: "relay",
      provider: {
        type: "openai",
        base_url: "https://relay.example/v1",
        api_key_secret: "RELAY_KEY",
      },
    };
    expect(parse({ ...base, ENVIRONMENT: "test", MODEL_ROUTES: JSON.stringify([route]) })).toThrow(
      "MODEL_ROUTES[0].provider.api_key_secret: the secret RELAY_KEY is not set",
    );
    expect(() =>
      parseConfig({
        ...base,
        ENVIRONMENT: "test",
        MODEL_ROUTES: JSON.stringify([route]),
        RELAY_KEY: "k",
        SESSION_SECRET: TEST_SECRET,
      } as unknown as Env),
    ).not.toThrow();
  });

  it("fails every request with a 500 naming the field when misconfigured", async () => {
    const h = harness({ vars: { MODEL_ROUTES: JSON.stringify([{ ...SIM_ROUTE, seconds: [] }]) } });
    const response = await h.call("/v1/models");
    expect(response.status).toBe(500);
    const { error } = (await response.json()) as { error: { message: string; code: string } };
    expect(error.code).toBe("misconfigured");
    expect(error.message).toContain("MODEL_ROUTES[0].seconds");
    expect(ConfigError).toBeDefined();
  });
});
