/** `<still-motion>`: cancelling, remixing, downloading, and resuming after a reload. */
import { describe, expect, it, vi } from "vitest";
import type { StillMotionCancelledEvent, StillMotionRemixEvent } from "../../widget/events";
import { JobMemory } from "../../widget/resume";
import { FakeStillMotionApi } from "./helpers/fake-api";
import {
  button,
  MemoryStorage,
  mount,
  reach,
  submitJob,
  text,
  type Mounted,
} from "./helpers/mount";

const polls = (m: Mounted, id: string) =>
  m.api.requests.filter((r) => r.method === "GET" && r.path === `/v1/videos/${id}`).length;

const jobIds = (m: Mounted) =>
  new JobMemory(m.storage, JobMemory.keyFor(m.api.endpoint, m.api.siteKey)).list().map((j) => j.id);

describe("<still-motion> cancel", () => {
  it("stops polling, forgets the job and returns to the editor", async () => {
    const m = await mount({ api: new FakeStillMotionApi({ pollsToComplete: 1000 }) });
    const cancelled = new Promise<StillMotionCancelledEvent>((resolve) =>
      m.el.addEventListener("still-motion-cancelled", resolve, { once: true }),
    );
    await submitJob(m);
    await reach(m.el, "waiting");
    const id = [...m.api.videos.keys()][0]!;
    expect(jobIds(m)).toContain(id);
    button(m, "cancel").click();
    expect((await cancelled).videoId).toBe(id);
    await reach(m.el, "editing");
    expect(jobIds(m)).not.toContain(id);
    const seen = polls(m, id);
    await new Promise((r) => setTimeout(r, 300));
    expect(polls(m, id)).toBe(seen);
  });
});

describe("<still-motion> remix", () => {
  it("starts a new job from the finished one and waits for it", async () => {
    const m = await mount();
    await submitJob(m);
    await reach(m.el, "completed");
    const source = [...m.api.videos.keys()][0]!;
    const remixed = new Promise<StillMotionRemixEvent>((resolve) =>
      m.el.addEventListener("still-motion-remix", resolve, { once: true }),
    );
    const input = m.root.querySelector<HTMLInputElement>("#remix")!;
    input.value = "Make the camera move slower.";
    m.root.querySelector<HTMLFormElement>("form[part~=remix]")!.requestSubmit();
    const event = await remixed;
    expect(event.sourceId).toBe(source);
    expect(event.video.remixed_from_video_id).toBe(source);
    await reach(m.el, "completed");
    const request = m.api.requests.find((r) => r.path === `/v1/videos/${source}/remix`)!;
    expect(request.json).toEqual({ prompt: "Make the camera move slower." });
    expect(request.headers.get("idempotency-key")).toBeTruthy();
    const video = m.root.querySelector("video")!;
    expect(video.getAttribute("src")).toBe(m.api.videos.get(event.video.id)!.content_urls!.video);
  });
});

describe("<still-motion> download", () => {
  it("saves the video as stillmotion-<id>.mp4 from a blob URL", async () => {
    const m = await mount();
    await submitJob(m);
    await reach(m.el, "completed");
    const id = [...m.api.videos.keys()][0]!;
    const saved = new Promise<{ name: string; href: string }>((resolve) => {
      vi.spyOn(HTMLAnchorElement.prototype, "click").mockImplementationOnce(function (
        this: HTMLAnchorElement,
      ) {
        resolve({ name: this.download, href: this.href });
      });
    });
    button(m, "download").click();
    const { name, href } = await saved;
    expect(name).toBe(`stillmotion-${id}.mp4`);
    expect(href).toMatch(/^blob:/);
    const fetched = m.api.requests.find((r) => r.path === `/media/${id}/video`)!;
    expect(new URL(fetched.url).searchParams.get("download")).toBe("1"); // an attachment
  });
});

describe("<still-motion> after a reload", () => {
  it("resumes polling the unfinished job and shows it completed", async () => {
    const api = new FakeStillMotionApi({ pollsToComplete: 30 });
    const first = await mount({ api });
    await submitJob(first);
    await reach(first.el, "waiting");
    const id = [...api.videos.keys()][0]!;
    first.remove();

    const second = await mount({ api, storage: first.storage, until: null });
    await reach(second.el, "waiting");
    expect(text(second)).toMatch(/Generating|Waiting in line|Finishing/);
    await reach(second.el, "completed");
    expect(second.root.querySelector("video")?.getAttribute("src")).toBe(
      api.videos.get(id)!.content_urls!.video,
    );
  });

  it("shows the most recent completed video", async () => {
    const first = await mount();
    await submitJob(first);
    await reach(first.el, "completed");
    first.remove();
    const second = await mount({ api: first.api, storage: first.storage, until: "completed" });
    expect(second.root.querySelector("video")).not.toBeNull();
    button(second, "start-over").click();
    await reach(second.el, "choosing");
  });

  it("forgets a job the worker no longer knows", async () => {
    const storage = new MemoryStorage();
    const api = new FakeStillMotionApi();
    const memory = new JobMemory(storage, JobMemory.keyFor(api.endpoint, api.siteKey));
    memory.remember({
      id: "video_0000000000000000000000000a",
      status: "in_progress",
      created_at: Math.floor(Date.now() / 1000),
    } as never);
    const m = await mount({ api, storage });
    await expect.poll(() => jobIds(m)).toEqual([]);
    expect(m.el.state).toBe("choosing");
  });
});
