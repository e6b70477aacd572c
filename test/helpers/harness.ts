/**
 * Builds the worker app for a test: the real app and real (isolated) KV, with a fake clock, a
 * test configuration and, when given, a contract fake as the outbound `fetch`. Requests go
 * through `app.fetch` exactly as in production.
 *
 * The fake clock starts at the real now (tests move it with `advance`), and nothing the worker
 * derives from it reaches KV, the ledger or a token check as an absolute time; see
 * test/worker/clock-skew.test.ts, which runs whole flows with the clock a year off.
 */
import { env } from "cloudflare:workers";
import {
  createExecutionContext,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from "cloudflare:test";
import { createApp } from "../../worker/app";
import { installBackgroundDeps } from "../../worker/background/deps";
import { JobRefresher } from "../../worker/store/refresh";
import { SIM_ROUTE } from "../fixtures/routes";
import { testClock, type TestClock } from "./clock";

export { SIM_ROUTE };
export { testClock, todayUtcAt, type TestClock } from "./clock";

export const ORIGIN = "https://api.stillmotion.test";
export const SESSION_SECRET = "test-session-secret-0123456789-abcdefghijklmnop";
export const SERVER_KEY = "sk_test_backend_0123456789abcdef";
export const OTHER_SERVER_KEY = "sk_test_partner_0123456789abcdef";

export const SITES = [
  { id: "shop", publishable_key: "pk_test_shop_0001", origins: ["https://shop.example"] },
  { id: "blog", publishable_key: "pk_test_blog_0002", origins: ["https://blog.example"] },
];

export interface HarnessOptions {
  routes?: unknown[];
  fetch?: typeof fetch;
  vars?: Record<string, string>;
  /** The worker's clock, shared with contract fakes that sign or stamp times; `testClock()`. */
  clock?: TestClock;
}

export function harness(options: HarnessOptions = {}) {
  const clock = options.clock ?? testClock();
  const logs: string[] = [];
  const app = createApp({
    fetch: options.fetch ?? ((input) => Promise.reject(new Error(`no fake for ${String(input)}`))),
    now: () => clock.ms,
    refresher: new JobRefresher(),
  });
  const testEnv = {
    ...env,
    ENVIRONMENT: "test",
    MODEL_ROUTES: JSON.stringify(options.routes ?? [SIM_ROUTE]),
    SITES: JSON.stringify(SITES),
    SESSION_SECRET,
    SERVER_KEYS: JSON.stringify({ backend: SERVER_KEY, partner: OTHER_SERVER_KEY }),
    ...options.vars,
  } as Env;

  // The job watchers (Durable Objects the runtime builds) work with this harness's upstream,
  // clock and configuration; their alarms wait for the test to fire them (`runAlarm`).
  installBackgroundDeps({
    fetch: options.fetch ?? ((input) => Promise.reject(new Error(`no fake for ${String(input)}`))),
    now: () => clock.ms,
    env: testEnv,
    alarms: "held",
  });

  async function call(path: string, init: RequestInit = {}): Promise<Response> {
    const ctx = createExecutionContext();
    const response = await app.fetch(new Request(`${ORIGIN}${path}`, init), testEnv, ctx);
    await waitOnExecutionContext(ctx);
    return response;
  }

  /** Same as `call` with a bearer token (a server key by default). */
  function as(token: string, path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    headers.set("authorization", `Bearer ${token}`);
    return call(path, { ...init, headers });
  }

  async function session(siteKey = SITES[0]!.publishable_key, origin = SITES[0]!.origins[0]!) {
    const response = await call("/v1/sessions", {
      method: "POST",
      headers: { "content-type": "application/json", origin },
      body: JSON.stringify({ site_key: siteKey }),
    });
    if (response.status !== 200) throw new Error(`session failed: ${await response.text()}`);
    return (await response.json()) as { token: string; expires_at: number; visitor_id: string };
  }

  /** `as` for a visitor token, from a page of its site (browsers send `Origin` cross-site). */
  function asVisitor(
    token: string,
    path: string,
    init: RequestInit = {},
    origin = SITES[0]!.origins[0]!,
  ): Promise<Response> {
    const headers = new Headers(init.headers);
    if (!headers.has("origin")) headers.set("origin", origin);
    return as(token, path, { ...init, headers });
  }

  const watcher = (videoId: string) => testEnv.JOB_WATCH.get(testEnv.JOB_WATCH.idFromName(videoId));

  /** Fires the job's watcher alarm now; false when none was set. */
  const runAlarm = (videoId: string) => runDurableObjectAlarm(watcher(videoId));

  /** The delay the watcher asked for its next alarm (ms), or null when none is set. */
  async function nextAlarmIn(videoId: string): Promise<number | null> {
    return runInDurableObject(watcher(videoId), async (_, state) =>
      (await state.storage.getAlarm()) === null
        ? null
        : ((await state.storage.get<number>("next_in_ms")) ?? null),
    );
  }

  return {
    app,
    env: testEnv,
    runAlarm,
    nextAlarmIn,
    clock,
    logs,
    call,
    as,
    asVisitor,
    server: (path: string, init?: RequestInit) => as(SERVER_KEY, path, init),
    session,
    advance: (ms: number) => {
      clock.ms += ms;
    },
  };
}

export type Harness = ReturnType<typeof harness>;
