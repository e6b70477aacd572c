/**
 * The prompt helpers: a structured builder that composes one prompt string, quick-start
 * presets that fill the builder, and site-owner templates with `{blank}` placeholders.
 * Pure functions only — the element keeps a `PromptDraft` in its flow state and derives the
 * prompt it sends with `promptText()`.
 */
import type { Strings } from "./locales/en";

/** The builder's fields, in the order video models read them best: shot, action, camera, look. */
export interface PromptFields {
  shot: string;
  action: string;
  camera: string;
  timing: string;
  lighting: string;
  /** Only used when the route generates audio. */
  audio: string;
}

export type PromptMode = "guided" | "template" | "free";

/** Everything the visitor has typed, in every mode, so switching modes loses nothing. */
export interface PromptDraft {
  mode: PromptMode;
  fields: PromptFields;
  /** Index into the element's `templates`. */
  template: number;
  /** Blank name → value, for the chosen template. */
  blanks: Record<string, string>;
  text: string;
}

/** A site-owner template: `text` holds `{blank}` placeholders shown as inline inputs. */
export interface PromptTemplate {
  label: string;
  text: string;
}

/** A quick start: `label` is a key of the UI strings (so it is translated), `fields` fill the builder. */
export interface PromptPreset {
  id: string;
  label: keyof Strings | (string & {});
  fields: Partial<PromptFields>;
}

export const EMPTY_FIELDS: PromptFields = {
  shot: "",
  action: "",
  camera: "",
  timing: "",
  lighting: "",
  audio: "",
};

export const EMPTY_PROMPT: PromptDraft = {
  mode: "guided",
  fields: EMPTY_FIELDS,
  template: 0,
  blanks: {},
  text: "",
};

/**
 * Preset wording stays in English whatever the UI language: the video models follow English
 * camera vocabulary most reliably, and a visitor's own words in another language still mix in.
 */
export const DEFAULT_PRESETS: PromptPreset[] = [
  {
    id: "slow-dolly-in",
    label: "presetSlowDollyIn",
    fields: {
      shot: "Keep the photo's composition",
      action: "subtle, natural motion in the subject",
      camera: "slow dolly in toward the subject",
      timing: "steady across the whole clip",
    },
  },
  {
    id: "subtle-parallax",
    label: "presetSubtleParallax",
    fields: {
      shot: "Keep the photo's composition",
      action: "the scene stays almost still",
      camera: "gentle sideways drift that separates foreground from background in depth",
      timing: "slow and even",
    },
  },
  {
    id: "pan-left",
    label: "presetPanLeft",
    fields: {
      shot: "Wide view of the scene",
      action: "natural ambient motion",
      camera: "smooth pan to the left",
      timing: "constant speed from start to end",
    },
  },
  {
    id: "gentle-breeze",
    label: "presetGentleBreeze",
    fields: {
      shot: "Keep the photo's composition",
      action: "a gentle breeze moves hair, fabric and leaves",
      camera: "locked-off static camera",
      lighting: "soft natural light, calm mood",
    },
  },
  {
    id: "cinemagraph",
    label: "presetCinemagraph",
    fields: {
      shot: "Keep the photo's composition exactly",
      action: "only one element moves in a seamless loop; everything else stays perfectly still",
      camera: "static camera, no movement",
      timing: "the last frame matches the first for a seamless loop",
    },
  },
];

/** Fills the builder from a preset, replacing every field (a preset is a fresh start). */
export function applyPreset(preset: PromptPreset): PromptFields {
  return { ...EMPTY_FIELDS, ...preset.fields };
}

function sentence(text: string): string {
  const t = text.trim().replace(/\s+/g, " ");
  if (!t) return "";
  const capital = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?。！？]$/.test(capital) ? capital : `${capital}.`;
}

/** Composes the builder's fields into one prompt: one short sentence per filled field. */
export function composePrompt(fields: PromptFields, { audio }: { audio: boolean }): string {
  const camera = [fields.camera.trim(), fields.timing.trim()].filter(Boolean).join(", ");
  const parts = [
    sentence(fields.shot),
    sentence(fields.action),
    camera ? sentence(`Camera: ${camera}`) : "",
    sentence(fields.lighting),
    audio && fields.audio.trim() ? sentence(`Audio: ${fields.audio}`) : "",
  ];
  return parts.filter(Boolean).join(" ");
}

export type TemplatePart = { kind: "text"; text: string } | { kind: "blank"; name: string };

/** Splits template text into literal runs and `{blank}` slots (names: letters, digits, space, _ -). */
export function parseTemplate(text: string): TemplatePart[] {
  const parts: TemplatePart[] = [];
  const pattern = /\{([\p{L}\p{N} _-]+)\}/gu;
  let last = 0;
  for (const match of text.matchAll(pattern)) {
    if (match.index > last) parts.push({ kind: "text", text: text.slice(last, match.index) });
    parts.push({ kind: "blank", name: match[1]!.trim() });
    last = match.index + match[0].length;
  }
  if (last < text.length) parts.push({ kind: "text", text: text.slice(last) });
  return parts;
}

/** The template with its blanks filled; an unfilled blank leaves the text incomplete (""). */
export function fillTemplate(text: string, blanks: Record<string, string>): string {
  let complete = true;
  const out = parseTemplate(text)
    .map((part) => {
      if (part.kind === "text") return part.text;
      const value = (blanks[part.name] ?? "").trim();
      if (!value) complete = false;
      return value;
    })
    .join("");
  return complete ? out.trim() : "";
}

/** The prompt that would be sent, derived from whichever mode is active. */
export function promptText(
  draft: PromptDraft,
  { audio, templates }: { audio: boolean; templates: readonly PromptTemplate[] },
): string {
  switch (draft.mode) {
    case "guided":
      return composePrompt(draft.fields, { audio });
    case "template": {
      const template = templates[draft.template];
      return template ? fillTemplate(template.text, draft.blanks) : "";
    }
    case "free":
      return draft.text.trim();
  }
}
