/**
 * How the client fails: every failure — no answer, an error envelope, a cancelled request, an
 * unreadable body — becomes one `ApiProblem` whose `kind` tells the element what to show and
 * whether trying again can help.
 */

/** What kind of failure a problem is; the element chooses its message and way forward by it. */
export type ProblemKind =
  | "network"
  | "auth"
  | "input"
  | "policy"
  | "rate_limit"
  | "budget"
  | "provider"
  /** A send reached the provider but its outcome is unknown; its Idempotency-Key is held. */
  | "unconfirmed"
  | "not_found"
  | "server"
  | "aborted";

/** The fields of an {@link ApiProblem} besides its message. */
export interface ApiProblemInit {
  kind: ProblemKind;
  status?: number;
  code?: string | null;
  param?: string | null;
  retryAfter?: number | null;
  cause?: unknown;
}

/** A failed call. `message` is the server's human message when it sent one (the widget shows it). */
export class ApiProblem extends Error {
  override readonly name = "ApiProblem";
  /** HTTP status; 0 when no response arrived (network, aborted). */
  readonly status: number;
  readonly code: string | null;
  readonly param: string | null;
  readonly kind: ProblemKind;
  /** Seconds the server asked us to wait (`Retry-After`), if it said. */
  readonly retryAfter: number | null;

  constructor(message: string, init: ApiProblemInit) {
    super(message, { cause: init.cause });
    this.kind = init.kind;
    this.status = init.status ?? 0;
    this.code = init.code ?? null;
    this.param = init.param ?? null;
    this.retryAfter = init.retryAfter ?? null;
  }

  /** Whether the same request may succeed later: the contract keeps the job on 502/503/504. */
  get transient(): boolean {
    return (
      this.kind === "network" ||
      this.kind === "rate_limit" ||
      (this.kind === "provider" && [502, 503, 504].includes(this.status))
    );
  }
}

/** Throws the `aborted` problem if the caller has already given up. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw abortedProblem(signal.reason);
}

/** The problem every cancelled wait or request rejects with. */
export function abortedProblem(cause: unknown): ApiProblem {
  return new ApiProblem("The request was cancelled.", { kind: "aborted", cause });
}

/** Anything thrown while fetching or reading becomes an ApiProblem. */
export function toProblem(error: unknown, signal: AbortSignal | undefined): ApiProblem {
  if (error instanceof ApiProblem) return error;
  if (signal?.aborted || (error instanceof DOMException && error.name === "AbortError")) {
    return abortedProblem(error);
  }
  if (error instanceof SyntaxError) {
    return new ApiProblem("The video service sent an unreadable answer. Try again later.", {
      kind: "server",
      cause: error,
    });
  }
  // fetch rejects with a TypeError when no response arrived (offline, DNS, CORS refusal).
  return new ApiProblem("Could not reach the video service. Check your connection and try again.", {
    kind: "network",
    cause: error,
  });
}

/** Reads OpenAI's envelope `{ error: { message, type, param, code } }` into a problem. */
export function problemFrom(response: Response, text: string, nowMs: number): ApiProblem {
  let error: Record<string, unknown> = {};
  try {
    const body: unknown = JSON.parse(text);
    if (isRecord(body) && isRecord(body.error)) error = body.error;
  } catch {
    // Not an envelope (a proxy's HTML page, say): the status alone decides.
  }
  const code = typeof error.code === "string" ? error.code : null;
  const message = typeof error.message === "string" && error.message ? error.message : null;
  return new ApiProblem(
    message ?? `The video service refused the request (HTTP ${response.status}).`,
    {
      kind: kindOf(response.status, code),
      status: response.status,
      code,
      param: typeof error.param === "string" ? error.param : null,
      retryAfter: retryAfter(response.headers.get("retry-after"), nowMs),
    },
  );
}

function kindOf(status: number, code: string | null): ProblemKind {
  if (status === 401 || status === 403) return "auth";
  if (status === 400 && code === "policy_violation") return "policy";
  if (status === 402 || code === "budget_exceeded") return "budget";
  if (status === 404) return "not_found";
  // The same submit is still running on the worker (a retry after a dropped connection):
  // waiting briefly and resending the same Idempotency-Key returns its job.
  if (status === 429 || code === "idempotency_request_in_progress") return "rate_limit";
  // An earlier send under this key may have started a job; resending the same key cannot help
  // until the worker's hold ends, so the visitor decides whether to start another video.
  if (code === "idempotency_outcome_unknown") return "unconfirmed";
  if (status === 502 || status === 503 || status === 504) return "provider";
  return status >= 400 && status < 500 ? "input" : "server";
}

/** RFC 9110 §10.2.3: either delay-seconds or an HTTP-date. */
function retryAfter(header: string | null, nowMs: number): number | null {
  if (header === null || header.trim() === "") return null;
  if (/^\s*\d+\s*$/.test(header)) return Number(header);
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, Math.ceil((date - nowMs) / 1000));
}

/** The problem for a successful answer of the wrong shape. */
export function unexpected(): ApiProblem {
  return new ApiProblem("The video service sent an unexpected answer. Try again later.", {
    kind: "server",
  });
}

/** A plain JSON object (not null, not an array), as answers are checked before use. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
