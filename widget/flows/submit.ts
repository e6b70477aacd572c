/**
 * Sending: a create (the fitted photo and the prompt) or a remix of a finished video. A send
 * that fails transiently is repeated once by itself, with the same Idempotency-Key, so the
 * worker cannot start the job twice.
 */
import { ApiProblem } from "../api/problem";
import type { Video } from "../api/types";
import { StillMotionCreatedEvent, StillMotionRemixEvent } from "../events";
import type { Submitting } from "../state/types";
import type { FlowHost } from "./host";
import { fail } from "./job";

/** A create/remix that failed transiently is retried once by itself if the wait is this short. */
const MAX_AUTO_RETRY_WAIT_S = 5;
const RETRY_DELAY_MS = 1000;

/**
 * Runs while the state is `submitting` this request; `request` is aborted when the visitor
 * leaves that state (cancel, Start over), and the answer of an abandoned send is dropped.
 */
export async function submit(host: FlowHost, s: Submitting, request: AbortSignal): Promise<void> {
  const signal = AbortSignal.any([host.epoch(), request]);
  const current = () => {
    const flow = host.flow();
    return !signal.aborted && flow.name === "submitting" && flow.request === s.request;
  };
  try {
    const video = await withRetry(host, await starter(host, s, signal), signal);
    if (!current()) return;
    host.services().memory.remember(video);
    host.send({ type: "created", video, at: Date.now() });
    const { request: sent } = s;
    host.emit(
      sent.kind === "remix"
        ? new StillMotionRemixEvent({ video, sourceId: sent.source.id })
        : new StillMotionCreatedEvent({ video }),
    );
  } catch (error) {
    if (current()) fail(host, error);
  }
}

/** The request to send, ready to be sent twice; the photo is fitted once, before either. */
async function starter(
  host: FlowHost,
  s: Submitting,
  signal: AbortSignal,
): Promise<() => Promise<Video>> {
  const { client } = host.services();
  const { request, setup } = s;
  const options = { signal, idempotencyKey: request.key };
  if (request.kind === "remix")
    return () => client.remix(request.source.id, request.prompt, options);
  const { model, size, seconds } = setup.draft;
  const audio = setup.routes.find((r) => r.id === model)?.audio ?? false;
  const { blob: image } = await host.fit(s.photo!, setup.draft);
  const input = {
    image,
    prompt: request.prompt,
    model,
    size,
    seconds,
    ...(audio ? { audio } : {}),
  };
  return () => client.create(input, options);
}

async function withRetry(
  host: FlowHost,
  send: () => Promise<Video>,
  signal: AbortSignal,
): Promise<Video> {
  try {
    return await send();
  } catch (error) {
    const wait =
      error instanceof ApiProblem && error.transient ? (error.retryAfter ?? 0) : Infinity;
    if (wait > MAX_AUTO_RETRY_WAIT_S) throw error;
    host.send({ type: "retrying" });
    await sleep(Math.max(RETRY_DELAY_MS, wait * 1000), signal);
    return send();
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    const stop = () => (clearTimeout(timer), reject(signal.reason));
    signal.addEventListener("abort", stop, { once: true });
  });
}

/**
 * A new Idempotency-Key, UUID-shaped. `crypto.randomUUID` exists only in secure contexts;
 * an embedding page may be plain http.
 */
export function newKey(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const hex = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) =>
    b.toString(16).padStart(2, "0"),
  ).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
