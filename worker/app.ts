/**
 * Assembles the worker: middleware in the order requests need it, then the route groups.
 * Everything that touches the outside world arrives through `deps`, so tests build the same app
 * with a fake upstream and a fake clock.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { requestId } from "hono/request-id";
import { secureHeaders } from "hono/secure-headers";
import { issueToError } from "./api/validate";
import type { AppEnv, Deps } from "./context";
import { ApiError, envelope, onError } from "./errors";
import { withConfig } from "./middleware/config";
import { siteCors } from "./middleware/cors";
import { registerAssetRoutes } from "./routes/assets";
import { registerCharacterRoutes } from "./routes/characters";
import { registerContentRoute } from "./routes/content";
import { registerDeriveRoutes } from "./routes/derive";
import { registerFileRoutes } from "./routes/files";
import { registerMetaRoutes } from "./routes/meta";
import { registerModelRoutes } from "./routes/models";
import { registerSessionRoutes } from "./routes/sessions";
import { registerVideoRoutes } from "./routes/videos";
import { registerWebhookRoutes } from "./routes/webhooks";

export function createApp(deps: Deps): OpenAPIHono<AppEnv> {
  const app = new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (!result.success) throw issueToError(result.error.issues);
    },
  });

  app.use(requestId({ headerName: "x-request-id", generator: () => crypto.randomUUID() }));
  // A handler that returns its own Response (static files, the demo page) bypasses the header
  // the middleware above sets on the context: every answer must be traceable in the logs.
  app.use(async function everyResponseTraced(c, next) {
    await next();
    if (c.res.headers.has("x-request-id")) return;
    const traced = new Response(c.res.body, c.res);
    traced.headers.set("x-request-id", c.var.requestId);
    c.res = traced;
  });
  // CORP is left to routes: media must load cross-origin into <video>, everything else not.
  app.use(secureHeaders({ crossOriginResourcePolicy: false, xFrameOptions: "DENY" }));
  app.use(async function sameOriginByDefault(c, next) {
    await next();
    if (!c.res.headers.has("cross-origin-resource-policy")) {
      c.res.headers.set("cross-origin-resource-policy", "same-origin");
    }
  });
  app.use(withConfig(deps));
  app.use("/v1/*", siteCors());

  registerMetaRoutes(app);
  registerModelRoutes(app);
  registerSessionRoutes(app);
  registerContentRoute(app);
  registerCharacterRoutes(app); // before /v1/videos/{id}: "characters" is not a video id
  registerDeriveRoutes(app); // likewise "extensions" and "edits"
  registerVideoRoutes(app);
  registerWebhookRoutes(app);
  registerFileRoutes(app);
  registerAssetRoutes(app); // last: everything the API does not answer

  app.notFound((c) => {
    const error = new ApiError(
      404,
      `There is no ${c.req.method} ${new URL(c.req.url).pathname} endpoint.`,
      {
        code: "unknown_endpoint",
      },
    );
    return c.json(envelope(error), 404);
  });
  app.onError(onError);
  return app;
}
