import { describe, expect, it } from "vitest";
import { env } from "cloudflare:workers";
import { harness, SIM_ROUTE } from "../../helpers/harness";
import { createForm, images, post } from "../../helpers/requests";

async function storedKeys(): Promise<string[]> {
  return (await env.JOBS.list()).keys.map((k) => k.name);
}

async function expectError(
  response: Response,
  status: number,
  param: string | null,
  text?: RegExp,
) {
  expect(response.status).toBe(status);
  expect(response.headers.get("x-request-id")).toBeTruthy();
  const body = (await response.json()) as {
    error: { message: string; type: string; param: string | null; code: string | null };
  };
  expect(body.error.param).toBe(param);
  expect(typeof body.error.type).toBe("string");
  if (text) expect(body.error.message).toMatch(text);
  return body.error;
}

describe("POST /v1/videos", () => {
  it("creates a queued job from a multipart upload and stores one record plus its index entry", async () => {
    const h = harness();
    const response = await h.server("/v1/videos", post(createForm({ seconds: "8" })));
    expect(response.status).toBe(200);
    const video = (await response.json()) as Record<string, unknown>;
    expect(video).toMatchObject({
      object: "video",
      model: "sim",
      status: "queued",
      progress: 0,
      size: "1280x720",
      seconds: "8",
      prompt: "a slow dolly in on the lighthouse",
      remixed_from_video_id: null,
      error: null,
      completed_at: null,
      content_urls: null,
    });
    expect(video.id).toMatch(/^video_[0-9a-z]{26}$/);
    expect(JSON.stringify(video)).not.toContain("sim.");
    const keys = await storedKeys();
    expect(keys).toHaveLength(2);
    expect(keys.some((k) => k === `v1:job:${video.id}`)).toBe(true);
  });

  it("accepts JSON with the image as a data: URL", async () => {
    const h = harness();
    const b64 = btoa(String.fromCharCode(...images.portraitWebp));
    const response = await h.server(
      "/v1/videos",
      post({
        prompt: "pan left",
        size: "720x1280",
        input_reference: { image_url: `data:image/webp;base64,${b64}` },
      }),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      size: "720x1280",
      seconds: "4",
      status: "queued",
    });
  });

  it("takes the size from the image when size is omitted and the route offers it", async () => {
    const h = harness();
    const response = await h.server(
      "/v1/videos",
      post(createForm({ image: images.portraitWebp, imageType: "image/webp" })),
    );
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({ size: "720x1280" });
  });

  it("refuses an image whose pixel size differs from size, naming the expected WxH", async () => {
    const h = harness();
    const response = await h.server("/v1/videos", post(createForm({ size: "720x1280" })));
    const error = await expectError(
      response,
      400,
      "input_reference",
      /1280x720 pixels but size is 720x1280/,
    );
    expect(error.code).toBe("image_size_mismatch");
    expect(await storedKeys()).toEqual([]);
  });

  it("judges the image by its bytes, not the declared type", async () => {
    const h = harness();
    const gif = new TextEncoder().encode("GIF89a\x01\x00\x01\x00");
    const response = await h.server(
      "/v1/videos",
      post(createForm({ image: gif, imageType: "image/jpeg" })),
    );
    await expectError(response, 400, "input_reference", /GIF.*JPEG, PNG or WebP/);
  });

  it("refuses a truncated image", async () => {
    const h = harness();
    const response = await h.server(
      "/v1/videos",
      post(createForm({ image: images.landscapeJpeg.slice(0, 40) })),
    );
    const error = await expectError(response, 400, "input_reference", /damaged or truncated/);
    expect(error.code).toBe("invalid_image");
  });

  it("requires an image on routes that need one", async () => {
    const h = harness();
    const response = await h.server("/v1/videos", post(createForm({ image: null })));
    await expectError(response, 400, "input_reference", /needs an input image/);
  });

  it("lists the available models for an unknown model", async () => {
    const h = harness();
    const response = await h.server("/v1/videos", post(createForm({ model: "sora-2" })));
    const error = await expectError(
      response,
      400,
      "model",
      /Unknown model "sora-2"\. Available models: sim\./,
    );
    expect(error.code).toBe("unknown_model");
  });

  it("lists the allowed sizes and seconds", async () => {
    const h = harness();
    await expectError(
      await h.server("/v1/videos", post(createForm({ size: "1024x1792" }))),
      400,
      "size",
      /Allowed sizes: 1280x720, 720x1280\./,
    );
    await expectError(
      await h.server("/v1/videos", post(createForm({ seconds: "12" }))),
      400,
      "seconds",
      /Allowed: 4, 8\./,
    );
  });

  it("accepts the audio extension only on routes that make sound", async () => {
    const h = harness();
    const form = createForm();
    form.set("audio", "true");
    const refused = await h.server("/v1/videos", post(form));
    expect((await expectError(refused, 400, "audio", /does not make sound/)).code).toBe(
      "audio_not_supported",
    );
    const odd = await h.server("/v1/videos", post({ prompt: "x", audio: "loud" }));
    await expectError(odd, 400, "audio", /true or false/);
    form.set("audio", "false");
    expect((await h.server("/v1/videos", post(form))).status).toBe(200);
  });

  it("rejects seconds sent as a JSON number, like OpenAI", async () => {
    const h = harness();
    const response = await h.server("/v1/videos", post({ prompt: "x", seconds: 4 }));
    await expectError(response, 400, "seconds", /string such as "4"/);
  });

  it("refuses a prompt over the route's limit and an empty one", async () => {
    const h = harness();
    const long = "a".repeat(SIM_ROUTE.prompt_max_chars + 1);
    await expectError(
      await h.server("/v1/videos", post(createForm({ prompt: long }))),
      400,
      "prompt",
      /at most 500/,
    );
    await expectError(
      await h.server("/v1/videos", post(createForm({ prompt: "   " }))),
      400,
      "prompt",
      /empty/,
    );
    await expectError(await h.server("/v1/videos", post({ size: "1280x720" })), 400, "prompt");
  });

  it("refuses a body over the upload limit on Content-Length, before reading it", async () => {
    const h = harness({ vars: { MAX_UPLOAD_BYTES: "2048" } });
    let pulled = 0;
    const body = new ReadableStream({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
        if (pulled > 100) controller.close();
      },
    });
    const response = await h.server("/v1/videos", {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=x", "content-length": "999999" },
      body,
      duplex: "half",
    } as RequestInit);
    const error = await expectError(response, 413, "input_reference", /larger than 2 KB/);
    expect(error.code).toBe("request_too_large");
    expect(pulled).toBeLessThanOrEqual(2);
    expect(await storedKeys()).toEqual([]);
  });

  it("refuses malformed multipart and malformed JSON", async () => {
    const h = harness();
    const multipart = await h.server("/v1/videos", {
      method: "POST",
      headers: { "content-type": "multipart/form-data; boundary=zzz" },
      body: '--zzz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhello',
    });
    await expectError(multipart, 400, null, /multipart body could not be read/);
    const json = await h.server("/v1/videos", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"prompt":',
    });
    await expectError(json, 400, null, /JSON body could not be parsed/);
    const text = await h.server("/v1/videos", {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body: "hi",
    });
    await expectError(text, 400, null, /multipart\/form-data/);
  });

  it("fetches an https image URL for a server key only, and never for a visitor", async () => {
    const fetched: string[] = [];
    const h = harness({
      fetch: async (input) => {
        fetched.push(String(input));
        return new Response(images.landscapeJpeg, { headers: { "content-type": "image/jpeg" } });
      },
    });
    const body = {
      prompt: "x",
      input_reference: { image_url: "https://images.example.com/a.jpg" },
    };
    const served = await h.server("/v1/videos", post(body));
    expect(served.status).toBe(200);
    expect(fetched).toEqual(["https://images.example.com/a.jpg"]);
    const { token } = await h.session();
    const visitor = await h.asVisitor(token, "/v1/videos", post(body));
    await expectError(visitor, 400, "input_reference.image_url", /upload the image file/);
    expect(fetched).toHaveLength(1);
  });

  it("passes provider refusals on as clear errors and stores nothing", async () => {
    const h = harness();
    const policy = await h.server(
      "/v1/videos",
      post(createForm({ prompt: "x [sim:refuse_policy]" })),
    );
    expect((await expectError(policy, 400, "input_reference", /policy/)).code).toBe(
      "policy_violation",
    );
    const limited = await h.server(
      "/v1/videos",
      post(createForm({ prompt: "x [sim:rate_limited]" })),
    );
    expect(limited.headers.get("retry-after")).toBe("7");
    await expectError(limited, 429, null, /rate limiting/);
    const down = await h.server("/v1/videos", post(createForm({ prompt: "x [sim:unavailable]" })));
    expect(down.headers.get("retry-after")).toBeTruthy();
    await expectError(down, 503, null, /Nothing was started/);
    const slow = await h.server(
      "/v1/videos",
      post(createForm({ prompt: "x [sim:create_timeout]" })),
    );
    await expectError(slow, 504, null);
    expect(await storedKeys()).toEqual([]);
  });

  it("requires a token", async () => {
    const h = harness();
    const response = await h.call("/v1/videos", post(createForm()));
    const error = await expectError(response, 401, null, /Authorization: Bearer/);
    expect(response.headers.get("www-authenticate")).toContain("Bearer");
    expect(error.code).toBe("missing_authorization");
    const wrong = await h.as("sk_test_wrong_key_0000000000000", "/v1/videos", post(createForm()));
    await expectError(wrong, 401, null, /invalid or has expired/);
  });
});
