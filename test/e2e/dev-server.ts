/**
 * Starts the real dev server — the same `wrangler dev` that `npm start` runs — on a free port,
 * with a fast simulator route, and stops it afterwards. State goes to a throwaway directory.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface DevServer {
  url: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address
          ? resolve(address.port)
          : reject(new Error("no port")),
      );
    });
  });
}

/** `vars` may depend on the server's own URL (e.g. a site whose origin is this server). */
export async function startDevServer(
  vars: Record<string, string> | ((url: string) => Record<string, string>) = {},
): Promise<DevServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const state = mkdtempSync(join(tmpdir(), "stillmotion-e2e-"));
  const args = [
    "dev",
    "--var",
    "ENVIRONMENT:development",
    "--port",
    String(port),
    "--ip",
    "127.0.0.1",
  ];
  const resolved = typeof vars === "function" ? vars(url) : vars;
  for (const [name, value] of Object.entries(resolved)) args.push("--var", `${name}:${value}`);
  args.push("--persist-to", state, "--inspector-port", "0", "--show-interactive-dev-session=false");
  const child: ChildProcess = spawn("wrangler", args, {
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));

  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`wrangler dev exited early:\n${output}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (Date.now() >= deadline) {
    child.kill("SIGKILL");
    throw new Error(`wrangler dev did not become ready:\n${output}`);
  }

  return {
    url,
    async stop() {
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
      if (child.exitCode === null) child.kill("SIGKILL");
      rmSync(state, { recursive: true, force: true });
    },
  };
}
