/**
 * The prompt: quick-start presets, then one of three ways to write it — the guided builder,
 * the owner's templates with inline blanks, or free text — and a live length counter
 * against the route's `prompt_max_chars`.
 */
import { html, nothing, type TemplateResult } from "lit";
import { format } from "../i18n";
import type { Strings } from "../locales/en";
import {
  applyPreset,
  parseTemplate,
  promptText,
  type PromptFields,
  type PromptMode,
} from "../prompt";
import { currentRoute } from "../state/queries";
import type { Setup } from "../state/types";
import type { ViewContext } from "./context";

const FIELDS: { key: keyof PromptFields; label: keyof Strings; hint: keyof Strings }[] = [
  { key: "shot", label: "fieldShot", hint: "fieldShotHint" },
  { key: "action", label: "fieldAction", hint: "fieldActionHint" },
  { key: "camera", label: "fieldCamera", hint: "fieldCameraHint" },
  { key: "timing", label: "fieldTiming", hint: "fieldTimingHint" },
  { key: "lighting", label: "fieldLighting", hint: "fieldLightingHint" },
  { key: "audio", label: "fieldAudio", hint: "fieldAudioHint" },
];

const value = (event: Event) => (event.target as HTMLInputElement).value;

/** The prompt as it would be sent, for the submit button and the counter. */
export function currentPrompt(ctx: ViewContext, setup: Setup): string {
  const route = currentRoute(setup);
  return promptText(setup.draft.prompt, { audio: route.audio, templates: ctx.templates });
}

export function promptView(ctx: ViewContext, setup: Setup): TemplateResult {
  const { t } = ctx;
  const mode = setup.draft.prompt.mode;
  const modes: { id: PromptMode; label: string }[] = [
    { id: "guided", label: t.modeGuided },
    ...(ctx.templates.length ? [{ id: "template" as const, label: t.modeTemplate }] : []),
    { id: "free", label: t.modeFree },
  ];
  return html`<fieldset part="prompt">
    <legend>${t.promptLabel}</legend>
    ${presetsView(ctx)}
    <div class="modes" role="group" aria-label=${t.promptModes}>
      ${modes.map(
        (m) =>
          html`<button
            type="button"
            aria-pressed=${m.id === mode ? "true" : "false"}
            @click=${() => ctx.act.edit({ prompt: { mode: m.id } })}
          >
            ${m.label}
          </button>`,
      )}
    </div>
    ${mode === "guided" ? builderView(ctx, setup) : nothing}
    ${mode === "template" ? templateView(ctx, setup) : nothing}
    ${mode === "free" ? freeView(ctx, setup) : nothing} ${counterView(ctx, setup)}
  </fieldset>`;
}

function presetsView(ctx: ViewContext): TemplateResult {
  const label = (key: string) => (key in ctx.t ? ctx.t[key as keyof Strings] : key);
  return html`<div part="presets" role="group" aria-label=${ctx.t.presetsLabel}>
    ${ctx.presets.map(
      (preset) =>
        html`<button
          type="button"
          part="preset"
          @click=${() => ctx.act.edit({ prompt: { mode: "guided", fields: applyPreset(preset) } })}
        >
          ${label(preset.label)}
        </button>`,
    )}
  </div>`;
}

function builderView(ctx: ViewContext, setup: Setup): TemplateResult {
  const { t, act } = ctx;
  const { fields } = setup.draft.prompt;
  const audio = currentRoute(setup).audio;
  const composed = currentPrompt(ctx, setup);
  return html`<div class="builder">
      ${FIELDS.filter((f) => f.key !== "audio" || audio).map(
        (f) =>
          html`<div class="field">
            <label for=${`f-${f.key}`}>${t[f.label]}</label>
            <input
              id=${`f-${f.key}`}
              type="text"
              placeholder=${t[f.hint]}
              .value=${fields[f.key]}
              @input=${(e: Event) =>
                act.edit({ prompt: { fields: { ...fields, [f.key]: value(e) } } })}
            />
          </div>`,
      )}
    </div>
    <div class="field">
      <span class="hint" id="composed-label">${t.composed}</span>
      <p class="composed" aria-labelledby="composed-label">${composed || t.composedEmpty}</p>
    </div>
    ${
      composed
        ? html`<div>
            <button
              type="button"
              @click=${() => act.edit({ prompt: { mode: "free", text: composed } })}
            >
              ${t.editAsText}
            </button>
          </div>`
        : nothing
    }`;
}

function templateView(ctx: ViewContext, setup: Setup): TemplateResult {
  const { t, act, templates } = ctx;
  const { template: index, blanks } = setup.draft.prompt;
  const template = templates[index] ?? templates[0]!;
  const chooser =
    templates.length > 1
      ? html`<div class="field">
          <label for="template">${t.templateLabel}</label>
          <select
            id="template"
            @change=${(e: Event) => act.edit({ prompt: { template: Number(value(e)), blanks: {} } })}
          >
            ${templates.map(
              (tpl, i) => html`<option value=${i} ?selected=${i === index}>${tpl.label}</option>`,
            )}
          </select>
        </div>`
      : html`<p class="hint">${template.label}</p>`;
  return html`${chooser}
    <p class="template">
      ${parseTemplate(template.text).map((part) =>
        part.kind === "text"
          ? part.text
          : html`<input
              type="text"
              aria-label=${format(t.templateBlank, { name: part.name })}
              placeholder=${part.name}
              size=${Math.max(8, part.name.length + 2)}
              .value=${blanks[part.name] ?? ""}
              @input=${(e: Event) =>
                act.edit({ prompt: { blanks: { ...blanks, [part.name]: value(e) } } })}
            />`,
      )}
    </p>`;
}

function freeView(ctx: ViewContext, setup: Setup): TemplateResult {
  const { t, act } = ctx;
  return html`<div class="field">
    <label for="prompt">${t.freeText}</label>
    <textarea
      id="prompt"
      rows="4"
      maxlength=${currentRoute(setup).prompt_max_chars}
      aria-describedby="counter"
      .value=${setup.draft.prompt.text}
      @input=${(e: Event) => act.edit({ prompt: { text: value(e) } })}
    ></textarea>
  </div>`;
}

/** Not a live region: announcing every keystroke would drown the screen reader. */
function counterView(ctx: ViewContext, setup: Setup): TemplateResult {
  const max = currentRoute(setup).prompt_max_chars;
  const count = currentPrompt(ctx, setup).length;
  const over = count - max;
  return html`<p class="counter" id="counter" ?data-over=${over > 0}>
    ${format(ctx.t.counter, { count, max })}
    ${over > 0 ? html`<br />${format(ctx.t.tooLong, { over })}` : nothing}
  </p>`;
}
