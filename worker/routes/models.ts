/**
 * `GET /v1/models` and `GET /v1/models/{model}`: the configured routes and what each accepts
 * (public: the widget reads it). One route is the same object as its list entry, so
 * `client.models.retrieve(id)` of either SDK sees what `list()` showed.
 */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import { ModelListSchema, ModelSchema } from "../api/schemas";
import type { Route } from "../config";
import type { AppEnv } from "../context";
import { ApiError } from "../errors";
import { perSecondUsd } from "../ledger/budget";
import { errorResponses, jsonContent } from "./openapi-helpers";

/** How long clients and caches may keep the answer: routes change only with a deploy. */
const CACHE = "public, max-age=60";

export function registerModelRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/models",
      summary: "List the models (routes) this worker offers",
      responses: { 200: jsonContent(ModelListSchema, "Configured model routes") },
    }),
    (c) => {
      c.header("cache-control", CACHE);
      return c.json({ object: "list" as const, data: c.var.config.routes.map(modelOf) }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/models/{model}",
      summary: "Retrieve one model (route)",
      request: { params: z.object({ model: z.string().openapi({ example: "sim-standard" }) }) },
      responses: { 200: jsonContent(ModelSchema, "The model route"), ...errorResponses(404) },
    }),
    (c) => {
      const id = c.req.valid("param").model;
      const route = c.var.config.routes.find((r) => r.id === id);
      if (!route) {
        // OpenAI's answer for an unknown model; the id is quoted only when it is one of ours
        // in shape, so the message cannot carry arbitrary text back.
        const named = /^[a-z0-9][a-z0-9._-]{0,63}$/.test(id) ? `'${id}' ` : "";
        throw new ApiError(404, `The model ${named}does not exist. GET /v1/models lists them.`, {
          param: "model",
          code: "model_not_found",
        });
      }
      c.header("cache-control", CACHE);
      return c.json(modelOf(route), 200);
    },
  );
}

function modelOf(route: Route) {
  return {
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
    // Each with its resolved price, so a client can show what an extension or edit costs.
    extend: route.extend
      ? { ...route.extend, price_per_second_usd: perSecondUsd(route, "extension") }
      : null,
    edit: route.edit ? { ...route.edit, price_per_second_usd: perSecondUsd(route, "edit") } : null,
    audio: route.audio,
    price_per_second_usd: route.price_per_second_usd,
    prompt_max_chars: route.prompt_max_chars,
  };
}
