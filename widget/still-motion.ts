/**
 * `<still-motion>`: photo in, short AI video out. The element owns one `FlowState` (state.ts)
 * and renders from it alone; every effect (fetch, decode, fit, poll) reports back as a flow
 * event, and `#enter` starts the effects a new state needs. Views live in `views/`.
 */
import { html, LitElement, type PropertyValues, type TemplateResult } from "lit";
import { ApiProblem, StillMotionClient, type Video } from "./api";
import {
  StillMotionCancelledEvent,
  StillMotionCompletedEvent,
  StillMotionCreatedEvent,
  StillMotionFailedEvent,
  StillMotionImageEvent,
  StillMotionProgressEvent,
  StillMotionRemixEvent,
} from "./events";
import type { fitImage, FitMode } from "./fit";
import { ensureLocale, stringsFor, type Strings } from "./i18n";
import { PollController } from "./poll-controller";
import { DEFAULT_PRESETS, type PromptPreset, type PromptTemplate } from "./prompt";
import { JobMemory } from "./resume";
import {
  IDLE,
  parseSize,
  photosOf,
  restrictRoutes,
  transition,
  type Draft,
  type FlowEvent,
  type FlowState,
  type PendingPhoto,
  type Photo,
  type Problem,
  type StateName,
  type Submitting,
} from "./state";
import { styles } from "./styles";
import { Announcer } from "./views/announcer";
import { bodyView, showIfSlotted } from "./views/body";
import { fileInputs } from "./views/choose";
import { ClockController } from "./views/clock";
import type { Actions, ViewContext } from "./views/context";
import { DownloadController } from "./views/download";
import { describeError, describeJob } from "./views/problem";
import { currentPrompt } from "./views/prompt-editor";

/** Decoding, fitting and the framer arrive with the first photo (widget/imaging.ts). */
const loadImaging = () => import("./imaging");

type Store = Pick<Storage, "getItem" | "setItem" | "removeItem">;

/** Where this module was served from; only http(s) origins can be a worker. */
const SCRIPT_ORIGIN = ((): string => {
  try {
    const url = new URL(import.meta.url);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : "";
  } catch {
    return "";
  }
})();

/** A create/remix that failed transiently is retried once by itself if the wait is this short. */
const MAX_AUTO_RETRY_WAIT_S = 5;
const RETRY_DELAY_MS = 1000;

/**
 * Turns a visitor's photo into a short AI video through a Stillmotion worker.
 *
 * @summary Photo-to-video widget: choose a photo, frame it, describe the motion, get a video.
 *
 * @event {StillMotionImageEvent} still-motion-image - A photo is ready: pixel size and bytes of the upload.
 * @event {StillMotionCreatedEvent} still-motion-created - The worker accepted a new job.
 * @event {StillMotionProgressEvent} still-motion-progress - The job's status or progress changed.
 * @event {StillMotionCompletedEvent} still-motion-completed - The video is ready to play.
 * @event {StillMotionFailedEvent} still-motion-failed - The job or a request failed for good.
 * @event {StillMotionCancelledEvent} still-motion-cancelled - The visitor stopped waiting.
 * @event {StillMotionRemixEvent} still-motion-remix - A remix job was accepted (instead of `-created`).
 *
 * @slot - Intro text above the drop zone (defaults to a one-line explanation).
 * @slot logo - Your logo, at the top.
 * @slot header - A heading or anything else next to the logo.
 * @slot footer - Small print at the bottom (terms, credits).
 *
 * @csspart base - The outer box.
 * @csspart header - The row holding the `logo` and `header` slots.
 * @csspart footer - The row holding the `footer` slot.
 * @csspart intro - The intro text.
 * @csspart dropzone - The drop zone, a button that opens the file picker.
 * @csspart pick - The "choose another photo" button.
 * @csspart camera - The "take a photo" button (shown on touch devices).
 * @csspart preview - The photo preview, and the box around the framer.
 * @csspart framer - The `<still-motion-framer>` element.
 * @csspart controls - The model, length and size choices.
 * @csspart simulated - The "simulator" label.
 * @csspart price - The price (with `show-price`).
 * @csspart prompt - The prompt section.
 * @csspart presets - The row of quick-start buttons.
 * @csspart preset - Each quick-start button.
 * @csspart submit - The "make the video" button.
 * @csspart status - The waiting section (status text, progress, times, Cancel).
 * @csspart progress - The progress bar (a `<progress>`).
 * @csspart cancel - The Cancel button.
 * @csspart result - The finished video section.
 * @csspart video - The `<video>` player.
 * @csspart actions - A row of buttons (result and error sections).
 * @csspart download - The Download button.
 * @csspart start-over - The Start over button.
 * @csspart remix - The remix form.
 * @csspart error - The error section.
 * @csspart retry - The Try again button.
 *
 * @cssproperty --still-motion-accent - Buttons, focus rings, progress. Default #5b5bd6 (dark: #6767dc); white text must read on it.
 * @cssproperty --still-motion-bg - Background. Default white (dark: #17161f).
 * @cssproperty --still-motion-fg - Text colour. Default #1c1b29 (dark: #eeedf7).
 * @cssproperty --still-motion-muted - Secondary text. Default #5f5d75 (dark: #a9a6c2).
 * @cssproperty --still-motion-border - Borders. Default #d9d7e8 (dark: #34324a).
 * @cssproperty --still-motion-radius - Corner radius. Default 12px.
 * @cssproperty --still-motion-font - Font family. Default the system UI font.
 *
 * @cssstate idle - Not configured yet (no `endpoint` or `site-key`).
 * @cssstate loading-models - Fetching the model routes.
 * @cssstate choosing - Waiting for a photo.
 * @cssstate decoding - Opening the chosen photo.
 * @cssstate editing - Framing, options and prompt.
 * @cssstate submitting - Uploading the photo and starting the job.
 * @cssstate waiting - The video is being made.
 * @cssstate completed - The video is ready.
 * @cssstate failed - Something went wrong; a way forward is offered.
 */
export class StillMotionElement extends LitElement {
  static override styles = styles;

  static override properties = {
    endpoint: { type: String },
    siteKey: { type: String, attribute: "site-key" },
    lang: { type: String, reflect: true },
    models: { type: String },
    sizes: { type: String },
    seconds: { type: String },
    showPrice: { type: Boolean, attribute: "show-price" },
    fit: { type: String },
    theme: { type: String, reflect: true },
    strings: { attribute: false },
    templates: { attribute: false },
    presets: { attribute: false },
    storage: { attribute: false },
    pollInterval: { attribute: false },
  };

  /**
   * The worker's origin, e.g. `https://video.example.com`. Defaults to the origin this script
   * was loaded from, which is the worker when the page uses its `<script src=".../widget.js">`.
   */
  declare endpoint: string;
  /** Publishable site key (`pk_…`). */
  declare siteKey: string;
  /** UI language; when absent, the nearest `lang` up the page (usually `<html lang>`). */
  declare lang: string;
  /** Comma-separated route ids to offer, in this order (default: all). Read when models load. */
  declare models: string;
  /** Comma-separated sizes (`WxH`) to offer (default: each route's own). Read when models load. */
  declare sizes: string;
  /** Comma-separated durations in seconds to offer (default: each route's own). */
  declare seconds: string;
  /** Show the price (`price_per_second_usd × seconds`) next to the options. */
  declare showPrice: boolean;
  /** How the photo meets the frame at first: `cover` (crop, default) or `contain` (letterbox). */
  declare fit: FitMode;
  /** `dark` or `light` forces a theme; absent follows the visitor's preference. */
  declare theme: "dark" | "light" | undefined;
  /** Overrides of any UI string (see `widget/locales/en.ts` for the keys). */
  declare strings: Partial<Strings>;
  /** Prompt templates with `{blank}` placeholders, shown as fill-in sentences. */
  declare templates: PromptTemplate[];
  /** Quick-start presets; defaults to the five built-in ones. */
  declare presets: PromptPreset[];
  /** Where the visitor token and recent jobs are kept (default `localStorage`; `null`: memory). */
  declare storage: Store | null | undefined;
  /** Milliseconds between status checks while waiting; read when polling first starts. */
  declare pollInterval: number;

  /** The single source of truth for what is shown; changed only by `#send`. */
  #flow: FlowState = IDLE;
  /** Aborted on disconnect and on Start over: every fetch listens to it. */
  #epoch = new AbortController();
  #request: AbortController | null = null;
  #poller: PollController | null = null;
  #clock = new ClockController(this);
  #download = new DownloadController(this);
  #live = new Announcer(this);
  #api: {
    key: string;
    store: Store | null | undefined;
    client: StillMotionClient;
    memory: JobMemory;
  } | null = null;
  #fitted: { key: string; result: ReturnType<typeof fitImage> } | null = null;
  #refocus = false;
  #langObserver = new MutationObserver(() => this.requestUpdate());
  /** Mirrors the flow's state name as a CSS custom state, e.g. `still-motion:state(waiting)`. */
  #internals = this.attachInternals();

  constructor() {
    super();
    this.endpoint = "";
    this.siteKey = "";
    this.showPrice = false;
    this.fit = "cover";
    this.strings = {};
    this.templates = [];
    this.presets = DEFAULT_PRESETS;
    this.pollInterval = 1500;
    this.#internals.states.add(IDLE.name);
    // Paste is composed, so this hears it from any focused control inside, or the host itself.
    this.addEventListener("paste", (event) => this.#onPaste(event));
  }

  /** Where the visitor is in the flow (also exposed as the CSS custom state of that name). */
  get state(): StateName {
    return this.#flow.name;
  }

  override connectedCallback(): void {
    // Renewed before the controllers reconnect: the poll resumes at once and needs a live signal.
    this.#epoch = new AbortController();
    super.connectedCallback();
    this.#langObserver.observe(document.documentElement, { attributeFilter: ["lang"] });
    // Effects a disconnect aborted run again (a create/remix resends its Idempotency-Key).
    const s = this.#flow;
    if (s.name === "loading-models") void this.#loadModels();
    if (s.name === "decoding") void this.#decode(s.pending);
    if (s.name === "submitting") void this.#run(s);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#epoch.abort();
    this.#langObserver.disconnect();
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if ((changed.has("endpoint") || changed.has("siteKey")) && this.#flow !== IDLE) {
      // Another worker or site: nothing of the old flow applies any more.
      this.#epoch.abort();
      this.#epoch = new AbortController();
      this.#set(IDLE);
    }
    if (this.#endpoint && this.siteKey && this.isConnected && this.#flow === IDLE) {
      this.#send({ type: "load" });
    }
  }

  protected override updated(): void {
    // A keyboard user whose focused button just disappeared lands on the new view's main control.
    if (!this.#refocus) return;
    this.#refocus = false;
    if (this.shadowRoot?.activeElement) return;
    const target = this.renderRoot.querySelector<HTMLElement>("[data-focus]");
    (target ?? this.renderRoot.querySelector<HTMLElement>("[part~=base]"))?.focus();
  }

  protected override render(): TemplateResult {
    const ctx = this.#context();
    const extras = { now: this.#clock.now, download: this.#download.state };
    return html`<div part="base" tabindex="-1">
      <header part="header" hidden @slotchange=${showIfSlotted}>
        <slot name="logo"></slot><slot name="header"></slot>
      </header>
      <div class="intro" part="intro"><slot>${ctx.t.intro}</slot></div>
      ${bodyView(ctx, this.#flow, extras)} ${fileInputs(ctx)} ${this.#live.render()}
      <footer part="footer" hidden @slotchange=${showIfSlotted}>
        <slot name="footer"></slot>
      </footer>
    </div>`;
  }

  // ——— context ———

  get #endpoint(): string {
    return this.endpoint || SCRIPT_ORIGIN;
  }

  /** The effective language: own `lang`, else the nearest ancestor's, else the document's. */
  get #lang(): string {
    const inherited = this.parentElement?.closest<HTMLElement>("[lang]")?.lang;
    return this.lang || inherited || document.documentElement.lang || "en";
  }

  /** Waits for the reader's locale chunk before rendering, so no English flashes first. */
  protected override async scheduleUpdate(): Promise<void> {
    await ensureLocale(this.#lang);
    super.scheduleUpdate();
  }

  get #t(): Strings {
    return stringsFor(this.#lang, this.strings);
  }

  #context(): ViewContext {
    return {
      t: this.#t,
      lang: this.#lang,
      act: this.#actions,
      showPrice: this.showPrice,
      templates: this.templates ?? [],
      presets: this.presets?.length ? this.presets : DEFAULT_PRESETS,
    };
  }

  /** Client and job memory for the current endpoint, site key and storage, rebuilt on a change. */
  get #services(): { client: StillMotionClient; memory: JobMemory } {
    const [endpoint, siteKey, store] = [this.#endpoint, this.siteKey, this.storage];
    const key = `${endpoint}#${siteKey}`;
    if (this.#api?.key !== key || this.#api.store !== store) {
      const storage = store === undefined ? defaultStorage() : store;
      const client = new StillMotionClient({ endpoint, siteKey, storage });
      const memory = new JobMemory(storage, JobMemory.keyFor(endpoint, siteKey));
      this.#api = { key, store, client, memory };
    }
    return this.#api;
  }

  get #poll(): PollController {
    this.#poller ??= new PollController(this, {
      retrieve: (id, signal) => this.#retrieve(id, signal),
      onUpdate: (video) => this.#onUpdate(video),
      onError: (problem) => this.#fail(problem),
      intervalMs: this.pollInterval,
    });
    return this.#poller;
  }

  // ——— the state machine's driver ———

  #send(event: FlowEvent): void {
    const prev = this.#flow;
    const next = transition(prev, event);
    if (next === prev) return;
    this.#refocus ||= prev.name !== next.name && this.matches(":focus-within");
    this.#set(next);
    this.#enter(prev, next);
  }

  #set(next: FlowState): void {
    const prev = this.#flow;
    this.#flow = next;
    this.#internals.states.delete(prev.name);
    this.#internals.states.add(next.name);
    this.#release(prev, next);
    if (next.name !== "waiting") this.#poller?.stop();
    if (next.name !== "completed") this.#download.reset();
    this.#clock.running = next.name === "waiting";
    this.requestUpdate();
  }

  /** Starts what `next` needs; `#set` already stopped what only `prev` needed. */
  #enter(prev: FlowState, next: FlowState): void {
    const t = this.#t;
    if (prev.name === "submitting" && next.name !== "submitting") this.#request?.abort();
    switch (next.name) {
      case "loading-models":
        return void this.#loadModels();
      case "decoding":
        if (prev.name !== "decoding" || prev.pending !== next.pending)
          void this.#decode(next.pending);
        return;
      case "editing":
        if (prev.name === "decoding") this.#imageReady(next.photo, next.setup.draft);
        return;
      case "submitting":
        if (prev.name !== "submitting" || prev.request !== next.request) void this.#run(next);
        return;
      case "waiting":
        if (this.#poll.polling !== next.video.id) this.#poll.start(next.video.id);
        return this.#live.progress(prev.name === "waiting" ? prev.video : null, next.video, t);
      case "completed":
        return this.#live.say(t.announceDone);
      case "failed":
        return this.#live.say(t.announceFailed);
    }
  }

  /** Frees the bitmaps and object URLs no state holds any more (a 12 MP bitmap is ~48 MB). */
  #release(prev: FlowState, next: FlowState): void {
    const kept = new Set(photosOf(next).map((p) => p.url));
    for (const photo of photosOf(prev)) {
      if (kept.has(photo.url)) continue;
      URL.revokeObjectURL(photo.url);
      if ("image" in photo) (photo as Photo).image.close();
    }
  }

  // ——— effects ———

  async #loadModels(): Promise<void> {
    const signal = this.#epoch.signal;
    try {
      const all = await this.#services.client.models(signal);
      if (signal.aborted || this.#flow.name !== "loading-models") return;
      const routes = restrictRoutes(all, this);
      if (!routes.length) {
        const message = this.#t.errorNoModels;
        const problem: Problem = { kind: "setup", code: "no_models", message, retryAfter: null };
        return this.#send({ type: "request-failed", problem });
      }
      this.#send({
        type: "models-loaded",
        routes,
        mode: this.fit === "contain" ? "contain" : "cover",
      });
      await this.#resume(signal);
    } catch (error) {
      if (!signal.aborted && this.#flow.name === "loading-models") this.#fail(error);
    }
  }

  /** Picks up the newest unfinished job, else shows the newest completed one (after a reload). */
  async #resume(signal: AbortSignal): Promise<void> {
    const { client, memory } = this.#services;
    const jobs = memory.list();
    const candidate =
      jobs.find((j) => j.status === "queued" || j.status === "in_progress") ??
      jobs.find((j) => j.status === "completed");
    if (!candidate) return;
    try {
      const video = await client.retrieve(candidate.id, signal);
      memory.remember(video);
      const expired = video.expires_at !== null && video.expires_at * 1000 < Date.now();
      if (!expired) this.#send({ type: "resumed", video });
    } catch (error) {
      // Gone (expired, another visitor's token): forget it. Anything else: just start fresh.
      if (error instanceof ApiProblem && error.kind === "not_found") memory.forget(candidate.id);
    }
  }

  async #decode(pending: PendingPhoto): Promise<void> {
    const current = () => this.#flow.name === "decoding" && this.#flow.pending === pending;
    try {
      const { decodeImage } = await loadImaging();
      const image = await decodeImage(pending.file);
      if (current()) this.#send({ type: "decoded", url: pending.url, image });
      else image.close();
    } catch (error) {
      if (!current()) return;
      const problem = describeError(error, this.#t, this.#lang);
      this.#send({ type: "decode-failed", url: pending.url, problem });
    }
  }

  /**
   * The photo is ready: announce it and fit it at once with the current framing — that gives the
   * `still-motion-image` event its real upload size, and submit reuses the result if nothing changed.
   */
  #imageReady(photo: Photo, draft: Draft): void {
    this.#live.say(this.#t.imageReady);
    this.#fit(photo, draft).then(
      ({ width, height, blob }) =>
        this.#emit(new StillMotionImageEvent({ width, height, bytes: blob.size })),
      () => {}, // a failing fit is reported when the visitor submits
    );
  }

  #fit(photo: Photo, draft: Draft): ReturnType<typeof fitImage> {
    const { width, height } = parseSize(draft.size);
    const { mode, focus, zoom, fill } = draft.framing;
    const key = JSON.stringify([photo.url, width, height, mode, focus, zoom, fill]);
    if (this.#fitted?.key !== key) {
      const fitted = {
        key,
        result: loadImaging().then(({ fitImage }) =>
          fitImage(photo.image, { width, height, mode, focus, zoom, fill }),
        ),
      };
      this.#fitted = fitted;
      // A failed fit is not kept: the next attempt tries again.
      fitted.result.catch(() => this.#fitted === fitted && (this.#fitted = null));
    }
    return this.#fitted.result;
  }

  /** Sends a create or remix; one automatic retry with the same Idempotency-Key on a transient failure. */
  async #run(s: Submitting): Promise<void> {
    const request = new AbortController();
    this.#request = request;
    const signal = AbortSignal.any([this.#epoch.signal, request.signal]);
    const current = () =>
      !signal.aborted && this.#flow.name === "submitting" && this.#flow.request === s.request;
    try {
      const video = await this.#withRetry(await this.#starter(s, signal), signal);
      if (!current()) return;
      this.#services.memory.remember(video);
      this.#send({ type: "created", video, at: Date.now() });
      const { request: sent } = s;
      this.#emit(
        sent.kind === "remix"
          ? new StillMotionRemixEvent({ video, sourceId: sent.source.id })
          : new StillMotionCreatedEvent({ video }),
      );
    } catch (error) {
      if (current()) this.#fail(error);
    }
  }

  /** The request to send, ready to be sent twice; the photo is fitted once, before either. */
  async #starter(s: Submitting, signal: AbortSignal): Promise<() => Promise<Video>> {
    const { client } = this.#services;
    const { request, setup } = s;
    const options = { signal, idempotencyKey: request.key };
    if (request.kind === "remix")
      return () => client.remix(request.source.id, request.prompt, options);
    const { model, size, seconds } = setup.draft;
    const audio = setup.routes.find((r) => r.id === model)?.audio ?? false;
    const { blob: image } = await this.#fit(s.photo!, setup.draft);
    const input = {
      image,
      prompt: request.prompt,
      model,
      size,
      seconds,
      ...(audio ? { audio } : {}),
    };
    return () => client.create(input, options);
  }

  async #withRetry(send: () => Promise<Video>, signal: AbortSignal): Promise<Video> {
    try {
      return await send();
    } catch (error) {
      const wait =
        error instanceof ApiProblem && error.transient ? (error.retryAfter ?? 0) : Infinity;
      if (wait > MAX_AUTO_RETRY_WAIT_S) throw error;
      this.#send({ type: "retrying" });
      await sleep(Math.max(RETRY_DELAY_MS, wait * 1000), signal);
      return send();
    }
  }

  /** The poll's fetch; a transient failure shows "Retrying…" while the controller backs off. */
  async #retrieve(id: string, signal: AbortSignal): Promise<Video> {
    try {
      return await this.#services.client.retrieve(
        id,
        AbortSignal.any([signal, this.#epoch.signal]),
      );
    } catch (error) {
      if (error instanceof ApiProblem && error.transient) this.#send({ type: "retrying" });
      throw error;
    }
  }

  #onUpdate(video: Video): void {
    const s = this.#flow;
    if (s.name !== "waiting" || s.video.id !== video.id) return;
    this.#services.memory.remember(video);
    const problem = video.status === "failed" ? describeJob(video, this.#t) : undefined;
    const changed = s.video.status !== video.status || s.video.progress !== video.progress;
    this.#send({ type: "update", video, at: Date.now(), ...(problem ? { problem } : {}) });
    if (video.status === "completed") this.#emit(new StillMotionCompletedEvent({ video }));
    else if (problem)
      this.#emit(new StillMotionFailedEvent({ video, problem: publicProblem(problem) }));
    else if (changed) this.#emit(new StillMotionProgressEvent({ video }));
  }

  #fail(error: unknown): void {
    const prev = this.#flow;
    const problem = describeError(error, this.#t, this.#lang);
    this.#send({ type: "request-failed", problem });
    if (this.#flow === prev) return;
    const video = prev.name === "waiting" ? prev.video : null;
    this.#emit(new StillMotionFailedEvent({ video, problem: publicProblem(problem) }));
  }

  /** One place for dispatching, after the state is updated, so listeners see the new state. */
  #emit(event: Event): void {
    this.dispatchEvent(event);
  }

  // ——— visitor actions ———

  #pick(files: FileList | null | undefined): boolean {
    const list = [...(files ?? [])];
    const file = list.find((f) => f.type.startsWith("image/")) ?? list[0];
    if (!file) return false;
    const pending: PendingPhoto = { file, name: file.name, url: URL.createObjectURL(file) };
    const prev = this.#flow;
    this.#send({ type: "pick", pending });
    if (this.#flow !== prev) return true;
    URL.revokeObjectURL(pending.url);
    return false;
  }

  #onPaste(event: ClipboardEvent): void {
    // Text pasted into the prompt has no files and goes through untouched.
    if (!event.clipboardData?.files.length) return;
    if (this.#pick(event.clipboardData.files)) event.preventDefault();
  }

  #actions: Actions = {
    openPicker: (kind) => this.renderRoot.querySelector<HTMLInputElement>(`#${kind}`)?.click(),
    files: (files) => void this.#pick(files),
    edit: (patch) => this.#send({ type: "edit", patch }),
    submit: () => {
      const s = this.#flow;
      if (s.name !== "editing") return;
      const prompt = currentPrompt(this.#context(), s.setup);
      this.#send({ type: "submit", key: newKey(), prompt });
    },
    cancel: () => {
      const s = this.#flow;
      if (s.name !== "waiting" && s.name !== "submitting") return;
      const videoId = s.name === "waiting" ? s.video.id : null;
      if (videoId) this.#services.memory.forget(videoId);
      this.#send({ type: "cancel" });
      this.#emit(new StillMotionCancelledEvent({ videoId }));
    },
    retry: () => this.#send({ type: "retry" }),
    reset: () => {
      // Start over: nothing in flight may land in the fresh flow.
      this.#epoch.abort();
      this.#epoch = new AbortController();
      this.#send({ type: "reset" });
    },
    remix: (prompt) => this.#send({ type: "remix", key: newKey(), prompt }),
    download: (video) => {
      const url = video.content_urls?.video;
      if (url) void this.#download.save(url, `stillmotion-${video.id}.mp4`, this.#epoch.signal);
    },
  };
}

/** The event's view of a problem: no internal fields such as `retryAfter`. */
function publicProblem({ kind, code, message }: Problem) {
  return { kind, code, message };
}

function defaultStorage(): Store | null {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // sandboxed iframes throw on access
  }
}

/** `crypto.randomUUID` exists only in secure contexts; an embedding page may be plain http. */
function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    const stop = () => (clearTimeout(timer), reject(signal.reason));
    signal.addEventListener("abort", stop, { once: true });
  });
}
