/**
 * Mounts a `<still-motion>` wired to a FakeStillMotionApi, with its own in-memory storage, and
 * removes both when the test finishes — so no test sees another's element, fetch or storage.
 */
import { expect, onTestFinished } from "vitest";
import "../../../widget/index";
import type { StillMotionElement } from "../../../widget/still-motion";
import type { StateName } from "../../../widget/state/types";
import { asFile, makePhotoJpeg } from "./images";
import { FakeStillMotionApi } from "./fake-api";

/** A Storage in a Map: survives "reloads" (new elements) within a test, never across tests. */
export class MemoryStorage implements Storage {
  readonly #items = new Map<string, string>();
  get length(): number {
    return this.#items.size;
  }
  clear(): void {
    this.#items.clear();
  }
  getItem(key: string): string | null {
    return this.#items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.#items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.#items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.#items.set(key, String(value));
  }
}

export interface MountOptions {
  api?: FakeStillMotionApi;
  storage?: MemoryStorage;
  /** Attributes set before the element is connected. */
  attrs?: Record<string, string>;
  /** Properties set before the element is connected. */
  props?: Partial<Pick<StillMotionElement, "strings" | "templates" | "presets">>;
  /** Resolve once the element reaches this state (default "choosing"; null: do not wait). */
  until?: StateName | null;
}

export interface Mounted {
  el: StillMotionElement;
  api: FakeStillMotionApi;
  storage: MemoryStorage;
  /** The element's shadow root. */
  root: ShadowRoot;
  /** Removes the element (a "reload" keeps api and storage for the next mount). */
  remove(): void;
}

/** Polls are fast in tests; the fake completes a job after `pollsToComplete` polls. */
const POLL_MS = 50;

export async function mount(options: MountOptions = {}): Promise<Mounted> {
  const api = options.api ?? new FakeStillMotionApi();
  const storage = options.storage ?? new MemoryStorage();
  const uninstall = api.install();
  const el = document.createElement("still-motion");
  el.storage = storage;
  el.pollInterval = POLL_MS;
  el.setAttribute("endpoint", api.endpoint);
  el.setAttribute("site-key", api.siteKey);
  for (const [name, value] of Object.entries(options.attrs ?? {})) el.setAttribute(name, value);
  Object.assign(el, options.props ?? {});
  document.body.append(el);
  onTestFinished(() => {
    el.remove();
    uninstall();
  });
  const until = options.until === undefined ? "choosing" : options.until;
  if (until) await reach(el, until);
  return { el, api, storage, root: el.shadowRoot!, remove: () => el.remove() };
}

/** Waits until the element is in `state` and has rendered it. */
export async function reach(el: StillMotionElement, state: StateName, timeout = 8000) {
  await expect.poll(() => el.state, { timeout, interval: 10 }).toBe(state);
  await el.updateComplete;
}

/** A real JPEG photo of the given size, as a File. */
export async function photo(width = 1600, height = 1000, name = "photo.jpg"): Promise<File> {
  return asFile(await makePhotoJpeg(width, height, { noise: 0 }), "image/jpeg", name);
}

/** Picks a file through the hidden file input, as the browser does after the picker closes. */
export function pickFile(m: Mounted, file: File, input = "#file"): void {
  const el = m.root.querySelector<HTMLInputElement>(input)!;
  const transfer = new DataTransfer();
  transfer.items.add(file);
  el.files = transfer.files;
  el.dispatchEvent(new Event("change", { bubbles: true }));
}

/** Picks a photo and waits for the editor. */
export async function choosePhoto(m: Mounted, file?: File): Promise<void> {
  pickFile(m, file ?? (await photo()));
  await reach(m.el, "editing");
}

/** Fills the free-text prompt. */
export async function writePrompt(m: Mounted, text: string): Promise<void> {
  const free = [...m.root.querySelectorAll<HTMLButtonElement>(".modes button")].at(-1)!;
  free.click();
  await m.el.updateComplete;
  const area = m.root.querySelector<HTMLTextAreaElement>("#prompt")!;
  area.value = text;
  area.dispatchEvent(new Event("input", { bubbles: true }));
  await m.el.updateComplete;
}

export function button(m: Mounted, part: string): HTMLButtonElement {
  const found = m.root.querySelector<HTMLButtonElement>(`[part~="${part}"]`);
  if (!found) throw new Error(`No [part~=${part}] in state ${m.el.state}`);
  return found;
}

/** Photo, prompt, submit: resolves once the job is being waited for (or later). */
export async function submitJob(
  m: Mounted,
  prompt = "The leaves move in the wind.",
): Promise<void> {
  await choosePhoto(m);
  await writePrompt(m, prompt);
  button(m, "submit").click();
}

/** The visible text of the element's shadow root, whitespace collapsed. */
export function text(m: Mounted): string {
  return (m.root.querySelector("[part~=base]")?.textContent ?? "").replace(/\s+/g, " ").trim();
}
