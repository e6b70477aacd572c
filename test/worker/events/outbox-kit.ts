/**
 * What the event tests share: a configuration with EVENT_ENDPOINTS and its whsec_ secrets, a
 * fake receiver routed in through the background deps (worker/background/deps.ts), a Video, and
 * direct access to an endpoint's outbox: its rows, and its alarm fired when the test says.
 */
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { vi } from "vitest";
import type { Video } from "../../../worker/api/video";
import { installBackgroundDeps } from "../../../worker/background/deps";
import { outboxFor } from "../../../worker/events/announce";
import {
  SERVER_KEY,
  OTHER_SERVER_KEY,
  SESSION_SECRET,
  SIM_ROUTE,
  SITES,
} from "../../helpers/harness";

/** Distinctive signing secrets (24+ random-looking bytes), easy to find in any text. */
export const HOOK_SECRET = `whsec_${btoa("events-HOOK-secret-Qw3Er5Ty7Ui9Op1As")}`;
export const OTHER_HOOK_SECRET = `whsec_${btoa("events-OTHER-secret-Zx2Cv4Bn6Mm8Kk0Ll")}`;

export const HOOK_URL = "https://hooks.shop.example/stillmotion";

/** A test deployment's env with these endpoints (and HOOK_SECRET, OTHER_HOOK_SECRET set). */
export function eventsEnv(endpoints: unknown[], vars: Record<string, string> = {}): Env {
  return {
    ...env,
    ENVIRONMENT: "test",
    MODEL_ROUTES: JSON.stringify([SIM_ROUTE]),
    SITES: JSON.stringify(SITES),
    SESSION_SECRET,
    SERVER_KEYS: JSON.stringify({ backend: SERVER_KEY, partner: OTHER_SERVER_KEY }),
    HOOK_SECRET,
    OTHER_HOOK_SECRET,
    EVENT_ENDPOINTS: JSON.stringify(endpoints),
    ...vars,
  } as Env;
}

export const endpoint = (patch: object = {}) => ({
  url: HOOK_URL,
  secret: "HOOK_SECRET",
  events: ["video.completed", "video.failed"],
  ...patch,
});

export interface Received {
  url: string;
  method: string;
  redirect: string;
  headers: Record<string, string>;
  body: string;
}

export type Answer = (request: Request) => Response | Promise<Response>;

/**
 * A receiver answering with `answers` in turn (the last one repeats), recording every request.
 * It is the only thing background work can reach: anything else fails the test.
 */
export function receiver(...answers: Answer[]) {
  const received: Received[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const body = await request.text();
    received.push({
      url: request.url,
      method: request.method,
      redirect: request.redirect,
      headers: Object.fromEntries(request.headers),
      body,
    });
    const answer = answers[Math.min(received.length, answers.length) - 1];
    if (!answer) throw new Error("the receiver has no answer scripted");
    return answer(request);
  };
  return { received, fetch };
}

export const status =
  (code: number, headers: Record<string, string> = {}): Answer =>
  () =>
    new Response(code === 204 ? null : `answer ${code}`, { status: code, headers });

/** Routes the outbox's fetch to `fetch`, with the test's configuration; alarms held. */
export function install(fetch: typeof globalThis.fetch, testEnv: Env): void {
  installBackgroundDeps({ fetch, now: () => Date.now(), env: testEnv, alarms: "held" });
}

export function video(patch: Partial<Video> = {}): Video {
  const now = Math.floor(Date.now() / 1000);
  return {
    id: "video_0f3k9q2m7c1x8v5b4n6p0r2t3w",
    object: "video",
    model: "sim",
    status: "completed",
    progress: 100,
    created_at: now - 60,
    completed_at: now,
    expires_at: now + 3600,
    prompt: "A lighthouse at dusk, waves rolling in",
    size: "1280x720",
    seconds: "4",
    remixed_from_video_id: null,
    source: null,
    error: null,
    content_urls: null,
    content_variants: null,
    ...patch,
  };
}

export type Row = {
  event_id: string;
  url: string;
  type: string;
  video_id: string;
  payload: string;
  state: "pending" | "delivered" | "abandoned";
  attempts: number;
  next_at: number | null;
  last_attempt_at: number | null;
  last_error: string | null;
};

const outbox = (url: string) => outboxFor(env, url);

/** Every stored delivery of the endpoint's outbox. */
export function rows(url = HOOK_URL): Promise<Row[]> {
  return runInDurableObject(outbox(url), (_, state) =>
    state.storage.sql.exec<Row>("SELECT * FROM deliveries ORDER BY event_id").toArray(),
  );
}

/** Fires the outbox's alarm now; false when none was set. */
export const fire = (url = HOOK_URL) => runDurableObjectAlarm(outbox(url));

/** Whether the outbox has an alarm set. */
export const alarmSet = (url = HOOK_URL) =>
  runInDurableObject(outbox(url), async (_, state) => (await state.storage.getAlarm()) !== null);

/** Makes every pending row due now, as if its wait had passed (no real time slept). */
export function makeDue(url = HOOK_URL): Promise<void> {
  return runInDurableObject(outbox(url), (_, state) => {
    state.storage.sql.exec(
      "UPDATE deliveries SET next_at = ? WHERE state = 'pending'",
      Date.now() - 1,
    );
  });
}

/** Every console line from now until `restore()` (swallowed, not printed). */
export function captureLogs() {
  const lines: string[] = [];
  const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      lines.push(args.map(String).join(" "));
    }),
  );
  return {
    lines,
    events: () =>
      lines.flatMap((line) => {
        try {
          return [JSON.parse(line) as Record<string, unknown>];
        } catch {
          return [];
        }
      }),
    restore: () => spies.forEach((spy) => spy.mockRestore()),
  };
}
