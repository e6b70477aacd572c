/**
 * The official `openai` npm package, unchanged, with `baseURL` pointed at the worker: the whole
 * create → poll → download → remix → list → delete flow, and typed errors for bad requests.
 * The SDK's transport is the worker's own `fetch` handler (no network in tests).
 */
import OpenAI, { APIError, toFile } from "openai";
import { describe, expect, it } from "vitest";
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
