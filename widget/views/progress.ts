/** Uploading and waiting: status text, a real progress bar, elapsed time, time left, Cancel. */
import { html, nothing, type TemplateResult } from "lit";
import { format, formatClock, formatDuration } from "../i18n";
import { remainingMs } from "../state/queries";
import type { Submitting, Waiting } from "../state/types";
import type { ViewContext } from "./context";

/** From here on the provider is usually encoding and uploading, not generating. */
const FINISHING_AT = 90;

export function statusText(ctx: ViewContext, s: Submitting | Waiting): string {
  const { t } = ctx;
  if (s.retrying) return t.retrying;
  if (s.name === "submitting") return t.uploading;
  if (s.video.status === "queued") return t.queued;
  return s.video.progress >= FINISHING_AT ? t.finishing : t.generating;
}

export function progressView(
  ctx: ViewContext,
  s: Submitting | Waiting,
  now: number,
): TemplateResult {
  const { t, act } = ctx;
  // Indeterminate (no value) until the provider reports real progress.
  const progress =
    s.name === "waiting" && s.video.status === "in_progress" ? s.video.progress : null;
  const left = s.name === "waiting" ? remainingMs(s, now) : null;
  return html`<section part="status" aria-busy="true">
    <p id="status-text">${statusText(ctx, s)}</p>
    <progress
      part="progress"
      max="100"
      value=${progress ?? nothing}
      aria-labelledby="status-text"
    ></progress>
    ${
      s.name === "waiting"
        ? html`<p class="times">
            ${progress !== null ? html`<span>${format(t.percent, { percent: progress })}</span>` : nothing}
            <span>${format(t.elapsed, { time: formatClock(now - s.startedAt) })}</span>
            <span
              >${
                left === null
                  ? t.etaUnknown
                  : format(t.eta, { time: formatDuration(left / 1000, ctx.lang) })
              }</span
            >
          </p>`
        : nothing
    }
    <div part="actions">
      <button type="button" part="cancel" data-focus @click=${act.cancel}>${t.cancel}</button>
    </div>
  </section>`;
}
