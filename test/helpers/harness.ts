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
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { createApp } from "../../worker/app";
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

  return {
    app,
    env: testEnv,
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
