/** Shorthands for OpenAPI response declarations, so route definitions stay readable. */
import type { z } from "@hono/zod-openapi";
import { ErrorSchema } from "../api/schemas";

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: "Invalid field, unknown model, or image type/size mismatch",
  401: "Missing, malformed or expired token",
  403: "Origin not allowed for this site key",
  404: "Unknown id, or a job owned by someone else",
  409: "Idempotency key reused with a different body",
  413: "Upload larger than the configured limit",
  429: "Rate limit or quota (Retry-After set)",
  500: "Worker failure or configuration error",
  502: "Provider failure",
  503: "Provider or storage unavailable (Retry-After set)",
  504: "Provider timeout",
};

export function errorResponses(...statuses: number[]) {
  return Object.fromEntries(
    statuses.map((status) => [
      status,
      jsonContent(ErrorSchema, ERROR_DESCRIPTIONS[status] ?? "Error"),
    ]),
  );
}
