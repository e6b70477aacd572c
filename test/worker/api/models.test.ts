import { describe, expect, it } from "vitest";
import { RELAY_ROUTE, SIM_DERIVE_ROUTE } from "../../fixtures/routes";
import { harness, SIM_ROUTE } from "../../helpers/harness";

describe("GET /v1/models", () => {
  it("lists the configured routes with their capabilities, labelled as simulated, without auth", async () => {
    const h = harness();
    const response = await h.call("/v1/models");
    expect(response.status).toBe(200);
    const body = (await response.json()) as { object: string; data: Record<string, unknown>[] };
    expect(body.object).toBe("list");
    expect(body.data).toEqual([
      {
        id: "sim",
        object: "model",
        created: 0,
        owned_by: "simulator",
        label: "Simulator",
        simulated: true,
        sizes: SIM_ROUTE.sizes,
        default_size: "1280x720",
        seconds: ["4", "8"],
        default_seconds: "4",
        input_image: "required",
        remix: true,
        extend: null,
        edit: null,
        audio: false,
        price_per_second_usd: 0,
        prompt_max_chars: 500,
      },
    ]);
    expect(JSON.stringify(body)).not.toContain("duration_ms");
  });
});

describe("extension and edit capabilities", () => {
  it("says per route whether it extends (with which seconds) and edits", async () => {
    const priced = {
      ...SIM_DERIVE_ROUTE,
      id: "sim-priced",
      price_per_second_usd: 0.1,
      edit: { max_source_seconds: 8, price_per_second_usd: 0.25 },
    };
    const h = harness({ routes: [SIM_DERIVE_ROUTE, SIM_ROUTE, priced] });
    const { data } = (await (await h.call("/v1/models")).json()) as {
      data: { id: string; extend: unknown; edit: unknown }[];
    };
    expect(data.map(({ id, extend, edit }) => ({ id, extend, edit }))).toEqual([
      {
        id: "sim-plus",
        extend: { seconds: ["4", "8"], max_total_seconds: 16, price_per_second_usd: 0 },
        edit: { max_source_seconds: 16, price_per_second_usd: 0 },
      },
      { id: "sim", extend: null, edit: null },
      // Each block's price resolved: the edit's own, the extension the route's.
      {
        id: "sim-priced",
        extend: { seconds: ["4", "8"], max_total_seconds: 16, price_per_second_usd: 0.1 },
        edit: { max_source_seconds: 8, price_per_second_usd: 0.25 },
      },
    ]);
  });

  it("refuses at startup a route offering what its provider cannot do, naming the field", async () => {
    const relay = { ...RELAY_ROUTE, edit: { max_source_seconds: 8 } };
    const h = harness({ routes: [relay], vars: { RELAY_KEY: "relay-key-0123456789" } });
    const response = await h.call("/v1/models");
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).toContain("MODEL_ROUTES[0].edit");
    expect(text).not.toContain("relay-key-0123456789");
  });
});

describe("GET /v1/models/{model}", () => {
  it("answers the same object as the list entry, and OpenAI's 404 for an unknown id", async () => {
    const h = harness();
    const list = (await (await h.call("/v1/models")).json()) as { data: unknown[] };
    const one = await h.call("/v1/models/sim");
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual(list.data[0]);
    for (const [path, quoted] of [
      ["/v1/models/sora-2", true],
      ["/v1/models/%3Cscript%3E", false],
    ] as const) {
      const missing = await h.call(path);
      expect(missing.status).toBe(404);
      const { error } = (await missing.json()) as {
        error: { code: string; param: string; type: string; message: string };
      };
      expect(error).toMatchObject({ code: "model_not_found", param: "model" });
      expect(error.message.includes("sora-2")).toBe(quoted);
      expect(error.message).not.toContain("<");
    }
  });
});

describe("GET /healthz and unknown paths", () => {
  it("reports healthy, and answers unknown paths with the error envelope", async () => {
    const h = harness();
    expect(await (await h.call("/healthz")).json()).toEqual({ ok: true });
    const missing = await h.call("/v1/nothing");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe(
      "unknown_endpoint",
    );
  });

  it("sets strict security headers and a request id on every response", async () => {
    const h = harness();
    const response = await h.call("/v1/models");
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
    expect(response.headers.get("strict-transport-security")).toContain("max-age");
    expect(response.headers.get("cross-origin-resource-policy")).toBe("same-origin");
    expect(response.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });
});
