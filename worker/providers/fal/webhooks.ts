/**
 * fal webhook verification (docs/providers/fal.md §2 "Webhooks"). fal signs each
 * delivery with Ed25519 over `requestId\nuserId\ntimestamp\nsha256hex(rawBody)`, carried in the
 * `X-Fal-Webhook-{Request-Id,User-Id,Timestamp,Signature}` headers (signature in hex), with the
 * public keys published as a JWKS. Nothing here needs the API key: the keys are public.
 */
import { z } from "zod";
import { ProviderError } from "../errors";
import { fetchWithRetry } from "../kit/send";
import { WEBHOOK_TOLERANCE_SECONDS } from "../kit/standard-webhooks";
import type { WebhookEvent } from "../types";

/** Fixed, like every fal URL: never configurable, never derived from a delivery. */
export const FAL_JWKS_URL = "https://rest.alpha.fal.ai/.well-known/jwks.json";

const JWKS_TTL_MS = 60 * 60 * 1000;
/** A failed check may mean fal rotated its key, but refetch at most this often (no fetch storm). */
const JWKS_REFRESH_FLOOR_MS = 5 * 60 * 1000;
/** fal request ids are UUIDs; anything else is refused before it reaches a URL or KV key. */
export const FAL_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9-]{7,63}$/;

/**
 * The verified public keys, kept for an hour. Adapters are built per request, so the default
 * cache lives at module scope (one per isolate); tests pass their own.
 */
export class FalJwksCache {
  private entry: { keys: CryptoKey[]; fetchedAt: number } | null = null;

  /** The cached keys, fetched when absent, older than an hour, or when `refresh` is asked. */
  async keys(
    ctx: FalWebhookContext,
    refresh = false,
  ): Promise<{ keys: CryptoKey[]; fresh: boolean }> {
    const now = ctx.now();
    const entry = this.entry;
    if (entry && now - entry.fetchedAt < JWKS_TTL_MS) {
      if (!refresh || now - entry.fetchedAt < JWKS_REFRESH_FLOOR_MS) {
        return { keys: entry.keys, fresh: false };
      }
    }
    const keys = await fetchJwks(ctx);
    this.entry = { keys, fetchedAt: now };
    return { keys, fresh: true };
  }
}

const sharedCache = new FalJwksCache();

const jwks = z.object({
  keys: z.array(z.unknown()),
});
const ed25519Jwk = z.object({ kty: z.literal("OKP"), crv: z.literal("Ed25519"), x: z.string() });

async function fetchJwks(ctx: FalWebhookContext): Promise<CryptoKey[]> {
  const response = await fetchWithRetry(
    ctx.fetch,
    FAL_JWKS_URL,
    { headers: { accept: "application/json" } },
    { retries: 1, idempotent: true, timeoutMs: 10_000, sleep: ctx.sleep, now: ctx.now },
  );
  const parsed = jwks.safeParse(response.ok ? await response.json().catch(() => null) : null);
  if (!parsed.success) {
    await response.body?.cancel();
    throw new ProviderError(
      "unavailable",
      "The video provider's webhook keys could not be read.",
      `JWKS: HTTP ${response.status}`,
    );
  }
  const keys: CryptoKey[] = [];
  for (const candidate of parsed.data.keys) {
    // Only Ed25519 keys are usable; others (and malformed ones) are skipped, not fatal.
    const jwk = ed25519Jwk.safeParse(candidate);
    if (!jwk.success) continue;
    const { kty, crv, x } = jwk.data;
    const key = await crypto.subtle
      .importKey("jwk", { kty, crv, x }, { name: "Ed25519" }, false, ["verify"])
      .catch(() => null);
    if (key) keys.push(key);
  }
  return keys;
}

/** The injected I/O verification needs (the adapter passes its own). */
export interface FalWebhookContext {
  fetch: typeof fetch;
  now: () => number;
  /** Our fal user id: a delivery signed for another account is refused. */
  account: string;
  jwksCache?: FalJwksCache;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Verifies a raw fal delivery and names the job it concerns. Throws
 * `ProviderError("input_rejected")` for a missing, malformed, stale or forged signature, and for
 * a genuine one signed for another fal account (fal's keys sign every account's deliveries).
 *
 * `deliveryId` is `<X-Fal-Webhook-Request-Id>.<timestamp>`: an exact replay collapses to one
 * id (the route handles it once), while fal's own retries — freshly signed, hence a new
 * timestamp — each get a chance to be processed, which matters when an earlier attempt was
 * acknowledged with an error. `upstreamId` is the body's `request_id` (the queue id we stored;
 * `gateway_request_id` may name a retried attempt instead), else the header's request id.
 */
export async function verifyFalWebhook(
  request: Request,
  ctx: FalWebhookContext,
): Promise<WebhookEvent> {
  const header = (name: string) => request.headers.get(`x-fal-webhook-${name}`)?.trim() ?? "";
  const requestId = header("request-id");
  const userId = header("user-id");
  const timestamp = header("timestamp");
  const signature = header("signature");
  if (!FAL_REQUEST_ID.test(requestId) || !/^\d{1,12}$/.test(timestamp)) {
    throw rejected("missing or malformed X-Fal-Webhook-Request-Id or -Timestamp");
  }
  if (!/^[0-9a-f]{128}$/i.test(signature)) throw rejected("signature is not 64 bytes of hex");
  if (Math.abs(ctx.now() / 1000 - Number(timestamp)) > WEBHOOK_TOLERANCE_SECONDS) {
    throw rejected("timestamp outside the five-minute window");
  }

  const body = new Uint8Array(await request.arrayBuffer());
  const message = new TextEncoder().encode(
    `${requestId}\n${userId}\n${timestamp}\n${await sha256Hex(body)}`,
  );
  const signatureBytes = hexBytes(signature);
  const cache = ctx.jwksCache ?? sharedCache;
  let { keys, fresh } = await cache.keys(ctx);
  let valid = await verifiesWithAny(keys, signatureBytes, message);
  if (!valid && !fresh) {
    ({ keys, fresh } = await cache.keys(ctx, true));
    if (fresh) valid = await verifiesWithAny(keys, signatureBytes, message);
  }
  if (!valid) throw rejected("signature does not match any fal key");
  // Checked after the signature, so the user id compared is one fal really signed.
  if (userId !== ctx.account) {
    throw rejected(`signed for fal account ${JSON.stringify(userId.slice(0, 128))}, not ours`);
  }

  return {
    deliveryId: `${requestId}.${timestamp}`,
    upstreamId: bodyRequestId(body) ?? requestId,
  };
}

async function verifiesWithAny(
  keys: CryptoKey[],
  signature: Uint8Array,
  message: Uint8Array,
): Promise<boolean> {
  for (const key of keys) {
    if (await crypto.subtle.verify({ name: "Ed25519" }, key, signature, message)) return true;
  }
  return false;
}

/** The body is verified by now; only its `request_id` is read, and only if it looks like one. */
function bodyRequestId(body: Uint8Array): string | null {
  try {
    const id = (JSON.parse(new TextDecoder().decode(body)) as { request_id?: unknown }).request_id;
    return typeof id === "string" && FAL_REQUEST_ID.test(id) ? id : null;
  } catch {
    return null;
  }
}

async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
}

function hexBytes(hex: string): Uint8Array {
  return Uint8Array.from(hex.match(/../g)!, (pair) => Number.parseInt(pair, 16));
}

function rejected(reason: string): ProviderError {
  return new ProviderError("input_rejected", "The webhook could not be verified.", reason);
}
