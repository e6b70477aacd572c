/**
 * What the flows — the element's effects: loading, decoding, fitting, sending, polling — need
 * from `<still-motion>`. The element implements it over its private fields, so each flow is a
 * plain function that sees the current state and can move it, and nothing else.
 */
import { StillMotionClient } from "../api/client";
import { defaultStorage, type Store } from "../api/session";
import type { fitImage } from "../fit";
import type { Strings } from "../i18n";
import { JobMemory } from "../resume";
import type { Draft, FlowEvent, FlowState, Photo } from "../state/types";

/** The client and job memory of the current endpoint, site key and storage. */
export interface Services {
  client: StillMotionClient;
  memory: JobMemory;
}

/** The element, as the flows see it. Everything is read at call time, never cached. */
export interface FlowHost {
  /** The current state; read it again after every await, the visitor may have moved on. */
  flow(): FlowState;
  /** Aborted on disconnect, on Start over and when the worker changes: every fetch listens. */
  epoch(): AbortSignal;
  services(): Services;
  strings(): Strings;
  lang(): string;
  /** Feeds the state machine; the element then starts what the new state needs. */
  send(event: FlowEvent): void;
  /** Dispatches a public event; call it after `send`, so listeners see the new state. */
  emit(event: Event): void;
  /** Reads `text` out through the polite live region. */
  say(text: string): void;
  /** The photo fitted to the draft's size and framing; one promise while none of them changes. */
  fit(photo: Photo, draft: Draft): ReturnType<typeof fitImage>;
}

/** {@link Services} with what they were made for, so a change of any of it makes new ones. */
export interface Connection extends Services {
  key: string;
  store: Store | null | undefined;
}

/**
 * `previous` while endpoint, site key, storage and bot check are unchanged, else a new client
 * and memory. `turnstile` is the token provider of a site that requires Turnstile.
 */
export function connect(
  previous: Connection | null,
  endpoint: string,
  siteKey: string,
  store: Store | null | undefined,
  turnstile?: { siteKey: string; token: (signal: AbortSignal) => Promise<string> },
): Connection {
  const key = `${endpoint}#${siteKey}#${turnstile?.siteKey ?? ""}`;
  if (previous?.key === key && previous.store === store) return previous;
  const storage = store === undefined ? defaultStorage() : store;
  const turnstileToken = turnstile?.token;
  const client = new StillMotionClient({ endpoint, siteKey, storage, turnstileToken });
  const memory = new JobMemory(storage, JobMemory.keyFor(endpoint, siteKey));
  return { key, store, client, memory };
}
