/**
 * For adapter tests: awaits a rejection, insists it is a ProviderError, and that none of the
 * given secrets (or markers inside them) appears in its message, public message, detail, stack
 * or JSON form — an error is the likeliest way for a key to leak into a response or a log.
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
