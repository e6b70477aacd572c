import { describe, expect, it } from "vitest";
import type { Video } from "../../widget/api/types";
import { JobMemory } from "../../widget/resume";

const NOW = Math.floor(Date.now() / 1000) * 1000;
const KEY = JobMemory.keyFor("https://api.example.test", "pk_test");
const DAY = 86_400;

function memoryStorage(initial: Record<string, string> = {}) {
  const data = new Map(Object.entries(initial));
  return {
    data,
    getItem: (key: string) => data.get(key) ?? null,
    setItem: (key: string, value: string) => void data.set(key, value),
    removeItem: (key: string) => void data.delete(key),
  };
}

function video(id: string, createdAt: number, status: Video["status"] = "queued"): Video {
  return {
    id,
    object: "video",
    model: "sim",
    status,
    progress: 0,
    created_at: createdAt,
    completed_at: null,
    expires_at: null,
    prompt: "waves",
    size: "1280x720",
    seconds: "4",
    remixed_from_video_id: null,
    error: null,
    content_urls: null,
  };
}

const nowSeconds = NOW / 1000;
const memory = (storage: ReturnType<typeof memoryStorage> | null = memoryStorage()) =>
  new JobMemory(storage, KEY, () => NOW);

describe("JobMemory", () => {
  it("lists remembered jobs newest first and survives a reload", () => {
    const storage = memoryStorage();
    const jobs = memory(storage);
    jobs.remember(video("video_old", nowSeconds - 60));
    jobs.remember(video("video_new", nowSeconds - 10));
    const reloaded = memory(storage);
    expect(reloaded.list()).toEqual([
      { id: "video_new", status: "queued", createdAt: nowSeconds - 10 },
      { id: "video_old", status: "queued", createdAt: nowSeconds - 60 },
    ]);
  });

  it("updates a job's status in place instead of adding it twice", () => {
    const jobs = memory();
    jobs.remember(video("video_a", nowSeconds - 5));
    jobs.remember(video("video_a", nowSeconds - 5, "completed"));
    expect(jobs.list()).toEqual([
      { id: "video_a", status: "completed", createdAt: nowSeconds - 5 },
    ]);
  });

  it("forgets a job", () => {
    const storage = memoryStorage();
    const jobs = memory(storage);
    jobs.remember(video("video_a", nowSeconds));
    jobs.forget("video_a");
    expect(jobs.list()).toEqual([]);
    expect(storage.data.has(KEY)).toBe(false);
  });

  it("keeps only the newest 10", () => {
    const jobs = memory();
    for (let i = 0; i < 13; i++) jobs.remember(video(`video_${i}`, nowSeconds - 100 + i));
    const ids = jobs.list().map((j) => j.id);
    expect(ids).toHaveLength(10);
    expect(ids[0]).toBe("video_12");
    expect(ids.at(-1)).toBe("video_3");
  });

  it("drops jobs older than 7 days", () => {
    const jobs = memory();
    jobs.remember(video("video_stale", nowSeconds - 7 * DAY - 1));
    jobs.remember(video("video_recent", nowSeconds - 6 * DAY));
    expect(jobs.list().map((j) => j.id)).toEqual(["video_recent"]);
  });

  it.each([
    ["corrupted JSON", "{not json"],
    ["a non-array", '{"id":"video_a"}'],
    ["null", "null"],
  ])("survives %s in storage", (_name, raw) => {
    const jobs = memory(memoryStorage({ [KEY]: raw }));
    expect(jobs.list()).toEqual([]);
    jobs.remember(video("video_a", nowSeconds));
    expect(jobs.list().map((j) => j.id)).toEqual(["video_a"]);
  });

  it("skips malformed entries and keeps the valid ones", () => {
    const entries = [
      { id: "video_ok", status: "in_progress", createdAt: nowSeconds },
      { id: 42, status: "queued", createdAt: nowSeconds },
      { id: "video_bad_status", status: "exploded", createdAt: nowSeconds },
      { id: "video_no_time", status: "queued" },
      null,
      "video_string",
    ];
    const jobs = memory(memoryStorage({ [KEY]: JSON.stringify(entries) }));
    expect(jobs.list().map((j) => j.id)).toEqual(["video_ok"]);
  });

  it("works for the page when storage throws (Safari private mode)", () => {
    const throwing = {
      getItem: () => {
        throw new DOMException("denied", "SecurityError");
      },
      setItem: () => {
        throw new DOMException("full", "QuotaExceededError");
      },
      removeItem: () => {
        throw new DOMException("denied", "SecurityError");
      },
    };
    const jobs = new JobMemory(throwing, KEY, () => NOW);
    expect(jobs.list()).toEqual([]);
    jobs.remember(video("video_a", nowSeconds));
    expect(jobs.list().map((j) => j.id)).toEqual(["video_a"]);
    jobs.forget("video_a");
    expect(jobs.list()).toEqual([]);
  });

  it("works without any storage", () => {
    const jobs = memory(null);
    jobs.remember(video("video_a", nowSeconds));
    expect(jobs.list().map((j) => j.id)).toEqual(["video_a"]);
  });

  it("keeps each endpoint and site key apart", () => {
    const storage = memoryStorage();
    new JobMemory(storage, KEY, () => NOW).remember(video("video_a", nowSeconds));
    const other = new JobMemory(storage, JobMemory.keyFor("https://api.example.test", "pk_other"));
    expect(other.list()).toEqual([]);
    expect(JobMemory.keyFor("https://api.example.test/", "pk_test")).toBe(KEY);
  });
});
