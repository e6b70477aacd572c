/**
 * The element's styles. Site owners theme it through the public `--still-motion-*` custom
 * properties (documented on the class), which map onto private `--_*` ones so that internal
 * rules read one name whatever the source: owner value, forced theme, or the light/dark default.
 */
import { css } from "lit";

export const styles = css`
  :host {
    /* Light defaults; every public property may override them. */
    --_accent: var(--still-motion-accent, #5b5bd6);
    --_bg: var(--still-motion-bg, #ffffff);
    --_fg: var(--still-motion-fg, #1c1b29);
    --_muted: var(--still-motion-muted, #5f5d75);
    --_border: var(--still-motion-border, #d9d7e8);
    --_radius: var(--still-motion-radius, 12px);
    --_font: var(
      --still-motion-font,
      ui-sans-serif,
      system-ui,
      -apple-system,
      "Segoe UI",
      Roboto,
      "PingFang SC",
      "Noto Sans SC",
      sans-serif
    );
    --_danger: #c0262d;
    --_surface: color-mix(in srgb, var(--_fg) 4%, var(--_bg));
    /* White on the accent in both themes: the framer's pressed buttons hard-code it too. */
    --_on-accent: #ffffff;

    display: block;
    container-type: inline-size;
    min-width: 0;
    color: var(--_fg);
    font-family: var(--_font);
    font-size: 1rem;
    line-height: 1.5;
  }
  :host([hidden]) {
    display: none;
  }

  /* Dark: by the visitor's preference, unless the owner forced a theme. */
  @media (prefers-color-scheme: dark) {
    :host(:not([theme="light"])) {
      --_bg: var(--still-motion-bg, #17161f);
      --_fg: var(--still-motion-fg, #eeedf7);
      --_muted: var(--still-motion-muted, #a9a6c2);
      --_border: var(--still-motion-border, #34324a);
      --_accent: var(--still-motion-accent, #6767dc);
      --_danger: #ff8589;
    }
  }
  :host([theme="dark"]) {
    --_bg: var(--still-motion-bg, #17161f);
    --_fg: var(--still-motion-fg, #eeedf7);
    --_muted: var(--still-motion-muted, #a9a6c2);
    --_border: var(--still-motion-border, #34324a);
    --_accent: var(--still-motion-accent, #6767dc);
    --_danger: #ff8589;
  }

  *,
  *::before,
  *::after {
    box-sizing: border-box;
  }

  [part~="base"] {
    display: grid;
    gap: 1rem;
    padding: clamp(0.75rem, 3cqi, 1.5rem);
    background: var(--_bg);
    border: 1px solid var(--_border);
    border-radius: var(--_radius);
    outline: none;
  }
  header,
  footer {
    display: flex;
    align-items: center;
    gap: 0.5rem;
  }
  /* Author display rules beat the UA's [hidden] rule, so hidden rows need saying again. */
  header[hidden],
  footer[hidden] {
    display: none;
  }
  .intro {
    margin: 0;
    color: var(--_muted);
  }

  button,
  input,
  select,
  textarea {
    font: inherit;
    color: inherit;
  }
  button {
    min-height: 44px; /* WCAG 2.5.5 target size */
    padding: 0.5rem 1rem;
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) * 0.67);
    background: var(--_surface);
    cursor: pointer;
  }
  button:disabled {
    cursor: not-allowed;
    opacity: 0.55;
  }
  .primary {
    background: var(--_accent);
    border-color: var(--_accent);
    color: var(--_on-accent);
    font-weight: 600;
  }
  :focus-visible {
    outline: 3px solid var(--_accent);
    outline-offset: 2px;
  }
  input:not([type]),
  input[type="text"],
  select,
  textarea {
    width: 100%;
    min-height: 44px;
    padding: 0.5rem 0.75rem;
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) * 0.5);
    background: var(--_bg);
  }
  textarea {
    resize: vertical;
    min-height: 5.5rem;
  }
  label,
  legend {
    font-weight: 600;
    font-size: 0.9rem;
  }
  fieldset {
    margin: 0;
    padding: 0;
    border: 0;
    min-width: 0;
  }
  .field {
    display: grid;
    gap: 0.25rem;
  }
  .hint,
  .counter {
    color: var(--_muted);
    font-size: 0.85rem;
  }
  .counter[data-over] {
    color: var(--_danger);
    font-weight: 600;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }

  [part~="dropzone"] {
    display: grid;
    place-items: center;
    gap: 0.25rem;
    width: 100%;
    min-height: 10rem;
    padding: 1.5rem 1rem;
    border: 2px dashed var(--_border);
    border-radius: var(--_radius);
    background: var(--_surface);
    text-align: center;
    transition:
      border-color 0.15s,
      background-color 0.15s;
  }
  [part~="dropzone"][data-over] {
    border-color: var(--_accent);
    background: color-mix(in srgb, var(--_accent) 10%, var(--_bg));
  }
  .pickers {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
  }
  /* A camera button only helps where there is one to open (phones, tablets). */
  @media (hover: hover) and (pointer: fine) {
    .camera,
    .pickers:not(:has(> :not(.camera))) {
      display: none;
    }
  }

  [part~="preview"] {
    position: relative;
    display: grid;
    place-items: center;
    overflow: hidden;
    border-radius: var(--_radius);
    background: var(--_surface);
  }
  [part~="preview"] img {
    display: block;
    max-width: 100%;
    max-height: 24rem;
    object-fit: contain;
  }
  [part~="framer"] {
    display: block;
    width: 100%;
  }
  /*
   * The framer has its own light defaults; hand it the resolved theme (owner's, dark or light).
   * Set on its parent, not on the framer: the framer's :host defines the same --_* names from
   * these, and setting both on one element would make a cycle that invalidates them all.
   */
  [part~="preview"] {
    --still-motion-accent: var(--_accent);
    --still-motion-bg: var(--_bg);
    --still-motion-fg: var(--_fg);
    --still-motion-muted: var(--_muted);
    --still-motion-border: var(--_border);
    --still-motion-radius: var(--_radius);
  }

  [part~="controls"] {
    display: flex;
    flex-wrap: wrap;
    gap: 0.75rem;
  }
  [part~="controls"] .field {
    flex: 1 1 10rem;
  }
  .badge {
    flex: 1 1 100%;
    margin: 0;
    padding: 0.25rem 0.5rem;
    border-radius: calc(var(--_radius) * 0.5);
    background: color-mix(in srgb, var(--_accent) 12%, var(--_bg));
    font-size: 0.85rem;
  }

  [part~="prompt"] {
    display: grid;
    gap: 0.75rem;
  }
  .modes,
  [part~="presets"] {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
  }
  .modes button[aria-pressed="true"] {
    border-color: var(--_accent);
    box-shadow: inset 0 0 0 1px var(--_accent);
  }
  .builder {
    display: grid;
    grid-template-columns: repeat(auto-fit, minmax(12rem, 1fr));
    gap: 0.75rem;
  }
  .composed {
    margin: 0;
    padding: 0.5rem 0.75rem;
    border-left: 3px solid var(--_accent);
    background: var(--_surface);
    white-space: pre-wrap;
  }
  .template {
    line-height: 2.6;
  }
  .template input {
    width: auto;
    min-width: 8ch;
    min-height: 36px;
    padding: 0.25rem 0.5rem;
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) * 0.4);
    background: var(--_bg);
  }

  [part~="submit"] {
    width: 100%;
  }

  [part~="progress"] {
    width: 100%;
    height: 0.75rem;
    accent-color: var(--_accent);
  }
  [part~="status"] {
    display: grid;
    gap: 0.5rem;
  }
  .times {
    display: flex;
    flex-wrap: wrap;
    gap: 0.25rem 1rem;
    color: var(--_muted);
    font-size: 0.9rem;
  }

  [part~="video"] {
    display: block;
    width: 100%;
    max-height: 70vh;
    border-radius: var(--_radius);
    background: #000;
  }
  [part~="result"] {
    display: grid;
    gap: 1rem;
  }
  [part~="actions"] {
    display: flex;
    flex-wrap: wrap;
    gap: 0.5rem;
  }
  .remix {
    display: grid;
    grid-template-columns: 1fr auto;
    align-items: end;
    gap: 0.5rem;
  }

  [part~="error"] {
    display: grid;
    gap: 0.5rem;
    padding: 0.75rem 1rem;
    border: 1px solid var(--_danger);
    border-radius: var(--_radius);
    background: color-mix(in srgb, var(--_danger) 8%, var(--_bg));
  }
  [part~="error"] p {
    margin: 0;
  }
  .error-title {
    font-weight: 700;
    color: var(--_danger);
  }

  /* Narrow hosts (down to 320 px): one column, full-width actions. */
  @container (max-width: 30rem) {
    [part~="actions"] > *,
    .remix {
      flex: 1 1 100%;
      grid-template-columns: 1fr;
    }
  }

  @media (prefers-reduced-motion: reduce) {
    *,
    *::before,
    *::after {
      animation: none !important;
      transition: none !important;
      scroll-behavior: auto !important;
    }
  }
`;
