/** The photo and the video options: preview / framer, model, length, size, simulator label, price. */
import { html, nothing, type TemplateResult } from "lit";
import type { ModelRoute } from "../api/types";
import type { FramingChangeEvent } from "../framer/framing";
import type { FramerLabels } from "../framer/labels";
import { format, formatPrice } from "../i18n";
import { currentRoute, parseSize } from "../state/queries";
import type { PendingPhoto, Photo, Setup } from "../state/types";
import { dropHandlers, pickers } from "./choose";
import type { ViewContext } from "./context";

/** The object-URL preview, shown the moment a file is chosen, before decoding finishes. */
export function previewView(ctx: ViewContext, pending: PendingPhoto): TemplateResult {
  const drop = dropHandlers(ctx);
  return html`<div
      part="preview"
      aria-busy="true"
      @dragover=${drop.dragover}
      @dragleave=${drop.dragleave}
      @drop=${drop.drop}
    >
      <img src=${pending.url} alt=${ctx.t.previewAlt} />
    </div>
    <p>${ctx.t.decoding}</p>`;
}

/** The decoded photo in the framer, at the exact output size of the chosen route. */
export function framerView(ctx: ViewContext, setup: Setup, photo: Photo): TemplateResult {
  const { t, act } = ctx;
  const { width, height } = parseSize(setup.draft.size);
  const { mode, focus, zoom, fill } = setup.draft.framing;
  const drop = dropHandlers(ctx);
  const labels: FramerLabels = {
    frame: t.framerSurface,
    keysHint: t.keysHint,
    fillColour: t.fillColour,
    panHint: t.panHint,
    zoomIn: t.zoomIn,
    zoomOut: t.zoomOut,
    fillFrame: t.fillFrame,
    showWhole: t.showWhole,
    blurFill: t.blurFill,
    solidFill: t.solidFill,
    recentre: t.recentre,
  };
  const changed = (event: Event) => {
    const { mode, focus, zoom, fill } = event as FramingChangeEvent;
    act.edit({ framing: { mode, focus, zoom, fill } });
  };
  return html`<div
      part="preview"
      role="group"
      aria-label=${t.framerLabel}
      @dragover=${drop.dragover}
      @dragleave=${drop.dragleave}
      @drop=${drop.drop}
    >
      <still-motion-framer
        part="framer"
        .image=${photo.image}
        .width=${width}
        .height=${height}
        .mode=${mode}
        .focusPoint=${focus}
        .zoom=${zoom}
        .fill=${fill}
        .labels=${labels}
        @still-motion-framing-change=${changed}
      ></still-motion-framer>
    </div>
    ${pickers(ctx, t.replacePhoto, true)}`;
}

function shape(ctx: ViewContext, size: string): string {
  const { width, height } = parseSize(size);
  const name = width > height ? ctx.t.landscape : width < height ? ctx.t.portrait : ctx.t.square;
  return format(ctx.t.sizeValue, { width, height, shape: name });
}

function select(
  id: string,
  label: string,
  value: string,
  options: { value: string; label: string }[],
  change: (value: string) => void,
): TemplateResult {
  return html`<div class="field">
    <label for=${id}>${label}</label>
    <select id=${id} @change=${(e: Event) => change((e.target as HTMLSelectElement).value)}>
      ${options.map(
        (o) => html`<option value=${o.value} ?selected=${o.value === value}>${o.label}</option>`,
      )}
    </select>
  </div>`;
}

/** Model, length and size; the price only when the owner asked for it (`show-price`). */
export function optionsView(ctx: ViewContext, setup: Setup): TemplateResult {
  const { t, act } = ctx;
  const route: ModelRoute = currentRoute(setup);
  const { draft } = setup;
  const price = route.price_per_second_usd * Number(draft.seconds);
  return html`<fieldset part="controls">
    <legend class="sr-only">${t.optionsLabel}</legend>
    ${select(
      "model",
      t.model,
      draft.model,
      setup.routes.map((r) => ({ value: r.id, label: r.label })),
      (model) => act.edit({ model }),
    )}
    ${select(
      "seconds",
      t.duration,
      draft.seconds,
      route.seconds.map((s) => ({ value: s, label: format(t.secondsValue, { seconds: s }) })),
      (seconds) => act.edit({ seconds }),
    )}
    ${select(
      "size",
      t.size,
      draft.size,
      route.sizes.map((s) => ({ value: s, label: shape(ctx, s) })),
      (size) => act.edit({ size }),
    )}
    ${route.simulated ? html`<p class="badge" part="simulated">${t.simulated}</p>` : nothing}
    ${
      ctx.showPrice
        ? html`<p class="badge" part="price">
            ${format(t.price, { price: formatPrice(price, ctx.lang) })}
          </p>`
        : nothing
    }
  </fieldset>`;
}
