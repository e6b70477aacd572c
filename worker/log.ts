/**
 * Structured logs: one JSON object per line, so Workers Logs can filter by field. Callers pass
 * only what is safe to keep: ids, routes, kinds and amounts — never keys, tokens or prompts.
 */
export type LogLevel = "debug" | "info" | "warn" | "error";

export function log(level: LogLevel, event: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({ level, event, ...fields });
  if (level === "error") console.error(line);
  else if (level === "warn") console.warn(line);
  else console.log(line);
}
