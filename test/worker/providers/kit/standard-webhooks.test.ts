/**
 * Standard Webhooks verification (worker/providers/standard-webhooks.ts) on its own: the
 * signature is the reference library's, the five-minute window reads the injected clock, and
 * every malformed delivery is refused as `input_rejected` (401 invalid_signature at the route).
 */
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { verifyStandardWebhook } from "../../../../worker/providers/kit/standard-webhooks";
import { wholeSecondNow } from "../../../helpers/clock";
import { expectProviderError } from "../../../helpers/provider-error";

const SECRET = `whsec_${btoa("standard-webhooks-unit-secret-0123456789")}`;
const OTHER = `whsec_${btoa("some-other-signing-secret-9876543210ab")}`;
const NOW = wholeSecondNow();
const BODY = '{"id":"abcdefgh12345678","status":"succeeded"}';

function delivery(headers: Record<string, string>, body = BODY): Request {
  return new Request("https://worker.example.test/webhooks/replicate", {
    method: "POST",
    headers,
    body,
  });
}

const signed = (at = NOW, secret = SECRET, id = "msg_1") => ({
  "webhook-id": id,
  "webhook-timestamp": String(Math.floor(at / 1000)),
  "webhook-signature": new Webhook(secret).sign(id, new Date(at), BODY),
});

describe("verifyStandardWebhook", () => {
  it("accepts a delivery signed now, and one signature among several", async () => {
    expect(await verifyStandardWebhook(delivery(signed()), SECRET, NOW)).toEqual({
      id: "msg_1",
      body: BODY,
    });
    const good = signed()["webhook-signature"];
    const rotated = `${new Webhook(OTHER).sign("msg_1", new Date(NOW), BODY)} v2,abc ${good}`;
    const request = delivery({ ...signed(), "webhook-signature": rotated });
    expect((await verifyStandardWebhook(request, SECRET, NOW)).id).toBe("msg_1");
  });

  it("judges the window by the clock it is given, not the machine's", async () => {
    const yearAhead = NOW + 365 * 86_400_000;
    const request = delivery(signed(yearAhead));
    expect((await verifyStandardWebhook(request, SECRET, yearAhead)).id).toBe("msg_1");
    const late = await expectProviderError(
      verifyStandardWebhook(delivery(signed(yearAhead)), SECRET, NOW),
      SECRET,
    );
    expect(late.detail).toMatch(/five-minute window/);
  });

  it.each([
    ["no webhook-id", { "webhook-id": "" }],
    ["no signature", { "webhook-signature": "" }],
    ["a timestamp that is not unix seconds", { "webhook-timestamp": "2026-12-06T12:00:00Z" }],
    ["a negative timestamp", { "webhook-timestamp": "-1" }],
    [
      "a signature by another secret",
      { "webhook-signature": signed(NOW, OTHER)["webhook-signature"] },
    ],
    [
      "only a v2 signature",
      { "webhook-signature": `v2,${signed()["webhook-signature"].slice(3)}` },
    ],
    ["a signature for another message id", { "webhook-id": "msg_2" }],
    ["a timestamp 6 minutes old", signed(NOW - 6 * 60_000)],
    ["a timestamp 6 minutes ahead", signed(NOW + 6 * 60_000)],
  ])("refuses %s", async (_, override) => {
    const error = await expectProviderError(
      verifyStandardWebhook(delivery({ ...signed(), ...override }), SECRET, NOW),
      SECRET,
    );
    expect(error.kind).toBe("input_rejected");
  });

  it("refuses a tampered body", async () => {
    const error = await expectProviderError(
      verifyStandardWebhook(delivery(signed(), BODY.replace("succeeded", "failed")), SECRET, NOW),
      SECRET,
    );
    expect(error.detail).toMatch(/no matching signature/);
  });
});
