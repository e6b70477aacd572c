/**
 * The cap check itself, free of storage: given what each scope has used today, the first cap a
 * reservation would pass — the kill switch first, then from the widest scope down.
 */
import type { z } from "zod";
import type { BudgetRefusal, reserveInput } from "./schema";
import { nextUtcMidnight, type UsageKey } from "./sql";

export type Used = {
  micro_usd: number;
  count: number;
};

export function firstRefusal(
  request: z.output<typeof reserveInput>,
  keys: UsageKey[],
  usedBy: (key: string) => Used,
): BudgetRefusal | null {
  const { amountMicroUsd: amount, caps } = request;
  const resetsAt = nextUtcMidnight(request.now);
  const refused = (scope: BudgetRefusal["scope"], limit: "money" | "count", cap: number) =>
    ({ ok: false, reason: "budget_exceeded", scope, limit, cap, resetsAt }) as const;

  // Free routes spend nothing: neither the kill switch nor money caps stop them, counts do.
  if (amount > 0 && caps.killSwitch)
    return { ...refused("kill_switch", "money", 0), resetsAt: null };
  for (const { scope, key } of keys) {
    const cap = caps[scope];
    if (!cap) continue;
    const used = usedBy(key);
    if (amount > 0 && cap.microUsd !== undefined && used.micro_usd + amount > cap.microUsd) {
      return refused(scope, "money", cap.microUsd);
    }
    if (cap.count !== undefined && used.count + 1 > cap.count) {
      return refused(scope, "count", cap.count);
    }
  }
  return null;
}
