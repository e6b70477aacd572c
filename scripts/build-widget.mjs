#!/usr/bin/env node
/**
 * Builds what the worker serves as static assets into dist/public/:
 *   widget.js            the <still-motion> bundle (ES module, minified, Lit included)
 *   widget.<hash>.js     the same bytes under a content-hashed name, cacheable forever
 *   index.html           the demo landing page, pointing at the hashed bundle
 *   widget-manifest.json which hashed file is current (read by the worker and the size bench)
 * Run by `npm start`/`npm test` and by wrangler's [build] step before dev and deploy.
 */
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}dist/public/`;

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await build({
  entryPoints: [`${root}widget/index.ts`],
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  // Lit's production build: no dev-mode warnings, smaller.
  conditions: ["production"],
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "none",
  write: false,
  logLevel: "warning",
});
const bundle = result.outputFiles[0].contents;
const hash = createHash("sha256").update(bundle).digest("hex").slice(0, 12);
const hashed = `widget.${hash}.js`;

await writeFile(`${out}widget.js`, bundle);
await writeFile(`${out}${hashed}`, bundle);
await writeFile(
  `${out}widget-manifest.json`,
  JSON.stringify({ widget: `/${hashed}`, bytes: bundle.byteLength }) + "\n",
);

const page = await readFile(`${root}widget/demo/index.html`, "utf8");
await writeFile(`${out}index.html`, page.replaceAll("/widget.js", `/${hashed}`));

console.log(`built dist/public/${hashed} (${(bundle.byteLength / 1024).toFixed(1)} KiB minified)`);
