/**
 * `POST /webhooks/{route_id}`: a provider says one of the jobs this route started changed.
 *
 * - The path names the route, so each route verifies with its own adapter and secret (two
 *   Replicate routes with different signing secrets both work), and a delivery can only concern
 *   jobs that route started: the job is looked up by (route, upstream id).
 * - The delivery is verified on the raw body before anything is parsed; then it is only a hint —
 *   the job is re-read from the provider, never trusted from the payload.
 * - Each delivery is acted on once: the spend ledger Durable Object claims its id atomically, so
 *   two copies sent together cannot both get through.
 * - A delivery for a job we do not know (never ours, deleted, expired) is acknowledged with no
 *   effect, so providers stop retrying. One whose re-read fails gives its claim back and answers
 *   503, so the provider's retry is acted on — polling would catch up too, but a job nobody
 *   polls has only the webhook.
 */
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { Context } from "hono";
import type { Route } from "../config";
import type { AppEnv } from "../context";
import { ApiError, notFound } from "../errors";
import { ledgerFor } from "../ledger/budget";
import { log } from "../log";
import { limitBody } from "../middleware/limits";
import { ProviderError } from "../providers/errors";
import type { WebhookEvent } from "../providers/types";
import { isTerminal } from "../store/refresh";
import { errorResponses } from "./openapi-helpers";
import { jobStore, providerFor, refreshOutcome } from "./shared";

type C = Context<AppEnv>;

const RouteParam = z.object({
  route_id: z
    .string()
    .openapi({ param: { name: "route_id", in: "path" }, example: "veo-replicate" }),
});

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/webhooks/{route_id}",
    summary: "Receive a provider's signed notification about a job this route started",
    request: { params: RouteParam },
    responses: {
      200: { description: "Verified and acted on (or a replay, acknowledged without effect)" },
      ...errorResponses(401, 404, 413, 503),
    },
  });
  app.post("/webhooks/:route_id", limitBody({ bytes: 256 * 1024 }), async (c) => {
    const routeId = c.req.param("route_id");
    const route = c.var.config.routes.find((r) => r.id === routeId);
    const provider = route && providerFor(c, route);
    if (!route || !provider?.verifyWebhook) throw notFound("webhook receiver", "route_id");

    let event: WebhookEvent;
    try {
      event = await provider.verifyWebhook(c.req.raw);
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      log("warn", "webhook_rejected", { route: route.id, detail: error.detail });
      throw new ApiError(401, "The webhook signature is invalid or too old.", {
        code: "invalid_signature",
      });
    }

    const ledger = ledgerFor(c.env);
    const claimed = await ledger
      .claimDelivery(route.id, event.deliveryId, c.var.deps.now())
      .catch((error: unknown) => {
        throw unavailable("webhook_ledger_unavailable", error);
      });
    if (!claimed) return c.json({ received: true, duplicate: true }, 200);

    const acted = await act(c, route, event).catch(async (error: unknown) => {
      await ledger.releaseDelivery(route.id, event.deliveryId).catch(() => false);
      throw error;
    });
    if (!acted) {
      await ledger.releaseDelivery(route.id, event.deliveryId).catch(() => false);
      throw unavailable("webhook_refresh_failed");
    }
    return c.json({ received: true }, 200);
  });
}

/** Re-reads the job the delivery is about, if it is one this route started; false if unreachable. */
async function act(c: C, route: Route, event: WebhookEvent): Promise<boolean> {
  const store = jobStore(c);
  const videoId = await store.videoIdForUpstream(route.id, event.upstreamId);
  const record = videoId ? await store.get(videoId) : null;
  // The index is per route already; the record's own route is checked as well, so an entry
  // written under another scheme can never let one route's delivery move another's job.
  const ours = record && record.route === route.id && record.upstream_id === event.upstreamId;
  if (!ours || isTerminal(record)) {
    log("info", "webhook_received", { route: route.id, video_id: ours ? record.id : null });
    return true;
  }
  const { reached } = await refreshOutcome(c, record, true);
  log(reached ? "info" : "warn", "webhook_received", {
    route: route.id,
    video_id: record.id,
    status: reached ? "refreshed" : "provider_unreachable",
  });
  return reached;
}

function unavailable(event: string, error?: unknown): ApiError {
  if (error !== undefined) log("error", event, { error: String(error) });
  return new ApiError(503, "The notification could not be processed now; send it again later.", {
    type: "server_error",
    code: "temporarily_unavailable",
    headers: { "retry-after": "30" },
  });
}
