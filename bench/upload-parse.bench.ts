/**
 * What reading an upload costs: the same 7 MB image sent as multipart (`input_reference` file)
 * and as JSON (`input_reference.image_url` as a base64 data: URL), from the request body to the
 * image's bytes, through the platform's own parsers and the worker's reader, in Node (Node 24 has
 * no `Uint8Array.fromBase64`, so the decoder falls back to `atob`; upload-parse-workerd.bench.ts
 * measures the runtime that matters). Multipart is the baseline; the previous decoder (a
 * per-character callback) is measured too, for the ratio the review reported (~10×).
 *
 *   npm run bench            # results: docs/benchmarks.md
 */
import { test } from "vitest";
import { decodeDataUrl, parseJsonWithDataUrl } from "../worker/media/data-url";

const SIZE = 7 * 1024 * 1024;
const image = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) image[i] = (i * 2654435761) >>> 24;

function base64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

const form = new FormData();
form.set("prompt", "a slow dolly in");
form.set("input_reference", new Blob([image], { type: "image/png" }), "photo.png");
const multipart = new Response(form);
const multipartType = multipart.headers.get("content-type")!;
const multipartBody = new Uint8Array(await multipart.arrayBuffer());
const json = JSON.stringify({
  prompt: "a slow dolly in",
  input_reference: { image_url: `data:image/png;base64,${base64(image)}` },
});

const post = (body: BodyInit, type: string) =>
  new Request("https://bench.test/v1/videos", {
    method: "POST",
    headers: { "content-type": type },
    body,
  });

async function viaMultipart(): Promise<number> {
  const data = await post(multipartBody, multipartType).formData();
  const file = data.get("input_reference") as File;
  return new Uint8Array(await file.arrayBuffer()).byteLength;
}

/** As worker/api/create-input.ts reads it: the data: URL lifted out of the text, then decoded. */
async function viaJson(): Promise<number> {
  const text = await post(json, "application/json").text();
  const lifted = parseJsonWithDataUrl(text, ["input_reference", "image_url"]);
  if (!lifted) throw new Error("the data: URL was not lifted");
  return lifted.bytes.byteLength;
}

/** The worker's decoder after the whole body has gone through JSON.parse. */
async function viaJsonParse(): Promise<number> {
  const body = (await post(json, "application/json").json()) as {
    input_reference: { image_url: string };
  };
  const decoded = decodeDataUrl(body.input_reference.image_url);
  if (!decoded.ok) throw new Error(decoded.reason);
  return decoded.bytes.byteLength;
}

/** The decoder before this change: a regex over the whole URL, then one callback per byte. */
async function viaJsonBefore(): Promise<number> {
  const body = (await post(json, "application/json").json()) as {
    input_reference: { image_url: string };
  };
  const match = /^data:[\w.+-]+\/[\w.+-]+;base64,([A-Za-z0-9+/=\s]+)$/.exec(
    body.input_reference.image_url,
  )!;
  return Uint8Array.from(atob(match[1]!.replace(/\s/g, "")), (ch) => ch.charCodeAt(0)).byteLength;
}

test("reading a 7 MB upload: multipart vs JSON data: URL", async ({ bench }) => {
  for (const read of [viaMultipart, viaJson, viaJsonParse, viaJsonBefore]) {
    if ((await read()) !== SIZE) throw new Error(`${read.name} read the wrong number of bytes`);
  }
  await bench.compare(
    bench("multipart (baseline)", viaMultipart),
    bench("JSON data: URL, worker reader", viaJson),
    bench("JSON data: URL, JSON.parse first", viaJsonParse),
    bench("JSON data: URL, previous decoder", viaJsonBefore),
  );
}, 180_000);
