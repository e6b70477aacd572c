import { LitElement } from "lit";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiProblem } from "../../widget/api/problem";
import type { Video } from "../../widget/api/types";
import { PollController } from "../../widget/poll-controller";

class PollHost extends LitElement {}
customElements.define("poll-test-host", PollHost);

function video(id: string, status: Video["status"], progress = 0): Video {
  return {
    id,
    object: "video",
    model: "sim",
    status,
    progress,
    created_at: Math.floor(Date.now() / 1000),
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

/** A retrieve stub whose answers the test releases one by one, tracking requests in flight. */
function scriptedRetrieve() {
  const calls: { id: string; signal: AbortSignal; answer: (v: Video | Error) => void }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const retrieve = vi.fn(
    (id: string, signal: AbortSignal) =>
      new Promise<Video>((resolve, reject) => {
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        const settle = () => inFlight--;
        signal.addEventListener("abort", settle, { once: true });
        calls.push({
          id,
          signal,
          answer: (v) => {
            if (!signal.aborted) settle();
            signal.removeEventListener("abort", settle);
            if (v instanceof Error) reject(v);
            else resolve(v);
          },
        });
      }),
  );
  return { retrieve, calls, maxInFlight: () => maxInFlight };
}

function setup(
  retrieve: (id: string, signal: AbortSignal) => Promise<Video>,
  options: { intervalMs?: number; maxIntervalMs?: number } = {},
) {
  const host = document.createElement("poll-test-host") as PollHost;
  document.body.append(host);
  const onUpdate = vi.fn<(video: Video) => void>();
  const onError = vi.fn<(problem: ApiProblem) => void>();
  const poller = new PollController(host, { retrieve, onUpdate, onError, ...options });
  return { host, poller, onUpdate, onError };
}

const busy = (retryAfter: number | null = null) =>
  new ApiProblem("The provider is busy.", { kind: "provider", status: 503, retryAfter });

/** Lets resolved promises run their continuations without moving fake time. */
const flush = () => vi.advanceTimersByTimeAsync(0);

let visibility: DocumentVisibilityState = "visible";
function setVisibility(state: DocumentVisibilityState) {
  visibility = state;
  document.dispatchEvent(new Event("visibilitychange"));
}

beforeEach(() => {
  vi.useFakeTimers();
  visibility = "visible";
  Object.defineProperty(document, "visibilityState", {
    configurable: true,
    get: () => visibility,
  });
});

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  // Back to Document.prototype's own getter.
  delete (document as { visibilityState?: unknown }).visibilityState;
  document.body.replaceChildren();
});

describe("PollController", () => {
  it("retrieves at once, then every intervalMs, and stops by itself once completed", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { poller, onUpdate } = setup(retrieve, { intervalMs: 1000 });
    poller.start("video_a");
    expect(calls).toHaveLength(1);
    calls[0]!.answer(video("video_a", "in_progress", 40));
    await flush();
    expect(onUpdate).toHaveBeenLastCalledWith(expect.objectContaining({ progress: 40 }));
    await vi.advanceTimersByTimeAsync(999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    calls[1]!.answer(video("video_a", "completed", 100));
    await flush();
    expect(onUpdate).toHaveBeenLastCalledWith(expect.objectContaining({ status: "completed" }));
    expect(poller.polling).toBeNull();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(2);
    expect(vi.getTimerCount()).toBe(0);
  });

  it("stops on failed after delivering the failed video", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { poller, onUpdate, onError } = setup(retrieve);
    poller.start("video_a");
    calls[0]!.answer({
      ...video("video_a", "failed"),
      error: { code: "policy_violation", message: "Not allowed." },
    });
    await flush();
    expect(onUpdate).toHaveBeenCalledOnce();
    expect(onError).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
  });

  it("never has two requests in flight when start() is called repeatedly", async () => {
    const { retrieve, calls, maxInFlight } = scriptedRetrieve();
    const { poller, onUpdate } = setup(retrieve);
    poller.start("video_a");
    poller.start("video_b");
    poller.start("video_c");
    expect(maxInFlight()).toBe(1);
    expect(calls.map((c) => [c.id, c.signal.aborted])).toEqual([
      ["video_a", true],
      ["video_b", true],
      ["video_c", false],
    ]);
    expect(poller.polling).toBe("video_c");
    // A stale answer that arrives anyway (a retrieve that ignored its signal) is dropped.
    calls[0]!.answer(video("video_a", "completed"));
    calls[2]!.answer(video("video_c", "in_progress"));
    await flush();
    expect(onUpdate.mock.calls.map(([v]) => v.id)).toEqual(["video_c"]);
    await vi.advanceTimersByTimeAsync(1500);
    expect(calls.at(-1)!.id).toBe("video_c");
    expect(calls).toHaveLength(4);
  });

  it("backs off exponentially on transient errors, up to maxIntervalMs", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { poller, onError } = setup(retrieve, { intervalMs: 1000, maxIntervalMs: 5000 });
    poller.start("video_a");
    const gaps: number[] = [];
    for (let i = 0; i < 4; i++) {
      const before = Date.now();
      calls.at(-1)!.answer(busy());
      await flush();
      const count = calls.length;
      while (calls.length === count) await vi.advanceTimersByTimeAsync(100);
      gaps.push(Date.now() - before);
    }
    expect(gaps).toEqual([2000, 4000, 5000, 5000]);
    expect(onError).not.toHaveBeenCalled();
    expect(poller.polling).toBe("video_a");
  });

  it("honours Retry-After on 503, then returns to the normal interval", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { poller, onUpdate } = setup(retrieve, { intervalMs: 1000 });
    poller.start("video_a");
    calls[0]!.answer(busy(9));
    await flush();
    await vi.advanceTimersByTimeAsync(8999);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(2);
    calls[1]!.answer(video("video_a", "in_progress", 50));
    await flush();
    expect(onUpdate).toHaveBeenCalledOnce();
    await vi.advanceTimersByTimeAsync(1000);
    expect(calls).toHaveLength(3);
  });

  it("calls onError and stops on a problem that waiting will not fix", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { poller, onError } = setup(retrieve);
    poller.start("video_a");
    const gone = new ApiProblem("No video with that id.", { kind: "not_found", status: 404 });
    calls[0]!.answer(gone);
    await flush();
    expect(onError).toHaveBeenCalledWith(gone);
    expect(poller.polling).toBeNull();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(calls).toHaveLength(1);
  });

  it("pauses while the page is hidden and resumes at once when visible", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { poller } = setup(retrieve, { intervalMs: 1000 });
    poller.start("video_a");
    calls[0]!.answer(video("video_a", "in_progress"));
    await flush();
    setVisibility("hidden");
    await vi.advanceTimersByTimeAsync(30_000);
    expect(calls).toHaveLength(1);
    expect(poller.polling).toBe("video_a");
    setVisibility("visible");
    expect(calls).toHaveLength(2);
  });

  it("does not start a poll while hidden, and lets a hidden answer wait for visibility", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { poller } = setup(retrieve, { intervalMs: 1000 });
    setVisibility("hidden");
    poller.start("video_a");
    expect(calls).toHaveLength(0);
    setVisibility("visible");
    expect(calls).toHaveLength(1);
    setVisibility("hidden"); // while the request is in flight
    calls[0]!.answer(video("video_a", "queued"));
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(1);
    setVisibility("visible");
    expect(calls).toHaveLength(2);
  });

  it("stops on disconnect, aborting the in-flight request, and resumes on reconnect", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { host, poller, onUpdate } = setup(retrieve);
    poller.start("video_a");
    const removed = vi.spyOn(document, "removeEventListener");
    host.remove();
    expect(removed).toHaveBeenCalledWith("visibilitychange", expect.any(Function));
    expect(calls[0]!.signal.aborted).toBe(true);
    calls[0]!.answer(video("video_a", "in_progress"));
    await vi.advanceTimersByTimeAsync(60_000);
    setVisibility("hidden");
    setVisibility("visible"); // nothing restarts while detached
    expect(calls).toHaveLength(1);
    expect(onUpdate).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(0);
    document.body.append(host);
    expect(calls).toHaveLength(2);
    expect(calls[1]!.id).toBe("video_a");
  });

  it("stop() aborts the request and clears the timer", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { poller, onUpdate } = setup(retrieve);
    poller.start("video_a");
    poller.stop();
    expect(calls[0]!.signal.aborted).toBe(true);
    expect(poller.polling).toBeNull();
    calls[0]!.answer(video("video_a", "in_progress"));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(onUpdate).not.toHaveBeenCalled();
    expect(calls).toHaveLength(1);
  });

  it("lets onUpdate start the next job when one finishes", async () => {
    const { retrieve, calls } = scriptedRetrieve();
    const { poller, onUpdate } = setup(retrieve);
    onUpdate.mockImplementation((v) => v.status === "completed" && poller.start("video_b"));
    poller.start("video_a");
    calls[0]!.answer(video("video_a", "completed"));
    await flush();
    expect(poller.polling).toBe("video_b");
    expect(calls.map((c) => c.id)).toEqual(["video_a", "video_b"]);
  });
});
