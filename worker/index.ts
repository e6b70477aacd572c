/**
 * The Worker entry: one app per isolate. `fetch` is looked up at call time so that whatever the
 * runtime (or a test) installs as the global is what adapters use.
 */
import { createApp } from "./app";
import { JobRefresher } from "./store/refresh";

const app = createApp({
  fetch: (input, init) => fetch(input, init),
  now: () => Date.now(),
  refresher: new JobRefresher(),
});

export default app satisfies ExportedHandler<Env>;

/** The spend ledger Durable Object (binding LEDGER, one instance named "global"). */
export { SpendLedger } from "./ledger/ledger";
/** One watcher per job (binding JOB_WATCH): finishes, copies and announces jobs nobody polls. */
export { JobWatcher } from "./background/watcher";
/** The outbox of signed events to the site owner (binding EVENTS, one instance per endpoint URL). */
export { EventOutbox } from "./events/outbox";
