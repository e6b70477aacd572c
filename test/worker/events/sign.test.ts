/**
 * Event signing against the Standard Webhooks reference library (the one receivers use) and
 * against the spec's definition computed here with WebCrypto: a delivery verifies, and a changed
 * body, signature, timestamp, id or secret does not.
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { eventId, signedHeaders } from "../../../worker/events/sign";
import { HOOK_SECRET, OTHER_HOOK_SECRET } from "./outbox-kit";
import { hmacSha256 } from "../../helpers/hmac";

const BODY = JSON.stringify({
  type: "video.completed",
  timestamp: "2030-01-02T03:04:05.000Z",
  data: { id: "video_1", owner: { server_key: "backend" } },
});
const ID = "msg_0123456789abcdef0123456789abcdef";

/** `v1,` + base64 HMAC-SHA256 of `id.timestamp.body` keyed with the decoded secret (the spec). */
async function specSignature(secret: string, id: string, timestamp: string, body: string) {
  const key = Uint8Array.from(atob(secret.slice("whsec_".length)), (c) => c.charCodeAt(0));
  const mac = await hmacSha256(key, `${id}.${timestamp}.${body}`);
  return `v1,${btoa(String.fromCharCode(...mac))}`;
}

describe("signedHeaders", () => {
  it("carries the Standard Webhooks headers, in unix seconds of the given clock", async () => {
    const nowMs = Date.now();
    const headers = signedHeaders(HOOK_SECRET, ID, BODY, nowMs);
    expect(headers["content-type"]).toBe("application/json");
    expect(headers["webhook-id"]).toBe(ID);
    expect(headers["webhook-timestamp"]).toBe(String(Math.floor(nowMs / 1000)));
    expect(headers["webhook-signature"]).toBe(
      await specSignature(HOOK_SECRET, ID, headers["webhook-timestamp"]!, BODY),
    );
  });

  it("verifies with the reference library, which returns the body", () => {
    const headers = signedHeaders(HOOK_SECRET, ID, BODY, Date.now());
    expect(new Webhook(HOOK_SECRET).verify(BODY, headers)).toEqual(JSON.parse(BODY));
  });

  it("fails verification when anything signed is changed", () => {
    const headers = signedHeaders(HOOK_SECRET, ID, BODY, Date.now());
    const hook = new Webhook(HOOK_SECRET);
    const tamperedBody = BODY.replace("video_1", "video_2");
    expect(() => hook.verify(tamperedBody, headers)).toThrow(/No matching signature/);
    const signature = headers["webhook-signature"]!;
    const flipped = `${signature.slice(0, 5)}${signature[5] === "A" ? "B" : "A"}${signature.slice(6)}`;
    expect(() => hook.verify(BODY, { ...headers, "webhook-signature": flipped })).toThrow(
      /No matching signature/,
    );
    const earlier = String(Number(headers["webhook-timestamp"]) - 1);
    expect(() => hook.verify(BODY, { ...headers, "webhook-timestamp": earlier })).toThrow(
      /No matching signature/,
    );
    expect(() => hook.verify(BODY, { ...headers, "webhook-id": `${ID}0` })).toThrow(
      /No matching signature/,
    );
    expect(() => new Webhook(OTHER_HOOK_SECRET).verify(BODY, headers)).toThrow(
      /No matching signature/,
    );
  });

  it("is refused by receivers when signed too long ago (replays)", () => {
    const stale = signedHeaders(HOOK_SECRET, ID, BODY, Date.now() - 10 * 60_000);
    expect(() => new Webhook(HOOK_SECRET).verify(BODY, stale)).toThrow(/too old/);
  });
});

describe("eventId", () => {
  it("is stable per (video, type), distinct otherwise, and has no dot", async () => {
    const a = await eventId("video_a", "video.completed");
    expect(a).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(await eventId("video_a", "video.completed")).toBe(a);
    expect(await eventId("video_a", "video.failed")).not.toBe(a);
    expect(await eventId("video_b", "video.completed")).not.toBe(a);
  });
});
