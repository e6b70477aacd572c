/**
 * `Idempotency-Key` on create and remix: the header's rules and the hash that tells "the same
 * request again" from "another request under the same key". The key itself lives in the ledger,
 * scoped to the caller, for 24 hours.
 */
import { invalidRequest } from "../errors";

/** 1–255 visible ASCII characters: what Stripe and the OpenAI SDK (`stainless-node-retry-<uuid>`) send. */
const KEY = /^[\x21-\x7e]{1,255}$/;

/** The request's key, or undefined when it sent none. */
export function readIdempotencyKey(header: string | undefined): string | undefined {
  if (header === undefined) return undefined;
  if (!KEY.test(header)) {
    throw invalidRequest(
      "Idempotency-Key must be 1–255 visible ASCII characters (a UUID is a good choice).",
      null,
      "invalid_idempotency_key",
    );
  }
  return header;
}

/** What makes two creates "the same request": every field that changes the job. */
export interface RequestFingerprint {
  /** `create`, or `remix:<source video id>`. */
  endpoint: string;
  model: string;
  prompt: string;
  size: string;
  seconds: string;
  audio?: boolean;
  image?: Uint8Array;
}

/**
 * SHA-256 over the fields in a fixed order, with the image as its own SHA-256: multipart and
 * JSON bodies carrying the same bytes hash alike, and nothing of the request is stored.
 */
export async function requestHash(request: RequestFingerprint): Promise<string> {
  const image = request.image ? hex(await sha256(request.image)) : null;
  const canonical = JSON.stringify([
    request.endpoint,
    request.model,
    request.prompt,
    request.size,
    request.seconds,
    request.audio ?? null,
    image,
  ]);
  return hex(await sha256(new TextEncoder().encode(canonical)));
}

const sha256 = (bytes: Uint8Array) => crypto.subtle.digest("SHA-256", bytes);

function hex(buffer: ArrayBuffer): string {
  return Array.from(new Uint8Array(buffer), (b) => b.toString(16).padStart(2, "0")).join("");
}
