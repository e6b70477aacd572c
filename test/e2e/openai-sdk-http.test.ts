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
});
