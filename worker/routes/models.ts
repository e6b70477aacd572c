/** `GET /v1/models`: the configured routes and what each accepts (public: the widget reads it). */
import { createRoute, type OpenAPIHono } from "@hono/zod-openapi";
import { ModelListSchema } from "../api/schemas";
import type { AppEnv } from "../context";
import { jsonContent } from "./openapi-helpers";

export function registerModelRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/models",
      summary: "List the models (routes) this worker offers",
      responses: { 200: jsonContent(ModelListSchema, "Configured model routes") },
    }),
    (c) => {
      const data = c.var.config.routes.map((route) => ({
        id: route.id,
        object: "model" as const,
        created: 0,
        owned_by: route.provider.type,
        label: route.label,
        simulated: route.provider.type === "simulator",
        sizes: route.sizes,
        default_size: route.default_size,
        seconds: route.seconds,
        default_seconds: route.default_seconds,
        input_image: route.input_image,
        remix: route.remix,
        audio: route.audio,
        price_per_second_usd: route.price_per_second_usd,
        prompt_max_chars: route.prompt_max_chars,
      }));
      c.header("cache-control", "public, max-age=60");
      return c.json({ object: "list" as const, data }, 200);
    },
  );
}
