/**
 * `POST /v1/videos/characters` and `GET /v1/videos/characters/{id}`: OpenAI's reusable
 * characters (a subject made from an uploaded video, then cast in later videos). No provider
 * behind any route can take one (docs/decisions/0017-characters.md), so both answer a typed 400
 * that says so — not a 404, which the SDKs would read as "this id does not exist" — after the
 * caller is authenticated like any other call. The upload is never read.
 */
import { createRoute, z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { invalidRequest } from "../errors";
import { requireAuth } from "../middleware/auth";
import { errorResponses } from "./openapi-helpers";

const unsupported = () =>
  invalidRequest(
    "Characters are not supported: none of this service's models can reuse a character. Describe the subject in the prompt, or pass its photo as input_reference.",
    null,
    "characters_unsupported",
  );

export function registerCharacterRoutes(app: OpenAPIHono<AppEnv>): void {
  app.use("/v1/videos/characters", requireAuth());
  app.use("/v1/videos/characters/*", requireAuth());

  app.openapi(
    createRoute({
      method: "post",
      path: "/v1/videos/characters",
      summary: "Create a character (not supported: always 400 characters_unsupported)",
      security: [{ bearer: [] }],
      responses: { ...errorResponses(400, 401) },
    }),
    () => {
      throw unsupported();
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/v1/videos/characters/{character_id}",
      summary: "Fetch a character (not supported: always 400 characters_unsupported)",
      security: [{ bearer: [] }],
      request: { params: z.object({ character_id: z.string() }) },
      responses: { ...errorResponses(400, 401) },
    }),
    () => {
      throw unsupported();
    },
  );
}
