/**
 * The Download button's work: fetch the signed video URL into a blob and save it under a real
 * file name. The `download` attribute is ignored on cross-origin links, hence the blob: it also
 * lets a failed download (an expired link) show a message instead of navigating the visitor
 * away to an error. As a controller it owns its request and aborts it when the element leaves
 * the page.
 */
import type { ReactiveController, ReactiveControllerHost } from "lit";

export type DownloadState = "idle" | "preparing" | "failed";

export class DownloadController implements ReactiveController {
  readonly #host: ReactiveControllerHost;
  #request: AbortController | null = null;
  #state: DownloadState = "idle";

  constructor(host: ReactiveControllerHost) {
    this.#host = host;
    host.addController(this);
  }

  get state(): DownloadState {
    return this.#state;
  }

  /** Saves `url` as `name`; a second call replaces the first. */
  async save(url: string, name: string, signal: AbortSignal): Promise<void> {
    this.reset();
    const request = new AbortController();
    this.#request = request;
    this.#set("preparing");
    try {
      // `download=1`: the worker then serves it as an attachment under its file name, so the
      // bytes are treated as a download by anything between (and by a browser that opens it).
      const target = new URL(url);
      target.searchParams.set("download", "1");
      const response = await fetch(target, {
        signal: AbortSignal.any([signal, request.signal]),
        credentials: "omit",
      });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      saveBlob(await response.blob(), name);
      if (this.#request === request) this.#set("idle");
    } catch {
      if (this.#request === request && !request.signal.aborted) this.#set("failed");
    }
  }

  /** Forgets any download in progress (another view, Start over). */
  reset(): void {
    this.#request?.abort();
    this.#request = null;
    this.#set("idle");
  }

  hostDisconnected(): void {
    this.reset();
  }

  #set(state: DownloadState): void {
    if (state === this.#state) return;
    this.#state = state;
    this.#host.requestUpdate();
  }
}

function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const link = Object.assign(document.createElement("a"), { href: url, download: name });
  link.style.display = "none";
  document.body.append(link);
  link.click();
  link.remove();
  // Revoking at once can cancel the download in some browsers; a minute is plenty to start it.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}
