/**
 * The bot check of one `<still-motion>`: one Turnstile widget, rendered into a light-DOM
 * container slotted into the element (outside the shadow root, where Turnstile's iframe and
 * script expect to live), that hands out a fresh token for every session request — tokens are
 * single-use and valid for 300 s, so none is kept.
 */
import { abortedProblem, ApiProblem, throwIfAborted } from "../api/problem";
import { loadTurnstile, type TurnstileParams } from "./loader";

interface Waiter {
  resolve(token: string): void;
  reject(error: unknown): void;
}

export class TurnstileGate {
  #id: string | null = null;
  /** The container this gate made, removed with it (one the page slotted in stays). */
  #made: HTMLElement | null = null;
  #waiter: Waiter | null = null;
  #removed = false;

  constructor(
    readonly host: HTMLElement,
    readonly siteKey: string,
    /** Must equal the site's `turnstile.action`: the worker refuses tokens for other actions. */
    readonly action: string,
  ) {}

  /** Runs the challenge (visible only if the visitor must act) and resolves with its token. */
  async token(signal: AbortSignal): Promise<string> {
    const turnstile = await loadTurnstile();
    throwIfAborted(signal);
    if (this.#removed) throw abortedProblem(undefined);
    this.#waiter?.reject(abortedProblem(undefined)); // superseded by this request
    return new Promise<string>((resolve, reject) => {
      const leave = () => this.#settle(null, abortedProblem(signal.reason));
      signal.addEventListener("abort", leave, { once: true });
      const done = () => signal.removeEventListener("abort", leave);
      this.#waiter = {
        resolve: (token) => (done(), resolve(token)),
        reject: (error) => (done(), reject(error)),
      };
      if (this.#id === null) {
        this.#id = turnstile.render(this.#container(), this.#params()) ?? null;
        if (this.#id === null) return this.#settle(null, failed("turnstile_failed"));
      } else {
        turnstile.reset(this.#id); // a used token cannot be asked for twice
      }
      turnstile.execute(this.#id);
    });
  }

  /** Removes the Turnstile widget (on disconnect, or when the site key changes). */
  remove(): void {
    this.#removed = true;
    if (this.#id !== null) window.turnstile?.remove(this.#id);
    this.#id = null;
    this.#made?.remove();
    this.#settle(null, abortedProblem(undefined));
  }

  #settle(token: string | null, error?: unknown): void {
    const waiter = this.#waiter;
    this.#waiter = null;
    if (token !== null) waiter?.resolve(token);
    else waiter?.reject(error);
  }

  #container(): HTMLElement {
    const slotted = this.host.querySelector<HTMLElement>(':scope > [slot="turnstile"]');
    if (slotted) return slotted;
    this.#made = document.createElement("div");
    this.#made.slot = "turnstile";
    this.host.append(this.#made);
    return this.#made;
  }

  #params(): TurnstileParams {
    return {
      sitekey: this.siteKey,
      action: this.action,
      execution: "execute",
      appearance: "interaction-only",
      callback: (token) => this.#settle(token),
      // Returning true tells Turnstile the error is handled (it would log it otherwise).
      "error-callback": () => (this.#settle(null, failed("turnstile_failed")), true),
      "timeout-callback": () => this.#settle(null, failed("turnstile_timeout")),
    };
  }
}

/** A challenge that failed (kind `auth`: the visitor starts again) or timed out (transient). */
function failed(code: "turnstile_failed" | "turnstile_timeout"): ApiProblem {
  const timedOut = code === "turnstile_timeout";
  return new ApiProblem(
    timedOut ? "The bot check timed out. Try again." : "The bot check did not pass. Try again.",
    { kind: timedOut ? "network" : "auth", code },
  );
}
