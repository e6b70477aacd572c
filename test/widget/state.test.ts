/** The flow state machine (widget/state/): valid events move it, anything else is ignored. */
import { describe, expect, it } from "vitest";
import type { ModelRoute, Video } from "../../widget/api/types";
import type { DecodedImage } from "../../widget/fit";
import { canSubmit, photosOf, remainingMs } from "../../widget/state/queries";
import { restrictRoutes } from "../../widget/state/routes";
import { IDLE, transition } from "../../widget/state/transition";
import type { FlowEvent, FlowState, Problem } from "../../widget/state/types";

const ROUTE: ModelRoute = {
  id: "sim",
  label: "Simulator",
  owned_by: "simulator",
  simulated: true,
  sizes: ["1280x720", "720x1280"],
  default_size: "1280x720",
  seconds: ["4", "8"],
  default_seconds: "4",
  input_image: "required",
  remix: true,
  audio: false,
  price_per_second_usd: 0,
  prompt_max_chars: 20,
};
const OTHER: ModelRoute = {
  ...ROUTE,
  id: "other",
  sizes: ["1024x1024"],
  default_size: "1024x1024",
};

const image = { width: 10, height: 10, close() {} } as DecodedImage;
const pending = (n = 1) => ({ file: new Blob(), name: `p${n}.jpg`, url: `blob:${n}` });

function video(extra: Partial<Video> = {}): Video {
  return {
    id: "video_1",
    object: "video",
    model: "sim",
    status: "queued",
    progress: 0,
    created_at: 1000,
    completed_at: null,
    expires_at: null,
    prompt: "p",
    size: "1280x720",
    seconds: "4",
    remixed_from_video_id: null,
    error: null,
    content_urls: null,
    ...extra,
  };
}

const problem = (kind: Problem["kind"]): Problem => ({
  kind,
  code: null,
  message: kind,
  retryAfter: null,
});

/** Runs events from idle and returns the final state. */
function run(...events: FlowEvent[]): FlowState {
  return events.reduce(transition, IDLE);
}

const toChoosing: FlowEvent[] = [
  { type: "load" },
  { type: "models-loaded", routes: [ROUTE, OTHER] },
];
const toEditing: FlowEvent[] = [
  ...toChoosing,
  { type: "pick", pending: pending() },
  { type: "decoded", url: "blob:1", image },
];
const toWaiting: FlowEvent[] = [
  ...toEditing,
  { type: "submit", key: "k1", prompt: "Waves." },
  { type: "created", video: video(), at: 5000 },
];

describe("transition", () => {
  it("walks the happy path: idle → loading-models → choosing → decoding → editing → submitting → waiting → completed", () => {
    const names = [
      ...toWaiting,
      {
        type: "update",
        video: video({ status: "completed", progress: 100 }),
        at: 9000,
      } as FlowEvent,
    ]
      .reduce<FlowState[]>((states, e) => [...states, transition(states.at(-1)!, e)], [IDLE])
      .map((s) => s.name);
    expect(names).toEqual([
      "idle",
      "loading-models",
      "choosing",
      "decoding",
      "editing",
      "submitting",
      "waiting",
      "completed",
    ]);
  });

  it("returns the very same state for events that do not apply", () => {
    const choosing = run(...toChoosing);
    for (const e of [
      { type: "submit", key: "k", prompt: "x" },
      { type: "decoded", url: "blob:1", image },
      { type: "created", video: video(), at: 0 },
      { type: "cancel" },
      { type: "retry" },
      { type: "load" },
    ] as FlowEvent[]) {
      expect(transition(choosing, e), e.type).toBe(choosing);
    }
  });

  it("stays in loading-models when no route is offered", () => {
    const loading = run({ type: "load" });
    expect(transition(loading, { type: "models-loaded", routes: [] })).toBe(loading);
  });

  it("drops a late decode of a photo that was replaced", () => {
    const s = run(
      ...toChoosing,
      { type: "pick", pending: pending(1) },
      { type: "pick", pending: pending(2) },
    );
    expect(transition(s, { type: "decoded", url: "blob:1", image })).toBe(s);
    expect(transition(s, { type: "decoded", url: "blob:2", image }).name).toBe("editing");
  });

  it("returns to the previous photo when a replacement cannot be decoded", () => {
    const s = run(...toEditing, { type: "pick", pending: pending(2) });
    const failed = transition(s, {
      type: "decode-failed",
      url: "blob:2",
      problem: problem("image"),
    });
    expect(failed.name).toBe("failed");
    const back = transition(failed, { type: "retry" });
    expect(back.name === "editing" && back.photo.url).toBe("blob:1");
  });

  it("refuses to submit an empty or over-long prompt", () => {
    const editing = run(...toEditing);
    expect(transition(editing, { type: "submit", key: "k", prompt: "  " })).toBe(editing);
    expect(transition(editing, { type: "submit", key: "k", prompt: "x".repeat(21) })).toBe(editing);
    expect(transition(editing, { type: "submit", key: "k", prompt: "x".repeat(20) }).name).toBe(
      "submitting",
    );
  });

  it("keeps size and seconds valid when the model changes", () => {
    const s = run(...toEditing, { type: "edit", patch: { size: "720x1280", seconds: "8" } });
    const other = transition(s, { type: "edit", patch: { model: "other" } });
    expect(other.name === "editing" && other.setup.draft).toMatchObject({
      model: "other",
      size: "1024x1024",
      seconds: "8",
    });
    expect(transition(s, { type: "edit", patch: { model: "missing" } })).toMatchObject({
      setup: { draft: { model: "sim" } },
    });
  });

  it("marks retrying and clears it on the next update", () => {
    const retrying = run(...toWaiting, { type: "retrying" });
    expect(retrying).toMatchObject({ name: "waiting", retrying: true });
    const updated = transition(retrying, {
      type: "update",
      video: video({ status: "in_progress", progress: 10 }),
      at: 6000,
    });
    expect(updated).toMatchObject({ name: "waiting", retrying: false });
  });

  it("ignores updates for another job", () => {
    const waiting = run(...toWaiting);
    expect(transition(waiting, { type: "update", video: video({ id: "video_2" }), at: 0 })).toBe(
      waiting,
    );
  });

  it("fails a job whose video failed, with Try again back to the editor", () => {
    const failedVideo = video({
      status: "failed",
      error: { code: "policy_violation", message: "No." },
    });
    const failed = run(...toWaiting, { type: "update", video: failedVideo, at: 6000 });
    expect(failed).toMatchObject({
      name: "failed",
      problem: { kind: "policy" },
      recover: { name: "editing" },
    });
  });

  it("resends the same request (same key) after a transient send failure", () => {
    const submitting = run(...toEditing, { type: "submit", key: "k1", prompt: "Waves." });
    const failed = transition(submitting, { type: "request-failed", problem: problem("network") });
    const again = transition(failed, { type: "retry" });
    expect(again).toMatchObject({ name: "submitting", request: { key: "k1" }, retrying: false });
  });

  it("returns to the editor after a refusal that needs a change", () => {
    const submitting = run(...toEditing, { type: "submit", key: "k1", prompt: "Waves." });
    // `unconfirmed`: the worker holds the key of a send whose outcome is unknown, so resending
    // it cannot help; from the editor, a new submit carries a new key (a new, paid video).
    for (const kind of ["policy", "input", "auth", "unconfirmed"] as const) {
      const failed = transition(submitting, { type: "request-failed", problem: problem(kind) });
      expect(transition(failed, { type: "retry" }).name, kind).toBe("editing");
    }
  });

  it("keeps waiting for a job after a poll failure, unless the job is gone", () => {
    const waiting = run(...toWaiting);
    const server = transition(waiting, { type: "request-failed", problem: problem("server") });
    expect(transition(server, { type: "retry" }).name).toBe("waiting");
    const gone = transition(waiting, { type: "request-failed", problem: problem("not_found") });
    expect(transition(gone, { type: "retry" }).name).toBe("editing");
  });

  it("cancels back to the editor with the photo", () => {
    expect(transition(run(...toWaiting), { type: "cancel" }).name).toBe("editing");
  });

  it("remixes from completed and falls back to completed when the remix is refused", () => {
    const done = video({ status: "completed", progress: 100 });
    const completed = run(...toWaiting, { type: "update", video: done, at: 9000 });
    expect(transition(completed, { type: "remix", key: "k2", prompt: " " })).toBe(completed);
    const remixing = transition(completed, { type: "remix", key: "k2", prompt: "Slower." });
    expect(remixing).toMatchObject({
      name: "submitting",
      request: { kind: "remix", prompt: "Slower." },
    });
    const failed = transition(remixing, { type: "request-failed", problem: problem("policy") });
    expect(transition(failed, { type: "retry" })).toMatchObject({
      name: "completed",
      video: { id: "video_1" },
    });
  });

  it("resumes a job only while nothing else is going on", () => {
    const resumed = run(...toChoosing, {
      type: "resumed",
      video: video({ status: "in_progress", progress: 40 }),
    });
    expect(resumed).toMatchObject({ name: "waiting", startedAt: 1_000_000, photo: null });
    const completed = run(...toChoosing, {
      type: "resumed",
      video: video({ status: "completed" }),
    });
    expect(completed.name).toBe("completed");
    const editing = run(...toEditing);
    expect(transition(editing, { type: "resumed", video: video() })).toBe(editing);
  });

  it("starts over from anywhere with a setup, keeping the model but not the prompt", () => {
    const s = run(...toWaiting);
    const fresh = transition(s, { type: "reset" });
    expect(fresh).toMatchObject({
      name: "choosing",
      setup: { draft: { model: "sim", prompt: { text: "" } } },
    });
    expect(photosOf(fresh)).toEqual([]);
  });
});

describe("helpers", () => {
  it("photosOf lists what a state still holds, including through failed", () => {
    const s = run(...toEditing, { type: "pick", pending: pending(2) });
    expect(photosOf(s).map((p) => p.url)).toEqual(["blob:2", "blob:1"]);
  });

  it("estimates time left from the progress rate", () => {
    const waiting = run(
      ...toWaiting,
      { type: "update", video: video({ status: "in_progress", progress: 10 }), at: 10_000 },
      { type: "update", video: video({ status: "in_progress", progress: 30 }), at: 20_000 },
    );
    if (waiting.name !== "waiting") throw new Error(waiting.name);
    // 20 points in 10 s → 70 points left take 35 s.
    expect(remainingMs(waiting, 20_000)).toBe(35_000);
    const fresh = run(...toWaiting);
    expect(remainingMs(fresh as never, 6000)).toBeNull();
  });

  it("canSubmit counts the trimmed prompt like the worker", () => {
    const s = run(...toEditing);
    if (s.name !== "editing") throw new Error(s.name);
    expect(canSubmit(s.setup, `  ${"x".repeat(20)}  `)).toBe(true);
  });

  it("restrictRoutes narrows routes and moves defaults onto allowed values", () => {
    const none = { ...ROUTE, id: "text", input_image: "none" as const };
    const out = restrictRoutes([ROUTE, OTHER, none], {
      models: "other, sim, text",
      sizes: "720x1280,1024x1024",
      seconds: "8",
    });
    expect(out.map((r) => [r.id, r.sizes, r.default_size, r.seconds, r.default_seconds])).toEqual([
      ["other", ["1024x1024"], "1024x1024", ["8"], "8"],
      ["sim", ["720x1280"], "720x1280", ["8"], "8"],
    ]);
    expect(restrictRoutes([ROUTE], { sizes: "1x1" })).toEqual([]);
    expect(restrictRoutes([ROUTE], {})).toEqual([ROUTE]);
  });
});
