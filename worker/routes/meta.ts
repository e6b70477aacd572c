/** `GET /healthz` and `GET /openapi.json` (generated from the same zod schemas that validate). */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { HealthSchema } from "../api/schemas";
import type { AppEnv } from "../context";
import { jsonContent } from "./openapi-helpers";

export const API_VERSION = "0.1.0";

export function registerMetaRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/healthz",
      summary: "Liveness and configuration check",
      responses: {
        200: jsonContent(HealthSchema, "The worker is up and its configuration is valid"),
      },
    }),
    (c) => c.json({ ok: true as const }, 200),
  );

  app.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A server key (sk_…) or a visitor token from POST /v1/sessions.",
  });

  app.get("/openapi.json", (c) => {
    const document = app.getOpenAPI31Document({
      openapi: "3.1.0",
      info: {
        title: "Stillmotion API",
        version: API_VERSION,
        description:
          "OpenAI-Videos-compatible image-to-video API with sessions, ownership and limits.",
      },
      servers: [{ url: new URL(c.req.url).origin }],
    });
    c.header("cache-control", "public, max-age=300");
    return c.json(document);
  });
}
