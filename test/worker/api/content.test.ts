import { describe, expect, it } from "vitest";
import { harness, type Harness } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";
import { simulatorMedia } from "../../../worker/providers/simulator/media";

type Video = {
  id: string;
  content_urls: Record<"video" | "thumbnail" | "spritesheet", string> & { expires_at: number };
};

async function completed(h: Harness, size = "1280x720"): Promise<Video> {
  const form = createForm(size === "1280x720" ? {} : { size, image: undefined });
  const { id } = (await (await h.server("/v1/videos", post(form))).json()) as { id: string };
  h.advance(10_000);
  return (await (await h.server(`/v1/videos/${id}`)).json()) as Video;
}

const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());

describe("GET /v1/videos/{id}/content", () => {
  it("streams the whole MP4 with type, length and a download file name", async () => {
    const h = harness();
    const { id } = await completed(h);
    const response = await h.server(`/v1/videos/${id}/content`);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("video/mp4");
    expect(response.headers.get("accept-ranges")).toBe("bytes");
    expect(response.headers.get("content-disposition")).toBe(`inline; filename="${id}.mp4"`);
    const expected = new Uint8Array(simulatorMedia("1280x720", "4", "video")!.bytes);
    expect(response.headers.get("content-length")).toBe(String(expected.byteLength));
    expect(await bytesOf(response)).toEqual(expected);
  });

  it("answers Range with 206 and exactly those bytes, and 416 past the end", async () => {
    const h = harness();
    const { id } = await completed(h);
    const full = new Uint8Array(simulatorMedia("1280x720", "4", "video")!.bytes);
    const partial = await h.server(`/v1/videos/${id}/content`, {
      headers: { range: "bytes=100-199" },
    });
    expect(partial.status).toBe(206);
    expect(partial.headers.get("content-range")).toBe(`bytes 100-199/${full.byteLength}`);
    expect(partial.headers.get("content-length")).toBe("100");
    expect(await bytesOf(partial)).toEqual(full.slice(100, 200));
    const tail = await h.server(`/v1/videos/${id}/content`, { headers: { range: "bytes=-10" } });
    expect(await bytesOf(tail)).toEqual(full.slice(-10));
    const beyond = await h.server(`/v1/videos/${id}/content`, {
      headers: { range: `bytes=${full.byteLength}-` },
    });
    expect(beyond.status).toBe(416);
    expect(beyond.headers.get("content-range")).toBe(`bytes */${full.byteLength}`);
  });

  it("serves the thumbnail (WebP) and spritesheet (JPEG) variants", async () => {
    const h = harness();
    const { id } = await completed(h);
    const thumb = await h.server(`/v1/videos/${id}/content?variant=thumbnail`);
    expect(thumb.headers.get("content-type")).toBe("image/webp");
    expect(thumb.headers.get("content-disposition")).toContain(".webp");
    expect(new TextDecoder().decode((await bytesOf(thumb)).slice(8, 12))).toBe("WEBP");
    const sprite = await h.server(`/v1/videos/${id}/content?variant=spritesheet`);
    expect(sprite.headers.get("content-type")).toBe("image/jpeg");
    expect([...(await bytesOf(sprite)).slice(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
  });

  it("refuses an unknown variant and an unfinished video", async () => {
    const h = harness();
    const { id } = (await (await h.server("/v1/videos", post(createForm()))).json()) as {
      id: string;
    };
    const early = await h.server(`/v1/videos/${id}/content`);
    expect(early.status).toBe(400);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe(
      "video_not_ready",
    );
    const odd = await h.server(`/v1/videos/${id}/content?variant=poster`);
    expect(odd.status).toBe(400);
    expect(((await odd.json()) as { error: { param: string } }).error.param).toBe("variant");
  });

  it("lets a signed URL stand in for the Bearer header, for that video and variant only, until it expires", async () => {
    const h = harness();
    const video = await completed(h);
    const other = await completed(h);
    const path = (url: string) => url.slice(new URL(url).origin.length);

    const ok = await h.call(path(video.content_urls.video), { headers: { range: "bytes=0-3" } });
    expect(ok.status).toBe(206);
    expect(ok.headers.get("cross-origin-resource-policy")).toBe("cross-origin");

    const token = new URL(video.content_urls.video).searchParams.get("token")!;
    const wrongVariant = await h.call(
      `/v1/videos/${video.id}/content?variant=thumbnail&token=${token}`,
    );
    expect(wrongVariant.status).toBe(401);
    const wrongVideo = await h.call(`/v1/videos/${other.id}/content?variant=video&token=${token}`);
    expect(wrongVideo.status).toBe(401);
    const forged = await h.call(
      `/v1/videos/${video.id}/content?variant=video&token=${token.slice(0, -4)}AAAA`,
    );
    expect(forged.status).toBe(401);

    h.advance((video.content_urls.expires_at + 1) * 1000 - h.clock.ms);
    const expired = await h.call(path(video.content_urls.video));
    expect(expired.status).toBe(401);
    expect(((await expired.json()) as { error: { param: string } }).error.param).toBe("token");
  });

  it("does not accept a visitor token as a content token", async () => {
    const h = harness();
    const video = await completed(h);
    const { token } = await h.session();
    const response = await h.call(`/v1/videos/${video.id}/content?variant=video&token=${token}`);
    expect(response.status).toBe(401);
  });
});
