import { describe, expect, it } from "vitest";
import { FAILURE_CODES } from "../../../worker/providers/types";
import { harness, SITES, OTHER_SERVER_KEY, type Harness } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

type Video = {
  id: string;
  status: string;
  progress: number;
  error: { code: string; message: string } | null;
  completed_at: number | null;
  expires_at: number | null;
  remixed_from_video_id: string | null;
  content_urls: {
    video: string;
    thumbnail: string;
    spritesheet: string;
    expires_at: number;
  } | null;
};

async function create(
  h: Harness,
  prompt = "subtle parallax",
  token?: string,
  origin?: string,
): Promise<Video> {
  const init = post(createForm({ prompt }));
  if (origin) init.headers = { origin };
  const response = token
    ? await h.as(token, "/v1/videos", init)
    : await h.server("/v1/videos", init);
  expect(response.status).toBe(200);
  return (await response.json()) as Video;
}

async function retrieve(h: Harness, id: string, token?: string): Promise<Video> {
  const response = token
    ? await h.as(token, `/v1/videos/${id}`)
    : await h.server(`/v1/videos/${id}`);
  expect(response.status).toBe(200);
  return (await response.json()) as Video;
}

describe("GET /v1/videos/{id}", () => {
  it("follows the simulator timeline queued → in_progress → completed with monotone progress", async () => {
    const h = harness();
    const { id } = await create(h);
    h.advance(1000);
    expect((await retrieve(h, id)).status).toBe("queued");
    const seen: number[] = [];
    for (let i = 0; i < 8; i++) {
      h.advance(1000);
      const video = await retrieve(h, id);
      expect(video.status).toBe("in_progress");
      seen.push(video.progress);
    }
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
    expect(Math.max(...seen)).toBeLessThan(100);
    h.advance(2000);
    const done = await retrieve(h, id);
    expect(done).toMatchObject({ status: "completed", progress: 100, error: null });
    expect(done.completed_at).toBe(Math.floor(h.clock.ms / 1000));
    expect(done.content_urls?.video).toMatch(
      new RegExp(`/v1/videos/${id}/content\\?variant=video&token=`),
    );
  });

  it("reports each forced failure kind with its code and a message", async () => {
    const h = harness();
    const kinds = FAILURE_CODES;
    const ids = await Promise.all(
      kinds.map(async (kind) => (await create(h, `wave [sim:${kind}]`)).id),
    );
    h.advance(11_000);
    for (const [i, id] of ids.entries()) {
      const video = await retrieve(h, id);
      expect(video.status).toBe("failed");
      expect(video.error?.code).toBe(kinds[i]);
      expect(video.error?.message.length).toBeGreaterThan(10);
      expect(video.content_urls).toBeNull();
    }
  });

  it("returns 404 for another server key's job and for another visitor's or site's job", async () => {
    const h = harness();
    const mine = await create(h);
    const other = await h.as(OTHER_SERVER_KEY, `/v1/videos/${mine.id}`);
    expect(other.status).toBe(404);

    const alice = await h.session();
    const bob = await h.session();
    const blog = await h.session(SITES[1]!.publishable_key, SITES[1]!.origins[0]!);
    const visitorJob = await create(h, "pan left", alice.token, SITES[0]!.origins[0]);
    expect((await h.asVisitor(alice.token, `/v1/videos/${visitorJob.id}`)).status).toBe(200);
    for (const [token, origin] of [
      [bob.token, SITES[0]!.origins[0]!],
      [blog.token, SITES[1]!.origins[0]!],
    ] as const) {
      const as = (path: string, init?: RequestInit) => h.asVisitor(token, path, init, origin);
      const response = await as(`/v1/videos/${visitorJob.id}`);
      expect(response.status).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
      expect((await as(`/v1/videos/${visitorJob.id}`, { method: "DELETE" })).status).toBe(404);
      expect((await as(`/v1/videos/${visitorJob.id}/content`)).status).toBe(404);
    }
    expect((await h.server(`/v1/videos/${visitorJob.id}`)).status).toBe(404);
  });

  it("answers 400 for ids that are not ours and 404 for unknown ones", async () => {
    const h = harness();
    for (const id of ["..%2F..%2Fetc", "sim.123.456", "video_123", "task_abc"]) {
      const response = await h.server(`/v1/videos/${id}`);
      expect(response.status).toBe(400);
      expect(((await response.json()) as { error: { param: string } }).error.param).toBe(
        "video_id",
      );
    }
    expect((await h.server("/v1/videos/video_00000000000000000000000000")).status).toBe(404);
  });
});

describe("GET /v1/videos", () => {
  it("lists only the caller's videos, newest first, with after/limit/order paging", async () => {
    const h = harness();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      ids.push((await create(h, `shot ${i}`)).id);
      h.advance(1500);
    }
    await create(h, "not mine", OTHER_SERVER_KEY);

    const first = (await (await h.server("/v1/videos?limit=2")).json()) as {
      data: Video[];
      has_more: boolean;
      first_id: string;
      last_id: string;
    };
    expect(first.data.map((v) => v.id)).toEqual([ids[4], ids[3]]);
    expect(first).toMatchObject({ has_more: true, first_id: ids[4], last_id: ids[3] });
    const second = (await (await h.server(`/v1/videos?limit=2&after=${first.last_id}`)).json()) as {
      data: Video[];
      has_more: boolean;
    };
    expect(second.data.map((v) => v.id)).toEqual([ids[2], ids[1]]);
    const last = (await (await h.server(`/v1/videos?limit=2&after=${ids[1]}`)).json()) as {
      data: Video[];
      has_more: boolean;
    };
    expect(last.data.map((v) => v.id)).toEqual([ids[0]]);
    expect(last.has_more).toBe(false);
    const asc = (await (await h.server("/v1/videos?order=asc&limit=3")).json()) as {
      data: Video[];
    };
    expect(asc.data.map((v) => v.id)).toEqual(ids.slice(0, 3));
  });

  it("refuses a limit outside 1–100 and a bad order", async () => {
    const h = harness();
    for (const query of ["limit=0", "limit=101", "limit=abc", "order=sideways"]) {
      const response = await h.server(`/v1/videos?${query}`);
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { param: string } };
      expect(error.param).toBe(query.split("=")[0]);
    }
  });
});

describe("DELETE /v1/videos/{id}", () => {
  it("deletes the record and its index entry", async () => {
    const h = harness();
    const { id } = await create(h);
    const response = await h.server(`/v1/videos/${id}`, { method: "DELETE" });
    expect(await response.json()).toEqual({ id, object: "video.deleted", deleted: true });
    expect((await h.server(`/v1/videos/${id}`)).status).toBe(404);
    const list = (await (await h.server("/v1/videos")).json()) as { data: Video[] };
    expect(list.data).toEqual([]);
  });
});

describe("POST /v1/videos/{id}/remix", () => {
  it("makes a new job from a completed one", async () => {
    const h = harness();
    const { id } = await create(h);
    h.advance(10_000);
    const response = await h.server(`/v1/videos/${id}/remix`, post({ prompt: "now at night" }));
    expect(response.status).toBe(200);
    const remix = (await response.json()) as Video & { prompt: string; size: string };
    expect(remix).toMatchObject({
      status: "queued",
      remixed_from_video_id: id,
      prompt: "now at night",
      size: "1280x720",
    });
    expect(remix.id).not.toBe(id);
  });

  it("refuses to remix an unfinished video and needs a prompt", async () => {
    const h = harness();
    const { id } = await create(h);
    const early = await h.server(`/v1/videos/${id}/remix`, post({ prompt: "again" }));
    expect(early.status).toBe(400);
    expect(((await early.json()) as { error: { code: string } }).error.code).toBe(
      "video_not_ready",
    );
    const empty = await h.server(`/v1/videos/${id}/remix`, post({}));
    expect(empty.status).toBe(400);
    expect(((await empty.json()) as { error: { param: string } }).error.param).toBe("prompt");
  });
});
