/**
 * The whole visitor flow as one pure state machine. The element keeps a single `FlowState`,
 * renders from it, and changes it only through `transition()`, which ignores any event that
 * makes no sense in the current state (a late decode, a double click, a poll after cancel).
 * Side effects (fetches, decoding, timers) live outside it — flows/, the poll controller —
 * and report back as events.
 *
 * idle → loading-models → choosing → decoding → editing → submitting → waiting → completed
 *                                                              ↘ failed ↙ (recover: a state)
 */
import type { ModelRoute, Video } from "../api/types";
import type { FitMode } from "../fit";
import { EMPTY_PROMPT } from "../prompt";
import { canSubmit, routeOf, setupOf } from "./queries";
import type {
  Draft,
  DraftPatch,
  FlowEvent,
  FlowState,
  Framing,
  Photo,
  Problem,
  Recoverable,
  Sample,
  Setup,
  Submitting,
  Waiting,
} from "./types";

/** Where every flow starts, and where a change of worker or site key sends it back. */
export const IDLE: FlowState = { name: "idle" };

const DEFAULT_FRAMING: Framing = {
  mode: "cover",
  focus: { x: 0.5, y: 0.5 },
  zoom: 1,
  fill: "blur",
};

/** The state after `event`; the very same object when the event does not apply. */
export function transition(state: FlowState, event: FlowEvent): FlowState {
  const handler = HANDLERS[event.type] as (s: FlowState, e: FlowEvent) => FlowState | undefined;
  return handler(state, event) ?? state;
}

type Handlers = {
  [T in FlowEvent["type"]]: (
    state: FlowState,
    event: Extract<FlowEvent, { type: T }>,
  ) => FlowState | undefined;
};

const HANDLERS: Handlers = {
  load: (s) => (s.name === "idle" ? { name: "loading-models" } : undefined),

  "models-loaded": (s, e) =>
    s.name === "loading-models" && e.routes.length > 0
      ? { name: "choosing", setup: initialSetup(e.routes, e.mode) }
      : undefined,

  pick: (s, e) => {
    if (s.name === "choosing")
      return { ...s, name: "decoding", pending: e.pending, previous: null };
    if (s.name === "decoding") return { ...s, pending: e.pending };
    if (s.name === "editing") {
      return { name: "decoding", setup: s.setup, pending: e.pending, previous: s.photo };
    }
    if (s.name === "failed" && (s.recover.name === "choosing" || s.recover.name === "editing")) {
      return HANDLERS.pick(s.recover, e);
    }
    return undefined;
  },

  decoded: (s, e) =>
    s.name === "decoding" && s.pending.url === e.url
      ? { name: "editing", setup: s.setup, photo: { ...s.pending, image: e.image } }
      : undefined,

  "decode-failed": (s, e) => {
    if (s.name !== "decoding" || s.pending.url !== e.url) return undefined;
    const recover: Recoverable = s.previous
      ? { name: "editing", setup: s.setup, photo: s.previous }
      : { name: "choosing", setup: s.setup };
    return { name: "failed", problem: e.problem, video: null, recover };
  },

  edit: (s, e) =>
    s.name === "choosing" || s.name === "decoding" || s.name === "editing"
      ? { ...s, setup: { ...s.setup, draft: applyPatch(s.setup, e.patch) } }
      : undefined,

  submit: (s, e) =>
    s.name === "editing" && canSubmit(s.setup, e.prompt)
      ? {
          name: "submitting",
          setup: s.setup,
          photo: s.photo,
          request: { kind: "create", prompt: e.prompt, key: e.key },
          retrying: false,
        }
      : undefined,

  remix: (s, e) =>
    s.name === "completed" && routeOf(s.setup, s.video.model)?.remix !== false && e.prompt.trim()
      ? {
          name: "submitting",
          setup: s.setup,
          photo: s.photo,
          request: { kind: "remix", prompt: e.prompt.trim(), key: e.key, source: s.video },
          retrying: false,
        }
      : undefined,

  retrying: (s) =>
    s.name === "submitting" || s.name === "waiting" ? { ...s, retrying: true } : undefined,

  created: (s, e) =>
    s.name === "submitting"
      ? settle(
          { ...waitingFrom(s, e.video), startedAt: e.at, sample: sampleOf(e.video, e.at) },
          e.video,
        )
      : undefined,

  resumed: (s, e) =>
    s.name === "choosing"
      ? settle({ ...waitingFrom({ ...s, photo: null }, e.video), sample: null }, e.video)
      : undefined,

  update: (s, e) => {
    if (s.name !== "waiting" || s.video.id !== e.video.id) return undefined;
    const sample = s.sample ?? sampleOf(e.video, e.at);
    return settle({ ...s, video: e.video, sample, retrying: false }, e.video, e.problem);
  },

  "request-failed": (s, e) => {
    if (s.name === "loading-models") return failed(e.problem, null, s);
    if (s.name === "submitting") return failed(e.problem, null, recoverFromSubmit(s, e.problem));
    if (s.name === "waiting") {
      // A job the worker no longer knows cannot be waited for again.
      const recover = e.problem.kind === "not_found" ? back(s) : { ...s, retrying: false };
      return failed(e.problem, s.video, recover);
    }
    return undefined;
  },

  cancel: (s) => (s.name === "submitting" || s.name === "waiting" ? back(s) : undefined),

  retry: (s) => (s.name === "failed" ? s.recover : undefined),

  reset: (s) => {
    const setup = setupOf(s);
    if (!setup) return s.name === "failed" ? s.recover : undefined;
    if (s.name === "choosing" || s.name === "idle" || s.name === "loading-models") return undefined;
    return {
      name: "choosing",
      setup: { ...setup, draft: { ...setup.draft, prompt: EMPTY_PROMPT } },
    };
  },
};

function failed(problem: Problem, video: Video | null, recover: Recoverable): FlowState {
  return { name: "failed", problem, video, recover };
}

/** Where a failed send goes back to: fixable input returns to editing; anything else may be resent. */
function recoverFromSubmit(s: Submitting, problem: Problem): Recoverable {
  const resend = ["network", "rate_limit", "budget", "provider", "server"].includes(problem.kind);
  if (resend) return { ...s, retrying: false };
  return back(s);
}

/** The state a job was started from: the completed video for a remix, else the photo being edited. */
function back(s: Submitting | Waiting): Recoverable {
  if (s.name === "submitting" && s.request.kind === "remix") {
    return { name: "completed", setup: s.setup, photo: s.photo, video: s.request.source };
  }
  return s.photo
    ? { name: "editing", setup: s.setup, photo: s.photo }
    : { name: "choosing", setup: s.setup };
}

function waitingFrom(s: { setup: Setup; photo: Photo | null }, video: Video): Waiting {
  return {
    name: "waiting",
    setup: s.setup,
    photo: s.photo,
    video,
    startedAt: video.created_at * 1000,
    sample: null,
    retrying: false,
  };
}

/** A waiting state whose video may already be finished (fast providers, resumed jobs). */
function settle(w: Waiting, video: Video, problem?: Problem): FlowState {
  if (video.status === "completed") {
    return { name: "completed", setup: w.setup, photo: w.photo, video };
  }
  if (video.status === "failed") {
    const recover = back({ ...w, name: "waiting" });
    return failed(problem ?? jobProblem(video), video, recover);
  }
  return w;
}

function sampleOf(video: Video, at: number): Sample | null {
  return video.status === "in_progress" ? { at, progress: video.progress } : null;
}

/** A failed job's problem when the element supplied none (tests, plain transitions). */
export function jobProblem(video: Video): Problem {
  const code = video.error?.code ?? null;
  const kinds: Record<string, Problem["kind"]> = {
    policy_violation: "policy",
    input_rejected: "input",
    expired: "not_found",
  };
  return {
    kind: (code && kinds[code]) || "provider",
    code,
    message: video.error?.message ?? "",
    retryAfter: null,
  };
}

function initialSetup(routes: ModelRoute[], mode: FitMode = "cover"): Setup {
  const route = routes[0]!;
  const draft: Draft = {
    model: route.id,
    size: route.default_size,
    seconds: route.default_seconds,
    framing: { ...DEFAULT_FRAMING, mode },
    prompt: EMPTY_PROMPT,
  };
  return { routes, draft };
}

/** Applies an edit and keeps size and seconds valid for the (possibly new) route. */
function applyPatch(setup: Setup, patch: DraftPatch): Draft {
  const old = setup.draft;
  const draft: Draft = {
    ...old,
    ...patch,
    framing: { ...old.framing, ...patch.framing },
    prompt: { ...old.prompt, ...patch.prompt },
  };
  const route = routeOf(setup, draft.model);
  if (!route) return old;
  if (!route.sizes.includes(draft.size)) draft.size = route.default_size;
  if (!route.seconds.includes(draft.seconds)) draft.seconds = route.default_seconds;
  return draft;
}
