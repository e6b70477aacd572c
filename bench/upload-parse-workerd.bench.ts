/**
 * What reading an upload costs in workerd, the production runtime: the same 7 MB image sent as
 * multipart (`input_reference` file) and as JSON (`input_reference.image_url`, a base64 data:
 * URL), each POSTed to bench/upload-worker.mjs, which runs the worker's own code (bundled with
 * esbuild) in Miniflare. Multipart is the baseline of each group.
 *
 * Time is taken by the client (mean wall clock per request, loopback HTTP included), and the CPU
 * that workerd's process spent per request is read from Linux's /proc (all of its threads), so
 * neither depends on the clock inside workerd.
 *
 *   npm run bench -- bench/upload-parse-workerd.bench.ts     # results: docs/benchmarks.md
 */
import { build } from "esbuild";
import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import { afterAll, test, type Bench } from "vitest";
import { workerdCpuNs } from "./workerd-proc";

const SIZE = 7 * 1024 * 1024;
const SAMPLES = 40;

const image = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) image[i] = (i * 2654435761) >>> 24;

const form = new FormData();
form.set("prompt", "a slow dolly in");
form.set("input_reference", new Blob([image], { type: "image/png" }), "photo.png");
const multipartResponse = new Response(form);
const multipart = {
  type: multipartResponse.headers.get("content-type")!,
  body: new Uint8Array(await multipartResponse.arrayBuffer()),
};
const jsonText = JSON.stringify({
  prompt: "a slow dolly in",
  input_reference: { image_url: `data:image/png;base64,${Buffer.from(image).toString("base64")}` },
});
const json = { type: "application/json", body: new TextEncoder().encode(jsonText) };
/** As PHP's json_encode writes it by default: every `/` escaped, legal JSON. */
const jsonEscaped = {
  type: "application/json",
  body: new TextEncoder().encode(jsonText.replaceAll("/", "\\/")),
};

const mf = await startWorker();
afterAll(() => mf.dispose());

/** bench/upload-worker.mjs, bundled, at the compatibility date of wrangler.toml. */
async function startWorker(): Promise<Miniflare> {
  const bundle = await build({
    entryPoints: [new URL("upload-worker.mjs", import.meta.url).pathname],
    bundle: true,
    format: "esm",
    platform: "neutral",
    target: "es2024",
    conditions: ["workerd", "worker", "browser"],
    mainFields: ["module", "main"],
    // The simulator's media, bundled by wrangler's Data rule, is never read on these routes.
    loader: { ".mp4": "empty", ".jpg": "empty", ".webp": "empty" },
    write: false,
    logLevel: "silent",
  });
  const wrangler = readFileSync(new URL("../wrangler.toml", import.meta.url), "utf8");
  const compatibilityDate = /^compatibility_date\s*=\s*"([^"]+)"/m.exec(wrangler)![1]!;
  const contents = bundle.outputFiles[0]!.text;
  return new Miniflare({
    workers: [
      {
        config: {
          name: "upload-bench",
          compatibilityDate,
          manifest: {
            mainModule: "worker.js",
            modules: { "worker.js": { type: "esm", contents } },
          },
        },
      },
    ],
  });
}

interface Row {
  name: string;
  path: string;
  upload: { type: string; body: Uint8Array };
  /** Byte count the route must answer with. */
  expect: number;
}

/** Sends a row's upload and checks the answer, noting workerd's CPU for each request. */
function measured(rows: Row[]) {
  const cpuMs = new Map<string, number[]>(rows.map((row) => [row.name, []]));
  const send = async (row: Row) => {
    const before = workerdCpuNs();
    const response = await mf.dispatchFetch(`http://bench${row.path}`, {
      method: "POST",
      headers: { "content-type": row.upload.type },
      body: row.upload.body,
    });
    const answer = await response.text();
    const after = workerdCpuNs();
    if (answer !== String(row.expect)) throw new Error(`${row.name}: answered ${answer}`);
    if (before !== null && after !== null) cpuMs.get(row.name)!.push((after - before) / 1e6);
  };
  /** Only the timed iterations count, as in the wall-clock table. */
  const restart = (row: Row) => cpuMs.set(row.name, []);
  const report = () => {
    const base = summary(cpuMs.get(rows[0]!.name)!);
    const lines = rows.map(({ name }) => {
      const { mean, median, count } = summary(cpuMs.get(name)!);
      if (!count) return `  ${name}: no /proc here, CPU not measured`;
      const cells = [mean, median].map(
        (ms, i) =>
          `${ms.toFixed(1).padStart(6)} ms ${(ms / [base.mean, base.median][i]!).toFixed(2)}×`,
      );
      return `  ${name.padEnd(36)} ${cells.join("   ")}`;
    });
    console.log(
      `workerd CPU per request (mean, then median, of ${base.count}; × multipart):\n${lines.join("\n")}`,
    );
  };
  return { send, restart, report };
}

function summary(samples: number[]) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = sorted.reduce((sum, ms) => sum + ms, 0) / sorted.length;
  return { mean, median: sorted[sorted.length >> 1] ?? NaN, count: sorted.length };
}

async function compare(bench: Bench, rows: Row[]) {
  const { send, restart, report } = measured(rows);
  for (const row of rows) await send(row); // every answer is checked before anything is timed
  const tasks = rows.map((row) =>
    bench(
      row.name,
      {
        beforeAll: (mode) => {
          if (mode === "run") restart(row);
        },
      },
      () => send(row),
    ),
  );
  await bench.compare(...tasks, {
    iterations: SAMPLES,
    time: 0,
    warmupIterations: 3,
    warmupTime: 0,
  });
  report();
}

test("workerd, as deployed (limitBody, then readCreateInput): multipart vs JSON data: URL", async ({
  bench,
}) => {
  await compare(bench, [
    { name: "multipart (baseline)", path: "/deployed/read", upload: multipart, expect: SIZE },
    { name: "JSON data: URL", path: "/deployed/read", upload: json, expect: SIZE },
    {
      name: "JSON data: URL, every / escaped",
      path: "/deployed/read",
      upload: jsonEscaped,
      expect: SIZE,
    },
    {
      name: "JSON data: URL, previous reader",
      path: "/deployed/read-json-previous",
      upload: json,
      expect: SIZE,
    },
    {
      name: "receive only: the multipart body",
      path: "/deployed/receive",
      upload: multipart,
      expect: multipart.body.byteLength,
    },
    {
      name: "receive only: the JSON body",
      path: "/deployed/receive",
      upload: json,
      expect: json.body.byteLength,
    },
  ]);
}, 300_000);

test("workerd, the reader alone (readCreateInput, body not counted): multipart vs JSON", async ({
  bench,
}) => {
  await compare(bench, [
    { name: "multipart (baseline)", path: "/reader/read", upload: multipart, expect: SIZE },
    { name: "JSON data: URL", path: "/reader/read", upload: json, expect: SIZE },
    {
      name: "JSON data: URL, JSON.parse first",
      path: "/reader/read-json-parse",
      upload: json,
      expect: SIZE,
    },
    {
      name: "JSON data: URL, previous reader",
      path: "/reader/read-json-previous",
      upload: json,
      expect: SIZE,
    },
  ]);
}, 300_000);
