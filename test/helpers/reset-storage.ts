/** Setup file: every test starts with empty storage, so no test depends on another's data. */
import { reset } from "cloudflare:test";
import { beforeEach } from "vitest";

beforeEach(async () => {
  await reset();
});
