/**
 * The official `openai` npm package, unchanged, with `baseURL` pointed at the worker: the whole
 * create → poll → download → remix → list → delete flow, and typed errors for bad requests.
 * The SDK's transport is the worker's own `fetch` handler (no network in tests).
 */
import OpenAI, { APIError, toFile } from "openai";
import { describe, expect, it } from "vitest";
import { SIM_DERIVE_ROUTE } from "../fixtures/routes";
import { harness, ORIGIN, SERVER_KEY, type Harness } from "../helpers/harness";
import { images } from "../helpers/requests";
import { simulatorMedia } from "../../worker/providers/simulator/media";

function client(h: Harness, apiKey = SERVER_KEY) {
  return new OpenAI({
    apiKey,
    baseURL: `${ORIGIN}/v1`,
    maxRetries: 0,
    fetch: (url, init) => h.call(String(url).slice(ORIGIN.length), init as RequestInit),
  });
}

describe("the official openai SDK against the worker", () => {
  it("runs create (with an image) → retrieve until completed → downloadContent → remix → list → delete", async () => {
    const h = harness();
    const openai = client(h);
    const created = await openai.videos.create({
      prompt: "slow dolly in, warm evening light",
      model: "sim",
      seconds: "4",
      size: "1280x720",
      input_reference: await toFile(images.landscapeJpeg, "photo.jpg", { type: "image/jpeg" }),
    });
    expect(created.status).toBe("queued");

    let video = created;
    for (let i = 0; i < 20 && video.status !== "completed"; i++) {
      h.advance(1000);
      video = await openai.videos.retrieve(created.id);
      expect(["queued", "in_progress", "completed"]).toContain(video.status);
    }
    expect(video).toMatchObject({
      id: created.id,
      status: "completed",
      progress: 100,
      seconds: "4",
      size: "1280x720",
    });

    const content = await openai.videos.downloadContent(created.id);
    const bytes = new Uint8Array(await content.arrayBuffer());
    expect(bytes).toEqual(new Uint8Array(simulatorMedia("1280x720", "4", "video")!.bytes));
    const thumbnail = await openai.videos.downloadContent(created.id, { variant: "thumbnail" });
    expect(thumbnail.headers.get("content-type")).toBe("image/webp");

    const remix = await openai.videos.remix(created.id, { prompt: "the same, at night" });
    expect(remix.remixed_from_video_id).toBe(created.id);

    const ids: string[] = [];
    for await (const item of openai.videos.list({ limit: 1 })) ids.push(item.id);
    expect(ids).toEqual([remix.id, created.id]);

    const deleted = await openai.videos.delete(created.id);
    expect(deleted).toMatchObject({ id: created.id, deleted: true, object: "video.deleted" });
    await expect(openai.videos.retrieve(created.id)).rejects.toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("creates without a key (the SDK sends none by itself) and replays with one given as a header", async () => {
    const h = harness();
    const keys: (string | null)[] = [];
    const openai = new OpenAI({
      apiKey: SERVER_KEY,
      baseURL: `${ORIGIN}/v1`,
      maxRetries: 0,
      fetch: (url, init) => {
        // (The SDK also feeds a `data:` URL through `fetch` once; only API calls count.)
        if (String(url).startsWith(ORIGIN)) {
          keys.push(new Headers(init?.headers).get("idempotency-key"));
        }
        return h.call(String(url).slice(ORIGIN.length), init as RequestInit);
      },
    });
    const body = async () => ({
      prompt: "slow dolly in",
      input_reference: await toFile(images.landscapeJpeg, "photo.jpg", { type: "image/jpeg" }),
    });
    const plain = await openai.videos.create(await body());
    const plainAgain = await openai.videos.create(await body());
    expect(plain.status).toBe("queued");
    expect(plainAgain.id).not.toBe(plain.id);

    const keyed = { headers: { "Idempotency-Key": "order-42" } };
    const first = await openai.videos.create(await body(), keyed);
    const again = await openai.videos.create(await body(), keyed);
    expect(again.id).toBe(first.id);
    expect(keys).toEqual([null, null, "order-42", "order-42"]);
  });

  it("lets the SDK retry a failed create with the caller's key: the retry is tried, not refused", async () => {
    const h = harness();
    const sent: { key: string | null; status: number }[] = [];
    const openai = new OpenAI({
      apiKey: SERVER_KEY,
      baseURL: `${ORIGIN}/v1`,
      maxRetries: 1,
      fetch: async (url, init) => {
        const response = await h.call(String(url).slice(ORIGIN.length), init as RequestInit);
        if (String(url).startsWith(ORIGIN)) {
          sent.push({
            key: new Headers(init?.headers).get("idempotency-key"),
            status: response.status,
          });
        }
        // Without Retry-After the SDK backs off for about half a second instead of 10 s.
        const headers = new Headers(response.headers);
        headers.delete("retry-after");
        return new Response(response.body, { status: response.status, headers });
      },
    });
    const error = await openai.videos
      .create(
        {
          prompt: "x [sim:unavailable]",
          input_reference: await toFile(images.landscapeJpeg, "a.jpg", { type: "image/jpeg" }),
        },
        { headers: { "Idempotency-Key": "order-7" } },
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 503, code: "provider_unavailable" });
    expect(sent).toEqual([
      { key: "order-7", status: 503 },
      { key: "order-7", status: 503 },
    ]);
  });

  it("creates with input_reference as a reference object, as the SDK encodes it (bracketed multipart)", async () => {
    const h = harness();
    const sent: string[] = [];
    const openai = new OpenAI({
      apiKey: SERVER_KEY,
      baseURL: `${ORIGIN}/v1`,
      maxRetries: 0,
      fetch: async (url, init) => {
        const request = new Request(String(url), init as RequestInit);
        if (request.method === "POST") {
          const form = await request
            .clone()
            .formData()
            .catch(() => null);
          if (form) sent.push(...form.keys());
        }
        return h.call(String(url).slice(ORIGIN.length), { ...(init as RequestInit) });
      },
    });
    const dataUrl = `data:image/jpeg;base64,${btoa(String.fromCharCode(...images.landscapeJpeg))}`;
    const created = await openai.videos.create({
      prompt: "slow dolly in",
      model: "sim",
      input_reference: { image_url: dataUrl },
    });
    expect(created.status).toBe("queued");
    expect(sent).toContain("input_reference[image_url]"); // how the SDK sent it

    const uploaded = await openai.files.create({
      file: await toFile(images.landscapeJpeg, "photo.jpg", { type: "image/jpeg" }),
      purpose: "vision",
    });
    expect(uploaded).toMatchObject({
      object: "file",
      bytes: images.landscapeJpeg.byteLength,
      filename: "photo.jpg",
      purpose: "vision",
      status: "processed",
    });
    const byFile = await openai.videos.create({
      prompt: "slow dolly in",
      model: "sim",
      input_reference: { file_id: uploaded.id },
    });
    expect(byFile).toMatchObject({ status: "queued", size: "1280x720" });
    expect(sent).toContain("input_reference[file_id]");

    const unknown = await openai.videos
      .create({ prompt: "x", model: "sim", input_reference: { file_id: "file_abc" } })
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unknown as APIError).param).toBe("input_reference.file_id");
  });

  it("extends and edits with videos.extend / videos.edit: by id (video[id]) and by uploaded MP4", async () => {
    const h = harness({ routes: [SIM_DERIVE_ROUTE] });
    const sent: string[] = [];
    const openai = new OpenAI({
      apiKey: SERVER_KEY,
      baseURL: `${ORIGIN}/v1`,
      maxRetries: 0,
      fetch: async (url, init) => {
        const request = new Request(String(url), init as RequestInit);
        const form = await request
          .clone()
          .formData()
          .catch(() => null);
        if (form) sent.push(...form.keys());
        return h.call(String(url).slice(ORIGIN.length), { ...(init as RequestInit) });
      },
    });
    const source = await openai.videos.create({
      prompt: "slow dolly in",
      model: "sim-plus",
      input_reference: await toFile(images.landscapeJpeg, "photo.jpg", { type: "image/jpeg" }),
    });
    h.advance(11_000);
    expect((await openai.videos.retrieve(source.id)).status).toBe("completed");

    const extended = await openai.videos.extend({
      video: { id: source.id },
      prompt: "and the camera keeps rising",
      seconds: "4",
    });
    expect(sent).toContain("video[id]"); // how the SDK encodes a reference
    expect(extended).toMatchObject({ status: "queued", seconds: "8", model: "sim-plus" });
    h.advance(11_000);
    const finished = await openai.videos.retrieve(extended.id);
    expect(finished.seconds).toBe("8");
    const bytes = new Uint8Array(
      await (await openai.videos.downloadContent(extended.id)).arrayBuffer(),
    );
    expect(bytes).toEqual(new Uint8Array(simulatorMedia("1280x720", "8", "video")!.bytes));

    const mp4 = new Uint8Array(simulatorMedia("720x1280", "4", "video")!.bytes);
    const edited = await openai.videos.edit({
      video: await toFile(mp4, "clip.mp4", { type: "video/mp4" }),
      prompt: "make it snow",
    });
    expect(edited).toMatchObject({ status: "queued", seconds: "4", size: "720x1280" });

    const ids: string[] = [];
    for await (const video of openai.videos.list()) ids.push(video.id);
    expect(ids).toEqual([edited.id, extended.id, source.id]);

    const tooLong = await openai.videos
      .extend({ video: { id: extended.id }, prompt: "more", seconds: "12" })
      .catch((error: unknown) => error);
    expect(tooLong).toBeInstanceOf(OpenAI.BadRequestError);
    expect((tooLong as APIError).param).toBe("seconds");
    const notMp4 = await openai.videos
      .edit({ video: await toFile(images.landscapeJpeg, "clip.mp4"), prompt: "snow" })
      .catch((error: unknown) => error);
    expect(notMp4).toBeInstanceOf(OpenAI.BadRequestError);
    expect((notMp4 as APIError).code).toBe("invalid_video");
  });

  it("lists files with files.list and auto-pagination", async () => {
    const h = harness();
    const openai = client(h);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const file = await openai.files.create({
        file: await toFile(images.landscapeJpeg, "photo.jpg", { type: "image/jpeg" }),
        purpose: "vision",
        expires_after: { anchor: "created_at", seconds: 7200 },
      });
      expect(file.expires_at! - file.created_at).toBe(7200);
      ids.unshift(file.id);
      h.advance(2000);
    }
    const listed: string[] = [];
    for await (const file of openai.files.list({ limit: 2 })) listed.push(file.id);
    expect(listed).toEqual(ids);
  });

  it("lists and retrieves models: retrieve is the list's entry, an unknown id a NotFoundError", async () => {
    const openai = client(harness());
    const listed = [];
    for await (const model of openai.models.list()) listed.push(model);
    expect(listed.map((m) => m.id)).toEqual(["sim"]);
    expect(await openai.models.retrieve("sim")).toEqual(listed[0]);
    const missing = await openai.models.retrieve("sora-2").catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(OpenAI.NotFoundError);
    expect((missing as APIError).code).toBe("model_not_found");
  });

  it("receives typed errors with the param for bad requests", async () => {
    const h = harness();
    const openai = client(h);
    const badModel = await openai.videos
      .create({
        prompt: "x",
        model: "sora-2",
        input_reference: await toFile(images.landscapeJpeg, "a.jpg"),
      })
      .catch((e: unknown) => e);
    expect(badModel).toBeInstanceOf(OpenAI.BadRequestError);
    expect(badModel).toMatchObject({ status: 400, param: "model", code: "unknown_model" });

    const badSize = await openai.videos
      .create({
        prompt: "x",
        size: "720x1280",
        input_reference: await toFile(images.landscapeJpeg, "a.jpg"),
      })
      .catch((e: unknown) => e);
    expect(badSize).toBeInstanceOf(OpenAI.BadRequestError);
    expect((badSize as APIError).message).toContain("720x1280");

    const unauthorized = await client(h, "sk_wrong_000000000000000000")
      .videos.list()
      .catch((e: unknown) => e);
    expect(unauthorized).toBeInstanceOf(OpenAI.AuthenticationError);

    const limited = await openai.videos
      .create({
        prompt: "x [sim:rate_limited]",
        input_reference: await toFile(images.landscapeJpeg, "a.jpg"),
      })
      .catch((e: unknown) => e);
    expect(limited).toBeInstanceOf(OpenAI.RateLimitError);
    expect((limited as APIError).headers?.get("retry-after")).toBe("7");
  });
});
