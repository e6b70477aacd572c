/**
 * OpenRouter's signed webhooks (docs/providers/openrouter.md §6): `X-OpenRouter-Signature:
 * t=<unix seconds>,v1=<hex HMAC-SHA256>` over `"<t>," + rawBody`, keyed with the workspace's
 * signing secret (not the API key). Verified on the raw bytes, against the worker's clock,
 * before anything of the body is read.
 */
import { z } from "zod";
import { timingSafeEqualText } from "../../timing-safe";
import { ProviderError } from "../errors";
import { WEBHOOK_TOLERANCE_SECONDS } from "../kit/standard-webhooks";
import type { WebhookEvent } from "../types";
import { JOB_ID } from "./response";

const encoder = new TextEncoder();

/**
 * Verifies a delivery with the route's secret and names the job it concerns. Throws
 * `ProviderError("input_rejected")` for a missing, malformed, stale or forged signature.
 *
 * `deliveryId` is `<job id>-<status>` read from the verified body: the documented form of
 * `X-OpenRouter-Idempotency-Key`, "for safe retry deduplication" (§6), which is not itself
 * signed — so it is derived from what is, and a replay cannot dodge the once-only claim by
 * changing a header.
 */
export async function verifyOpenRouterWebhook(
  request: Request,
  secret: string,
  secretName: string | undefined,
  nowMs: number,
): Promise<WebhookEvent> {
  if (!secret) {
    const detail = `secret ${secretName ?? "for webhooks"} is empty`;
    throw new ProviderError("misconfigured", "The video provider is not configured.", detail);
  }
  const header = request.headers.get("x-openrouter-signature") ?? "";
  // Split on ",", trim, match by prefix (§6, the cookbook's verifier); several v1= values are
  // all tried, in case OpenRouter signs with two secrets while one is rotated (§9 #6).
  const parts = header.split(",").map((part) => part.trim());
  const timestamps = parts.filter((p) => p.startsWith("t=")).map((p) => p.slice(2));
  const signatures = parts.filter((p) => p.startsWith("v1=")).map((p) => p.slice(3));
  if (!header) throw rejected("missing X-OpenRouter-Signature");
  const timestamp = timestamps.length === 1 ? timestamps[0]! : "";
  // Seconds: the examples are 10 digits (§9 #7).
  if (!/^\d{1,12}$/.test(timestamp)) throw rejected("t= is missing or not unix seconds");
  if (signatures.length === 0 || !signatures.every((s) => /^[0-9a-f]{64}$/i.test(s))) {
    throw rejected("v1= is missing or not 32 bytes of hex");
  }
  // Either way (the cookbook's |now − t| > 300 s, §6), judged by the injected clock.
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) {
    throw rejected("timestamp outside the five-minute window");
  }

  const body = new Uint8Array(await request.arrayBuffer());
  const expected = await hmacHex(secret, concat(encoder.encode(`${timestamp},`), body));
  let valid = false;
  for (const signature of signatures) {
    // Every candidate is compared (no early exit), each in constant time.
    if (await timingSafeEqualText(signature.toLowerCase(), expected)) valid = true;
  }
  if (!valid) throw rejected("no matching signature");

  const event = deliveryOf(body);
  if (!event) {
    const detail = "verified body names no valid job id and status";
    throw new ProviderError("input_rejected", "The webhook could not be read.", detail);
  }
  return { deliveryId: `${event.id}-${event.status}`, upstreamId: event.id };
}

/** `{type, created_at, data: {id, status, …}}` (§6 "Payload"); only the id and status are read. */
const payload = z.object({
  type: z.string().optional(),
  data: z.object({ id: z.string().regex(JOB_ID), status: z.string().optional() }),
});

function deliveryOf(body: Uint8Array): { id: string; status: string } | null {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return null;
  }
  const parsed = payload.safeParse(json);
  if (!parsed.success) return null;
  const { type, data } = parsed.data;
  // `type` is `video.generation.<status>` (§6): the fallback when `data.status` is absent.
  const status = data.status ?? type?.match(/^video\.generation\.([a-z_]+)$/)?.[1] ?? "";
  return /^[a-z_]{1,32}$/.test(status) ? { id: data.id, status } : null;
}

/** `hex(HMAC-SHA256(key = UTF-8 of the secret, message))`, as the cookbook's `createHmac` (§6). */
async function hmacHex(secret: string, message: Uint8Array): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    encoder.encode(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, message));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function rejected(reason: string): ProviderError {
  return new ProviderError("input_rejected", "The webhook could not be verified.", reason);
}
