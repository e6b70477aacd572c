/**
 * The hostile input battery (issue 5): one attack per test, each sent the way a script would send
 * it. Every one must get a clear 4xx in OpenAI's envelope (with `x-request-id` and a message a
 * person can act on), spend nothing (no upstream call, no ledger reservation) and store nothing
 * (no new `v1:` key in the JOBS namespace).
 *
 * The default route is a PAID route to an OpenAI-compatible host (the contract fake), so any
 * input that slipped through would show up as an upstream call, a reservation and a stored job.
 * The simulator route (free, no outbound calls) is there for the content URL attacks, which need
 * a finished video.
 *
 * The Rate Limiting bindings are replaced by brakes that always allow: the brakes are tested in
 * test/worker/api/rate-limits.test.ts, and here they must not decide the outcome of an attack.
 */
import { env } from "cloudflare:workers";
import { sign } from "hono/jwt";
import { describe, expect, it, vi } from "vitest";
import { RELAY_PROVIDER } from "../../fixtures/routes";
import { FakeOpenAI } from "../../helpers/fakes/openai";
import { harness, SIM_ROUTE, SITES, todayUtcAt, type Harness } from "../../helpers/harness";
import { usageOn } from "../../helpers/ledger";
import { concat, pngChunk } from "../../helpers/bytes";
import { createForm, images, post } from "../../helpers/requests";

const RELAY_KEY = "sk-test-hostile-relay-key-0123456789abcdef";
const SHOP = SITES[0]!;
const BLOG = SITES[1]!;
const SHOP_ORIGIN = SHOP.origins[0]!;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A paid route ($0.10 a second) to an OpenAI-compatible host: the default model. */
const PAID_ROUTE = {
  ...SIM_ROUTE,
  id: "relay",
  label: "Relay (paid)",
  provider: RELAY_PROVIDER,
  upstream_model: "sora-2",
  price_per_second_usd: 0.1,
};

interface Envelope {
  error: { message: string; type: string; param: string | null; code: string | null };
}

interface Setup {
  h: Harness;
  fake: FakeOpenAI;
  /** Every outbound request the worker made, to any host. */
  outbound: string[];
}

const ALLOW = { limit: async () => ({ success: true }) };

function setup(
  vars: Record<string, string> = {},
  fetchOverride?: (request: Request) => Promise<Response>,
): Setup {
  const fake = new FakeOpenAI({ apiKey: RELAY_KEY });
  const outbound: string[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    const request = new Request(input, init);
    outbound.push(`${request.method} ${request.url}`);
    return fetchOverride ? fetchOverride(request) : fake.fetch(request);
  };
  // Noon UTC today: tests below move the clock by hours and compare the day's usage, which
  // must not depend on how close to midnight the suite happens to run.
  const clock = { ms: todayUtcAt(12) };
  const h = harness({
    clock,
    routes: [PAID_ROUTE, SIM_ROUTE],
    fetch,
    vars: { RELAY_KEY, ...vars },
  });
  Object.assign(h.env, {
    SESSIONS_PER_IP: ALLOW,
    CREATES_PER_IP: ALLOW,
    CREATES_PER_VISITOR: ALLOW,
    CREATES_PER_SERVER_KEY: ALLOW,
  });
  return { h, fake, outbound };
}

async function storedKeys(): Promise<string[]> {
  return (await env.JOBS.list({ prefix: "v1:" })).keys.map((k) => k.name).sort();
}

interface Snapshot {
  /** The clock when taken: usage is compared on that UTC day and on the current one. */
  at: number;
  outbound: number;
  usage: Record<string, { microUsd: number; count: number }>;
  keys: string[];
}

async function snapshot(s: Setup): Promise<Snapshot> {
  return {
    at: s.h.clock.ms,
    outbound: s.outbound.length,
    usage: await usageOn(s.h.clock.ms),
    keys: await storedKeys(),
  };
}

const NOTHING: Omit<Snapshot, "at"> = { outbound: 0, usage: {}, keys: [] };

const DAY_MS = 86_400_000;

/** No upstream call, no reservation in the ledger, no new (or removed) job key since `before`. */
async function expectNothingSpentOrStored(
  s: Setup,
  before: Snapshot = { ...NOTHING, at: s.h.clock.ms },
): Promise<void> {
  expect(s.outbound.slice(before.outbound), "upstream calls").toEqual([]);
  expect(await usageOn(before.at), "ledger usage").toEqual(before.usage);
  if (Math.floor(s.h.clock.ms / DAY_MS) !== Math.floor(before.at / DAY_MS)) {
    expect(await usageOn(s.h.clock.ms), "ledger usage, the next day").toEqual({});
  }
  expect(await storedKeys(), "JOBS keys").toEqual(before.keys);
  s.fake.assertClean();
}

/**
 * A clear refusal: the expected 4xx, OpenAI's envelope and nothing else, a request id, the
 * security headers, and a message written for a person (no stack, no zod internals, no
 * "undefined", not the 500 text). Checked softly, so one test reports every endpoint that fails.
 */
async function refused(
  label: string,
  response: Response,
  status: number | number[],
  expected: { param?: string | null; code?: string | RegExp; message?: RegExp } = {},
): Promise<Envelope["error"]> {
  const statuses = Array.isArray(status) ? status : [status];
  expect.soft(statuses, `${label}: status ${response.status}`).toContain(response.status);
  expect
    .soft(response.headers.get("content-type"), `${label}: content-type`)
    .toMatch(/^application\/json/);
  expect.soft(response.headers.get("x-request-id"), `${label}: x-request-id`).toMatch(UUID);
  expect.soft(response.headers.get("x-content-type-options"), `${label}: nosniff`).toBe("nosniff");
  const text = await response.text();
  let body: Envelope;
  try {
    body = JSON.parse(text) as Envelope;
  } catch {
    expect.fail(`${label}: the body is not JSON: ${text.slice(0, 200)}`);
  }
  const error = (body as Partial<Envelope> | null)?.error;
  if (!error || typeof error !== "object") {
    const what = `${label}: not an error envelope (${response.status}): ${text.slice(0, 160)}`;
    expect.soft(false, what).toBe(true);
    return { message: "", type: "", param: null, code: null };
  }
  expect.soft(Object.keys(body), `${label}: envelope`).toEqual(["error"]);
  expect
    .soft(Object.keys(error).sort(), `${label}: envelope fields`)
    .toEqual(["code", "message", "param", "type"]);
  expect.soft(typeof error.type, `${label}: type`).toBe("string");
  expectActionable(label, error.message);
  if (expected.param !== undefined)
    expect.soft(error.param, `${label}: param`).toBe(expected.param);
  if (typeof expected.code === "string") {
    expect.soft(error.code, `${label}: code`).toBe(expected.code);
  } else if (expected.code) {
    expect.soft(error.code, `${label}: code`).toMatch(expected.code);
  }
  if (expected.message) expect.soft(error.message, `${label}: message`).toMatch(expected.message);
  return error;
}

function expectActionable(label: string, message: unknown): void {
  expect.soft(typeof message, `${label}: message type`).toBe("string");
  const text = String(message);
  expect.soft(text.length, `${label}: message length`).toBeGreaterThanOrEqual(15);
  for (const bad of [
    "undefined",
    "[object ",
    "Error:",
    "    at ",
    "ZodError",
    "HTTPException",
    "Malformed JSON in request body",
    "Unsupported Media Type",
  ]) {
    expect
      .soft(text, `${label}: message must not contain ${JSON.stringify(bad)}`)
      .not.toContain(bad);
  }
}

const asVisitor = (token: string, origin = SHOP_ORIGIN) => ({
  authorization: `Bearer ${token}`,
  origin,
});

/** The multipart body `fetch` would send for `form`, as bytes plus its content type. */
async function serialize(form: FormData): Promise<{ bytes: Uint8Array; type: string }> {
  const request = new Request("https://serialize.invalid/", { method: "POST", body: form });
  return {
    bytes: new Uint8Array(await request.arrayBuffer()),
    type: request.headers.get("content-type")!,
  };
}

function base64url(value: string | Uint8Array): string {
  const binary = typeof value === "string" ? value : String.fromCharCode(...value);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const decodePayload = (token: string) =>
  JSON.parse(atob(token.split(".")[1]!.replace(/-/g, "+").replace(/_/g, "/"))) as Record<
    string,
    unknown
  >;

/** A PNG signature and IHDR claiming `width`x`height`, followed by `trailer` (a polyglot). */
function pngHeader(width: number, height: number, trailer: string): Uint8Array {
  const head = new Uint8Array(33);
  head.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(head.buffer);
  view.setUint32(8, 13);
  head.set([0x49, 0x48, 0x44, 0x52], 12); // IHDR
  view.setUint32(16, width);
  view.setUint32(20, height);
  head.set([8, 6, 0, 0, 0], 24); // 8-bit RGBA, deflate, no filter, no interlace; CRC left 0
  const tail = new TextEncoder().encode(trailer);
  const out = new Uint8Array(head.length + tail.length);
  out.set(head);
  out.set(tail, head.length);
  return out;
}

/** A well-formed baseline JPEG (SOF0, one scan, EOI) claiming `width`x`height`; nothing decodes. */
function jpegClaiming(width: number, height: number): Uint8Array {
  return new Uint8Array([
    0xff,
    0xd8, // SOI
    0xff,
    0xe0,
    0x00,
    0x10,
    0x4a,
    0x46,
    0x49,
    0x46,
    0x00,
    0x01,
    0x01,
    0x00,
    0x00,
    0x01,
    0x00,
    0x01,
    0x00,
    0x00, // APP0 JFIF
    0xff,
    0xc0,
    0x00,
    0x11,
    0x08,
    height >> 8,
    height & 0xff,
    width >> 8,
    width & 0xff,
    0x03,
    0x01,
    0x22,
    0x00,
    0x02,
    0x11,
    0x01,
    0x03,
    0x11,
    0x01, // SOF0, 3 components
    0xff,
    0xda,
    0x00,
    0x0c,
    0x03,
    0x01,
    0x00,
    0x02,
    0x11,
    0x03,
    0x11,
    0x00,
    0x3f,
    0x00, // SOS, 3 components
    0x00, // one byte of entropy-coded data
    0xff,
    0xd9, // EOI
  ]);
}

/** A structurally valid 1280x720 PNG (its IDAT need not decode: structure is what is judged). */
function pngOf(...middle: Uint8Array[]): Uint8Array {
  const ihdr = new Uint8Array(13);
  new DataView(ihdr.buffer).setUint32(0, 1280);
  new DataView(ihdr.buffer).setUint32(4, 720);
  ihdr.set([8, 6, 0, 0, 0], 8);
  const signature = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return concat(signature, pngChunk("IHDR", ihdr), ...middle);
}

/** Files whose header is fine and whose body is not, each with the reason the refusal gives. */
function malformedImages(): Array<[string, Uint8Array, string, RegExp]> {
  const idat = pngChunk("IDAT", new Uint8Array([0x78, 0x9c, 0x03, 0x00]));
  const iend = pngChunk("IEND", new Uint8Array());
  const badCrc = pngChunk("IDAT", new Uint8Array([1, 2, 3, 4]));
  badCrc[badCrc.length - 1]! ^= 0xff;
  const jpeg = jpegClaiming(1280, 720);
  const html = new TextEncoder().encode("<html><script>alert(1)</script></html>");
  const webp = images.portraitWebp;
  const webpGrown = concat(webp, new Uint8Array([0, 0, 0, 0]));
  const webpShort = webp.slice();
  new DataView(webpShort.buffer).setUint32(4, webp.length, true); // RIFF size 8 bytes too big
  return [
    ["a PNG with no IEND", pngOf(idat), "image/png", /ends before its IEND/],
    ["a PNG with no IDAT", pngOf(iend), "image/png", /no image data/],
    ["a PNG with a wrong chunk checksum", pngOf(badCrc, iend), "image/png", /checksum is wrong/],
    ["a PNG with a page after IEND", concat(pngOf(idat, iend), html), "image/png", /after its end/],
    [
      "a JPEG cut before EOI",
      jpeg.subarray(0, jpeg.length - 2),
      "image/jpeg",
      /before its end marker/,
    ],
    ["a JPEG with a page after EOI", concat(jpeg, html), "image/jpeg", /after its end/],
    ["a JPEG with no scan", jpegHeaderOnly(), "image/jpeg", /before any image data/],
    ["a WebP with bytes beyond its RIFF size", webpGrown, "image/webp", /after its end/],
    ["a WebP whose RIFF size runs past the file", webpShort, "image/webp", /cut short/],
  ];
}

/** SOI, JFIF, SOF0 and straight to EOI: a header with nothing after it. */
function jpegHeaderOnly(): Uint8Array {
  const jpeg = jpegClaiming(1280, 720);
  const sos = jpeg.findIndex((b, i) => b === 0xff && jpeg[i + 1] === 0xda);
  return concat(jpeg.subarray(0, sos), new Uint8Array([0xff, 0xd9]));
}

/** Creates a free simulator job as the backend key and lets it finish; returns it as seen. */
async function finishedSimVideo(s: Setup) {
  const created = await s.h.server("/v1/videos", post(createForm({ model: "sim" })));
  expect(created.status).toBe(200);
  const { id } = (await created.json()) as { id: string };
  s.h.advance(11_000);
  const done = (await (await s.h.server(`/v1/videos/${id}`)).json()) as {
    id: string;
    status: string;
    content_urls: { video: string; thumbnail: string; expires_at: number };
  };
  expect(done.status).toBe("completed");
  return done;
}

const pathOf = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

describe("hostile inputs", () => {
  it("a body longer or shorter than its Content-Length is refused, and nothing is started", async () => {
    const s = setup();
    const form = await new Response(createForm({ model: "relay" })).arrayBuffer();
    const type = new Response(createForm()).headers.get("content-type")!;
    for (const declared of [form.byteLength - 100, form.byteLength + 100]) {
      const response = await s.h.server("/v1/videos", {
        method: "POST",
        headers: { "content-type": type, "content-length": String(declared) },
        body: form,
      });
      expect(response.status).toBe(400);
      const { error } = (await response.json()) as { error: { code: string; message: string } };
      expect(error.message).toMatch(/Content-Length|could not be read/);
    }
    expect(s.outbound).toEqual([]);
    expect(await storedKeys()).toEqual([]);
  });

  it("an oversized Content-Length is refused with 413 before the body is read", async () => {
    const s = setup();
    const endless = () => {
      let pulled = 0;
      const body = new ReadableStream({
        pull(controller) {
          pulled++;
          controller.enqueue(new Uint8Array(16 * 1024));
          if (pulled > 200) controller.close();
        },
      });
      return { body, pulled: () => pulled };
    };
    const cases: Array<[string, string, Record<string, string>, string]> = [
      [
        "create (multipart)",
        "/v1/videos",
        { "content-type": "multipart/form-data; boundary=x" },
        "104857600",
      ],
      ["create (JSON)", "/v1/videos", { "content-type": "application/json" }, "104857600"],
      [
        "remix",
        "/v1/videos/video_0000000000000000000000000a/remix",
        { "content-type": "application/json" },
        "1048576",
      ],
      [
        "session",
        "/v1/sessions",
        { "content-type": "application/json", origin: SHOP_ORIGIN },
        "1048576",
      ],
      ["webhook", "/webhooks/replicate", { "content-type": "application/json" }, "1048576"],
    ];
    for (const [label, path, headers, length] of cases) {
      const { body, pulled } = endless();
      const response = await s.h.server(path, {
        method: "POST",
        headers: { ...headers, "content-length": length },
        body,
        duplex: "half",
      } as RequestInit);
      // The webhook route for a provider that has no receiver here may answer 404 first: both
      // refuse without reading the body.
      await refused(label, response, label === "webhook" ? [413, 404] : 413, {
        code: label === "webhook" ? /^(request_too_large|not_found)$/ : "request_too_large",
        message: label === "webhook" ? undefined : /larger than/,
      });
      expect.soft(pulled(), `${label}: chunks read`).toBeLessThanOrEqual(2);
    }
    await expectNothingSpentOrStored(s);
  });

  it("a lying Content-Length (header small, body large) never lets an over-limit upload through", async () => {
    // The upload limit is 8 KB here; the body is an otherwise valid create of ~270 KB (the valid
    // JPEG plus a 256 KB junk field). On Cloudflare's edge the body is framed by Content-Length,
    // so a longer body cannot arrive; in-process (and for any runtime that does not enforce the
    // framing) the worker holds the body to its declared length (a FixedLengthStream): the
    // excess is never read. A refused request (the runtime throwing) is fine too; a stored job
    // is not.
    const s = setup({ MAX_UPLOAD_BYTES: "8192" });
    const form = createForm();
    form.set("junk", "j".repeat(256 * 1024));
    const { bytes, type } = await serialize(form);
    for (const length of ["1000", "0", "-1", "abc"]) {
      let response: Response | null = null;
      try {
        response = await s.h.server("/v1/videos", {
          method: "POST",
          headers: { "content-type": type, "content-length": length },
          body: bytes,
        });
      } catch {
        continue; // the runtime refused to deliver a body that contradicts its Content-Length
      }
      // A header that is not a byte count is itself the error; a number that lies cuts the
      // body off where it said, and the cut body is refused (as a mismatch, or unreadable).
      const label = `Content-Length: ${length} with ${bytes.length} bytes`;
      const error = await refused(label, response, 400, {});
      const codes = /^\d+$/.test(length)
        ? ["invalid_content_length", "malformed_body"]
        : ["invalid_content_length"];
      expect(codes, label).toContain(error.code);
    }
    await expectNothingSpentOrStored(s);
  });

  it("a polyglot with a valid PNG header is refused by its structure, whatever its size", async () => {
    // A PNG signature and a well-formed IHDR, then an HTML page: the header alone says "PNG of
    // the right size", the file as a whole is not an image. Refused before anything is spent.
    const s = setup();
    const payload = "GIF89a<html><script>alert(document.cookie)</script></html>";
    for (const [width, height] of [
      [1, 1],
      [1280, 720],
    ] as const) {
      const polyglot = pngHeader(width, height, payload);
      const response = await s.h.server(
        "/v1/videos",
        post(createForm({ image: polyglot, imageType: "text/html", size: "1280x720" })),
      );
      await refused(`polyglot ${width}x${height}`, response, 400, {
        param: "input_reference",
        code: "invalid_image",
        message: /not a well-formed PNG image/,
      });
    }
    await expectNothingSpentOrStored(s);
  });

  it.each(malformedImages())(
    "refuses %s by its structure, naming input_reference, spending nothing",
    async (_, bytes, type, problem) => {
      const s = setup();
      const response = await s.h.server(
        "/v1/videos",
        post(createForm({ image: bytes, imageType: type, size: "1280x720" })),
      );
      await refused("malformed image", response, 400, {
        param: "input_reference",
        code: "invalid_image",
        message: problem,
      });
      await expectNothingSpentOrStored(s);
    },
  );

  it("a JPEG whose header claims 65535x65535 is refused from its header, without decoding", async () => {
    const s = setup();
    const huge = jpegClaiming(65535, 65535);
    for (const size of [undefined, "1280x720"]) {
      const response = await s.h.server("/v1/videos", post(createForm({ image: huge, size })));
      await refused(`65535x65535, size ${size ?? "omitted"}`, response, 400, {
        param: "input_reference",
        code: "image_size_mismatch",
        message: /65535x65535 pixels but size is 1280x720/,
      });
    }
    const asked = await s.h.server(
      "/v1/videos",
      post(createForm({ image: huge, size: "65535x65535" })),
    );
    await refused("size 65535x65535", asked, 400, { param: "size", code: "unsupported_size" });
    await expectNothingSpentOrStored(s);
  });

  it("truncated multipart is refused as unreadable", async () => {
    const s = setup();
    const { bytes, type } = await serialize(createForm());
    for (const keep of [0.9, 0.5, 0.1]) {
      const cut = bytes.slice(0, Math.floor(bytes.length * keep));
      const response = await s.h.server("/v1/videos", {
        method: "POST",
        headers: { "content-type": type },
        body: cut,
      });
      await refused(`multipart cut at ${keep * 100}%`, response, 400, { code: "malformed_body" });
    }
    await expectNothingSpentOrStored(s);
  });

  it("thousands of form fields beside a valid create are ignored and never forwarded", async () => {
    // Decision: 5,000 `x=1` parts (~0.6 MB) fit the upload limit, and the body limit is what
    // bounds the parsing cost (workerd's native multipart parser; the worker then reads only the
    // five fields it knows). Unknown fields are ignored, as OpenAI clients may send extras, so a
    // request that is otherwise a valid create makes exactly one job — under the caller's caps
    // like any other — and the junk never reaches the provider (the contract fake flags any
    // unknown field it receives).
    const s = setup();
    const form = createForm({ seconds: "4" });
    for (let i = 0; i < 5000; i++) form.append("x", "1");
    const response = await s.h.server("/v1/videos", post(form));
    expect(response.status).toBe(200);
    expect(s.fake.requests).toHaveLength(1);
    expect(Object.keys(s.fake.requests[0]!.fields).sort()).toEqual([
      "model",
      "prompt",
      "seconds",
      "size",
    ]);
    expect((await storedKeys()).filter((k) => k.startsWith("v1:job:"))).toHaveLength(1);
    expect((await usageOn(s.h.clock.ms)).global).toEqual({ microUsd: 400_000, count: 1 });
    s.fake.assertClean();
  });

  it("thousands of repeated prompt fields are refused", async () => {
    const s = setup();
    const form = createForm();
    for (let i = 0; i < 5000; i++) form.append("prompt", `variant ${i}`);
    await refused("5,000 prompts", await s.h.server("/v1/videos", post(form)), 400, {
      param: "prompt",
      message: /only once/,
    });
    const files = createForm();
    for (let i = 0; i < 50; i++) {
      files.append("input_reference", new File([images.landscapeJpeg], `p${i}.jpg`));
    }
    await refused("50 images", await s.h.server("/v1/videos", post(files)), 400, {
      param: "input_reference",
    });
    await expectNothingSpentOrStored(s);
  });

  it("a 1 MB prompt is refused with its length and the limit, without being echoed", async () => {
    const s = setup();
    const prompt = "a".repeat(1024 * 1024);
    const image_url = `data:image/jpeg;base64,${btoa(String.fromCharCode(...images.landscapeJpeg))}`;
    const json = await s.h.server(
      "/v1/videos",
      post({ prompt, model: "relay", input_reference: { image_url } }),
    );
    const jsonError = await refused("1 MB prompt (JSON)", json, 400, {
      param: "prompt",
      code: "prompt_too_long",
      message: /1048576 characters; relay accepts at most 500/,
    });
    expect(jsonError.message.length).toBeLessThan(300);
    const multipart = await s.h.server("/v1/videos", post(createForm({ prompt })));
    await refused("1 MB prompt (multipart)", multipart, 400, {
      param: "prompt",
      code: "prompt_too_long",
    });
    const blank = await s.h.server("/v1/videos", post(createForm({ prompt: " ".repeat(1 << 20) })));
    await refused("1 MB of spaces", blank, 400, { param: "prompt", message: /empty/ });
    // Remix bodies are small JSON: a 1 MB one is refused on size before anything is loaded.
    const remix = await s.h.server(
      "/v1/videos/video_0000000000000000000000000a/remix",
      post({ prompt }),
    );
    await refused("1 MB remix prompt", remix, 413, { code: "request_too_large" });
    await expectNothingSpentOrStored(s);
  });

  it("control characters and RTL overrides in the prompt are refused or stored sanitized", async () => {
    // A prompt is shown back to people (the widget, the owner's tools, logs viewers): NUL and
    // escape sequences break terminals and parsers, and bidi overrides (U+202E, U+2066–2069)
    // make text display as something else. Either refusal (400 naming prompt) or a stored
    // prompt without them is acceptable; storing and forwarding them verbatim is not.
    // Ordinary newlines and tabs are legitimate in a prompt.
    const s = setup();
    const hostile =
      "a cat\u0000 waves \u001b[31mred\u001b[0m \u202egnp.exe\u2066x\u2069\u200f\tthen\nsits";
    const response = await s.h.server(
      "/v1/videos",
      post(createForm({ model: "sim", prompt: hostile })),
    );
    const forbidden =
      /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
    if (response.status === 200) {
      const video = (await response.json()) as { id: string; prompt: string };
      const stored = (await env.JOBS.get(`v1:job:${video.id}`, "json")) as { prompt: string };
      expect.soft(JSON.stringify(video.prompt), "returned prompt").not.toMatch(forbidden);
      expect.soft(JSON.stringify(stored.prompt), "stored prompt").not.toMatch(forbidden);
      expect.soft(stored.prompt).toContain("a cat");
    } else {
      await refused("control characters", response, 400, { param: "prompt" });
      await expectNothingSpentOrStored(s);
    }
  });

  it("path traversal as a video id is refused on every video endpoint", async () => {
    const s = setup();
    const own = await s.h.server("/v1/videos", post(createForm({ model: "sim" })));
    const { id } = (await own.json()) as { id: string };
    const before = await snapshot(s);
    const ids = [
      `..%2F..%2Fv1%3Ajob%3A${id}`,
      "..%2F..%2F..%2Fetc%2Fpasswd",
      "%2e%2e",
      "%2e%2e%2f%2e%2e%2fhealthz",
      "%252e%252e%252fv1%252fvideos",
      "..%5C..%5Cwindows",
      `${id}%2F..%2F..`,
      `${id}%2Fcontent`,
      `${id}%00`,
      `${id}%20`,
      `${id.toUpperCase()}`,
    ];
    for (const bad of ids) {
      const cases: Array<[string, string, RequestInit]> = [
        ["GET", `/v1/videos/${bad}`, {}],
        ["GET content", `/v1/videos/${bad}/content`, {}],
        ["DELETE", `/v1/videos/${bad}`, { method: "DELETE" }],
        ["POST remix", `/v1/videos/${bad}/remix`, post({ prompt: "again" })],
      ];
      for (const [what, path, init] of cases) {
        await refused(`${what} ${bad}`, await s.h.server(path, init), [400, 404], {
          code: /^(invalid_id|not_found|unknown_endpoint)$/,
        });
      }
    }
    const list = await s.h.server(`/v1/videos?after=..%2F..%2Fv1%3Ajob%3A${id}`);
    await refused("list after=traversal", list, 400, { param: "video_id", code: "invalid_id" });
    expect((await s.h.server(`/v1/videos/${id}`)).status).toBe(200); // still there, untouched
    await expectNothingSpentOrStored(s, before);
  });

  it("other providers' ids (and our upstream's own id) are not video ids here", async () => {
    const s = setup();
    const created = await s.h.server("/v1/videos", post(createForm()));
    expect(created.status).toBe(200);
    const upstreamId = [...s.fake.videos.keys()][0]!; // the relay's id for our job
    const before = await snapshot(s);
    const ids = [
      upstreamId,
      "task_01jexample0000000000000000",
      "00000000-0000-4000-8000-000000000001", // Runway task
      "pred_q4w8x2z1rdrgc0cm0ryb8w7z5g",
      "q4w8x2z1rdrgc0cm0ryb8w7z5g", // Replicate prediction
      "0b7c0001-45d3-4afd-883e-ad3abe2a1c4d", // fal request
      encodeURIComponent("models/veo-3.1-generate-preview/operations/op0000000001"),
      "models/veo-3.1-generate-preview/operations/op0000000001",
      "video_00000000000000000000000000", // our shape, but no such job
    ];
    for (const bad of ids) {
      for (const [what, path, init] of [
        ["GET", `/v1/videos/${bad}`, {}],
        ["GET content", `/v1/videos/${bad}/content`, {}],
        ["DELETE", `/v1/videos/${bad}`, { method: "DELETE" }],
        ["POST remix", `/v1/videos/${bad}/remix`, post({ prompt: "again" })],
      ] as Array<[string, string, RequestInit]>) {
        await refused(`${what} ${bad}`, await s.h.server(path, init), [400, 404], {
          code: /^(invalid_id|not_found|unknown_endpoint)$/,
        });
      }
    }
    await expectNothingSpentOrStored(s, before);
  });

  it("a forged token with alg none is refused", async () => {
    const s = setup();
    const { visitor_id } = await s.h.session();
    const now = Math.floor(s.h.clock.ms / 1000);
    const claims = {
      sub: visitor_id,
      site: SHOP.id,
      aud: "stillmotion:visitor",
      iat: now,
      exp: now + 3600,
    };
    const header = base64url(JSON.stringify({ alg: "none", typ: "JWT" }));
    const payload = base64url(JSON.stringify(claims));
    for (const token of [
      `${header}.${payload}.`,
      `${header}.${payload}`,
      `${header}.${payload}.AAAA`,
    ]) {
      await refused(
        "alg none (list)",
        await s.h.call("/v1/videos", { headers: asVisitor(token) }),
        401,
        {
          code: "invalid_token",
        },
      );
      const create = await s.h.call("/v1/videos", {
        ...post(createForm()),
        headers: asVisitor(token),
      });
      await refused("alg none (create)", create, 401, { code: "invalid_token" });
    }
    await expectNothingSpentOrStored(s);
  });

  it("a token signed with another secret is refused", async () => {
    const s = setup();
    const now = Math.floor(s.h.clock.ms / 1000);
    const claims = {
      sub: "vis_0000000000000000000000000a",
      site: SHOP.id,
      aud: "stillmotion:visitor",
      iat: now,
      exp: now + 3600,
    };
    for (const secret of ["not-the-session-secret-0123456789abcdef", "x"]) {
      const token = await sign(claims, secret, "HS256");
      const response = await s.h.call("/v1/videos", {
        ...post(createForm()),
        headers: asVisitor(token),
      });
      await refused(`HS256 with ${JSON.stringify(secret)}`, response, 401, {
        code: "invalid_token",
      });
    }
    const hs512 = await sign(claims, "not-the-session-secret-0123456789abcdef", "HS512");
    await refused("HS512", await s.h.call("/v1/videos", { headers: asVisitor(hs512) }), 401);
    await expectNothingSpentOrStored(s);
  });

  it("a token with a modified payload is refused and reaches no one's jobs", async () => {
    const s = setup();
    const alice = await s.h.session();
    const bob = await s.h.session();
    const bobs = await s.h.call("/v1/videos", {
      ...post(createForm({ model: "sim" })),
      headers: asVisitor(bob.token),
    });
    expect(bobs.status).toBe(200);
    const { id } = (await bobs.json()) as { id: string };
    const before = await snapshot(s);
    const [header, , signature] = alice.token.split(".");
    const tampered = (change: Record<string, unknown>) =>
      `${header}.${base64url(JSON.stringify({ ...decodePayload(alice.token), ...change }))}.${signature}`;
    for (const [label, token] of [
      ["sub → bob", tampered({ sub: bob.visitor_id })],
      ["site → blog", tampered({ site: BLOG.id })],
      ["exp → far future", tampered({ exp: 4_102_444_800 })],
      ["aud → content", tampered({ aud: "stillmotion:content" })],
    ] as const) {
      await refused(
        `${label}: read`,
        await s.h.call(`/v1/videos/${id}`, { headers: asVisitor(token) }),
        401,
        {
          code: "invalid_token",
        },
      );
      const create = await s.h.call("/v1/videos", {
        ...post(createForm()),
        headers: asVisitor(token),
      });
      await refused(`${label}: create`, create, 401, { code: "invalid_token" });
    }
    await expectNothingSpentOrStored(s, before);
  });

  it("an expired visitor token is refused", async () => {
    const s = setup();
    const { token } = await s.h.session();
    s.h.advance(3600 * 1000 + 1000); // the default session TTL, plus a second
    const list = await s.h.call("/v1/videos", { headers: asVisitor(token) });
    await refused("expired (list)", list, 401, { code: "invalid_token", message: /expired/ });
    expect(list.headers.get("www-authenticate")).toMatch(/^Bearer/);
    const create = await s.h.call("/v1/videos", {
      ...post(createForm()),
      headers: asVisitor(token),
    });
    await refused("expired (create)", create, 401, { code: "invalid_token" });
    await expectNothingSpentOrStored(s);
  });

  it("a token from another site used with the first site's origin is refused", async () => {
    const s = setup();
    const blog = await s.h.session(BLOG.publishable_key, BLOG.origins[0]!);
    const create = await s.h.call("/v1/videos", {
      ...post(createForm()),
      headers: asVisitor(blog.token, SHOP_ORIGIN),
    });
    await refused("blog token, shop origin (create)", create, 401, {
      code: "origin_mismatch",
      message: /another site/,
    });
    const list = await s.h.call("/v1/videos", { headers: asVisitor(blog.token, SHOP_ORIGIN) });
    await refused("blog token, shop origin (list)", list, 401, { code: "origin_mismatch" });
    await expectNothingSpentOrStored(s);
  });

  it("a signed content URL replayed after it expired is refused", async () => {
    const s = setup();
    const video = await finishedSimVideo(s);
    const before = await snapshot(s);
    expect(
      (await s.h.call(pathOf(video.content_urls.video), { headers: { range: "bytes=0-1" } }))
        .status,
    ).toBe(206);
    s.h.advance((video.content_urls.expires_at + 1) * 1000 - s.h.clock.ms);
    for (const url of [video.content_urls.video, video.content_urls.thumbnail]) {
      await refused("expired content URL", await s.h.call(pathOf(url)), 401, {
        param: "token",
        code: "invalid_content_token",
        message: /expired/,
      });
    }
    await expectNothingSpentOrStored(s, before);
  });

  it("a signed content URL replayed for another variant is refused", async () => {
    const s = setup();
    const video = await finishedSimVideo(s);
    const before = await snapshot(s);
    const token = new URL(video.content_urls.video).searchParams.get("token")!;
    for (const variant of ["thumbnail", "spritesheet"]) {
      const response = await s.h.call(
        `/v1/videos/${video.id}/content?variant=${variant}&token=${token}`,
      );
      await refused(`video token for ${variant}`, response, 401, { code: "invalid_content_token" });
    }
    const odd = await s.h.call(`/v1/videos/${video.id}/content?variant=..%2Fvideo&token=${token}`);
    await refused("variant traversal", odd, 400, { param: "variant" });
    await expectNothingSpentOrStored(s, before);
  });

  it("a signed content URL replayed for another video is refused", async () => {
    const s = setup();
    const mine = await finishedSimVideo(s);
    const theirs = await finishedSimVideo(s);
    const before = await snapshot(s);
    const token = new URL(mine.content_urls.video).searchParams.get("token")!;
    const response = await s.h.call(`/v1/videos/${theirs.id}/content?variant=video&token=${token}`);
    await refused("token of another video", response, 401, { code: "invalid_content_token" });
    // Nor does a content token stand in for a Bearer token anywhere else.
    await refused("content token as Bearer", await s.h.as(token, `/v1/videos/${mine.id}`), 401, {
      code: "invalid_token",
    });
    await expectNothingSpentOrStored(s, before);
  });

  it("a forged Origin on POST /v1/sessions is refused; an exact forgery still meets Turnstile", async () => {
    const s = setup();
    const start = (origin: string | null, h: Harness = s.h, body: object = {}) =>
      h.call("/v1/sessions", {
        method: "POST",
        headers: { "content-type": "application/json", ...(origin === null ? {} : { origin }) },
        body: JSON.stringify({ site_key: SHOP.publishable_key, ...body }),
      });
    for (const origin of [
      "https://evil.example",
      "https://shop.example.evil.example",
      "https://evilshop.example",
      "http://shop.example",
      "https://shop.example:8443",
      "https://shop.example/",
      "https://SHOP.example",
      "null",
      BLOG.origins[0]!,
      null,
    ]) {
      await refused(`Origin ${origin}`, await start(origin), 403, { code: "origin_not_allowed" });
    }
    // A script can send exactly the allowed Origin; nothing on the server can tell. What stands
    // between it and the owner's money is the bot check (when the site turns it on), the burst
    // brakes and the spend caps. With Turnstile, an exact forgery without a solved token gets
    // no session, and siteverify decides a made-up one.
    const siteverify: string[] = [];
    const t = setup(
      {
        SITES: JSON.stringify([
          {
            ...SHOP,
            turnstile: {
              secret_secret: "TURNSTILE_SECRET_SHOP",
              site_key: "0x4AAAAAAAshopSiteKey",
            },
          },
          BLOG,
        ]),
        TURNSTILE_SECRET_SHOP: "0x4AAAAAAAhostile-test-secret-0123456789",
      },
      async (request) => {
        siteverify.push(request.url);
        return Response.json({ success: false, "error-codes": ["invalid-input-response"] });
      },
    );
    await refused("exact Origin, no Turnstile token", await start(SHOP_ORIGIN, t.h), 400, {
      param: "turnstile_token",
      code: "turnstile_required",
    });
    expect(siteverify).toEqual([]);
    const made_up = await start(SHOP_ORIGIN, t.h, { turnstile_token: "XXXX.DUMMY.TOKEN.XXXX" });
    await refused("exact Origin, made-up Turnstile token", made_up, 403, {
      code: "turnstile_failed",
    });
    expect(siteverify).toHaveLength(1);
    await expectNothingSpentOrStored(s);
  });

  it("malformed JSON is refused with 400 on every JSON endpoint", async () => {
    const s = setup();
    const json = { "content-type": "application/json" };
    for (const body of ['{"prompt":', "{prompt: 'x'}", '{"prompt":"x"}}', "\u0000", ""]) {
      const create = await s.h.server("/v1/videos", { method: "POST", headers: json, body });
      await refused(`create ${JSON.stringify(body)}`, create, 400, { param: null });
      const session = await s.h.call("/v1/sessions", {
        method: "POST",
        headers: { ...json, origin: SHOP_ORIGIN },
        body,
      });
      await refused(`session ${JSON.stringify(body)}`, session, 400);
      const remix = await s.h.server("/v1/videos/video_0000000000000000000000000a/remix", {
        method: "POST",
        headers: json,
        body,
      });
      await refused(`remix ${JSON.stringify(body)}`, remix, [400, 404]);
    }
    await expectNothingSpentOrStored(s);
  });

  it("wrong content types are refused with a 4xx that says what to send", async () => {
    const s = setup();
    const form = await serialize(createForm());
    for (const type of [
      "text/plain",
      "application/x-www-form-urlencoded",
      "application/xml",
      "multipart/mixed; boundary=x",
      "image/png",
    ]) {
      const create = await s.h.server("/v1/videos", {
        method: "POST",
        headers: { "content-type": type },
        body: type.startsWith("multipart") ? form.bytes : "prompt=hello",
      });
      await refused(`create as ${type}`, create, [400, 415], {
        message: /multipart\/form-data|application\/json/,
      });
      const session = await s.h.call("/v1/sessions", {
        method: "POST",
        headers: { "content-type": type, origin: SHOP_ORIGIN },
        body: JSON.stringify({ site_key: SHOP.publishable_key }),
      });
      await refused(`session as ${type}`, session, [400, 415]);
      const remix = await s.h.server("/v1/videos/video_0000000000000000000000000a/remix", {
        method: "POST",
        headers: { "content-type": type },
        body: JSON.stringify({ prompt: "again" }),
      });
      await refused(`remix as ${type}`, remix, [400, 404, 415]);
    }
    // JSON declared, multipart sent; multipart declared, JSON sent; no boundary.
    const mislabelled = await s.h.server("/v1/videos", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: form.bytes,
    });
    await refused("multipart labelled JSON", mislabelled, 400, { code: "malformed_body" });
    const noBoundary = await s.h.server("/v1/videos", {
      method: "POST",
      headers: { "content-type": "multipart/form-data" },
      body: '{"prompt":"x"}',
    });
    await refused("multipart without boundary", noBoundary, 400, { code: "malformed_body" });
    await expectNothingSpentOrStored(s);
  });

  it("a JSON body that is an array, a string, a number or null is refused", async () => {
    const s = setup();
    for (const body of ["[]", '[{"prompt":"x"}]', '"a lighthouse"', "42", "null", "true"]) {
      const create = await s.h.server("/v1/videos", post(JSON.parse(body) as object));
      await refused(`create ${body}`, create, 400, { message: /object/ });
      const session = await s.h.call("/v1/sessions", {
        method: "POST",
        headers: { "content-type": "application/json", origin: SHOP_ORIGIN },
        body,
      });
      await refused(`session ${body}`, session, 400, { message: /object/ });
      const remix = await s.h.server("/v1/videos/video_0000000000000000000000000a/remix", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      await refused(`remix ${body}`, remix, [400, 404]);
    }
    await expectNothingSpentOrStored(s);
  });

  it("input_reference.image_url aimed at metadata services or local files is never fetched", async () => {
    const s = setup();
    for (const url of [
      "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
      "http://[fd00:ec2::254]/latest/meta-data/",
      "http://metadata.google.internal/computeMetadata/v1/",
      "http://localhost:8787/v1/videos",
      "file:///etc/passwd",
      "gopher://127.0.0.1:6379/_INFO",
      "//169.254.169.254/",
      " data:image/png;base64,AAAA",
    ]) {
      const response = await s.h.server(
        "/v1/videos",
        post({ prompt: "a lighthouse", input_reference: { image_url: url } }),
      );
      await refused(`image_url ${url}`, response, 400, {
        param: "input_reference.image_url",
        message: /data: URL/,
      });
    }
    const html = await s.h.server(
      "/v1/videos",
      post({
        prompt: "a lighthouse",
        input_reference: {
          image_url: `data:image/png;base64,${btoa("<script>alert(1)</script>")}`,
        },
      }),
    );
    await refused("data: URL of HTML", html, 400, { param: "input_reference" });
    const asText = createForm({ image: null });
    asText.set("input_reference", "http://169.254.169.254/latest/meta-data/");
    await refused(
      "URL as a multipart text field",
      await s.h.server("/v1/videos", post(asText)),
      400,
      {
        param: "input_reference",
      },
    );
    await expectNothingSpentOrStored(s);
  });

  it("a model of ../../etc, __proto__ or constructor is an unknown model, and pollutes nothing", async () => {
    const s = setup();
    for (const model of [
      "../../etc",
      "..%2F..%2Fetc",
      "__proto__",
      "constructor",
      "toString",
      "sim/../relay",
      "SIM",
      "",
    ]) {
      const response = await s.h.server("/v1/videos", post(createForm({ model })));
      await refused(`model ${JSON.stringify(model)}`, response, 400, {
        param: "model",
        code: "unknown_model",
        message: /Available models: relay, sim\./,
      });
    }
    const polluting = await s.h.server("/v1/videos", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"prompt":"x","__proto__":{"model":"sim","polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    });
    await refused("__proto__ key", polluting, 400, {
      param: "input_reference",
      code: "image_required",
    });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).model).toBeUndefined();
    const objectModel = await s.h.server(
      "/v1/videos",
      post({ prompt: "x", model: { toString: "sim" } }),
    );
    await refused("model as an object", objectModel, 400, { param: "model" });
    await expectNothingSpentOrStored(s);
  });

  it('seconds of "4.0", "-4", "0004", "1e1" and friends are refused, listing what is allowed', async () => {
    const s = setup();
    for (const seconds of [
      "4.0",
      "-4",
      "0004",
      "1e1",
      " 4",
      "4 ",
      "0x4",
      "four",
      "",
      "4\u0000",
      "Infinity",
    ]) {
      const response = await s.h.server("/v1/videos", post(createForm({ seconds })));
      await refused(`seconds ${JSON.stringify(seconds)}`, response, 400, {
        param: "seconds",
        code: "unsupported_seconds",
        message: /Allowed: 4, 8\./,
      });
    }
    const number = await s.h.server("/v1/videos", post({ prompt: "x", seconds: 4 }));
    await refused("seconds as a JSON number", number, 400, { param: "seconds" });
    await expectNothingSpentOrStored(s);
  });

  it('size of "1280X720", "1280x720 ", "0x0" and friends is refused, listing what is allowed', async () => {
    const s = setup();
    for (const size of [
      "1280X720",
      "1280x720 ",
      " 1280x720",
      "0x0",
      "-1280x720",
      "1280×720",
      "1280x720\n",
      "1280*720",
      "720x1280x1",
    ]) {
      const response = await s.h.server("/v1/videos", post(createForm({ size })));
      await refused(`size ${JSON.stringify(size)}`, response, 400, {
        param: "size",
        code: "unsupported_size",
        message: /Allowed sizes: 1280x720, 720x1280\./,
      });
    }
    await expectNothingSpentOrStored(s);
  });

  it("a 100 KB model, size or seconds value is refused without being echoed back", async () => {
    // Refusals quote the value the caller sent so a person can spot the typo; quoting an
    // attacker's 100 KB (or, with a lying Content-Length, 10 MB) back is an amplifier and puts
    // arbitrary text into what the widget shows. The quote should be bounded.
    const s = setup();
    const long = "m".repeat(100_000);
    for (const field of ["model", "size", "seconds"] as const) {
      const response = await s.h.server("/v1/videos", post(createForm({ [field]: long })));
      const error = await refused(`100 KB ${field}`, response, 400, { param: field });
      expect.soft(error.message.length, `${field}: message length`).toBeLessThan(1000);
    }
    await expectNothingSpentOrStored(s);
  });

  it("a hostile Idempotency-Key is refused before anything is reserved", async () => {
    const s = setup();
    for (const key of ["k".repeat(256), "two words", "caf\u00e9", ""]) {
      const response = await s.h.server("/v1/videos", {
        ...post(createForm()),
        headers: { "idempotency-key": key },
      });
      await refused(`Idempotency-Key ${JSON.stringify(key.slice(0, 20))}`, response, 400, {
        code: "invalid_idempotency_key",
      });
    }
    await expectNothingSpentOrStored(s);
  });
});

/**
 * The attacks of the identity, deletion and money review, as a script on a public page would
 * mount them. Each is refused or bounded, and what it could have spent is checked in the ledger.
 */
describe("hostile inputs: identity, deletion and money", () => {
  /** A session for the shop from `ip`, optionally renewing `previous`. */
  async function mint(s: Setup, ip: string, previous?: string) {
    return s.h.call("/v1/sessions", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        origin: SHOP_ORIGIN,
        "cf-connecting-ip": ip,
        ...(previous ? { authorization: `Bearer ${previous}` } : {}),
      },
      body: JSON.stringify({ site_key: SHOP.publishable_key }),
    });
  }

  it("a fresh visitor per create spends no more than one network's cap, never the site's", async () => {
    const s = setup({ NEW_VISITORS_PER_NETWORK_PER_HOUR: "1000" }); // site $20, network $5
    let refusedAt = -1;
    for (let i = 0; i < 20 && refusedAt < 0; i++) {
      const { token } = (await (await mint(s, "198.51.100.66")).json()) as { token: string };
      const response = await s.h.call("/v1/videos", {
        ...post(createForm()),
        headers: { ...asVisitor(token), "cf-connecting-ip": "198.51.100.66" },
      });
      if (response.status === 429) {
        await refused("network cap", response, 429, { code: "budget_exceeded" });
        refusedAt = i;
      }
    }
    expect(refusedAt).toBe(12); // 12 × $0.40 = $4.80; the 13th would pass $5
    const usage = await usageOn(s.h.clock.ms);
    expect(usage["net:198.51.100.66"]!.microUsd).toBeLessThanOrEqual(5_000_000);
    expect(usage["site:shop"]!.microUsd).toBe(4_800_000); // three quarters of the site left
  });

  it("minting visitors from one network is capped per hour", async () => {
    const s = setup();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) statuses.push((await mint(s, `2001:db8:66::${i}`)).status);
    expect(statuses.slice(0, 20).every((status) => status === 200)).toBe(true);
    await refused("21st new visitor", await mint(s, "2001:db8:66::ff"), 429, {
      code: "too_many_new_visitors",
    });
  });

  it("a token that expired 29.5 days ago no longer renews into the same visitor", async () => {
    const s = setup();
    const first = (await (await mint(s, "203.0.113.9")).json()) as Session;
    s.h.advance(3600 * 1000 + 29.5 * 86400 * 1000);
    const renewed = (await (await mint(s, "203.0.113.9", first.token)).json()) as Session;
    expect(renewed.visitor_id).not.toBe(first.visitor_id);
  });

  it("a token retired by its renewal, or revoked, is refused", async () => {
    const s = setup();
    const first = (await (await mint(s, "203.0.113.9")).json()) as Session;
    const renewed = (await (await mint(s, "203.0.113.9", first.token)).json()) as Session;
    s.h.advance(61_000);
    const retired = await s.h.call("/v1/videos", { headers: asVisitor(first.token) });
    await refused("retired token", retired, 401, { code: "session_revoked" });
    const out = await s.h.call("/v1/sessions", {
      method: "DELETE",
      headers: asVisitor(renewed.token),
    });
    expect(out.status).toBe(200);
    const revoked = await s.h.call("/v1/videos", {
      ...post(createForm()),
      headers: asVisitor(renewed.token),
    });
    await refused("revoked token", revoked, 401, { code: "session_revoked" });
    await expectNothingSpentOrStored(s);
  });

  it("a visitor token without an Origin is refused", async () => {
    const s = setup();
    const { token } = await s.h.session();
    const bare = await s.h.call("/v1/videos", {
      ...post(createForm()),
      headers: { authorization: `Bearer ${token}` },
    });
    await refused("no Origin", bare, 401, { code: "origin_required" });
    await expectNothingSpentOrStored(s);
  });

  it("a JWT whose signature is spelled differently is refused", async () => {
    const s = setup();
    const { token } = await s.h.session();
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const last = alphabet.indexOf(token.at(-1)!);
    const respelled = token.slice(0, -1) + alphabet[(last & ~3) | ((last + 1) & 3)]!;
    const response = await s.h.call("/v1/videos", { headers: asVisitor(respelled) });
    await refused("respelled signature", response, 401, { code: "invalid_token" });
  });

  it("SERVER_KEYS with name and key swapped shows the key to no one", async () => {
    const key = "sk_live_SWAPPEDsecret_q9W8e7R6t5Y4u3I2";
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
    }
    const s = setup({ SERVER_KEYS: JSON.stringify({ [key]: "backend" }) });
    for (const path of ["/healthz", "/v1/models", "/v1/videos"]) {
      const response = await s.h.call(path);
      expect(response.status).toBe(500);
      const text = await response.text();
      expect(text).toContain("SERVER_KEYS entry 1");
      for (let i = 0; i + 4 <= key.length - 8; i++) {
        expect(text).not.toContain(key.slice(8 + i, 12 + i));
      }
    }
    expect(lines.join("\n")).not.toContain("SWAPPED");
    vi.restoreAllMocks();
  });

  it("an all-invisible prompt is refused; invisible characters never reach the provider", async () => {
    const s = setup();
    const invisible = "\u200b\u2060\ufeff\u{e0041}\u{e0042}\u00ad\ufe0f\u{e0100}\u3164\u200b";
    await refused(
      "all-invisible prompt",
      await s.h.server("/v1/videos", post(createForm({ prompt: invisible }))),
      400,
      { param: "prompt" },
    );
    await expectNothingSpentOrStored(s);
    const hidden = `a slow pan\u200b over\u{e0069}\u{e0067}\u{e006e} the\u{e0101}\ufe0e sea\ufeff\u00ad`;
    const created = await s.h.server("/v1/videos", post(createForm({ prompt: hidden })));
    expect(created.status).toBe(200);
    expect(s.fake.requests.at(-1)!.fields.prompt).toBe("a slow pan over the sea");
  });

  it("a prompt the upstream quotes back, however mangled, never reaches a log line", async () => {
    const prompt = "Lena  Example\nage 6, 4 Hidden Way\tSpringfield ".repeat(8).trim();
    const lines: string[] = [];
    for (const level of ["log", "warn", "error"] as const) {
      vi.spyOn(console, level).mockImplementation((line: string) => void lines.push(line));
    }
    const s = setup({}, async (request) => {
      const text = await request.text();
      void text;
      const echo = `Your prompt "${prompt.replace(/\s+/g, " ").toUpperCase().slice(0, 180)}" was refused`;
      return Response.json(
        { error: { message: echo, type: "invalid_request_error" } },
        { status: 400 },
      );
    });
    const response = await s.h.server(
      "/v1/videos",
      post(createForm({ prompt: prompt.slice(0, 400) })),
    );
    expect(response.status).toBe(400);
    const logged = lines.join("\n").toLowerCase();
    for (const words of ["lena example age", "hidden way springfield", "4 hidden way"]) {
      expect(logged).not.toContain(words);
    }
    vi.restoreAllMocks();
  });

  it("a deleted video stays gone for its owner, its signed links and a replayed copy in KV", async () => {
    const s = setup();
    const video = await finishedSimVideo(s);
    const stale = await env.JOBS.get(`v1:job:${video.id}`);
    expect((await s.h.server(`/v1/videos/${video.id}`, { method: "DELETE" })).status).toBe(200);
    await env.JOBS.put(`v1:job:${video.id}`, stale!);
    await refused("deleted video", await s.h.server(`/v1/videos/${video.id}`), 404, {
      code: "not_found",
    });
    const link = new URL(video.content_urls.video);
    expect((await s.h.call(`${link.pathname}${link.search}`)).status).toBe(404);
  });

  it("a KV read outage is a 503 storage_unavailable, not a 500", async () => {
    const s = setup();
    const kv = s.h.env.JOBS;
    s.h.env.JOBS = {
      ...kv,
      get: () => Promise.reject(new Error("KV down")),
    } as unknown as KVNamespace;
    const response = await s.h.server("/v1/videos/video_00000000000000000000000000");
    await refused("KV outage", response, 503, { code: "storage_unavailable" });
    expect(response.headers.get("retry-after")).toBe("5");
    s.h.env.JOBS = kv;
  });

  it("an oversized sessions body is told about the body, not an image", async () => {
    const s = setup();
    const response = await s.h.call("/v1/sessions", {
      method: "POST",
      headers: { "content-type": "application/json", origin: SHOP_ORIGIN },
      body: JSON.stringify({ site_key: SHOP.publishable_key, pad: "x".repeat(20_000) }),
    });
    const error = await refused("sessions 413", response, 413, { code: "request_too_large" });
    expect(error.message).not.toMatch(/image/);
  });
});

type Session = { token: string; visitor_id: string };
