import { describe, expect, it } from "vitest";
import { parseConfig, ConfigError } from "../../../worker/config";
import { harness, SIM_ROUTE } from "../../helpers/harness";

const base = { MODEL_ROUTES: JSON.stringify([SIM_ROUTE]), SITES: "[]" };
const parse = (vars: Record<string, string | undefined>) => () =>
  parseConfig(vars as unknown as Env);

describe("configuration", () => {
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
    const secret = "x".repeat(40);
    expect(
      parse({
        ...base,
        ENVIRONMENT: "production",
        SESSION_SECRET: secret,
        SERVER_KEYS: '{"dev":"sk_dev_local"}',
      }),
    ).toThrow(/SERVER_KEYS\.dev/);
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
