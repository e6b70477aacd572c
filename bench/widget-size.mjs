#!/usr/bin/env node
/**
 * Widget size budget, measured against baselines built in the same run:
 *   1. bytes on the wire for <still-motion> (minified, gzip and brotli, Lit included) next to Lit
 *      alone, FilePond, and Uppy (core + dashboard), all bundled here with the same esbuild settings;
 *   2. bytes uploaded for a 12-megapixel phone-like JPEG after the widget fits it to the output
 *      size, next to uploading the original — measured in Chromium (scripts/chromium.mjs).
 *
 *   npm run bench:size      # results: docs/benchmarks.md
 */
import { build } from "esbuild";
import { chromium } from "playwright";
import { findChromium } from "../scripts/chromium.mjs";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Bundles a baseline entry with the same esbuild settings as scripts/build-widget.mjs. */
async function bundle(contents, resolveDir = root) {
  const result = await build({
    stdin: { contents, resolveDir, loader: "ts" },
    bundle: true,
    format: "esm",
    target: "es2022",
    minify: true,
    conditions: ["production"],
    define: { "process.env.NODE_ENV": '"production"' },
    legalComments: "none",
    loader: { ".css": "empty" },
    write: false,
    logLevel: "silent",
  });
  return result.outputFiles[0].contents;
}

const sizes = (bytes) => ({
  min: bytes.byteLength,
  gzip: gzipSync(bytes, { level: 9 }).byteLength,
  brotli: brotliCompressSync(bytes, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } })
    .byteLength,
});

// Ours: exactly what `npm run build` ships. First render = the entry and its static imports;
// the rest (photo editing, Chinese strings) loads on demand.
execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "ignore" });
const manifest = JSON.parse(readFileSync(`${root}dist/public/widget-manifest.json`, "utf8"));
// Each file is compressed on its own, as it travels: the sum is what the browser downloads.
const filesSize = (files) =>
  files
    .map((f) => sizes(readFileSync(`${root}dist/public/${f}`)))
    .reduce((a, b) => ({ min: a.min + b.min, gzip: a.gzip + b.gzip, brotli: a.brotli + b.brotli }));
const all = [...manifest.initial, ...manifest.lazy];
const ours = [
  {
    name: `<still-motion>, first render (${manifest.initial.length} files, Lit included)`,
    ...filesSize(manifest.initial),
  },
  {
    name: `<still-motion>, everything (${all.length} files, after a photo and zh-CN)`,
    ...filesSize(all),
  },
];

const baselines = {
  "Lit alone": `export { LitElement, html, css, svg, nothing } from "lit";`,
  "FilePond core (no plugins, no CSS)": `import * as FilePond from "filepond"; window.FilePond = FilePond;`,
  "Uppy core + Dashboard (no CSS)": `import Uppy from "@uppy/core"; import Dashboard from "@uppy/dashboard"; window.u = new Uppy().use(Dashboard, { inline: true, target: document.body });`,
};
const rows = [...ours];
for (const [name, entry] of Object.entries(baselines))
  rows.push({ name, ...sizes(await bundle(entry)) });
const first = ours[0];
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log("\nBundle size (minified, then compressed):");
console.log(
  "| bundle | minified | gzip | brotli | gzip vs our first render |\n| --- | ---: | ---: | ---: | ---: |",
);
for (const r of rows) {
  console.log(
    `| ${r.name} | ${kb(r.min)} | ${kb(r.gzip)} | ${kb(r.brotli)} | ${(r.gzip / first.gzip).toFixed(2)}× |`,
  );
}

// Upload bytes: generate a 12 MP JPEG in the browser, fit it as the widget does, compare.
const script = await bundle(`
  import { decodeImage, fitImage } from "./widget/fit.ts";
  import { makePhotoJpeg } from "./test/widget/helpers/images.ts";
  window.measure = async () => {
    const original = await makePhotoJpeg(4000, 3000);
    const image = await decodeImage(new Blob([original], { type: "image/jpeg" }));
    const out = {};
    for (const [w, h] of [[1280, 720], [720, 1280]]) {
      const fitted = await fitImage(image, { width: w, height: h, mode: "cover" });
      out[w + "x" + h] = { bytes: fitted.blob.size, width: fitted.width, height: fitted.height };
    }
    return { original: original.byteLength, out };
  };
`);
const found = await findChromium();
console.log(`\nChromium from ${found.source}: ${found.executablePath}`);
const browser = await chromium.launch(found.launchOptions);
try {
  const page = await browser.newPage();
  await page.setContent("<!doctype html><title>bench</title>");
  await page.addScriptTag({ content: new TextDecoder().decode(script), type: "module" });
  await page.waitForFunction(() => typeof window.measure === "function");
  const result = await page.evaluate(() => window.measure());
  console.log("\nUpload for a 12 MP (4000x3000) JPEG:");
  console.log("| upload | bytes | vs original |\n| --- | ---: | ---: |");
  console.log(`| original file (baseline) | ${result.original.toLocaleString("en")} | 1.00× |`);
  for (const [size, r] of Object.entries(result.out)) {
    console.log(
      `| fitted to ${size} (JPEG) | ${r.bytes.toLocaleString("en")} | ${(r.bytes / result.original).toFixed(3)}× |`,
    );
  }
} finally {
  await browser.close();
}
