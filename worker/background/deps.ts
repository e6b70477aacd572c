/**
 * The injected I/O of work that no request carries: Durable Object alarms (the job watcher,
 * the event outbox). The runtime constructs those objects, so they cannot be handed `deps` the
 * way `createApp` is; they read them here instead. Production uses the platform's `fetch` and
 * clock; the test harness installs its contract fakes and fake clock, so an alarm reaches only
 * what a test routed and judges time by the test's clock.
 *
 * Only logic reads `now` from here. Alarms are always set as the platform's own `Date.now()`
 * plus a relative delay: the runtime judges an alarm time by the real clock (see
 * docs/decisions/0012-one-clock.md).
 */
export interface BackgroundDeps {
  fetch: typeof fetch;
  /** Milliseconds since the epoch, for logic (timeouts, record timestamps). */
  now: () => number;
  /**
   * The bindings and vars to work with instead of the object's own. A test harness runs the
   * worker with its own configuration (routes, secrets) that the runtime's env does not have.
   */
  env?: Env;
  /**
   * `held`: alarms are still computed and recorded, but set a day out, so a test fires them
   * when it chooses (`runDurableObjectAlarm`) instead of at a real moment mid-test.
   */
  alarms?: "platform" | "held";
}

const platform: BackgroundDeps = {
  fetch: (input, init) => fetch(input, init),
  now: () => Date.now(),
};

let installed: BackgroundDeps | null = null;

export function backgroundDeps(): BackgroundDeps {
  return installed ?? platform;
}

/** For the test harness: route background work to fakes (null restores the platform). */
export function installBackgroundDeps(deps: BackgroundDeps | null): void {
  installed = deps;
}
