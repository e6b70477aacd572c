/**
 * Redirects, followed by our code and never by the runtime. workerd's `redirect: "follow"` drops
 * `Authorization` across origins but keeps every other header — `api-key` (Azure-style hosts),
 * `x-goog-api-key` (Gemini) — and re-sends the body on 307/308, so an upstream (or anyone able to
 * make it answer 3xx) could collect the key and a visitor's photo. The rule here is the only one:
 *
 * - a hop to the origin the request was sent to repeats the request as built (credentials and a
 *   fresh body from the factory), for reads on any redirect status and for writes on 307/308;
 * - a hop to another origin is allowed only for media reads (`policy.media`), only over https,
 *   only to hosts the adapter accepts (`policy.allowHost`), and carries none of the original
 *   headers but a short allow-list (Range and conditionals) — never a credential or a body;
 * - once a chain has left the origin, it never gets credentials back;
 * - anything else (a write sent elsewhere, http, no Location, more than five hops) is refused
 *   with `bad_response`, which keeps any money reserved: what the upstream did is unknown.
 */
import { ProviderError } from "../errors";

export interface RedirectPolicy {
  /** GET/HEAD for media may follow to another https origin, without credentials. */
  media?: boolean;
  /** Narrows the other origins a media read may follow to (e.g. a provider's CDN hosts). */
  allowHost?: (url: URL) => boolean;
}

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_HOPS = 5;
/** The only request headers that may travel to another origin. */
const CROSS_ORIGIN_HEADERS = ["range", "if-range", "accept", "if-none-match", "if-modified-since"];

/** Sends `make()`, following redirects as the rule above says; returns the first non-redirect. */
export async function fetchFollowingRedirects(
  fetchFn: typeof fetch,
  make: () => Request,
  signal: AbortSignal,
  policy: RedirectPolicy = {},
): Promise<Response> {
  const first = make();
  const origin = new URL(first.url).origin;
  let request = new Request(first, { redirect: "manual", signal });
  let credentialed = true;
  for (let hop = 0; ; hop++) {
    const response = await fetchFn(request);
    if (!REDIRECT_STATUSES.has(response.status)) return response;
    const location = response.headers.get("location");
    await response.body?.cancel();
    if (!location) throw refused(`HTTP ${response.status} without a Location`);
    if (hop >= MAX_HOPS) throw refused(`more than ${MAX_HOPS} redirects`);
    const target = URL.canParse(location, request.url) ? new URL(location, request.url) : null;
    if (!target) throw refused("a Location that is not a URL");

    if (target.username || target.password) throw refused("a Location with credentials in it");
    const read = request.method === "GET" || request.method === "HEAD";
    const keepsMethod = response.status === 307 || response.status === 308;
    if (!read && !keepsMethod) {
      throw refused(`HTTP ${response.status} would turn ${request.method} into GET`);
    }
    if (credentialed && target.origin === origin) {
      request = new Request(target.href, new Request(make(), { redirect: "manual", signal }));
      continue;
    }
    if (!read || !policy.media) throw refused(`a ${request.method} redirected to another origin`);
    if (target.protocol !== "https:") {
      throw refused("a redirect to a URL that is not https");
    }
    if (policy.allowHost && !policy.allowHost(target)) {
      throw refused("a redirect to a host this provider does not serve media from");
    }
    const headers = new Headers();
    for (const name of CROSS_ORIGIN_HEADERS) {
      const value = request.headers.get(name);
      if (value !== null) headers.set(name, value);
    }
    request = new Request(target.href, {
      method: request.method,
      headers,
      redirect: "manual",
      signal,
    });
    credentialed = false;
  }
}

function refused(detail: string): ProviderError {
  return new ProviderError(
    "bad_response",
    "The video provider answered with a redirect that is not followed.",
    `redirect refused: ${detail}`,
  );
}
