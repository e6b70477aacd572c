import { describe, expect, it } from "vitest";
import { harness, SITES } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

const shop = SITES[0]!;
const json = (body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json", origin: shop.origins[0]!, ...headers },
  body: JSON.stringify(body),
});

describe("POST /v1/sessions", () => {
  it("issues a short-lived visitor token to a page on an allowed origin", async () => {
    const h = harness();
    const response = await h.call("/v1/sessions", json({ site_key: shop.publishable_key }));
    expect(response.status).toBe(200);
    expect(response.headers.get("cache-control")).toBe("no-store");
    expect(response.headers.get("access-control-allow-origin")).toBe(shop.origins[0]);
    const session = (await response.json()) as {
      token: string;
      expires_at: number;
      visitor_id: string;
    };
    expect(session.visitor_id).toMatch(/^vis_[0-9a-z]{26}$/);
    expect(session.expires_at).toBe(Math.floor(h.clock.ms / 1000) + 3600);
    expect(session.token.split(".")).toHaveLength(3);
    const create = await h.as(session.token, "/v1/videos", {
      ...post(createForm()),
      headers: { origin: shop.origins[0]! },
    });
    expect(create.status).toBe(200);
  });

  it("refuses unknown keys, other origins and a missing Origin", async () => {
    const h = harness();
    const unknown = await h.call("/v1/sessions", json({ site_key: "pk_nope_00000000" }));
    expect(unknown.status).toBe(401);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe(
      "invalid_site_key",
    );
    const foreign = await h.call(
      "/v1/sessions",
      json({ site_key: shop.publishable_key }, { origin: "https://evil.example" }),
    );
    expect(foreign.status).toBe(403);
    expect(foreign.headers.get("access-control-allow-origin")).toBeNull();
    const other = await h.call(
      "/v1/sessions",
      json({ site_key: shop.publishable_key }, { origin: SITES[1]!.origins[0]! }),
    );
    expect(other.status).toBe(403);
    const bare = await h.call("/v1/sessions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ site_key: shop.publishable_key }),
    });
    expect(bare.status).toBe(403);
    const missing = await h.call("/v1/sessions", json({}));
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: { param: string } }).error.param).toBe("site_key");
  });

  it("keeps a returning visitor's id — and jobs — even after its token expired", async () => {
    const h = harness();
    const first = await h.session();
    const job = (await (
      await h.asVisitor(first.token, "/v1/videos", post(createForm()))
    ).json()) as {
      id: string;
    };
    h.advance(2 * 3600 * 1000);
    expect((await h.asVisitor(first.token, `/v1/videos/${job.id}`)).status).toBe(401);
    const renewed = await h.call(
      "/v1/sessions",
      json({ site_key: shop.publishable_key }, { authorization: `Bearer ${first.token}` }),
    );
    const second = (await renewed.json()) as { token: string; visitor_id: string };
    expect(second.visitor_id).toBe(first.visitor_id);
    expect((await h.asVisitor(second.token, `/v1/videos/${job.id}`)).status).toBe(200);
  });

  it("caps new visitors per network and per site each hour; returning visitors pass", async () => {
    const h = harness({
      vars: { NEW_VISITORS_PER_NETWORK_PER_HOUR: "3", NEW_VISITORS_PER_SITE_PER_HOUR: "5" },
    });
    h.clock.ms = Math.floor(h.clock.ms / 3_600_000) * 3_600_000 + 600_000; // hh:10
    const mint = (ip: string, headers: Record<string, string> = {}) =>
      h.call(
        "/v1/sessions",
        json({ site_key: shop.publishable_key }, { "cf-connecting-ip": ip, ...headers }),
      );
    const first = (await (await mint("2001:db8::1")).json()) as { token: string };
    expect((await mint("2001:db8::2")).status).toBe(200);
    expect((await mint("2001:db8:0:0:ffff::3")).status).toBe(200); // same /64
    const refused = await mint("2001:db8::4");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("3000"); // to the next clock hour
    const { error } = (await refused.json()) as { error: { code: string; message: string } };
    expect(error.code).toBe("too_many_new_visitors");
    expect(error.message).toMatch(/^Your network has started too many new visitor sessions/);
    // A returning visitor is not new: it renews from the capped network.
    const renewed = await mint("2001:db8::1", { authorization: `Bearer ${first.token}` });
    expect(renewed.status).toBe(200);
    // Other networks share the site's allowance: 3 + 2 = 5, then the site is full — for a
    // network that already had its fair share (2) this hour; the next one's first two pass, so
    // filling the bucket from many networks cannot lock out people who come one at a time.
    expect((await mint("198.51.100.1")).status).toBe(200);
    expect((await mint("198.51.100.1")).status).toBe(200);
    const site = await mint("198.51.100.1");
    expect(site.status).toBe(429);
    expect(((await site.json()) as { error: { message: string } }).error.message).toMatch(
      /^This site has started too many/,
    );
    expect((await mint("198.51.100.2")).status).toBe(200);
    // The other site is not affected, and the next hour starts afresh.
    expect((await h.session(SITES[1]!.publishable_key, SITES[1]!.origins[0]!)).token).toBeTruthy();
    h.advance(3_000_000);
    expect((await mint("2001:db8::4")).status).toBe(200);
  });

  it("does not let a token from another site carry its visitor over", async () => {
    const h = harness();
    const blog = await h.session(SITES[1]!.publishable_key, SITES[1]!.origins[0]!);
    const response = await h.call(
      "/v1/sessions",
      json({ site_key: shop.publishable_key }, { authorization: `Bearer ${blog.token}` }),
    );
    expect(((await response.json()) as { visitor_id: string }).visitor_id).not.toBe(
      blog.visitor_id,
    );
  });

  it("refuses a visitor token used from another site's page", async () => {
    const h = harness();
    const { token } = await h.session();
    const response = await h.as(token, "/v1/videos", {
      headers: { origin: SITES[1]!.origins[0]! },
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "origin_mismatch",
    );
  });

  it("answers CORS preflight only for configured origins", async () => {
    const h = harness();
    const preflight = (origin: string) =>
      h.call("/v1/videos", {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "POST",
          "access-control-request-headers": "authorization",
        },
      });
    const allowed = await preflight(shop.origins[0]!);
    expect(allowed.headers.get("access-control-allow-origin")).toBe(shop.origins[0]);
    expect(allowed.headers.get("access-control-allow-headers")).toContain("authorization");
    const denied = await preflight("https://evil.example");
    expect(denied.headers.get("access-control-allow-origin")).toBeNull();
  });
});
