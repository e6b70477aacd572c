/**
 * What the workerd benchmarks that need a provider share: the OpenAI-shaped upstream in its own
 * process (bench/stream-upstream.mjs) and the worker's route to it.
 */
import { spawn } from "node:child_process";
import { createInterface } from "node:readline";

export interface Upstream {
  url: string;
  /** Status calls the upstream has answered, per upstream job id. */
  stats(): Promise<Record<string, number>>;
  stop(): void;
}

/** Starts the upstream; `runningMs` is how long each job reports `in_progress` first. */
export async function startUpstream(runningMs = 0): Promise<Upstream> {
  const child = spawn(
    process.execPath,
    [new URL("stream-upstream.mjs", import.meta.url).pathname],
    {
      stdio: ["ignore", "pipe", "inherit"],
      env: { ...process.env, UPSTREAM_RUNNING_MS: String(runningMs) },
    },
  );
  const port = await new Promise<number>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    lines.once("line", (line) => resolve((JSON.parse(line) as { port: number }).port));
    child.once("exit", () => reject(new Error("the upstream exited")));
  });
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    stats: async () => (await (await fetch(`${url}/stats`)).json()) as Record<string, number>,
    stop: () => child.kill(),
  };
}

/** A free route for the benchmarks: one size, 4 (or also 8) seconds, an optional image. */
export function benchRoute(id: string, label: string, provider: object, seconds = ["4"]) {
  return {
    id,
    label,
    provider,
    upstream_model: "bench-1",
    sizes: ["1280x720"],
    default_size: "1280x720",
    seconds,
    default_seconds: "4",
    input_image: "optional",
    remix: false,
    price_per_second_usd: 0,
    prompt_max_chars: 500,
  };
}

/** MODEL_ROUTES with one free route, `relay`, to the upstream (its key in RELAY_KEY). */
export function relayRoutes(upstream: string): string {
  const provider = { type: "openai", base_url: `${upstream}/v1`, api_key_secret: "RELAY_KEY" };
  return JSON.stringify([benchRoute("relay", "Relay (bench)", provider, ["4", "8"])]);
}

/** A response's JSON, or an error quoting the answer (a benchmark of errors measures nothing). */
export async function json<T>(response: Response): Promise<T> {
  const text = await response.text();
  if (!response.ok) throw new Error(`HTTP ${response.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** Not a secret: the fake upstream accepts any key; the project's FAKEKEY marker says so. */
export const RELAY_KEY = "test-FAKEKEY-bench-relay";

/** The project root, where wrangler.toml is: the harness resolves config paths from it. */
export const ROOT = new URL("..", import.meta.url).pathname;

/**
 * Stillmotion as `npm start` runs it (wrangler.toml, the development environment), with
 * `vars` on top: a worker entry for createTestHarness.
 */
export function stillmotionWorker(vars: Record<string, string>, secrets?: Record<string, string>) {
  return {
    configPath: "./wrangler.toml",
    vars: { ENVIRONMENT: "development", ...vars },
    ...(secrets ? { secrets } : {}),
  };
}
