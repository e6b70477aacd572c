/**
 * One delivery attempt: a POST through the injected `fetch` (worker/background/deps.ts), bounded
 * by a timeout, never following a redirect. Only the status is read; the receiver's body is
 * dropped unread (it is not ours to log, and an unread body would hold the connection).
 */
import { backgroundDeps } from "../background/deps";

export type Outcome =
  | { ok: true; status: number }
  | {
      ok: false;
      /** Why, in our words (never the receiver's text). */
      reason: string;
      status: number | null;
      /** 410 Gone: the receiver wants no more of these (the spec: stop sending). */
      gone: boolean;
      retryAfterMs: number | null;
    };

export async function deliver(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<Outcome> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  // The race, not only the signal, bounds the wait: a fetch that ignores its signal (or a
  // receiver that accepts the connection and never answers) still ends the attempt on time.
  const timedOut = new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve("timeout");
    }, timeoutMs);
  });
  try {
    const answer = await Promise.race([
      backgroundDeps().fetch(url, {
        method: "POST",
        headers,
        body,
        // A 3xx is a failure (the spec): following it would send the event somewhere the owner
        // never configured.
        redirect: "manual",
        signal: controller.signal,
      }),
      timedOut,
    ]);
    if (answer === "timeout") return failed(`no answer within ${timeoutMs} ms`);
    await discard(answer);
    const { status } = answer;
    if (status >= 200 && status < 300) return { ok: true, status };
    if (status >= 300 && status < 400) return failed(`redirect ${status} (not followed)`, status);
    return failed(`status ${status}`, status, retryAfter(answer));
  } catch {
    // The error's text may quote the URL (and its query); the kind is enough.
    return failed(controller.signal.aborted ? `no answer within ${timeoutMs} ms` : "network error");
  } finally {
    clearTimeout(timer);
  }
}

function failed(reason: string, status: number | null = null, retryAfterMs: number | null = null) {
  return { ok: false as const, reason, status, gone: status === 410, retryAfterMs };
}

/** Retry-After in seconds (the date form is rare from receivers and judged by another clock). */
function retryAfter(response: Response): number | null {
  const value = response.headers.get("retry-after")?.trim() ?? "";
  return /^\d{1,6}$/.test(value) ? Number(value) * 1000 : null;
}

async function discard(response: Response): Promise<void> {
  try {
    await response.body?.cancel();
  } catch {
    // Nothing to free.
  }
}
