/**
 * The baseline of bench/poll-workerd.bench.ts: a bare Hono worker answering a fixed JSON body,
 * the same bytes a poll of the subject returns (set once with `PUT /body` before timing). What
 * the platform and the framework cost, with nothing of ours on the path.
 */
import { Hono } from "hono";

let body = "{}";
const app = new Hono();
app.put("/body", async (c) => {
  body = await c.req.text();
  return c.text("ok");
});
app.get("/v1/videos/:id", (c) => c.body(body, 200, { "content-type": "application/json" }));
export default app;
