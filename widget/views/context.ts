/**
 * What every view function gets: the strings, the reader's language and the element's actions.
 * Views are plain functions of (state, context) → template, so they hold no state of their own.
 */
import type { Video } from "../api/types";
import type { Strings } from "../locales/en";
import type { PromptPreset, PromptTemplate } from "../prompt";
import type { DraftPatch } from "../state/types";

/** The element's reactions to the visitor; each one turns into a flow event or an effect. */
export interface Actions {
  openPicker(kind: "file" | "camera"): void;
  files(files: FileList | null | undefined): void;
  edit(patch: DraftPatch): void;
  submit(): void;
  cancel(): void;
  retry(): void;
  reset(): void;
  remix(prompt: string): void;
  download(video: Video): void;
}

export interface ViewContext {
  t: Strings;
  lang: string;
  act: Actions;
  showPrice: boolean;
  templates: readonly PromptTemplate[];
  presets: readonly PromptPreset[];
}
