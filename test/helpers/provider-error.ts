/**
 * For adapter tests: awaits a rejection, insists it is a ProviderError, and that none of the
 * given secrets (or markers inside them) appears in its message, public message, detail, stack
 * or JSON form — an error is the likeliest way for a key to leak into a response or a log.
 * `keySlices` / `leakedSlices` check the stricter rule worker/redact.ts promises: not even four
 * characters of a key beyond its kind prefix.
 */
import { expect } from "vitest";
import { ProviderError } from "../../worker/providers/errors";

export async function expectProviderError(
  promise: Promise<unknown>,
  ...secrets: string[]
): Promise<ProviderError> {
  const error = await promise.then(
    () => expect.fail("expected a rejection"),
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ProviderError);
  const e = error as ProviderError;
  for (const text of [
    e.message,
    e.publicMessage,
    e.detail ?? "",
    e.stack ?? "",
    JSON.stringify(e),
  ]) {
    for (const secret of secrets) expect(text).not.toContain(secret);
  }
  return e;
}

/**
 * The prefixes that only say what kind a key is, longest first: worker/redact.ts publishes the
 * same list (KNOWN_PREFIXES) and lets these through. Kept apart on purpose: a test must not share
 * the code it checks.
 */
const KEY_PREFIXES = [
  "sk-or-v1-",
  "sk-proj-",
  "sk-svcacct-",
  "sk-admin-",
  "sk-ant-",
  "sk-",
  "r8_",
  "key_",
  "whsec_",
  "AIza",
];

/** Every lowercased 4-character slice of a secret beyond its kind prefix: none may leak. */
export function keySlices(secret: string): string[] {
  const prefix = KEY_PREFIXES.find((p) => secret.startsWith(p) && secret.length > p.length) ?? "";
  const body = secret.slice(prefix.length).toLowerCase();
  return Array.from({ length: Math.max(0, body.length - 3) }, (_, i) => body.slice(i, i + 4));
}

/** The slices of `secrets` found in `texts` (case-insensitively): `[]` when nothing leaked. */
export function leakedSlices(texts: readonly string[], secrets: readonly string[]): string[] {
  const haystack = texts.join("\n").toLowerCase();
  return secrets.flatMap(keySlices).filter((slice) => haystack.includes(slice));
}
