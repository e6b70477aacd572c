/**
 * Visitor identities end: an absolute lifetime however often they renew, renewal only shortly
 * after expiry, one renewal per token (the old token is retired), revocation by the visitor or
 * the owner's backend, and no visitor token without a page Origin. Tokens have one spelling.
 */
import { describe, expect, it } from "vitest";
import { harness, ORIGIN, SERVER_KEY, SITES, type Harness } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

const shop = SITES[0]!;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

type Session = { token: string; visitor_id: string; expires_at: number };

/** POST /v1/sessions for the shop, renewing `previous` when given. */
async function session(h: Harness, previous?: string): Promise<Session> {
  const response = await h.call("/v1/sessions", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      origin: shop.origins[0]!,
      ...(previous ? { authorization: `Bearer ${previous}` } : {}),
    },
    body: JSON.stringify({ site_key: shop.publishable_key }),
  });
  expect(response.status).toBe(200);
  return (await response.json()) as Session;
}

const list = (h: Harness, token: string) => h.asVisitor(token, "/v1/videos");
const codeOf = async (response: Response) =>
  ((await response.json()) as { error: { code: string } }).error.code;

describe("visitor identities", () => {
  it("end after VISITOR_MAX_AGE_SECONDS, however often they renew", async () => {
    const h = harness({ vars: { VISITOR_MAX_AGE_SECONDS: "7200" } }); // 2 h, tokens 1 h
    const first = await session(h);
    const start = Math.floor(h.clock.ms / 1000);
    h.advance(HOUR - 60_000);
    const second = await session(h, first.token);
    expect(second.visitor_id).toBe(first.visitor_id);
    h.advance(HOUR - 60_000);
    const third = await session(h, second.token);
    expect(third.visitor_id).toBe(first.visitor_id);
    // A renewal cannot stretch the identity: this token ends with it.
    expect(third.expires_at).toBe(start + 7200);
    h.advance(2 * 60_000 + 1000);
    expect((await list(h, third.token)).status).toBe(401);
    expect((await session(h, third.token)).visitor_id).not.toBe(first.visitor_id);
  });

  it("renew only within SESSION_RENEWAL_GRACE_SECONDS of expiry (a day by default)", async () => {
    const h = harness();
    const first = await session(h);
    h.advance(HOUR + DAY - 60_000); // expired 23 h 59 min ago
    expect((await session(h, first.token)).visitor_id).toBe(first.visitor_id);

    const other = await session(h);
    h.advance(HOUR + 29.5 * DAY); // the review's case: expired 29.5 days ago
    expect((await session(h, other.token)).visitor_id).not.toBe(other.visitor_id);
  });

  it("retire the token a renewal replaced; two tabs renewing together both keep the id", async () => {
    const h = harness();
    const first = await session(h);
    h.advance(50 * 60_000);
    const renewed = await session(h, first.token);
    // A second tab renewing the same token a moment later gets the same visitor, not a new one.
    const tab = await session(h, first.token);
    expect(tab.visitor_id).toBe(first.visitor_id);
    expect((await list(h, renewed.token)).status).toBe(200);
    expect((await list(h, tab.token)).status).toBe(200);

    h.advance(61_000); // past the hand-over minute: the old token is retired, though unexpired
    const old = await list(h, first.token);
    expect(old.status).toBe(401);
    expect(await codeOf(old)).toBe("session_revoked");
    expect((await list(h, renewed.token)).status).toBe(200);
    // Renewing the retired token now is a replay (its owner or a thief renewed before): the
    // identity ends for everyone holding it, so a thief who renewed first keeps nothing.
    expect((await session(h, first.token)).visitor_id).not.toBe(first.visitor_id);
    expect((await list(h, renewed.token)).status).toBe(401);
    expect((await session(h, renewed.token)).visitor_id).not.toBe(first.visitor_id);
  });

  it("can be revoked by the visitor (sign out): no token of it works or renews", async () => {
    const h = harness();
    const visitor = await session(h);
    const job = await h.asVisitor(visitor.token, "/v1/videos", post(createForm()));
    expect(job.status).toBe(200);
    const out = await h.asVisitor(visitor.token, "/v1/sessions", { method: "DELETE" });
    expect(await out.json()).toEqual({
      object: "session.revoked",
      visitor_id: visitor.visitor_id,
      revoked: true,
    });
    const after = await list(h, visitor.token);
    expect(after.status).toBe(401);
    expect(await codeOf(after)).toBe("session_revoked");
    expect((await session(h, visitor.token)).visitor_id).not.toBe(visitor.visitor_id);
    // A server key has no session of its own to end.
    expect((await h.server("/v1/sessions", { method: "DELETE" })).status).toBe(403);
  });

  it("can be revoked by the owner's backend, and only with a server key", async () => {
    const h = harness();
    const visitor = await session(h);
    const path = `/v1/sites/shop/visitors/${visitor.visitor_id}`;
    const byVisitor = await h.asVisitor(visitor.token, path, { method: "DELETE" });
    expect(byVisitor.status).toBe(403);
    expect((await list(h, visitor.token)).status).toBe(200);

    expect((await h.server(path, { method: "DELETE" })).status).toBe(200);
    expect((await list(h, visitor.token)).status).toBe(401);
    // Another site's visitor of that id, an unknown visitor, an unknown site, a malformed id.
    const blog = `/v1/sites/blog/visitors/${visitor.visitor_id}`;
    expect((await h.server(blog, { method: "DELETE" })).status).toBe(404);
    const unknown = "/v1/sites/shop/visitors/vis_00000000000000000000000000";
    expect((await h.server(unknown, { method: "DELETE" })).status).toBe(404);
    const site = `/v1/sites/nope/visitors/${visitor.visitor_id}`;
    expect((await h.server(site, { method: "DELETE" })).status).toBe(404);
    const bad = await h.server("/v1/sites/shop/visitors/..%2Fx", { method: "DELETE" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("visitor_id");
  });
});

describe("visitor tokens and the page Origin", () => {
  it("are refused without an Origin; a same-origin page of the site may omit it", async () => {
    const own = { id: "own", publishable_key: "pk_test_own_0003", origins: [ORIGIN] };
    const h = harness({ vars: { SITES: JSON.stringify([...SITES, own]) } });
    const { token } = await session(h);
    const bare = await h.as(token, "/v1/videos");
    expect(bare.status).toBe(401);
    expect(await codeOf(bare)).toBe("origin_required");
    // Sec-Fetch-Site: same-origin stands for this worker's own origin, which the shop lacks.
    const sameOrigin = { headers: { "sec-fetch-site": "same-origin" } };
    expect((await h.as(token, "/v1/videos", sameOrigin)).status).toBe(401);
    const ownSession = await h.session(own.publishable_key, ORIGIN);
    expect((await h.as(ownSession.token, "/v1/videos", sameOrigin)).status).toBe(200);
    // A server key is not a browser's: no Origin needed.
    expect((await h.as(SERVER_KEY, "/v1/videos")).status).toBe(200);
  });
});

describe("token encoding", () => {
  /** The same signature bytes spelled differently: the last character's unused bits set. */
  function respell(token: string): string {
    const last = token.at(-1)!;
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const index = alphabet.indexOf(last);
    return token.slice(0, -1) + alphabet[(index & ~3) | ((index + 1) & 3)]!;
  }

  it("accepts only the canonical signature of a visitor or content token", async () => {
    const h = harness();
    const { token } = await session(h);
    expect((await list(h, token)).status).toBe(200);
    expect((await list(h, respell(token))).status).toBe(401);

    const job = (await (await h.server("/v1/videos", post(createForm()))).json()) as {
      id: string;
    };
    h.advance(15_000);
    const done = (await (await h.server(`/v1/videos/${job.id}`)).json()) as {
      content_urls: { video: string };
    };
    const url = new URL(done.content_urls.video);
    const signed = url.searchParams.get("token")!;
    expect((await h.call(`${url.pathname}${url.search}`)).status).toBe(200);
    url.searchParams.set("token", respell(signed));
    expect((await h.call(`${url.pathname}${url.search}`)).status).toBe(401);
  });
});
