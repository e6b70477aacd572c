/** The finished video: inline player, Download, Remix with a follow-up prompt, Start over. */
import { html, nothing, type TemplateResult } from "lit";
import { routeOf } from "../state/queries";
import type { Completed } from "../state/types";
import type { ViewContext } from "./context";
import type { DownloadState } from "./download";

export function resultView(
  ctx: ViewContext,
  s: Completed,
  download: DownloadState,
): TemplateResult {
  const { t, act } = ctx;
  const urls = s.video.content_urls;
  const canRemix = routeOf(s.setup, s.video.model)?.remix ?? false;
  const remix = (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.target as HTMLFormElement;
    const prompt = String(new FormData(form).get("remix") ?? "").trim();
    if (prompt) act.remix(prompt);
  };
  return html`<section part="result" aria-labelledby="result-label">
    <h2 id="result-label" class="sr-only">${t.resultLabel}</h2>
    ${
      urls
        ? html`<video
            part="video"
            playsinline
            controls
            preload="metadata"
            poster=${urls.thumbnail}
            src=${urls.video}
          ></video>`
        : nothing
    }
    <div part="actions">
      <button
        type="button"
        part="download"
        class="primary"
        data-focus
        ?disabled=${!urls || download === "preparing"}
        @click=${() => act.download(s.video)}
      >
        ${download === "preparing" ? t.downloading : t.download}
      </button>
      <button type="button" part="start-over" @click=${act.reset}>${t.startOver}</button>
    </div>
    ${download === "failed" ? html`<p class="hint" role="status">${t.downloadFailed}</p>` : nothing}
    ${
      canRemix
        ? html`<form class="remix" part="remix" @submit=${remix}>
            <div class="field">
              <label for="remix">${t.remixLabel}</label>
              <input id="remix" name="remix" type="text" placeholder=${t.remixHint} required />
            </div>
            <button type="submit">${t.remix}</button>
          </form>`
        : nothing
    }
  </section>`;
}
