/**
 * The worker that bench/upload-parse-workerd.bench.ts runs in workerd: the upload pipeline of
 * `POST /v1/videos` and nothing else, so the client's clock times reading an upload, not auth,
 * KV or a provider. Under `/deployed` the body is counted first (worker/middleware/limits.ts,
 * at the default 10 MB limit) as in the app; under `/reader` it goes straight to the reader.
 * Every route answers with the image's byte count, which the bench checks.
 *
 * JavaScript, not TypeScript: tsconfig.node.json checks bench/ against Node's types, under which
 * the worker's own modules do not type-check; tsconfig.json checks those.
 */
import { Hono } from "hono";
import { readCreateInput } from "../worker/api/create-input";
import { onError } from "../worker/errors";
import { decodeDataUrl } from "../worker/media/data-url";
import { limitBody } from "../worker/middleware/limits";

/** The default MAX_UPLOAD_BYTES (worker/config.ts), which the JSON of a 7 MB image fits. */
const MAX_UPLOAD_BYTES = 10 * 1024 * 1024;

const app = new Hono();
app.onError(onError);
app.use("/deployed/*", limitBody({ bytes: MAX_UPLOAD_BYTES }));

for (const prefix of ["/deployed", "/reader"]) {
  /** The worker's reader, multipart and JSON alike (worker/api/create-input.ts). */
  app.post(`${prefix}/read`, async (c) => {
    const { image } = await readCreateInput(c);
    return c.text(String(image?.byteLength ?? 0));
  });

  /** The worker's decoder without the lifting: the whole body through JSON.parse first. */
  app.post(`${prefix}/read-json-parse`, async (c) => {
    const body = await c.req.json();
    const decoded = decodeDataUrl(body.input_reference.image_url);
    return c.text(String(decoded.ok ? decoded.bytes.byteLength : 0));
  });

  app.post(`${prefix}/read-json-previous`, async (c) => {
    const body = await c.req.json();
    return c.text(String(previousDecode(body.input_reference.image_url).byteLength));
  });

  /** The floor: the body's bytes, read and dropped. */
  app.post(`${prefix}/receive`, async (c) =>
    c.text(String((await c.req.arrayBuffer()).byteLength)),
  );
}

/**
 * The JSON reader before 2026-12-07, after `c.req.json()`: worker/media/data-url.ts as it was
 * (a RegExp on the header, then `Uint8Array.fromBase64`), errors left out.
 */
function previousDecode(url) {
  const comma = url.indexOf(",");
  if (!/^data:[\w.+-]+\/[\w.+-]+;base64,$/.test(url.slice(0, comma + 1))) return new Uint8Array();
  return Uint8Array.fromBase64(url.slice(comma + 1));
}

export default app;
