import { defineConfig } from "vitest/config";

/** Benchmarks run in plain Node (`npm run bench`); results are recorded in docs/benchmarks.md. */
export default defineConfig({
  test: {
    name: "bench",
    environment: "node",
    benchmark: { include: ["bench/**/*.bench.ts"] },
  },
});
