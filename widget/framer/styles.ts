/**
 * The framer's look. Public `--still-motion-*` custom properties (the same ones `<still-motion>`
 * takes, so one rule themes both) map onto private `--_*` ones with their defaults.
 */
import { css } from "lit";

/** Styles of `<still-motion-framer>`. */
export const framerStyles = css`
  :host {
    --_accent: var(--still-motion-accent, #5b5bd6);
    --_bg: var(--still-motion-bg, #ffffff);
    --_fg: var(--still-motion-fg, #1c1b29);
    --_muted: var(--still-motion-muted, #5f5d75);
    --_border: var(--still-motion-border, #d9d7e8);
    --_radius: var(--still-motion-radius, 12px);
    --_max-height: var(--still-motion-framer-max-height, 24rem);
    display: block;
    color: var(--_fg);
  }
  canvas {
    display: block;
    margin-inline: auto;
    /* As wide as allowed, unless that would make a portrait frame too tall. */
    width: min(100%, calc(var(--_max-height) * var(--_ratio)));
    height: auto;
    border-radius: calc(var(--_radius) * 0.5);
    touch-action: none;
    cursor: grab;
  }
  :host([mode="contain"]) canvas {
    cursor: default;
  }
  :focus-visible {
    outline: 3px solid var(--_accent);
    outline-offset: 2px;
  }
  [part~="hint"] {
    margin: 0.25rem 0 0;
    font-size: 0.875rem;
    color: var(--_muted);
    text-align: center;
  }
  [part~="controls"] {
    display: flex;
    flex-wrap: wrap;
    justify-content: center;
    align-items: center;
    gap: 0.5rem;
    margin-top: 0.5rem;
  }
  button,
  input {
    min-height: 2.75rem;
    font: inherit;
    color: inherit;
    border: 1px solid var(--_border);
    border-radius: calc(var(--_radius) * 0.5);
    background: var(--_bg);
  }
  button {
    min-width: 2.75rem;
    padding: 0 0.75rem;
    cursor: pointer;
  }
  button[aria-pressed="true"] {
    background: var(--_accent);
    border-color: var(--_accent);
    color: #fff;
  }
  /* aria-disabled, not disabled: a disabled button would drop keyboard focus to the page. */
  button[aria-disabled="true"] {
    opacity: 0.45;
    cursor: not-allowed;
  }
  input[type="color"] {
    width: 2.75rem;
    padding: 0.25rem;
  }
  @media (prefers-reduced-motion: no-preference) {
    button {
      transition:
        background-color 120ms ease,
        color 120ms ease;
    }
  }
  @media (forced-colors: active) {
    button[aria-pressed="true"] {
      outline: 2px solid CanvasText;
    }
  }
`;
