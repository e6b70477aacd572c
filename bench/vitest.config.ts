import { defineConfig } from "vitest/config";

/**
 * Benchmarks run in plain Node (`npm run bench`); upload-parse-workerd.bench.ts starts workerd
 * (Miniflare) from there. Results are recorded in docs/benchmarks.md.
 */
export default defineConfig({
  test: {
    name: "bench",
    environment: "node",
    benchmark: { include: ["bench/**/*.bench.ts"] },
  },
});
