/**
 * The baseline of bench/stream-workerd.bench.ts: a bare Hono worker that answers a download with
 * `return fetch(upstream)` — the runtime's own streaming, with nothing of ours on the path.
 */
import { Hono } from "hono";

const app = new Hono<{ Bindings: { UPSTREAM: string } }>();
app.get("/v1/videos/:id/content", (c) =>
  fetch(`${c.env.UPSTREAM}/v1/videos/${c.req.param("id")}/content?variant=video`),
);
export default app;
