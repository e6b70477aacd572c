/**
 * Setup file for worker tests: no test may reach the network. Any call to the global `fetch`
 * that a test did not replace with a contract fake is recorded, rejected, and fails the test
 * that made it (even when the code under test swallowed the rejection).
 */
import { afterEach } from "vitest";

const unmatched: string[] = [];

globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const request = new Request(input, init);
  unmatched.push(`${request.method} ${request.url}`);
  throw new Error(`Unmatched outbound request in a test: ${request.method} ${request.url}`);
};

afterEach(() => {
  if (unmatched.length > 0) {
    const list = unmatched.splice(0).join(", ");
    throw new Error(`The test made outbound requests that no fake handled: ${list}`);
  }
});
