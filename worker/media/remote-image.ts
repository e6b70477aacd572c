/**
 * Fetches an `input_reference.image_url` given as an `https://` URL — for server-key callers
 * only (a visitor's page uploads the file; a public page must not be able to aim the worker at
 * any host). Deny by default: https only, no credentials in the URL, no IP literals or local
 * names, the default port, at most three redirects each held to the same rules, a timeout, and a
 * byte limit counted as the body streams. What arrives is then checked by its structure like
 * any upload (worker/media/structure.ts) by the caller.
 */
import { readCapped } from "./read-capped";
import { ApiError, invalidRequest } from "../errors";

export interface RemoteImageOptions {
  fetch: typeof fetch;
  maxBytes: number;
  timeoutMs?: number;
}

const PARAM = "input_reference.image_url";
const MAX_REDIRECTS = 3;

export async function fetchRemoteImage(
  url: string,
  options: RemoteImageOptions,
): Promise<Uint8Array> {
  const signal = AbortSignal.timeout(options.timeoutMs ?? 10_000);
  let target = allowedUrl(url);
  for (let hop = 0; ; hop++) {
    let response: Response;
    try {
      response = await raced(
        options.fetch(target, { redirect: "manual", signal, headers: { accept: "image/*" } }),
        signal,
      );
    } catch {
      throw refused("could not be fetched (no answer in time, or the connection failed)");
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel().catch(() => {});
      if (hop >= MAX_REDIRECTS) throw refused("redirects more than three times");
      target = allowedUrl(new URL(location, target).href);
      continue;
    }
    if (response.status !== 200 || !response.body) {
      await response.body?.cancel().catch(() => {});
      throw refused(`answered HTTP ${response.status}`);
    }
    try {
      return await raced(
        readCapped(response, options.maxBytes, () =>
          refused(
            `is larger than the ${Math.round(options.maxBytes / 1024 / 1024)} MB upload limit`,
          ),
        ),
        signal,
      );
    } catch (error) {
      if (error instanceof ApiError) throw error;
      await response.body?.cancel().catch(() => {});
      throw refused("could not be read to the end (too slow, or the connection failed)");
    }
  }
}

/** `work`, or the signal's abort: the timeout holds even where a fetch ignores its signal. */
function raced<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  return Promise.race([
    work,
    new Promise<never>((_, reject) => {
      if (signal.aborted) reject(signal.reason);
      signal.addEventListener("abort", () => reject(signal.reason), { once: true });
    }),
  ]);
}

/** The URL as fetched, or a 400 saying which rule it breaks. */
function allowedUrl(text: string): URL {
  const url = URL.canParse(text) ? new URL(text) : null;
  if (!url || url.protocol !== "https:") throw refused("must be an https:// URL or a data: URL");
  if (url.username || url.password) throw refused("must not carry credentials");
  if (url.port !== "") throw refused("must use the default https port");
  // A trailing dot names the same host ("localhost." is localhost); WHATWG parsing has already
  // turned numeric forms (2130706433, 0x7f.1) into dotted quads.
  const host = url.hostname.toLowerCase().replace(/\.$/, "");
  const ipLiteral = /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.startsWith("[");
  const local =
    !host.includes(".") ||
    /\.(localhost|local|internal|lan|home|arpa|test|invalid)$/.test(host) ||
    host === "localhost";
  if (ipLiteral || local) throw refused("must name a public host, not an address or a local name");
  return url;
}

const refused = (why: string) => invalidRequest(`input_reference.image_url ${why}.`, PARAM);
