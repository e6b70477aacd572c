/**
 * Standard Webhooks (standardwebhooks.com) verification, shared by the providers that sign that
 * way (Replicate, Google's static Gemini webhooks, OpenAI-compatible hosts). The reference
 * library checks the `v1,<base64 HMAC-SHA256>` signatures over `id.timestamp.body` against the
 * `whsec_…` secret, and refuses timestamps more than five minutes off; replays inside that
 * window are caught by the webhook route (one delivery id, once).
 */
import { Webhook, WebhookVerificationError } from "standardwebhooks";
import { ProviderError } from "./errors";

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
): Promise<VerifiedDelivery> {
  const body = await request.text();
  const headers = {
    "webhook-id": request.headers.get("webhook-id") ?? "",
    "webhook-timestamp": request.headers.get("webhook-timestamp") ?? "",
    "webhook-signature": request.headers.get("webhook-signature") ?? "",
  };
  try {
    new Webhook(secret).verify(body, headers);
  } catch (error) {
    const reason =
      error instanceof WebhookVerificationError ? error.message : "bad secret or payload";
    throw new ProviderError("input_rejected", "The webhook could not be verified.", reason);
  }
  return { id: headers["webhook-id"], body };
}
