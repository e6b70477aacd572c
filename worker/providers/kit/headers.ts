/**
 * Request headers every adapter builds the same way: the one credential header (refused before
 * anything is sent when the secret is missing or would not survive `Headers`), and the client's
 * Range, forwarded only in the one form worth forwarding.
 */
import { ProviderError } from "../errors";

/** Visible ASCII only: anything else would make `Headers` throw, possibly quoting the value. */
const HEADER_SAFE = /^[\x21-\x7e]+$/;
/** A single byte range; other forms are ignored (RFC 9110 §14.2). */
const BYTE_RANGE = /^bytes=\d*-\d*$/;

/**
 * `{[name]: prefix + key}`, e.g. `credentialHeader("authorization", "Bearer ", key, "FAL_KEY")`.
 * A missing or unusable key is an operator problem: `misconfigured`, naming the setting (never
 * the value).
 */
export function credentialHeader(
  name: string,
  prefix: string,
  key: string,
  secretName: string,
): Record<string, string> {
  if (!HEADER_SAFE.test(key)) {
    throw new ProviderError(
      "misconfigured",
      "The video provider is not configured.",
      `secret ${secretName} is missing or not a valid header value`,
    );
  }
  return { [name]: `${prefix}${key}` };
}

/** `{range}` when the client asked for one plain byte range, else nothing. */
export function forwardedRange(range: string | null | undefined): Record<string, string> {
  const value = range?.trim();
  return value && BYTE_RANGE.test(value) ? { range: value } : {};
}
