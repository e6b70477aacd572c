/**
 * The only error an adapter throws. `kind` says what happened upstream in terms the worker can
 * act on; `publicMessage` is safe to show to a person. Upstream details go to `detail`, which is
 * logged but never sent to a client (it may contain upstream internals, never the key).
 */
export type ProviderErrorKind =
  /** The provider refused the input (e.g. bad image, unsupported option). */
  | "input_rejected"
  /** The provider refused on content policy grounds. */
  | "policy_violation"
  /** The provider rate-limited us; `retryAfter` seconds when it said. */
  | "rate_limited"
  /** The provider is down or overloaded (503, or unreachable). Nothing was started. */
  | "unavailable"
  /**
   * The provider failed with a server error (500, 502, …) after the request reached it: for a
   * call that starts work, whether it did is unknown, so its money stays reserved.
   */
  | "upstream_failed"
  /** No answer in time: the outcome of the call is unknown. */
  | "timeout"
  /** The upstream job or asset does not exist (or no longer does). */
  | "not_found"
  /** The provider does not support this operation for this job or model. */
  | "unsupported"
  /** Credentials rejected or missing: an operator problem, never the caller's. */
  | "misconfigured"
  /** The provider answered something we could not understand. */
  | "bad_response";

export class ProviderError extends Error {
  override readonly name = "ProviderError";
  constructor(
    readonly kind: ProviderErrorKind,
    readonly publicMessage: string,
    readonly detail?: string,
    readonly retryAfter?: number,
  ) {
    super(`${kind}: ${publicMessage}${detail ? ` (${detail})` : ""}`);
  }
}
