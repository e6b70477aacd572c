/** The spend ledger as tests see it: the same Durable Object instance the worker uses. */
import { env } from "cloudflare:workers";

export const ledger = () => env.LEDGER.get(env.LEDGER.idFromName("global"));

/** The UTC day's usage (at `nowMs`) as `{ "<scope key>": { microUsd, count } }`. */
export async function usageOn(nowMs: number) {
  const rows = await ledger().usage(nowMs);
  return Object.fromEntries(rows.map((r) => [r.scope, { microUsd: r.microUsd, count: r.count }]));
}

/** The reservation a stored job holds (read from its KV record). */
export async function reservationOf(videoId: string) {
  const record = await env.JOBS.get<{ reservation_id?: string }>(`v1:job:${videoId}`, "json");
  if (!record?.reservation_id) throw new Error(`job ${videoId} has no reservation`);
  return ledger().reservation(record.reservation_id);
}

/**
 * Replaces the create burst brakes (Rate Limiting bindings) with ones that always allow, for
 * tests where the ledger alone must decide; the brakes are tested in rate-limits.test.ts.
 */
export function withoutBrakes(h: { env: object }): void {
  const allow = { limit: async () => ({ success: true }) };
  for (const name of Object.keys(h.env)) {
    if (name.startsWith("CREATES_PER_")) Object.assign(h.env, { [name]: allow });
  }
}
