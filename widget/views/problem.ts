/**
 * Turns whatever went wrong into words for the visitor — what happened and what to do — and
 * renders it with role="alert" and a way forward. Raw errors and stacks never reach the page.
 */
import { html, type TemplateResult } from "lit";
import { ApiProblem } from "../api/problem";
import type { Video } from "../api/types";
import { FitError } from "../fit-error";
import { format, formatRelative } from "../i18n";
import type { Strings } from "../locales/en";
import type { FlowState, Problem } from "../state/types";
import type { ViewContext } from "./context";

type Failed = Extract<FlowState, { name: "failed" }>;

function imageProblem(error: FitError, t: Strings): Problem {
  const heic = /^HEI[CF]$/i.test(error.detected ?? "");
  const messages: Record<FitError["code"], string> = {
    unsupported_type: heic ? t.errorHeic : t.errorUnsupported,
    decode_failed: t.errorDecode,
    too_large: t.errorTooLarge,
    too_small: t.errorTooSmall,
  };
  return { kind: "image", code: error.code, message: messages[error.code], retryAfter: null };
}

function later(template: string, fallback: string, seconds: number | null, lang: string): string {
  return seconds === null ? fallback : format(template, { when: formatRelative(seconds, lang) });
}

function apiMessage(p: ApiProblem, t: Strings, lang: string): string {
  switch (p.kind) {
    case "policy":
      return t.errorPolicy;
    case "input":
      return format(t.errorInput, { detail: p.message });
    case "rate_limit":
      return later(t.errorRateLimit, t.errorRateLimitLater, p.retryAfter, lang);
    case "budget":
      return later(t.errorBudget, t.errorBudgetLater, p.retryAfter, lang);
    case "provider":
      return t.errorProvider;
    case "unconfirmed":
      return t.errorUnconfirmed;
    case "network":
    case "aborted":
      return t.errorNetwork;
    case "auth":
      return t.errorAuth;
    case "not_found":
      return t.errorNotFound;
    case "server":
      return t.errorServer;
  }
}

/** Any thrown value as a visitor-facing problem; unknown errors become a generic one. */
export function describeError(error: unknown, t: Strings, lang: string): Problem {
  if (error instanceof FitError) return imageProblem(error, t);
  if (error instanceof ApiProblem) {
    return {
      kind: error.kind,
      code: error.code,
      message: apiMessage(error, t, lang),
      retryAfter: error.retryAfter,
    };
  }
  // A bug of ours: keep the details in the console for the site owner, not on the page.
  console.error("<still-motion>", error);
  return { kind: "server", code: null, message: t.errorServer, retryAfter: null };
}

/** A job that ran and failed (`video.error`, normalized codes from the contract). */
export function describeJob(video: Video, t: Strings): Problem {
  const code = video.error?.code ?? null;
  const detail = video.error?.message ?? "";
  const table: Record<string, [Problem["kind"], string]> = {
    policy_violation: ["policy", t.errorPolicy],
    input_rejected: ["input", format(t.errorInput, { detail })],
    timeout: ["provider", t.errorTimeout],
    expired: ["not_found", t.errorNotFound],
  };
  const [kind, message] = (code && table[code]) || ["provider", t.errorProvider];
  return { kind, code, message, retryAfter: null };
}

export function problemView(ctx: ViewContext, s: Failed): TemplateResult {
  const { t, act } = ctx;
  // A photo problem is fixed by another photo, so the way forward is the picker itself.
  const pickAgain = s.problem.kind === "image";
  const forward = pickAgain
    ? html`<button
        type="button"
        class="primary"
        data-focus
        @click=${() => {
          act.retry();
          act.openPicker("file");
        }}
      >
        ${t.replacePhoto}
      </button>`
    : html`<button type="button" class="primary" part="retry" data-focus @click=${act.retry}>
        ${t.tryAgain}
      </button>`;
  return html`<section part="error">
    <div role="alert">
      <p class="error-title">${t.errorTitle}</p>
      <p>${s.problem.message}</p>
    </div>
    <div part="actions">
      ${forward}
      <button type="button" part="start-over" @click=${act.reset}>${t.startOver}</button>
    </div>
  </section>`;
}
