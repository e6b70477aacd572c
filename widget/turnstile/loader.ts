/**
 * Loads Cloudflare's Turnstile script once per page, and only for a widget that needs it (this
 * module is in a lazy chunk). Explicit rendering, because the widget decides when and where the
 * challenge appears. https://developers.cloudflare.com/turnstile/get-started/client-side-rendering/
 */
import { ApiProblem } from "../api/problem";

export const TURNSTILE_SCRIPT =
  "https://challenges.cloudflare.com/turnstile/v0/api.js?render=explicit";

/** The part of `window.turnstile` the widget uses. */
export interface Turnstile {
  render(container: HTMLElement, params: TurnstileParams): string | null | undefined;
  execute(widgetId: string): void;
  reset(widgetId: string): void;
  remove(widgetId: string): void;
}

export interface TurnstileParams {
  sitekey: string;
  action: string;
  /** "execute": no challenge runs until `execute()`, so a token is fresh when it is sent. */
  execution: "render" | "execute";
  /** "interaction-only": stays invisible unless the visitor must do something. */
  appearance: "always" | "execute" | "interaction-only";
  language?: string;
  callback(token: string): void;
  "error-callback"(code: string): boolean | void;
  "timeout-callback"(): void;
}

declare global {
  interface Window {
    turnstile?: Turnstile;
  }
}

/**
 * `window.turnstile`, adding the script if the page does not have it yet. The script element in
 * the document is the only state, so several widgets (or a second call) share one download.
 */
export function loadTurnstile(src = TURNSTILE_SCRIPT): Promise<Turnstile> {
  if (window.turnstile) return Promise.resolve(window.turnstile);
  let script = document.querySelector<HTMLScriptElement>(`script[src="${CSS.escape(src)}"]`);
  if (!script) {
    script = document.createElement("script");
    script.src = src;
    script.async = true;
    document.head.append(script);
  }
  const loading = script;
  return new Promise((resolve, reject) => {
    loading.addEventListener("load", () =>
      window.turnstile ? resolve(window.turnstile) : reject(unavailable()),
    );
    // Blocked (offline, an ad blocker, a Content-Security-Policy): the next attempt tries again.
    loading.addEventListener("error", () => (loading.remove(), reject(unavailable())));
  });
}

function unavailable(): ApiProblem {
  return new ApiProblem("The bot check could not be loaded. Check your connection and try again.", {
    kind: "network",
    code: "turnstile_unavailable",
  });
}
