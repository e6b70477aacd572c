/**
 * Structured logs: one JSON object per line, so Workers Logs can filter by field. Callers pass
 * only what is safe to keep: ids, routes, kinds and amounts — never keys, tokens or prompts.
 *
 * As a second line of defence, every field that may carry text from elsewhere (`detail`,
 * `error`, anything not listed below) passes the one redaction rule (worker/redact.ts), so a
 * secret an upstream quoted is masked here too. Deny by default: only fields whose values our
 * own code makes (ids, names from the configuration, numbers) are written as they are. The same
 * fields are also stripped of any prompt they quote (worker/log-prompts.ts).
 */
import { maskPrompts } from "./log-prompts";
import { redactRegistered } from "./redact";

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Fields whose values are ours: ids we minted, names from the configuration, enums. */
const OWN_FIELDS = new Set([
  "request_id",
  "video_id",
  "remixed_from",
  "owner",
  "route",
  "site",
  "provider",
  "kind",
  "step",
  "what",
  "status",
  "size",
  "seconds",
  "scope",
]);

export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const safe: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(fields)) {
    safe[name] = OWN_FIELDS.has(name) ? value : masked(redactRegistered(value));
  }
  const line = JSON.stringify({ level, event, ...safe });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}

/** Every string inside `value` (objects and arrays walked) with quoted prompts masked. */
function masked(value: unknown, depth = 0): unknown {
  if (typeof value === "string") return maskPrompts(value);
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => masked(v, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, masked(v, depth + 1)]));
}
