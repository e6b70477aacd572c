/**
 * The upstream of bench/stream-workerd.bench.ts, in its own process: an OpenAI-Videos-shaped
 * host on loopback whose every job is finished and whose `/content` streams a video of the
 * size the job asked for — `seconds` "4" is 40 MB, "8" is 200 MB — generated as it is sent, so
 * this process holds one 64 KiB chunk, never the file. A job created with the prompt
 * "pass-through" answers its first download (the worker's R2 copy, which starts as soon as the
 * job is seen finished) with a trickle that never ends: the worker then has no copy, and every
 * later download of it is streamed from here through the worker.
 *
 *   node bench/stream-upstream.mjs      # prints {"port": N} on its first line
 */
import { createServer } from "node:http";

const SIZES = { 4: 40 * 1024 * 1024, 8: 200 * 1024 * 1024 };
const CHUNK = new Uint8Array(64 * 1024).map((_, i) => (i * 7 + 3) % 251);
/** The first chunk opens with an MP4 `ftyp` box, so the bytes are typed as the video they claim. */
const FIRST = CHUNK.slice();
FIRST.set([0, 0, 0, 16, ...new TextEncoder().encode("ftypisom"), 0, 0, 2, 0]);
const jobs = new Map();
/** Status calls per job, and when each job was created (it runs `RUNNING_MS`, then completes). */
const statusCalls = new Map();
const createdAt = new Map();
const RUNNING_MS = Number(process.env.UPSTREAM_RUNNING_MS ?? 0);
/** Jobs whose next download trickles forever (see above). */
const trickle = new Set();
let next = 1;

const video = (id) => {
  const running = Date.now() - (createdAt.get(id) ?? 0) < RUNNING_MS;
  return {
    id,
    object: "video",
    model: "sora-2",
    status: running ? "in_progress" : "completed",
    progress: running ? 50 : 100,
    created_at: 1_800_000_000,
    completed_at: 1_800_000_010,
    expires_at: null,
    prompt: "bench",
    size: "1280x720",
    seconds: String(jobs.get(id)),
    remixed_from_video_id: null,
    error: null,
  };
};

const server = createServer(async (req, res) => {
  const url = new URL(req.url, "http://upstream");
  if (url.pathname === "/stats") {
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(Object.fromEntries(statusCalls)));
  }
  if (req.method === "POST" && url.pathname === "/v1/videos") {
    let body = "";
    for await (const chunk of req) body += chunk;
    // The worker sends OpenAI's multipart form (worker/providers/openai/request.ts).
    const field = (name) => new RegExp(`name="${name}"\r\n\r\n([^\r]*)`).exec(body)?.[1];
    const id = `video_bench${next++}`;
    jobs.set(id, Number(field("seconds") ?? 4));
    createdAt.set(id, Date.now());
    if (field("prompt") === "pass-through") trickle.add(id);
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify({ ...video(id), status: "queued", progress: 0 }));
  }
  const m = /^\/v1\/videos\/([^/]+)(\/content)?$/.exec(url.pathname);
  if (!m || !jobs.has(m[1])) {
    res.writeHead(404, { "content-type": "application/json" });
    return res.end(
      JSON.stringify({ error: { message: "not found", type: "invalid_request_error" } }),
    );
  }
  if (!m[2]) {
    statusCalls.set(m[1], (statusCalls.get(m[1]) ?? 0) + 1);
    res.writeHead(200, { "content-type": "application/json" });
    return res.end(JSON.stringify(video(m[1])));
  }
  const size = SIZES[jobs.get(m[1])] ?? SIZES[4];
  res.writeHead(200, { "content-type": "video/mp4", "content-length": String(size) });
  if (trickle.delete(m[1])) {
    res.write(FIRST);
    const timer = setInterval(() => res.write(CHUNK.subarray(0, 1)), 5000);
    res.on("close", () => clearInterval(timer));
    return;
  }
  let sent = 0;
  const write = () => {
    while (sent < size) {
      const chunk = sent === 0 ? FIRST : CHUNK;
      const piece = sent + chunk.length <= size ? chunk : chunk.subarray(0, size - sent);
      sent += piece.length;
      if (!res.write(piece)) return void res.once("drain", write);
    }
    res.end();
  };
  write();
});

server.listen(0, "127.0.0.1", () => {
  console.log(JSON.stringify({ port: server.address().port }));
});
