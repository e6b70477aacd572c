/**
 * JSON creates whose data: URL is unusual JSON: every body here must get what it got when the
 * whole body went through JSON.parse (worker/api/create-input.ts, worker/media/data-url.ts).
 */
import { describe, expect, it } from "vitest";
import { harness } from "../../helpers/harness";
import { images } from "../../helpers/requests";

const b64 = btoa(String.fromCharCode(...images.portraitWebp));
const url = `data:image/webp;base64,${b64}`;

const postText = (body: string): RequestInit => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body,
});

async function errorOf(response: Response) {
  const body = (await response.json()) as {
    error: { message: string; param: string | null; code: string | null };
  };
  return { status: response.status, ...body.error };
}

describe("POST /v1/videos with a JSON data: URL", () => {
  it("holds slashes and letters for the escapes to matter", () => {
    expect(b64).toContain("/");
    expect(b64).toContain("A");
  });

  it("accepts the data: URL with JSON escapes in it: \\/ and \\u0041", async () => {
    const h = harness();
    for (const image_url of [url.replaceAll("/", "\\/"), url.replaceAll("A", "\\u0041")]) {
      const response = await h.server(
        "/v1/videos",
        postText(
          `{"prompt":"pan left","size":"720x1280","input_reference":{"image_url":"${image_url}"}}`,
        ),
      );
      expect(response.status).toBe(200);
      expect(await response.json()).toMatchObject({ size: "720x1280", status: "queued" });
    }
  });

  it("accepts a pretty-printed body and keeps the prompt's escapes", async () => {
    const h = harness();
    const prompt = 'pan "left"\nthen\tright, caf\u00e9 \\ /';
    const response = await h.server(
      "/v1/videos",
      postText(
        JSON.stringify({ prompt, size: "720x1280", input_reference: { image_url: url } }, null, 2),
      ),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ prompt, size: "720x1280" });
  });

  it("refuses a raw newline or tab inside the data: URL as malformed JSON", async () => {
    const h = harness();
    for (const control of ["\n", "\t"]) {
      const image_url = `${url.slice(0, 60)}${control}${url.slice(60)}`;
      const response = await h.server(
        "/v1/videos",
        postText(`{"prompt":"x","size":"720x1280","input_reference":{"image_url":"${image_url}"}}`),
      );
      expect(await errorOf(response)).toMatchObject({
        status: 400,
        param: null,
        code: "malformed_body",
        message: expect.stringMatching(/JSON body could not be parsed/),
      });
    }
  });

  it("refuses a body that is not JSON, however good its data: URL", async () => {
    const h = harness();
    for (const body of [
      `{"prompt":"x","input_reference":{"image_url":"${url}"}`,
      `{"prompt":"x","input_reference":{"image_url":"${url}"}} {}`,
      `{"prompt":"\\"image_url":"${url}"}`,
    ]) {
      expect(await errorOf(await h.server("/v1/videos", postText(body)))).toMatchObject({
        status: 400,
        param: null,
        code: "malformed_body",
      });
    }
  });

  it("reads duplicate keys as JSON.parse does: the last one wins", async () => {
    const h = harness();
    const remote = await h.server(
      "/v1/videos",
      postText(
        `{"prompt":"x","input_reference":{"image_url":"${url}"},"input_reference":{"image_url":"https://evil.example/a.png"}}`,
      ),
    );
    expect(await errorOf(remote)).toMatchObject({
      status: 400,
      param: "input_reference.image_url",
      // The https URL won; the harness has no such host, so the fetch fails, clearly.
      message: expect.stringMatching(/could not be fetched/),
    });
    const broken = await h.server(
      "/v1/videos",
      postText(
        `{"prompt":"x","input_reference":{"image_url":"${url}","image_url":"data:image/webp;base64,@@@@"}}`,
      ),
    );
    expect(await errorOf(broken)).toMatchObject({
      status: 400,
      param: "input_reference.image_url",
      message: "input_reference.image_url is not valid base64.",
    });
    const good = await h.server(
      "/v1/videos",
      postText(
        `{"prompt":"x","size":"720x1280","input_reference":{"image_url":"data:image/webp;base64,@@@@"},"input_reference":{"image_url":"${url}"}}`,
      ),
    );
    expect(good.status).toBe(200);
  });

  it("is not fooled by a body that names the placeholder the worker uses", async () => {
    const h = harness();
    const response = await h.server(
      "/v1/videos",
      postText(
        `{"prompt":"x","input_reference":{"image_url":"${url}"},"input_reference":{"image_url":"dataUrlPlaceholderA"}}`,
      ),
    );
    expect(await errorOf(response)).toMatchObject({
      status: 400,
      param: "input_reference.image_url",
      message: expect.stringMatching(/must be a base64 data: URL/),
    });
  });

  it("still names the first invalid field before looking at the image", async () => {
    const h = harness();
    const noPrompt = await h.server(
      "/v1/videos",
      postText(JSON.stringify({ input_reference: { image_url: url } })),
    );
    expect(await errorOf(noPrompt)).toMatchObject({ status: 400, param: "prompt" });
    const numberSeconds = await h.server(
      "/v1/videos",
      postText(JSON.stringify({ prompt: "x", seconds: 4, input_reference: { image_url: url } })),
    );
    expect(await errorOf(numberSeconds)).toMatchObject({
      status: 400,
      param: "seconds",
      message: expect.stringMatching(/string such as "4"/),
    });
    const notString = await h.server(
      "/v1/videos",
      postText(JSON.stringify({ prompt: "x", input_reference: { image_url: 7 } })),
    );
    expect(await errorOf(notString)).toMatchObject({
      status: 400,
      param: "input_reference.image_url",
    });
  });

  it("refuses a JSON body over the upload limit that declared no length", async () => {
    const h = harness({ vars: { MAX_UPLOAD_BYTES: "2048" } });
    const jpeg = `data:image/jpeg;base64,${btoa(String.fromCharCode(...images.landscapeJpeg))}`;
    const text = new TextEncoder().encode(
      JSON.stringify({ prompt: "x", input_reference: { image_url: jpeg } }),
    );
    expect(text.byteLength).toBeGreaterThan(2 * 2048);
    let sent = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        if (sent >= text.byteLength) return controller.close();
        controller.enqueue(text.subarray(sent, sent + 1024));
        sent += 1024;
      },
    });
    const response = await h.server("/v1/videos", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(await errorOf(response)).toMatchObject({
      status: 413,
      param: "input_reference",
      code: "request_too_large",
    });
  });
});
