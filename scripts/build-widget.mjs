#!/usr/bin/env node
/**
 * Builds what the worker serves as static assets into dist/public/:
 *   widget.js            the <still-motion> bundle (ES module, minified, Lit included)
 *   widget.<hash>.js     the same bytes under a content-hashed name, cacheable forever
 *   index.html           the demo landing page, pointing at the hashed bundle
 *   chunks/*.js          code loaded later (photo editing, locales other than English)
 *   widget-manifest.json the current hashed file, and which files the first render needs
 *                        (`initial`) and which load later (`lazy`) — read by the size bench
 * Run by `npm start`/`npm test` and by wrangler's [build] step before dev and deploy.
 */
import { build } from "esbuild";
import { createHash } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { minifyTemplates } from "./minify-templates.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = `${root}dist/public/`;

await rm(out, { recursive: true, force: true });
await mkdir(out, { recursive: true });

const result = await build({
  entryPoints: { widget: `${root}widget/index.ts` },
  bundle: true,
  format: "esm",
  target: "es2022",
  minify: true,
  // Locales other than English load on first use, from content-hashed chunks beside the bundle.
  splitting: true,
  outdir: out,
  chunkNames: "chunks/[name]-[hash]",
  plugins: [minifyTemplates],
  // Lit's production build: no dev-mode warnings, smaller.
  conditions: ["production"],
  define: { "process.env.NODE_ENV": '"production"' },
  legalComments: "none",
  write: false,
  metafile: true,
  logLevel: "warning",
});
const entry = result.outputFiles.find((file) => file.path === `${out}widget.js`);
for (const file of result.outputFiles) {
  if (file !== entry) {
    await mkdir(file.path.slice(0, file.path.lastIndexOf("/")), { recursive: true });
    await writeFile(file.path, file.contents);
  }
}
const bundle = entry.contents;
const hash = createHash("sha256").update(bundle).digest("hex").slice(0, 12);
const hashed = `widget.${hash}.js`;

await writeFile(`${out}widget.js`, bundle);
await writeFile(`${out}${hashed}`, bundle);
await writeFile(
  `${out}widget-manifest.json`,
  JSON.stringify({ widget: `/${hashed}`, ...splitOf(result.metafile) }, null, 2) + "\n",
);

const page = await readFile(`${root}widget/demo/index.html`, "utf8");
await writeFile(`${out}index.html`, page.replaceAll("/widget.js", `/${hashed}`));

console.log(`built dist/public/${hashed} (${(bundle.byteLength / 1024).toFixed(1)} KiB minified)`);

/** Which files the first render needs (static imports of the entry) and which load later. */
function splitOf(metafile) {
  const rel = (path) => path.slice(path.indexOf("dist/public/") + "dist/public/".length);
  const outputs = Object.fromEntries(Object.entries(metafile.outputs).map(([p, o]) => [rel(p), o]));
  const initial = new Set(["widget.js"]);
  for (const file of initial) {
    for (const dep of outputs[file].imports) {
      if (dep.kind === "import-statement" && !dep.external) initial.add(rel(dep.path));
    }
  }
  const lazy = Object.keys(outputs).filter((file) => !initial.has(file));
  return { initial: [...initial], lazy };
}
