import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { playwright } from "@vitest/browser-playwright";
import { defineConfig } from "vitest/config";
import { findChromium } from "./scripts/chromium.mjs";

/** CHROMIUM_PATH, a system browser, Playwright's, or the npm-packaged one: never a download. */
const chromium = await findChromium();
if (!process.env.VITEST_WORKER_ID) {
  console.log(`Browser tests use Chromium from ${chromium.source}: ${chromium.executablePath}`);
}

/**
 * Worker tests run inside workerd (the Workers runtime) with real local KV. Nothing may reach
 * the network: any outbound request that a test did not route to a contract fake lands in
 * `outboundService`, which fails it loudly.
 */
export default defineConfig({
  test: {
    projects: [
      {
        plugins: [
          cloudflareTest({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: { ENVIRONMENT: "test" },
              // Second line of defence behind test/helpers/no-network.ts.
              outboundService: (request: Request) =>
                new Response(`Unmatched outbound request in a test: ${request.url}`, {
                  status: 599,
                }),
            },
          }),
        ],
        test: {
          name: "worker",
          include: ["test/worker/**/*.test.ts"],
          setupFiles: ["test/helpers/no-network.ts", "test/helpers/reset-storage.ts"],
        },
      },
      {
        // The widget, in real Chromium (Vitest browser mode).
        test: {
          name: "widget",
          include: ["test/widget/**/*.test.ts"],
          browser: {
            enabled: true,
            headless: true,
            provider: playwright({
              launchOptions: chromium.launchOptions,
            }),
            instances: [{ browser: "chromium" }],
          },
        },
      },
      {
        // End-to-end: the real dev server over HTTP, driven from Node.
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 90_000,
        },
      },
    ],
  },
});
