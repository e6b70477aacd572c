/**
 * One polite live region for status changes (photo ready, queued, every 25 %, done, failed).
 * Progress is announced in steps so a screen reader is not flooded on every poll.
 */
import { html, type ReactiveControllerHost, type TemplateResult } from "lit";
import type { Video } from "../api/types";
import { format } from "../i18n";
import type { Strings } from "../locales/en";

const STEP = 25;

export class Announcer {
  readonly #host: ReactiveControllerHost;
  #text = "";
  /** Highest step announced for the current job. */
  #step = 0;

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
  }

  say(text: string): void {
    // The same text set again would not be read again; a trailing no-break space makes it new.
    this.#text = this.#text === text ? `${text}\u00a0` : text;
    this.#host.requestUpdate();
  }

  /** Announces a new job as queued, then each 25 % step once. */
  progress(before: Video | null, video: Video, t: Strings): void {
    if (!before || before.id !== video.id) {
      this.#step = 0;
      if (video.status === "queued") this.say(t.announceQueued);
    }
    const step = Math.floor(video.progress / STEP) * STEP;
    if (video.status === "in_progress" && step > this.#step && step < 100) {
      this.#step = step;
      this.say(format(t.announcePercent, { percent: step }));
    }
  }

  render(): TemplateResult {
    return html`<div class="sr-only" aria-live="polite" aria-atomic="true">${this.#text}</div>`;
  }
}
