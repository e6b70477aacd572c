/**
 * Prompt markers that force the simulator into each failure the real providers produce, so the
 * widget and the tests can show them all. Put one anywhere in a prompt, e.g.
 * "a cat waves [sim:policy_violation]". Documented in README ("Simulator").
 */
import { ProviderError } from "../errors";
import type { FailureCode } from "../types";

export type Outcome =
  | { marker: "ok"; at: "none" }
  | { marker: string; at: "run"; share: number; error: { code: FailureCode; message: string } }
  | { marker: string; at: "create"; error: () => ProviderError };

/** Failures that happen while the job runs: `share` is how far along the timeline they strike. */
const RUN: Record<string, [share: number, code: FailureCode, message: string]> = {
  policy_violation: [
    0.4,
    "policy_violation",
    "The simulated provider refused this content on policy grounds. Change the prompt or image and try again.",
  ],
  input_rejected: [
    0.2,
    "input_rejected",
    "The simulated provider could not use this image. Try a different photo.",
  ],
  provider_error: [
    0.6,
    "provider_error",
    "The simulated provider failed while generating. Try again.",
  ],
  timeout: [1, "timeout", "The simulated provider took too long and gave up. Try again."],
  expired: [
    1,
    "expired",
    "The simulated video expired before it was collected. Generate it again.",
  ],
  cancelled: [0.5, "cancelled", "The simulated job was cancelled."],
};

/** Failures at create time: the provider refuses before anything starts (nothing is billed). */
const CREATE: Record<string, () => ProviderError> = {
  refuse_policy: () =>
    new ProviderError(
      "policy_violation",
      "The simulated provider refused this prompt on policy grounds. Rephrase it and try again.",
    ),
  refuse_input: () =>
    new ProviderError(
      "input_rejected",
      "The simulated provider refused this image. Try a different photo.",
    ),
  rate_limited: () =>
    new ProviderError(
      "rate_limited",
      "The simulated provider is rate limiting requests. Try again shortly.",
      undefined,
      7,
    ),
  unavailable: () =>
    new ProviderError(
      "unavailable",
      "The simulated provider is unavailable right now. Nothing was started; try again shortly.",
    ),
  create_timeout: () =>
    new ProviderError("timeout", "The simulated provider did not answer in time. Try again."),
};

export const SIMULATOR_MARKERS = [...Object.keys(RUN), ...Object.keys(CREATE)];

export function markerIn(prompt: string): Outcome {
  for (const match of prompt.matchAll(/\[sim:([a-z_]+)\]/g)) {
    const marker = match[1]!;
    const run = RUN[marker];
    if (run) return { marker, at: "run", share: run[0], error: { code: run[1], message: run[2] } };
    const create = CREATE[marker];
    if (create) return { marker, at: "create", error: create };
  }
  return { marker: "ok", at: "none" };
}
