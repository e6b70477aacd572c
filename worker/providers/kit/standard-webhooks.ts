/**
 * Standard Webhooks (standardwebhooks.com) verification, shared by the providers that sign that
 * way (Replicate, Google's static Gemini webhooks, OpenAI-compatible hosts): `v1,<base64
 * HMAC-SHA256>` signatures over `id.timestamp.body` with the `whsec_…` secret, and a timestamp
 * within five minutes. Replays inside that window are caught by the webhook route (one delivery
 * id, once).
 *
 * The reference library computes the signature (secret decoding and HMAC stay its job), but its
 * own `verify()` judges the timestamp by `Date.now()`. The window is checked here instead, against
 * the worker's injected clock, so every time check in the worker reads one clock.
 */
import { Webhook } from "standardwebhooks";
import { timingSafeEqualText } from "../../timing-safe";
import { ProviderError } from "../errors";

/** How far a delivery's timestamp may be from now, either way (Standard Webhooks and fal). */
export const WEBHOOK_TOLERANCE_SECONDS = 5 * 60;

export interface VerifiedDelivery {
  /** The `webhook-id` header: stable across retries of one delivery. */
  id: string;
  /** The raw body, verified; parse it only now. */
  body: string;
}

/** Verifies a delivery on its raw body; throws `ProviderError("input_rejected")` otherwise. */
export async function verifyStandardWebhook(
  request: Request,
  secret: string,
  nowMs: number,
): Promise<VerifiedDelivery> {
  const body = await request.text();
  const rejected = (reason: string) =>
    new ProviderError("input_rejected", "The webhook could not be verified.", reason);
  const id = request.headers.get("webhook-id") ?? "";
  const timestamp = request.headers.get("webhook-timestamp") ?? "";
  const signatures = request.headers.get("webhook-signature") ?? "";
  if (!id || !timestamp || !signatures) throw rejected("missing required headers");
  if (!/^\d{1,12}$/.test(timestamp)) throw rejected("timestamp is not unix seconds");
  const seconds = Number(timestamp);
  if (Math.abs(nowMs / 1000 - seconds) > WEBHOOK_TOLERANCE_SECONDS) {
    throw rejected("timestamp outside the five-minute window");
  }

  let expected: string;
  try {
    expected = new Webhook(secret).sign(id, new Date(seconds * 1000), body).slice("v1,".length);
  } catch {
    throw rejected("bad secret");
  }
  for (const versioned of signatures.split(" ")) {
    const [version, signature] = versioned.split(",", 2);
    if (version === "v1" && signature && (await timingSafeEqualText(signature, expected))) {
      return { id, body };
    }
  }
  throw rejected("no matching signature");
}
