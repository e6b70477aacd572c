/** Which view each flow state shows; the element renders this between its header and footer. */
import { html, nothing, type TemplateResult } from "lit";
import { canSubmit } from "../state/queries";
import type { FlowState } from "../state/types";
import { chooseView, pickers } from "./choose";
import type { ViewContext } from "./context";
import type { DownloadState } from "./download";
import { framerView, optionsView, previewView } from "./editor";
import { problemView } from "./problem";
import { progressView } from "./progress";
import { currentPrompt, promptView } from "./prompt-editor";
import { resultView } from "./result";

export function bodyView(
  ctx: ViewContext,
  s: FlowState,
  { now, download }: { now: number; download: DownloadState },
): TemplateResult {
  const { t } = ctx;
  switch (s.name) {
    case "idle":
    case "loading-models":
      return html`<p aria-busy="true">${t.loading}</p>`;
    case "choosing":
      return chooseView(ctx);
    case "decoding":
      // Options and prompt are usable while the photo opens; only submit waits for it.
      return html`${previewView(ctx, s.pending)} ${pickers(ctx, t.replacePhoto, true)}
      ${optionsView(ctx, s.setup)} ${promptView(ctx, s.setup)} ${submitButton(ctx, false)}`;
    case "editing": {
      const ready = canSubmit(s.setup, currentPrompt(ctx, s.setup));
      return html`${framerView(ctx, s.setup, s.photo)} ${optionsView(ctx, s.setup)}
      ${promptView(ctx, s.setup)} ${submitButton(ctx, ready)}`;
    }
    case "submitting":
    case "waiting":
      return html`${
        s.photo
          ? html`<div part="preview"><img src=${s.photo.url} alt=${t.previewAlt} /></div>`
          : nothing
      }
      ${progressView(ctx, s, now)}`;
    case "completed":
      return resultView(ctx, s, download);
    case "failed":
      return problemView(ctx, s);
  }
}

function submitButton(ctx: ViewContext, ready: boolean): TemplateResult {
  return html`<button
    type="button"
    part="submit"
    class="primary"
    aria-describedby="counter"
    ?disabled=${!ready}
    @click=${ctx.act.submit}
  >
    ${ctx.t.submit}
  </button>`;
}

/** Hides the header/footer rows while nothing is slotted into them (no empty gap). */
export function showIfSlotted(event: Event): void {
  const row = event.currentTarget as HTMLElement;
  const slots = [...row.querySelectorAll("slot")];
  row.hidden = !slots.some((slot) => slot.assignedNodes({ flatten: true }).length > 0);
}
