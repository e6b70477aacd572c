/** The prompt helpers (widget/prompt.ts). */
import { describe, expect, it } from "vitest";
import {
  DEFAULT_PRESETS,
  EMPTY_FIELDS,
  EMPTY_PROMPT,
  applyPreset,
  composePrompt,
  fillTemplate,
  parseTemplate,
  promptText,
} from "../../widget/prompt";

describe("composePrompt", () => {
  it("makes one sentence per filled field, camera move and timing together", () => {
    const prompt = composePrompt(
      {
        shot: "close-up of the face",
        action: "she turns and smiles",
        camera: "slow dolly in",
        timing: "over the whole clip",
        lighting: "warm evening light, calm.",
        audio: "soft wind",
      },
      { audio: false },
    );
    expect(prompt).toBe(
      "Close-up of the face. She turns and smiles. Camera: slow dolly in, over the whole clip. Warm evening light, calm.",
    );
  });

  it("adds audio only when the route makes sound", () => {
    const fields = { ...EMPTY_FIELDS, action: "waves roll", audio: "surf" };
    expect(composePrompt(fields, { audio: true })).toBe("Waves roll. Audio: surf.");
    expect(composePrompt(fields, { audio: false })).toBe("Waves roll.");
  });

  it("is empty when nothing is filled", () => {
    expect(composePrompt({ ...EMPTY_FIELDS, shot: "   " }, { audio: true })).toBe("");
  });
});

describe("presets", () => {
  it("has the five required quick starts, each filling the builder", () => {
    expect(DEFAULT_PRESETS.map((p) => p.label)).toEqual([
      "presetSlowDollyIn",
      "presetSubtleParallax",
      "presetPanLeft",
      "presetGentleBreeze",
      "presetCinemagraph",
    ]);
    for (const preset of DEFAULT_PRESETS) {
      expect(composePrompt(applyPreset(preset), { audio: false }), preset.id).not.toBe("");
    }
  });

  it("replaces every field (a preset is a fresh start)", () => {
    const fields = applyPreset({ id: "x", label: "x", fields: { camera: "pan" } });
    expect(fields).toEqual({ ...EMPTY_FIELDS, camera: "pan" });
  });
});

describe("templates", () => {
  it("splits text and {blanks}, including non-Latin names", () => {
    expect(parseTemplate("A {product} on {表面}.")).toEqual([
      { kind: "text", text: "A " },
      { kind: "blank", name: "product" },
      { kind: "text", text: " on " },
      { kind: "blank", name: "表面" },
      { kind: "text", text: "." },
    ]);
  });

  it("leaves braces that are not blanks alone", () => {
    expect(parseTemplate("{} and {a.b}")).toEqual([{ kind: "text", text: "{} and {a.b}" }]);
  });

  it("fills blanks and is empty until every blank is filled", () => {
    const text = "The {thing} spins on {place}.";
    expect(fillTemplate(text, { thing: "cup", place: "a table" })).toBe(
      "The cup spins on a table.",
    );
    expect(fillTemplate(text, { thing: "cup", place: " " })).toBe("");
  });
});

describe("promptText", () => {
  const templates = [{ label: "T", text: "A {x}." }];
  it("derives the prompt from the active mode", () => {
    const draft = {
      ...EMPTY_PROMPT,
      fields: { ...EMPTY_FIELDS, action: "waves roll" },
      blanks: { x: "boat" },
      text: "  free words  ",
    };
    expect(promptText({ ...draft, mode: "guided" }, { audio: false, templates })).toBe(
      "Waves roll.",
    );
    expect(promptText({ ...draft, mode: "template" }, { audio: false, templates })).toBe("A boat.");
    expect(promptText({ ...draft, mode: "free" }, { audio: false, templates })).toBe("free words");
    expect(
      promptText({ ...draft, mode: "template", template: 5 }, { audio: false, templates }),
    ).toBe("");
  });
});
