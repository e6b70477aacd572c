/** Choosing a photo: the drop zone (a button that opens the picker) and the camera button. */
import { html, type TemplateResult } from "lit";
import type { ViewContext } from "./context";

/** Drag-and-drop handlers shared by the drop zone and the preview (dropping there replaces). */
export function dropHandlers(ctx: ViewContext) {
  const mark = (event: DragEvent, over: boolean) => {
    (event.currentTarget as HTMLElement).toggleAttribute("data-over", over);
  };
  return {
    dragover: (event: DragEvent) => {
      // Without preventDefault the browser refuses the drop (HTML drag-and-drop processing model).
      event.preventDefault();
      if (event.dataTransfer) event.dataTransfer.dropEffect = "copy";
      mark(event, true);
    },
    dragleave: (event: DragEvent) => mark(event, false),
    drop: (event: DragEvent) => {
      event.preventDefault();
      mark(event, false);
      ctx.act.files(event.dataTransfer?.files);
    },
  };
}

export function chooseView(ctx: ViewContext): TemplateResult {
  const { t, act } = ctx;
  const drop = dropHandlers(ctx);
  return html`
    <button
      part="dropzone"
      type="button"
      data-focus
      aria-describedby="dropzone-hint"
      @click=${() => act.openPicker("file")}
      @dragover=${drop.dragover}
      @dragenter=${drop.dragover}
      @dragleave=${drop.dragleave}
      @drop=${drop.drop}
    >
      <strong>${t.dropzone}</strong>
      <span class="hint" id="dropzone-hint">${t.dropzoneHint}</span>
    </button>
    ${pickers(ctx, t.pickPhoto, false)}
  `;
}

/**
 * The picker buttons. `withFile` adds a plain "choose" button, which the drop zone makes
 * redundant on the choosing screen but which the editing screen needs to replace the photo.
 */
export function pickers(ctx: ViewContext, label: string, withFile: boolean): TemplateResult {
  const { t, act } = ctx;
  return html`<div class="pickers">
    ${
      withFile
        ? html`<button type="button" part="pick" data-focus @click=${() => act.openPicker("file")}>
            ${label}
          </button>`
        : null
    }
    <button type="button" part="camera" class="camera" @click=${() => act.openPicker("camera")}>
      ${t.takePhoto}
    </button>
  </div>`;
}

/** The real inputs behind the buttons; hidden, so only the labelled buttons are in the tab order. */
export function fileInputs(ctx: ViewContext): TemplateResult {
  const change = (event: Event) => {
    const input = event.target as HTMLInputElement;
    ctx.act.files(input.files);
    input.value = ""; // so choosing the same file again still fires `change`
  };
  return html`
    <input id="file" type="file" accept="image/*" hidden @change=${change} />
    <input
      id="camera"
      type="file"
      accept="image/*"
      capture="environment"
      hidden
      @change=${change}
    />
  `;
}
