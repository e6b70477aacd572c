/**
 * Static Gemini webhooks for Veo (docs/providers/veo.md §1 "Webhooks"): project-level endpoints signed the
 * Standard Webhooks way (HMAC-SHA256, `whsec_` secret, ±5 min), carrying a thin payload. The
 * per-request `webhookConfig` kind is signed with an RS256 JWT instead; verifying that is out of
 * scope, which is why the adapter never sends `webhookConfig`.
 */
import { ProviderError } from "../errors";
import { sanitizeUpstreamText } from "../kit/sanitize";
import { verifyStandardWebhook } from "../kit/standard-webhooks";
import type { WebhookEvent } from "../types";
import { OPERATION_NAME } from "./response";

/** Verifies a Standard Webhooks delivery, then finds the operation it is about. */
export async function verifyVeoWebhook(
  request: Request,
  secret: string,
  nowMs: number,
): Promise<WebhookEvent> {
  const { id, body } = await verifyStandardWebhook(request, secret, nowMs);
  let payload: unknown;
  try {
    payload = JSON.parse(body);
  } catch {
    throw new ProviderError("input_rejected", "The webhook could not be read.", "body is not JSON");
  }
  const type = (payload as { type?: unknown } | null)?.type;
  if (typeof type === "string" && !type.startsWith("video.")) {
    throw new ProviderError(
      "input_rejected",
      "The webhook is not about a video.",
      `event ${sanitizeUpstreamText(type)}; subscribe the webhook to video.generated only`,
    );
  }
  const upstreamId = operationNameFromWebhook(payload);
  if (!upstreamId) {
    throw new ProviderError(
      "input_rejected",
      "The webhook names no video job.",
      "no operation name (models/…/operations/…) in the payload",
    );
  }
  return { deliveryId: id, upstreamId };
}

/** Places an operation name may sit in a verified webhook payload, most likely first. */
const NAME_FIELDS = ["id", "name", "operation", "operation_name", "operationName"] as const;
const PREFIXES = ["", "v1beta/", "/v1beta/", "https://generativelanguage.googleapis.com/v1beta/"];

/**
 * The operation a verified `video.generated` delivery is about. The documented payload is thin —
 * `{type, data: {id, output_file_uri, file_name}}` (ai.google.dev webhooks "event catalog") — and
 * does not say what `data.id` holds for a video. ASSUMPTION: it is the operation name
 * (`models/…/operations/…`), as the API names every LRO. We look in `data.*` first, then at the
 * top level, then anywhere in the payload, accepting only an exact operation name (optionally
 * prefixed with `v1beta/` or the API base); a bare id cannot be mapped back to a job, so it is
 * refused. The payload is already verified, so this is about leniency, not trust.
 */
function operationNameFromWebhook(payload: unknown): string | null {
  const record = (v: unknown) => (v && typeof v === "object" ? (v as Record<string, unknown>) : {});
  const root = record(payload);
  const data = record(root.data);
  for (const source of [data, root]) {
    for (const field of NAME_FIELDS) {
      const name = asOperationName(source[field]);
      if (name) return name;
    }
  }
  return findOperationName(payload, 0);
}

function asOperationName(value: unknown): string | null {
  if (typeof value !== "string") return null;
  for (const prefix of PREFIXES) {
    if (value.startsWith(prefix) && OPERATION_NAME.test(value.slice(prefix.length))) {
      return value.slice(prefix.length);
    }
  }
  return null;
}

function findOperationName(value: unknown, depth: number): string | null {
  if (depth > 4) return null;
  const direct = asOperationName(value);
  if (direct || !value || typeof value !== "object") return direct;
  for (const child of Object.values(value)) {
    const found = findOperationName(child, depth + 1);
    if (found) return found;
  }
  return null;
}
