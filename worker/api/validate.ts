/**
 * zod → OpenAI envelope: the first issue becomes one 400 whose `param` names the field.
 * Used by the OpenAPI validation hook and by handlers that parse bodies themselves.
 */
import type { z } from "zod";
import { invalidRequest } from "../errors";

export function issueToError(issues: readonly z.core.$ZodIssue[]) {
  const issue = issues[0];
  const param = issue && issue.path.length > 0 ? issue.path.map(String).join(".") : null;
  const message = issue?.message ?? "The request is invalid.";
  // zod's defaults ("Invalid input: expected string…") name no field; say which one.
  return invalidRequest(
    param && !message.includes(param) ? `${param}: ${message}` : message,
    param,
  );
}

export function parseWith<T>(schema: z.ZodType<T>, value: unknown): T {
  const result = schema.safeParse(value);
  if (!result.success) throw issueToError(result.error.issues);
  return result.data;
}
