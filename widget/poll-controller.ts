/**
 * Polls one job until it finishes, as a Lit reactive controller: it owns its timer, its
 * in-flight request and its `visibilitychange` listener, starting them when the host connects
 * and releasing all three when it disconnects. One job at a time, one request at a time.
 */
import type { ReactiveController, ReactiveControllerHost } from "lit";
import { ApiProblem } from "./api/problem";
import type { Video } from "./api/types";

export interface PollOptions {
  /** Fetches the job; must honour the signal (the controller aborts stale requests). */
  retrieve: (id: string, signal: AbortSignal) => Promise<Video>;
  /** Every fresh Video, including the final completed/failed one. */
  onUpdate: (video: Video) => void;
  /** A problem that waiting will not fix; polling has stopped when this is called. */
  onError: (problem: ApiProblem) => void;
  /** Delay between polls while the job runs (default 1500 ms). */
  intervalMs?: number;
  /** Ceiling of the back-off after transient failures (default 15000 ms). */
  maxIntervalMs?: number;
}

/**
 * Where the poll is. `detached`: the host left the document; `paused`: the page is hidden;
 * `waiting`: a timer is set; `fetching`: one request is in flight.
 */
type Phase = "idle" | "detached" | "paused" | "waiting" | "fetching";

/** Polls `retrieve` for one job id until it is completed or failed. */
export class PollController implements ReactiveController {
  readonly #host: ReactiveControllerHost & HTMLElement;
  readonly #options: PollOptions;
  readonly #intervalMs: number;
  readonly #maxIntervalMs: number;
  #id: string | null = null;
  #phase: Phase = "idle";
  #connected = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #request: AbortController | null = null;
  #failures = 0;
  /** After a transient failure, no poll before this time, even when the page becomes visible. */
  #notBefore = 0;
  /** Bumped whenever the current poll is replaced or halted, so late answers are dropped. */
  #generation = 0;

  constructor(host: ReactiveControllerHost & HTMLElement, options: PollOptions) {
    this.#host = host;
    this.#options = options;
    this.#intervalMs = options.intervalMs ?? 1500;
    this.#maxIntervalMs = options.maxIntervalMs ?? 15_000;
    host.addController(this);
  }

  /** The id being polled (also while paused or detached), or null. */
  get polling(): string | null {
    return this.#id;
  }

  /** Polls `id` now, replacing any current poll (its request is aborted, its answer dropped). */
  start(id: string): void {
    this.#halt();
    this.#id = id;
    this.#failures = 0;
    this.#notBefore = 0;
    this.#resume();
  }

  stop(): void {
    this.#halt();
    this.#id = null;
    this.#phase = "idle";
  }

  hostConnected(): void {
    if (this.#connected) return;
    this.#connected = true;
    this.#document.addEventListener("visibilitychange", this.#onVisibility);
    this.#resume();
  }

  hostDisconnected(): void {
    this.#connected = false;
    this.#document.removeEventListener("visibilitychange", this.#onVisibility);
    this.#halt();
    if (this.#id !== null) this.#phase = "detached";
  }

  get #document(): Document {
    return this.#host.ownerDocument;
  }

  get #hidden(): boolean {
    return this.#document.visibilityState === "hidden";
  }

  readonly #onVisibility = (): void => {
    if (this.#hidden && this.#phase === "waiting") {
      clearTimeout(this.#timer);
      this.#phase = "paused";
    } else if (!this.#hidden && this.#phase === "paused") {
      this.#resume();
    }
  };

  /** Cancels the timer and the in-flight request; their callbacks will find a newer generation. */
  #halt(): void {
    this.#generation++;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#request?.abort();
    this.#request = null;
  }

  /** Polls as soon as allowed, or parks in the phase that says why not. */
  #resume(): void {
    if (this.#id === null) this.#phase = "idle";
    else if (!this.#connected) this.#phase = "detached";
    else if (this.#hidden) this.#phase = "paused";
    else if (Date.now() < this.#notBefore) this.#schedule(this.#notBefore - Date.now());
    else void this.#poll(this.#id);
  }

  #schedule(delayMs: number): void {
    if (this.#hidden) {
      this.#phase = "paused"; // visibilitychange resumes it
      return;
    }
    this.#phase = "waiting";
    const generation = this.#generation;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (generation === this.#generation) this.#resume();
    }, delayMs);
  }

  async #poll(id: string): Promise<void> {
    const generation = ++this.#generation;
    const request = new AbortController();
    this.#request = request;
    this.#phase = "fetching";
    let video: Video;
    try {
      video = await this.#options.retrieve(id, request.signal);
    } catch (error) {
      if (generation === this.#generation) this.#failed(error);
      return;
    }
    if (generation !== this.#generation) return; // an old id, or stopped meanwhile
    this.#request = null;
    this.#failures = 0;
    this.#notBefore = 0;
    const finished = video.status === "completed" || video.status === "failed";
    // Stop first, so that onUpdate may start() the next job (a remix) without interference.
    if (finished) this.stop();
    this.#options.onUpdate(video);
    if (!finished && generation === this.#generation) this.#schedule(this.#intervalMs);
  }

  #failed(error: unknown): void {
    this.#request = null;
    const problem =
      error instanceof ApiProblem
        ? error
        : new ApiProblem("Checking the video's progress failed.", { kind: "server", cause: error });
    if (!problem.transient) {
      this.stop();
      this.#options.onError(problem);
      return;
    }
    this.#failures++;
    const backoff = Math.min(this.#intervalMs * 2 ** this.#failures, this.#maxIntervalMs);
    const delay =
      problem.retryAfter === null ? backoff : Math.max(problem.retryAfter * 1000, this.#intervalMs);
    this.#notBefore = Date.now() + delay;
    this.#schedule(delay);
  }
}
