/**
 * The SpendLedger Durable Object on its own, through its RPC methods: caps per scope, exact
 * decisions under concurrency, the reservation lifecycle, and Idempotency-Keys.
 */
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { installBackgroundDeps } from "../../../worker/background/deps";
import type { SpendLedger } from "../../../worker/ledger/ledger";
import { nextUtcMidnight } from "../../../worker/ledger/sql";
import type { ReserveInput } from "../../../worker/ledger/schema";
import { todayUtcAt } from "../../helpers/harness";
import { ledger, usageOn } from "../../helpers/ledger";

// Noon of the real day: the ledger is a real Durable Object, so its clock starts at today.
const NOW = todayUtcAt(12);
const MIDNIGHT = nextUtcMidnight(NOW);
const HOUR = 3_600_000;
const USD = 1_000_000;

let keys = 0;
function reserve(overrides: Partial<ReserveInput> = {}) {
  return ledger().reserve({
    key: `video_${++keys}`,
    scopes: { site: "shop", visitor: "site:shop:v1" },
    amountMicroUsd: 400_000,
    now: NOW,
    caps: {},
    ...overrides,
  });
}

async function reserved(overrides: Partial<ReserveInput> = {}): Promise<string> {
  const result = await reserve(overrides);
  if (!result.ok || !("reservationId" in result)) throw new Error(JSON.stringify(result));
  return result.reservationId;
}

describe("SpendLedger caps", () => {
  it("counts each reservation against the deployment and every scope of the caller", async () => {
    await reserved();
    await reserved({ scopes: { serverKey: "backend" }, amountMicroUsd: 800_000 });
    expect(await usageOn(NOW)).toEqual({
      global: { microUsd: 1_200_000, count: 2 },
      "site:shop": { microUsd: 400_000, count: 1 },
      "visitor:site:shop:v1": { microUsd: 400_000, count: 1 },
      "key:backend": { microUsd: 800_000, count: 1 },
    });
  });

  it.each([
    ["global", { global: { microUsd: 1 * USD } }, { site: "blog", visitor: "site:blog:v9" }],
    ["site", { site: { microUsd: 1 * USD } }, { site: "shop", visitor: "site:shop:v9" }],
    ["visitor", { visitor: { microUsd: 1 * USD } }, { site: "shop", visitor: "site:shop:v1" }],
    ["serverKey", { serverKey: { microUsd: 1 * USD } }, { serverKey: "backend" }],
  ] as const)(
    "refuses the %s reservation that would pass its money cap, until the next UTC midnight",
    async (scope, caps, scopes) => {
      await reserved({ caps, scopes });
      await reserved({ caps, scopes });
      expect(await reserve({ caps, scopes })).toEqual({
        ok: false,
        reason: "budget_exceeded",
        scope,
        limit: "money",
        cap: 1 * USD,
        resetsAt: MIDNIGHT,
      });
      // A caller outside the scope is not affected (except by the global cap).
      if (scope !== "global") {
        const other = scope === "serverKey" ? { serverKey: "partner" } : { site: "blog" };
        expect((await reserve({ caps, scopes: other })).ok).toBe(true);
      }
      expect((await reserve({ caps, scopes, now: MIDNIGHT })).ok).toBe(true);
    },
  );

  it("allows exactly the cap: a reservation that lands on it passes", async () => {
    const caps = { site: { microUsd: 800_000 } };
    await reserved({ caps });
    await reserved({ caps });
    expect(await reserve({ caps, amountMicroUsd: 1 })).toMatchObject({ ok: false, scope: "site" });
  });

  it("refuses the video after a count cap, free or paid", async () => {
    const caps = { visitor: { count: 2 } };
    await reserved({ caps, amountMicroUsd: 0 });
    await reserved({ caps });
    expect(await reserve({ caps, amountMicroUsd: 0 })).toMatchObject({
      ok: false,
      scope: "visitor",
      limit: "count",
      cap: 2,
      resetsAt: MIDNIGHT,
    });
  });

  it("lets free reservations through money caps of 0 and the kill switch", async () => {
    const caps = { killSwitch: true, global: { microUsd: 0 }, site: { microUsd: 0 } };
    expect((await reserve({ caps, amountMicroUsd: 0 })).ok).toBe(true);
    expect(await reserve({ caps, amountMicroUsd: 1 })).toEqual({
      ok: false,
      reason: "budget_exceeded",
      scope: "kill_switch",
      limit: "money",
      cap: 0,
      resetsAt: null,
    });
    expect(await reserve({ caps: { global: { microUsd: 0 } } })).toMatchObject({
      ok: false,
      scope: "global",
    });
  });

  it("never overshoots a cap when 30 reservations race for it", async () => {
    const caps = { global: { microUsd: 7 * 400_000 + 399_999 } };
    const results = await Promise.all(Array.from({ length: 30 }, () => reserve({ caps })));
    expect(results.filter((r) => r.ok)).toHaveLength(7);
    expect(results.filter((r) => !r.ok && r.reason === "budget_exceeded")).toHaveLength(23);
    const { global } = await usageOn(NOW);
    expect(global).toEqual({ microUsd: 7 * 400_000, count: 7 });
    expect(global!.microUsd).toBeLessThanOrEqual(caps.global.microUsd);
  });

  it("reserves a key once, however often it is sent", async () => {
    const first = await reserved({ key: "video_same" });
    expect(await reserved({ key: "video_same" })).toBe(first);
    expect((await usageOn(NOW)).global).toEqual({ microUsd: 400_000, count: 1 });
  });
});

describe("SpendLedger reservations", () => {
  it("settles a reservation once and keeps its money spent", async () => {
    const id = await reserved();
    expect(await ledger().settle(id)).toBe(true);
    expect(await ledger().settle(id)).toBe(false);
    expect(await ledger().refund(id)).toBe(false);
    expect(await ledger().reservation(id)).toMatchObject({ state: "settled" });
    expect((await usageOn(NOW)).global).toEqual({ microUsd: 400_000, count: 1 });
  });

  it("refunds money and the video to every scope once", async () => {
    const id = await reserved();
    await reserved();
    expect(await ledger().refund(id)).toBe(true);
    expect(await ledger().refund(id)).toBe(false);
    expect(await ledger().settle(id)).toBe(false);
    const usage = await usageOn(NOW);
    expect(usage.global).toEqual({ microUsd: 400_000, count: 1 });
    expect(usage["site:shop"]).toEqual({ microUsd: 400_000, count: 1 });
    expect(usage["visitor:site:shop:v1"]).toEqual({ microUsd: 400_000, count: 1 });
  });

  it("refunds to the day of the reservation, not the day of the refund", async () => {
    const yesterday = await reserved();
    await reserved({ now: MIDNIGHT + HOUR });
    await ledger().refund(yesterday);
    expect((await usageOn(NOW)).global).toEqual({ microUsd: 0, count: 0 });
    expect((await usageOn(MIDNIGHT)).global).toEqual({ microUsd: 400_000, count: 1 });
  });

  it("records the job a reservation paid for", async () => {
    const id = await reserved();
    expect(await ledger().attach(id, "video_abc")).toBe(true);
    expect(await ledger().reservation(id)).toEqual({
      state: "reserved",
      amountMicroUsd: 400_000,
      videoId: "video_abc",
    });
  });

  it("refuses malformed input instead of guessing", async () => {
    // Inside the object: a rejected RPC leaks an unhandled rejection in the test pool
    // (cloudflare/workers-sdk#14736), though callers see it as a normal rejection.
    await runInDurableObject(ledger(), (instance: SpendLedger) => {
      const input = { key: "k", scopes: {}, now: NOW, caps: {} };
      expect(() => instance.reserve({ ...input, amountMicroUsd: -1 })).toThrow(/>=0/);
      expect(() => instance.reserve({ ...input, amountMicroUsd: 0.5 })).toThrow(/int/);
      expect(() => instance.reserve({ ...input, amountMicroUsd: 1, extra: 1 } as never)).toThrow();
      expect(() => instance.settle("not-a-reservation")).toThrow();
    });
  });
});

describe("SpendLedger Idempotency-Keys", () => {
  const key = (bodyHash = "hash-a", owner = "key:backend") => ({ owner, key: "k-1", bodyHash });

  it("answers pending while the first request runs, then replays its job", async () => {
    const id = await reserved({ idempotency: key() });
    expect(await reserve({ idempotency: key() })).toEqual({ ok: true, pending: true });
    await ledger().attach(id, "video_first");
    expect(await reserve({ idempotency: key() })).toEqual({
      ok: true,
      reservationId: id,
      replay: { videoId: "video_first" },
    });
    expect((await usageOn(NOW)).global).toEqual({ microUsd: 400_000, count: 1 });
  });

  it("refuses the key with another body, and keeps keys of different callers apart", async () => {
    await reserved({ idempotency: key() });
    expect(await reserve({ idempotency: key("hash-b") })).toEqual({
      ok: false,
      reason: "idempotency_conflict",
    });
    expect((await reserve({ idempotency: key("hash-b", "key:partner") })).ok).toBe(true);
  });

  it("checks the key before the caps: a replay is free even at the cap", async () => {
    const caps = { global: { microUsd: 400_000 } };
    const id = await reserved({ caps, idempotency: key() });
    await ledger().attach(id, "video_first");
    expect(await reserve({ caps, idempotency: key() })).toMatchObject({ replay: {} });
  });

  it("frees the key on a refund (no job was made) but not after the job exists", async () => {
    const id = await reserved({ idempotency: key() });
    await ledger().refund(id);
    const second = await reserved({ idempotency: key("hash-b") });
    await ledger().attach(second, "video_second");
    await ledger().refund(second); // e.g. the job later failed on policy grounds
    expect(await reserve({ idempotency: key("hash-b") })).toMatchObject({
      replay: { videoId: "video_second" },
    });
  });

  it("frees the key but keeps the money on release (the outcome upstream is unknown)", async () => {
    const id = await reserved({ idempotency: key() });
    expect(await ledger().release(id)).toBe(true);
    expect((await reserve({ idempotency: key() })).ok).toBe(true);
    expect(await ledger().reservation(id)).toMatchObject({ state: "reserved" });
    expect((await usageOn(NOW)).global!.count).toBe(2);
  });

  it("holds the key and the money of an ambiguous create until the hold ends", async () => {
    const id = await reserved({ idempotency: key() });
    expect(await ledger().hold(id, NOW + HOUR, NOW)).toBe(true);
    // Past the 10-minute pending lease, the key is still held: the job may be running.
    for (const at of [NOW + 11 * 60_000, NOW + HOUR - 1]) {
      expect(await reserve({ idempotency: key(), now: at })).toEqual({
        ok: true,
        pending: true,
        heldUntil: NOW + HOUR,
      });
    }
    // A different body under the key is still a conflict, not a new job.
    expect(await reserve({ idempotency: key("hash-b"), now: NOW + 30 * 60_000 })).toMatchObject({
      reason: "idempotency_conflict",
    });
    // Once the hold ends the key is free again; the first reservation is settled as spent.
    expect((await reserve({ idempotency: key(), now: NOW + HOUR })).ok).toBe(true);
    expect(await ledger().reservation(id)).toMatchObject({ state: "settled" });
    expect((await usageOn(NOW)).global).toMatchObject({ count: 2 });
  });

  it("settles a lapsed hold with nobody asking, by its alarm, and never refunds it", async () => {
    const held = await reserved(); // no Idempotency-Key: only the money is held
    const open = await reserved({ idempotency: key() });
    expect(await ledger().hold(held, NOW + HOUR, NOW)).toBe(false);
    try {
      installBackgroundDeps({ fetch, now: () => NOW + HOUR - 1 });
      expect(await runDurableObjectAlarm(ledger())).toBe(true);
      expect(await ledger().reservation(held)).toMatchObject({ state: "reserved" });
      installBackgroundDeps({ fetch, now: () => NOW + HOUR });
      expect(await runDurableObjectAlarm(ledger())).toBe(true); // it waited for the next one
      expect(await ledger().reservation(held)).toMatchObject({ state: "settled" });
      expect(await ledger().reservation(open)).toMatchObject({ state: "reserved" });
      expect(await runDurableObjectAlarm(ledger())).toBe(false); // nothing left to wait for
    } finally {
      installBackgroundDeps(null);
    }
    expect((await usageOn(NOW)).global).toMatchObject({ count: 2, microUsd: 800_000 });
  });

  it("does not hold a key whose job is known", async () => {
    const id = await reserved({ idempotency: key() });
    await ledger().attach(id, "video_known");
    expect(await ledger().hold(id, NOW + HOUR, NOW)).toBe(false);
    expect(await reserve({ idempotency: key() })).toMatchObject({
      replay: { videoId: "video_known" },
    });
  });

  it("forgets a pending key after 10 minutes and any key after 24 hours", async () => {
    await reserved({ idempotency: key() });
    expect(await reserve({ idempotency: key(), now: NOW + 9 * 60_000 })).toEqual({
      ok: true,
      pending: true,
    });
    const retaken = await reserved({ idempotency: key(), now: NOW + 10 * 60_000 });
    await ledger().attach(retaken, "video_late");
    expect(await reserve({ idempotency: key("hash-b"), now: NOW + 23 * HOUR })).toMatchObject({
      reason: "idempotency_conflict",
    });
    expect((await reserve({ idempotency: key("hash-b"), now: NOW + 25 * HOUR })).ok).toBe(true);
  });
});

describe("webhook deliveries", () => {
  it("claims a delivery once per route, atomically, and forgets it after the window", async () => {
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => ledger().claimDelivery("veo-replicate", "msg_1", NOW)),
    );
    expect(claims.filter(Boolean)).toHaveLength(1);
    // The same id on another route is another delivery.
    expect(await ledger().claimDelivery("veo-replicate-eu", "msg_1", NOW)).toBe(true);
    expect(await ledger().claimDelivery("veo-replicate", "msg_1", NOW + 9 * 60_000)).toBe(false);
    expect(await ledger().claimDelivery("veo-replicate", "msg_1", NOW + 10 * 60_000)).toBe(true);
  });

  it("gives a claim back, so the provider's retry is acted on", async () => {
    expect(await ledger().claimDelivery("veo", "op_1", NOW)).toBe(true);
    expect(await ledger().releaseDelivery("veo", "op_1")).toBe(true);
    expect(await ledger().claimDelivery("veo", "op_1", NOW + 1_000)).toBe(true);
  });

  it("refuses input that is not a route and a delivery id", async () => {
    // Inside the object, as above (cloudflare/workers-sdk#14736).
    await runInDurableObject(ledger(), (instance: SpendLedger) => {
      expect(() => instance.claimDelivery("", "x", NOW)).toThrow();
      expect(() => instance.claimDelivery("veo", "x".repeat(301), NOW)).toThrow();
      expect(() => instance.claimDelivery("veo", "x", -1)).toThrow();
    });
  });
});
