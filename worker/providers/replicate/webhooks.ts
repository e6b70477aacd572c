/**
 * Replicate's signed webhooks (docs/providers/replicate.md §3 "Webhooks"): Standard Webhooks
 * HMAC with the account's `whsec_…` secret; the body is the prediction, read only once verified.
 */
import { z } from "zod";
import { ProviderError } from "../errors";
import { verifyStandardWebhook } from "../kit/standard-webhooks";
import type { WebhookEvent } from "../types";
import { PREDICTION_ID } from "./response";

const WEBHOOK_SECRET = /^whsec_[A-Za-z0-9+/]{16,}={0,2}$/;

/** Verifies a delivery with the route's secret and names the prediction it concerns. */
export async function verifyReplicateWebhook(
  request: Request,
  secret: string,
  secretName: string | undefined,
  nowMs: number,
): Promise<WebhookEvent> {
  if (!WEBHOOK_SECRET.test(secret)) {
    const detail = `secret ${secretName ?? "for webhooks"} is not a whsec_ value`;
    throw new ProviderError("misconfigured", "The video provider is not configured.", detail);
  }
  const delivery = await verifyStandardWebhook(request, secret, nowMs);
  const id = webhookPredictionId(delivery.body);
  if (!id) {
    const detail = "verified body has no valid prediction id";
    throw new ProviderError("input_rejected", "The webhook could not be read.", detail);
  }
  return { deliveryId: delivery.id, upstreamId: id };
}

/** The prediction id of a verified webhook body (the prediction object, §3), or null. */
function webhookPredictionId(body: string): string | null {
  try {
    const parsed = z.object({ id: z.string().regex(PREDICTION_ID) }).safeParse(JSON.parse(body));
    return parsed.success ? parsed.data.id : null;
  } catch {
    return null;
  }
}
