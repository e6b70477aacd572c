import { Miniflare } from "miniflare";
import { readFileSync } from "node:fs";
import { execSync } from "node:child_process";
const contents = readFileSync("/tmp/probe/worker.js", "utf8");
const mf = new Miniflare({ workers: [{ config: { name: "p", compatibilityDate: "2026-11-01", manifest: { mainModule: "index.js", modules: { "index.js": { type: "esm", contents } } } } }] });
await mf.ready;
const pids = execSync(`pgrep -P ${process.pid}`).toString().trim().split("\n");
const cpu = () => pids.reduce((s, p) => { try { const f = readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1].split(" "); return s + Number(f[11]) + Number(f[12]); } catch { return s; } }, 0) * 10;
const SIZE = 7 * 1024 * 1024;
const image = new Uint8Array(SIZE);
for (let i = 0; i < SIZE; i++) image[i] = (i * 2654435761) >>> 24;
const form = new FormData(); form.set("prompt", "a slow dolly in"); form.set("input_reference", new Blob([image], { type: "image/png" }), "photo.png");
const mp = new Response(form); const mpType = mp.headers.get("content-type"); const mpBody = new Uint8Array(await mp.arrayBuffer());
const json = new TextEncoder().encode(JSON.stringify({ prompt: "a slow dolly in", input_reference: { image_url: `data:image/png;base64,${Buffer.from(image).toString("base64")}` } }));
const N = Number(process.argv[2] ?? 20); const loops = Number(process.argv[3] ?? 0);
const names = process.argv.slice(4);
for (const name of names) {
  const [body, type] = name === "multipart" || name === "drainMp" ? [mpBody, mpType] : [json, "application/json"];
  const path = name === "drainMp" ? "drain" : name;
  for (let i = 0; i < 3; i++) await (await mf.dispatchFetch(`http://x/${path}?loops=${loops}`, { method: "POST", body, headers: { "content-type": type } })).text();
  const c0 = cpu(); const t0 = performance.now();
  let out; let inner = 0;
  for (let i = 0; i < N; i++) { const r = await mf.dispatchFetch(`http://x/${path}?loops=${loops}`, { method: "POST", body, headers: { "content-type": type } }); inner += Number(r.headers.get("x-ms")); out = await r.text(); }
  const t = (performance.now() - t0) / N / (loops || 1); const c = (cpu() - c0) / N / (loops || 1);
  console.log(name.padEnd(14), t.toFixed(2), "ms wall", c.toFixed(2), "ms workerd cpu", (inner/N).toFixed(2), "ms in worker", out);
}
await mf.dispose();
