/**
 * `<still-motion>`: photo in, short AI video out. The element owns one `FlowState` (state/)
 * and renders from it alone; every effect (fetch, decode, fit, poll) reports back as a flow
 * event, and `#enter` starts the effects a new state needs. Effects live in `flows/`, views in
 * `views/`; this file is the wiring: properties, lifecycle, the state machine's driver, render.
 */
import { html, LitElement, nothing, type PropertyValues, type TemplateResult } from "lit";
import type { Store } from "./api/session";
import { StillMotionCancelledEvent } from "./events";
import type { FitMode } from "./fit";
import { connect, type Connection, type FlowHost, type Services } from "./flows/host";
import { fail, onUpdate, retrieve } from "./flows/job";
import { loadModels } from "./flows/models";
import { decode, FitCache, imageReady, releasePhotos } from "./flows/photo";
import { newKey, submit } from "./flows/submit";
import { ensureLocale, stringsFor, type Strings } from "./i18n";
import { PollController } from "./poll-controller";
import { DEFAULT_PRESETS, type PromptPreset, type PromptTemplate } from "./prompt";
import { IDLE, transition } from "./state/transition";
import type { FlowEvent, FlowState, PendingPhoto, StateName, Submitting } from "./state/types";
import { styles } from "./styles";
import type { TurnstileGate } from "./turnstile/gate";
import { Announcer } from "./views/announcer";
import { bodyView, showIfSlotted } from "./views/body";
import { fileInputs } from "./views/choose";
import { ClockController } from "./views/clock";
import type { Actions, ViewContext } from "./views/context";
import { DownloadController } from "./views/download";
import { currentPrompt } from "./views/prompt-editor";

/** Where this module was served from; only http(s) origins can be a worker. */
const SCRIPT_ORIGIN = ((): string => {
  try {
    const url = new URL(import.meta.url);
    return url.protocol === "https:" || url.protocol === "http:" ? url.origin : "";
  } catch {
    return "";
  }
})();

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
 * @slot turnstile - With `turnstile-site-key`: where the bot check appears when the visitor must act (default: a container the widget adds).
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
 * @csspart turnstile - The box around the `turnstile` slot (only with `turnstile-site-key`).
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
    turnstileSiteKey: { type: String, attribute: "turnstile-site-key" },
    turnstileAction: { type: String, attribute: "turnstile-action" },
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
  /**
   * Cloudflare Turnstile site key (`0x4…`, public), for a site whose SITES entry has `turnstile`:
   * the widget then loads Turnstile and sends a fresh token with every session request.
   */
  declare turnstileSiteKey: string;
  /** The Turnstile action, equal to the site's `turnstile.action` (default `stillmotion-session`). */
  declare turnstileAction: string;
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
  #api: Connection | null = null;
  #fitCache = new FitCache();
  #refocus = false;
  #langObserver = new MutationObserver(() => this.requestUpdate());
  /** The bot check, made on the first session request of a Turnstile site. */
  #gate: TurnstileGate | null = null;
  /** Mirrors the flow's state name as a CSS custom state, e.g. `still-motion:state(waiting)`. */
  #internals = this.attachInternals();

  constructor() {
    super();
    this.endpoint = "";
    this.siteKey = "";
    this.turnstileSiteKey = "";
    this.turnstileAction = "stillmotion-session";
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
    if (s.name === "loading-models") void loadModels(this.#host, this);
    if (s.name === "decoding") void decode(this.#host, s.pending);
    if (s.name === "submitting") this.#submit(s);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    this.#epoch.abort();
    this.#langObserver.disconnect();
    this.#gate?.remove();
    this.#gate = null;
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
      ${
        this.turnstileSiteKey
          ? html`<div part="turnstile"><slot name="turnstile"></slot></div>`
          : nothing
      }
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
  get #services(): Services {
    const key = this.turnstileSiteKey;
    const turnstile = key ? { siteKey: key, token: this.#turnstileToken } : undefined;
    return (this.#api = connect(this.#api, this.#endpoint, this.siteKey, this.storage, turnstile));
  }

  /** A fresh token per session request; Turnstile's code loads (lazily) on the first one. */
  #turnstileToken = async (signal: AbortSignal): Promise<string> => {
    const { TurnstileGate } = await import("./turnstile/gate");
    const [key, action] = [this.turnstileSiteKey, this.turnstileAction || "stillmotion-session"];
    if (this.#gate?.siteKey !== key || this.#gate.action !== action) {
      this.#gate?.remove();
      this.#gate = new TurnstileGate(this, key, action);
    }
    return this.#gate.token(signal);
  };

  get #poll(): PollController {
    this.#poller ??= new PollController(this, {
      retrieve: (id, signal) => retrieve(this.#host, id, signal),
      onUpdate: (video) => onUpdate(this.#host, video),
      onError: (problem) => fail(this.#host, problem),
      intervalMs: this.pollInterval,
    });
    return this.#poller;
  }

  /** The element as the flows see it (flows/host.ts). */
  #host: FlowHost = {
    flow: () => this.#flow,
    epoch: () => this.#epoch.signal,
    services: () => this.#services,
    strings: () => this.#t,
    lang: () => this.#lang,
    send: (event) => this.#send(event),
    // One place for dispatching, after the state is updated, so listeners see the new state.
    emit: (event) => this.dispatchEvent(event),
    say: (text) => this.#live.say(text),
    fit: (photo, draft) => this.#fitCache.fit(photo, draft),
  };

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
    releasePhotos(prev, next);
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
        return void loadModels(this.#host, this);
      case "decoding":
        if (prev.name !== "decoding" || prev.pending !== next.pending)
          void decode(this.#host, next.pending);
        return;
      case "editing":
        if (prev.name === "decoding") imageReady(this.#host, next.photo, next.setup.draft);
        return;
      case "submitting":
        if (prev.name !== "submitting" || prev.request !== next.request) this.#submit(next);
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

  /** Sends a create or remix; leaving `submitting` aborts `#request` (see `#enter`). */
  #submit(s: Submitting): void {
    this.#request = new AbortController();
    void submit(this.#host, s, this.#request.signal);
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
      this.#host.emit(new StillMotionCancelledEvent({ videoId }));
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
