/**
 * End to end over real HTTP: `wrangler dev` (what `npm start` runs) and the official `openai`
 * package with nothing but `baseURL` and `apiKey` set — exactly what a developer would write.
 */
import { readFileSync } from "node:fs";
import OpenAI, { toFile } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SIM_ROUTE } from "../fixtures/routes";
import { startDevServer, type DevServer } from "./dev-server";

const FAST_ROUTE = {
  ...SIM_ROUTE,
  id: "sim-fast",
  provider: { type: "simulator", duration_ms: 1500 },
  extend: { seconds: ["4", "8"], max_total_seconds: 16 },
  edit: { max_source_seconds: 16 },
};

let server: DevServer;

beforeAll(async () => {
  server = await startDevServer({
    MODEL_ROUTES: JSON.stringify([FAST_ROUTE]),
    REFRESH_INTERVAL_MS: "0",
  });
}, 90_000);

afterAll(async () => {
  await server?.stop();
});

describe("openai SDK over HTTP against `wrangler dev`", () => {
  it("creates with an image, polls to completion, downloads, remixes, lists and deletes", async () => {
    const openai = new OpenAI({ apiKey: "sk_dev_local", baseURL: `${server.url}/v1` });
    const image = readFileSync(
      new URL("../fixtures/images/baseline-1280x720.jpg", import.meta.url),
    );
    const created = await openai.videos.create({
      prompt: "a gentle breeze moves the grass",
      model: "sim-fast",
      size: "1280x720",
      seconds: "4",
      input_reference: await toFile(image, "photo.jpg", { type: "image/jpeg" }),
    });
    let video = created;
    while (video.status === "queued" || video.status === "in_progress") {
      await new Promise((resolve) => setTimeout(resolve, 250));
      video = await openai.videos.retrieve(created.id);
    }
    expect(video.status).toBe("completed");

    const content = await openai.videos.downloadContent(created.id);
    const bytes = new Uint8Array(await content.arrayBuffer());
    expect(new TextDecoder().decode(bytes.slice(4, 8))).toBe("ftyp");
    expect(content.headers.get("content-type")).toBe("video/mp4");

    const remix = await openai.videos.remix(created.id, { prompt: "now in the rain" });
    expect(remix.remixed_from_video_id).toBe(created.id);
    const listed = await openai.videos.list();
    expect(listed.data.map((v) => v.id)).toEqual([remix.id, created.id]);
    expect(await openai.videos.delete(remix.id)).toMatchObject({ deleted: true });

    await expect(openai.videos.retrieve("video_00000000000000000000000000")).rejects.toBeInstanceOf(
      OpenAI.NotFoundError,
    );
  }, 60_000);

  it("retrieves models, uploads a file and creates from its id, waits for our copy, refuses characters", async () => {
    const openai = new OpenAI({ apiKey: "sk_dev_local", baseURL: `${server.url}/v1` });
    expect((await openai.models.retrieve("sim-fast")).id).toBe("sim-fast");
    await expect(openai.models.retrieve("sora-2")).rejects.toBeInstanceOf(OpenAI.NotFoundError);

    const image = readFileSync(
      new URL("../fixtures/images/baseline-1280x720.jpg", import.meta.url),
    );
    const file = await openai.files.create({
      file: await toFile(image, "photo.jpg", { type: "image/jpeg" }),
      purpose: "vision",
    });
    expect(file).toMatchObject({ object: "file", bytes: image.byteLength, filename: "photo.jpg" });
    const created = await openai.videos.create({
      prompt: "clouds drift over the hills",
      model: "sim-fast",
      input_reference: { file_id: file.id },
    });
    // Polls see it finish; the copy into R2 is the job watcher's work, which no poll waits on.
    let video = await openai.videos.retrieve(created.id);
    for (
      let i = 0;
      i < 80 && (video as { content_variants?: unknown }).content_variants == null;
      i++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      video = await openai.videos.retrieve(created.id);
    }
    expect(video.status).toBe("completed");
    expect((video as { content_variants?: string[] }).content_variants).toEqual([
      "video",
      "thumbnail",
      "spritesheet",
    ]);
    const saved = await fetch(`${server.url}/v1/videos/${created.id}/content?download=1`, {
      headers: { authorization: "Bearer sk_dev_local", range: "bytes=0-7" },
    });
    expect(saved.status).toBe(206);
    expect(saved.headers.get("content-disposition")).toMatch(/^attachment; filename="video_/);
    expect(new TextDecoder().decode(new Uint8Array(await saved.arrayBuffer()).slice(4, 8))).toBe(
      "ftyp",
    );

    await expect(openai.videos.getCharacter("char_1")).rejects.toBeInstanceOf(
      OpenAI.BadRequestError,
    );
    expect(await openai.files.delete(file.id)).toMatchObject({ deleted: true });
  }, 60_000);

  it("extends by id and edits an uploaded MP4 with videos.extend / videos.edit, and lists files", async () => {
    const openai = new OpenAI({ apiKey: "sk_dev_local", baseURL: `${server.url}/v1` });
    const image = readFileSync(
      new URL("../fixtures/images/baseline-1280x720.jpg", import.meta.url),
    );
    const finish = async (id: string) => {
      let video = await openai.videos.retrieve(id);
      for (let i = 0; i < 80 && video.status !== "completed" && video.status !== "failed"; i++) {
        await new Promise((resolve) => setTimeout(resolve, 250));
        video = await openai.videos.retrieve(id);
      }
      return video;
    };
    const source = await openai.videos.create({
      prompt: "the sea at dawn",
      model: "sim-fast",
      input_reference: await toFile(image, "photo.jpg", { type: "image/jpeg" }),
    });
    expect((await finish(source.id)).status).toBe("completed");

    const extended = await openai.videos.extend({
      video: { id: source.id },
      prompt: "the sun climbs higher",
      seconds: "8",
    });
    expect(extended.seconds).toBe("12");
    const done = await finish(extended.id);
    expect(done).toMatchObject({ status: "completed", seconds: "12" });

    // The finished clip, downloaded and sent back as an upload: an edit keeps its length.
    const clip = new Uint8Array(
      await (await openai.videos.downloadContent(source.id)).arrayBuffer(),
    );
    const edited = await openai.videos.edit({
      video: await toFile(clip, "clip.mp4", { type: "video/mp4" }),
      prompt: "in watercolour",
    });
    expect(edited).toMatchObject({ seconds: "4", size: "1280x720" });
    await expect(
      openai.videos.edit({ video: await toFile(image, "clip.mp4"), prompt: "x" }),
    ).rejects.toBeInstanceOf(OpenAI.BadRequestError);

    const file = await openai.files.create({
      file: await toFile(image, "photo.jpg", { type: "image/jpeg" }),
      purpose: "vision",
    });
    const listed: string[] = [];
    for await (const item of openai.files.list()) listed.push(item.id);
    expect(listed).toContain(file.id);
  }, 60_000);
});
