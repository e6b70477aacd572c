/**
 * Types shared by the app, its middleware and its routes: what a request carries.
 */
import type { Config } from "./config";
import type { WorkerEnv } from "./env";
import type { JobRefresher } from "./store/refresh";

/** Injected I/O: the only way the worker reaches the network or the clock. */
export interface Deps {
  fetch: typeof fetch;
  /** Milliseconds since the epoch. */
  now: () => number;
  /** Per-isolate coordinator that keeps polls from multiplying provider calls. */
  refresher: JobRefresher;
}

/** Who is calling. `owner` is the string stored on every job they create. */
export type Principal =
  | { kind: "server"; name: string; owner: string }
  | { kind: "visitor"; siteId: string; visitorId: string; owner: string; jti: string };

export type AppEnv = {
  Bindings: WorkerEnv;
  Variables: {
    config: Config;
    deps: Deps;
    principal: Principal;
    requestId: string;
  };
};
