/**
 * Standard Webhooks signing (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
 * `webhook-signature: v1,<base64 HMAC-SHA256>` over `{id}.{timestamp}.{body}`, keyed with the
 * base64-decoded `whsec_…` secret. The reference library computes it, as it does for the webhooks
 * we receive (worker/providers/kit/standard-webhooks.ts): one implementation of secret decoding
 * and HMAC in the worker, and the one receivers verify with.
 */
import { Webhook } from "standardwebhooks";

/** The id of one event, stable across retries and re-announcements (receivers dedupe on it). */
export async function eventId(videoId: string, type: string): Promise<string> {
  // `.` delimits the signed content, so the id must never carry one (the spec's warning).
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(`stillmotion-event:${type}:${videoId}`),
  );
  const hex = [...new Uint8Array(digest).slice(0, 16)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
  return `msg_${hex}`;
}

/**
 * The headers of one delivery attempt. `nowMs` is the platform clock: the receiver judges the
 * timestamp (within about five minutes) by its own real clock, and a retry is signed anew.
 */
export function signedHeaders(
  secret: string,
  id: string,
  body: string,
  nowMs: number,
): Record<string, string> {
  const timestamp = new Date(Math.floor(nowMs / 1000) * 1000);
  return {
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(timestamp.getTime() / 1000),
    "webhook-signature": new Webhook(secret).sign(id, timestamp, body),
  };
}
