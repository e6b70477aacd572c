/**
 * The event outbox end to end: `announce` stores, the outbox's alarm (fired by the test) signs
 * and delivers to a fake receiver routed in through the background deps, and failures are
 * retried on the Standard Webhooks schedule until it gives up. No real time is slept: waits are
 * read from storage and rows are made due directly.
 */
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, it } from "vitest";
import { installBackgroundDeps } from "../../../worker/background/deps";
import { parseConfig } from "../../../worker/config";
import { announce, type EventOwner, type VideoEvent } from "../../../worker/events/announce";
import { eventId } from "../../../worker/events/sign";
import { MAX_ATTEMPTS } from "../../../worker/events/schedule";
import { followingLikeTheRuntime } from "../../helpers/deployment";
import {
  alarmSet,
  captureLogs,
  endpoint,
  eventsEnv,
  fire,
  HOOK_SECRET,
  HOOK_URL,
  install,
  makeDue,
  OTHER_HOOK_SECRET,
  receiver,
  rows,
  status,
  video,
  type Answer,
} from "./outbox-kit";

const VISITOR: EventOwner = { site_id: "shop", visitor_id: "vis_0000000000000000000000abcd" };
const BACKEND: EventOwner = { server_key: "backend" };
const HOUR = 3_600_000;

afterEach(() => {
  installBackgroundDeps(null);
});

/** A deployment with `endpoints`, its outbox reaching only `answers`. */
function setup(endpoints: unknown[], ...answers: Answer[]) {
  const testEnv = eventsEnv(endpoints);
  const config = parseConfig(testEnv);
  const hook = receiver(...answers);
  install(hook.fetch, testEnv);
  const send = (event: Partial<VideoEvent> = {}) =>
    announce(testEnv, config.events, {
      type: "video.completed",
      video: video(),
      owner: VISITOR,
      ...event,
    });
  return { testEnv, config, hook, send };
}

describe("EventOutbox delivery", () => {
  it("stores on announce and delivers only when its alarm runs", async () => {
    const { hook, send } = setup([endpoint()], status(200));
    await send();
    expect(hook.received).toEqual([]);
    expect(await rows()).toMatchObject([{ state: "pending", attempts: 0 }]);
    expect(await alarmSet()).toBe(true);

    expect(await fire()).toBe(true);
    expect(hook.received).toHaveLength(1);
    expect(await rows()).toMatchObject([{ state: "delivered", attempts: 1, payload: "" }]);
    // Nothing left to do: no alarm.
    expect(await alarmSet()).toBe(false);
  });

  it("POSTs a signed Standard Webhooks event: headers, body with the video and its owner", async () => {
    const { hook, send } = setup([endpoint()], status(204));
    const completed = video();
    await send({ video: completed, owner: VISITOR });
    await fire();

    const [request] = hook.received;
    expect(request).toMatchObject({ url: HOOK_URL, method: "POST", redirect: "manual" });
    expect(request!.headers["content-type"]).toBe("application/json");
    expect(request!.headers["webhook-id"]).toBe(await eventId(completed.id, "video.completed"));
    const sentAt = Number(request!.headers["webhook-timestamp"]);
    expect(Math.abs(sentAt - Date.now() / 1000)).toBeLessThan(60);
    // What a receiver does: verify with the reference library, on the raw body.
    const payload = new Webhook(HOOK_SECRET).verify(request!.body, request!.headers);
    expect(payload).toEqual({
      type: "video.completed",
      timestamp: new Date(completed.completed_at! * 1000).toISOString(),
      data: { ...completed, owner: VISITOR },
    });
  });

  it("announces failures too, with a server-key owner", async () => {
    const { hook, send } = setup([endpoint()], status(200));
    const failed = video({
      status: "failed",
      error: { code: "provider_error", message: "The provider failed." },
    });
    await send({ type: "video.failed", video: failed, owner: BACKEND });
    await fire();
    const body = JSON.parse(hook.received[0]!.body);
    expect(body.type).toBe("video.failed");
    expect(body.data).toMatchObject({ id: failed.id, status: "failed", owner: BACKEND });
  });
});

describe("EventOutbox filters", () => {
  const A = "https://a.example/hook";
  const B = "https://b.example/hook";
  const C = "https://c.example/hook";
  const D = "https://d.example/hook";
  const endpoints = [
    endpoint({ url: A, events: ["video.completed"] }),
    endpoint({ url: B, sites: ["shop"] }),
    endpoint({ url: C, server_keys: ["backend"] }),
    endpoint({ url: D, sites: ["blog"], server_keys: ["partner"], events: ["video.failed"] }),
  ];

  it("stores each event only for the endpoints whose event, site and server-key filters match", async () => {
    const { send } = setup(endpoints, status(200));
    const shopVideo = video({ id: "video_000000000000000000000shop1" });
    const backendVideo = video({ id: "video_00000000000000000000backnd" });
    const blogVideo = video({ id: "video_000000000000000000000blog1" });
    const partnerVideo = video({ id: "video_00000000000000000000partnr" });
    await send({ video: shopVideo, owner: VISITOR });
    await send({ type: "video.failed", video: backendVideo, owner: BACKEND });
    await send({
      type: "video.failed",
      video: blogVideo,
      owner: { site_id: "blog", visitor_id: "vis_1" },
    });
    await send({ type: "video.completed", video: partnerVideo, owner: { server_key: "partner" } });

    const stored = async (url: string) => (await rows(url)).map((r) => r.video_id).sort();
    expect(await stored(A)).toEqual([partnerVideo.id, shopVideo.id].sort());
    expect(await stored(B)).toEqual([shopVideo.id]);
    expect(await stored(C)).toEqual([backendVideo.id]);
    expect(await stored(D)).toEqual([blogVideo.id]);
  });
});

describe("EventOutbox dedupe", () => {
  it("stores and delivers one event once, with one webhook-id, however often announced", async () => {
    const { hook, send } = setup([endpoint()], status(200));
    await send();
    await send();
    expect(await rows()).toHaveLength(1);
    await fire();
    // Announced again after delivery: still remembered, nothing new to send.
    await send();
    expect(await fire()).toBe(false);
    expect(hook.received).toHaveLength(1);
  });

  it("gives one event the same webhook-id at every endpoint, and another event another", async () => {
    const other = "https://other.example/hook";
    const { hook, send } = setup([endpoint(), endpoint({ url: other })], status(200));
    await send();
    await send({ type: "video.failed" });
    await fire();
    await fire(other);
    const ids = (url: string) =>
      hook.received.filter((r) => r.url === url).map((r) => r.headers["webhook-id"]);
    expect(ids(HOOK_URL)).toHaveLength(2);
    expect(new Set(ids(HOOK_URL)).size).toBe(2);
    expect(ids(other).sort()).toEqual(ids(HOOK_URL).sort());
  });
});

describe("EventOutbox retries", () => {
  it("retries a 500 after a growing wait, with the same id and body, until a 2xx", async () => {
    const logs = captureLogs();
    const { hook, send } = setup([endpoint()], status(500), status(200));
    try {
      await send();
      await fire();
      const [failed] = await rows();
      expect(failed).toMatchObject({ state: "pending", attempts: 1, last_error: "status 500" });
      const wait = failed!.next_at! - failed!.last_attempt_at!;
      expect(wait).toBeGreaterThanOrEqual(5_000);
      expect(wait).toBeLessThanOrEqual(5_500);
      // Not due yet: an early alarm sends nothing.
      await fire();
      expect(hook.received).toHaveLength(1);

      await makeDue();
      await fire();
      expect(hook.received).toHaveLength(2);
      expect(await rows()).toMatchObject([{ state: "delivered", attempts: 2 }]);
      const [first, second] = hook.received;
      expect(second!.headers["webhook-id"]).toBe(first!.headers["webhook-id"]);
      expect(second!.body).toBe(first!.body);
      expect(() => new Webhook(HOOK_SECRET).verify(second!.body, second!.headers)).not.toThrow();
    } finally {
      logs.restore();
    }
    expect(logs.events().map((e) => e.event)).toEqual(["event_delivery_failed", "event_delivered"]);
  });

  it("backs off for more than a day, then gives up and logs event_delivery_abandoned", async () => {
    const logs = captureLogs();
    const { hook, send } = setup([endpoint()], status(503));
    const waits: number[] = [];
    try {
      await send();
      for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
        await makeDue();
        await fire();
        const [row] = await rows();
        expect(row!.attempts).toBe(attempt);
        if (row!.state !== "pending") break;
        waits.push(row!.next_at! - row!.last_attempt_at!);
      }
    } finally {
      logs.restore();
    }
    expect(hook.received).toHaveLength(MAX_ATTEMPTS);
    expect(await rows()).toMatchObject([{ state: "abandoned", payload: "", next_at: null }]);
    expect(await alarmSet()).toBe(false);
    expect(waits).toHaveLength(MAX_ATTEMPTS - 1);
    for (let i = 1; i < waits.length; i++) expect(waits[i]!).toBeGreaterThan(waits[i - 1]!);
    expect(waits.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(24 * HOUR);
    const abandoned = logs.events().filter((e) => e.event === "event_delivery_abandoned");
    expect(abandoned).toEqual([
      expect.objectContaining({
        level: "error",
        event_id: hook.received[0]!.headers["webhook-id"],
        attempt: MAX_ATTEMPTS,
        status: 503,
        endpoint: HOOK_URL,
      }),
    ]);
  });

  it("waits as long as a receiver's Retry-After asks, when longer than the schedule", async () => {
    const { send } = setup([endpoint()], status(429, { "retry-after": "3600" }));
    await send();
    await fire();
    const [row] = await rows();
    expect(row!.next_at! - row!.last_attempt_at!).toBe(HOUR);
  });

  it("stops at once when the receiver answers 410 Gone", async () => {
    const { hook, send } = setup([endpoint()], status(410));
    await send();
    await fire();
    await makeDue();
    expect(await fire()).toBe(false);
    expect(hook.received).toHaveLength(1);
    expect(await rows()).toMatchObject([{ state: "abandoned", attempts: 1 }]);
  });

  it("counts a redirect as a failure and never follows it", async () => {
    const elsewhere = "https://elsewhere.example/collect";
    const hook = receiver((request) =>
      request.url === HOOK_URL
        ? new Response(null, { status: 302, headers: { location: elsewhere } })
        : new Response("taken", { status: 200 }),
    );
    const testEnv = eventsEnv([endpoint()]);
    // The runtime follows redirects unless told `manual`; so does this wrapper.
    install(followingLikeTheRuntime(hook.fetch), testEnv);
    await announce(testEnv, parseConfig(testEnv).events, {
      type: "video.completed",
      video: video(),
      owner: VISITOR,
    });
    await fire();
    expect(hook.received.map((r) => r.url)).toEqual([HOOK_URL]);
    expect(await rows()).toMatchObject([
      { state: "pending", attempts: 1, last_error: "redirect 302 (not followed)" },
    ]);
  });

  it("gives up on a receiver that never answers after the endpoint's timeout", async () => {
    // Never settles and ignores the abort signal: only the outbox's own timer can end it.
    const { send } = setup([endpoint({ timeout_ms: 1000 })], () => new Promise<Response>(() => {}));
    await send();
    const started = Date.now();
    await fire();
    expect(Date.now() - started).toBeLessThan(5_000);
    const [row] = await rows();
    expect(row).toMatchObject({
      state: "pending",
      attempts: 1,
      last_error: "no answer within 1000 ms",
    });
    expect(row!.next_at! - row!.last_attempt_at!).toBeGreaterThanOrEqual(5_000);
  });

  it("retries after a network error", async () => {
    const { send } = setup([endpoint()], () => Promise.reject(new TypeError("connection reset")));
    await send();
    await fire();
    expect(await rows()).toMatchObject([
      { state: "pending", attempts: 1, last_error: "network error" },
    ]);
  });
});

describe("EventOutbox and the configuration", () => {
  it("signs each attempt with the secret configured now, so a rotation applies to retries", async () => {
    const { hook, send } = setup([endpoint()], status(500), status(200));
    await send();
    await fire();
    const rotated = eventsEnv([endpoint({ secret: "OTHER_HOOK_SECRET" })]);
    install(hook.fetch, rotated);
    await makeDue();
    await fire();
    const retry = hook.received[1]!;
    expect(() => new Webhook(OTHER_HOOK_SECRET).verify(retry.body, retry.headers)).not.toThrow();
    expect(() => new Webhook(HOOK_SECRET).verify(retry.body, retry.headers)).toThrow();
  });

  it("sends nothing more to an endpoint taken out of EVENT_ENDPOINTS", async () => {
    const { hook, send } = setup([endpoint()], status(500));
    await send();
    await fire();
    install(hook.fetch, eventsEnv([]));
    await makeDue();
    await fire();
    expect(hook.received).toHaveLength(1);
    expect(await rows()).toMatchObject([{ state: "abandoned", last_error: "endpoint removed" }]);
  });

  it("keeps deliveries waiting, not lost, while the configuration is broken", async () => {
    const logs = captureLogs();
    const { hook, send } = setup([endpoint()], status(200));
    try {
      await send();
      install(hook.fetch, eventsEnv([endpoint({ secret: "UNSET_SECRET" })]));
      await fire();
    } finally {
      logs.restore();
    }
    expect(hook.received).toEqual([]);
    expect(await rows()).toMatchObject([{ state: "pending", attempts: 0 }]);
    expect(await alarmSet()).toBe(true);
    expect(logs.events().map((e) => e.event)).toContain("event_outbox_config_error");
  });
});

describe("EventOutbox logs", () => {
  it("never carry the secret, the body or the URL's query", async () => {
    const url = `${HOOK_URL}?token=query-TOKEN-Xy7Wv3`;
    const echo: Answer = (request) =>
      new Response(`bad signature ${request.headers.get("webhook-signature")} ${HOOK_SECRET}`, {
        status: 500,
      });
    const logs = captureLogs();
    const { hook, send } = setup([endpoint({ url })], echo, status(200));
    try {
      await send();
      await fire(url);
      await makeDue(url);
      await fire(url);
    } finally {
      logs.restore();
    }
    expect(hook.received).toHaveLength(2);
    const text = logs.lines.join("\n");
    expect(logs.events().map((e) => e.event)).toEqual(["event_delivery_failed", "event_delivered"]);
    expect(logs.events().every((e) => e.endpoint === HOOK_URL)).toBe(true);
    for (const forbidden of [
      HOOK_SECRET.slice("whsec_".length, 18),
      "query-TOKEN",
      hook.received[0]!.headers["webhook-signature"]!.slice(3, 15),
      video().prompt,
    ]) {
      expect(text).not.toContain(forbidden);
    }
  });
});
