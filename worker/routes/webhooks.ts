/**
 * `POST /webhooks/{provider}`: a provider says one of its jobs changed. The delivery is verified
 * by the provider's adapter on the raw body before anything is parsed; then it is only a hint —
 * the job is re-read from the provider (never trusted from the payload) and stored if it changed.
 * Replays within ten minutes and deliveries for unknown or deleted jobs are acknowledged with no
 * effect, so providers stop retrying.
 */
import { z, type OpenAPIHono } from "@hono/zod-openapi";
import type { AppEnv } from "../context";
import { ApiError, notFound } from "../errors";
import { log } from "../log";
import { limitBody } from "../middleware/limits";
import { ProviderError } from "../providers/errors";
import type { WebhookEvent } from "../providers/types";
import { isTerminal } from "../store/refresh";
import { errorResponses } from "./openapi-helpers";
import { jobStore, providerFor, refreshed } from "./shared";

const ProviderParam = z.object({
  provider: z.string().openapi({ param: { name: "provider", in: "path" }, example: "replicate" }),
});

export function registerWebhookRoutes(app: OpenAPIHono<AppEnv>): void {
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/webhooks/{provider}",
    summary: "Receive a provider's signed job notification",
    request: { params: ProviderParam },
    responses: {
      200: { description: "Verified and recorded (or a replay, acknowledged without effect)" },
      ...errorResponses(401, 404, 413),
    },
  });
  app.post("/webhooks/:provider", limitBody(256 * 1024), async (c) => {
    const kind = c.req.param("provider");
    const route = c.var.config.routes.find((r) => r.provider.type === kind);
    const provider = route && providerFor(c, route);
    if (!provider?.verifyWebhook) throw notFound("webhook receiver", "provider");

    let event: WebhookEvent;
    try {
      event = await provider.verifyWebhook(c.req.raw);
    } catch (error) {
      if (!(error instanceof ProviderError)) throw error;
      log("warn", "webhook_rejected", { provider: kind, detail: error.detail });
      throw new ApiError(401, "The webhook signature is invalid or too old.", {
        code: "invalid_signature",
      });
    }

    const store = jobStore(c);
    if (!(await store.firstDelivery(kind, event.deliveryId))) {
      return c.json({ received: true, duplicate: true }, 200);
    }
    const videoId = await store.videoIdForUpstream(kind, event.upstreamId);
    const record = videoId ? await store.get(videoId) : null;
    if (record && !isTerminal(record)) await refreshed(c, record, true);
    log("info", "webhook_received", { provider: kind, video_id: record?.id ?? null });
    return c.json({ received: true }, 200);
  });
}
