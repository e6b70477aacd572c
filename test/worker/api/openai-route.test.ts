/**
 * The whole worker in front of an OpenAI-compatible upstream (the contract fake): what the
 * upstream receives, how its answers reach the caller, how often it is asked, and that its key
 * and our session secret never appear in a response or a log line.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { FakeOpenAI } from "../../helpers/fakes/openai";
import { harness, SESSION_SECRET, SIM_ROUTE, SITES } from "../../helpers/harness";
import { createForm, post } from "../../helpers/requests";

const API_KEY = "sk-test-FAKEKEY-relay-0123456789abcdefghij";

const RELAY_ROUTE = {
  ...SIM_ROUTE,
  id: "relay",
  label: "Relay (sora-2 shape)",
  provider: {
    type: "openai",
    base_url: "https://relay.example.test/v1",
    api_key_secret: "RELAY_KEY",
  },
  upstream_model: "sora-2",
  seconds: ["4", "8", "12"],
};

function setup() {
  const fake = new FakeOpenAI({ apiKey: API_KEY, pollsToComplete: 3 });
  const h = harness({ routes: [RELAY_ROUTE], fetch: fake.fetch, vars: { RELAY_KEY: API_KEY } });
  return { fake, h };
}

type Video = {
  id: string;
  status: string;
  progress: number;
  content_urls: { video: string } | null;
};

afterEach(() => vi.restoreAllMocks());

describe("a route to an OpenAI-compatible host", () => {
  it("sends the upstream exactly what the OpenAI API expects and hides the upstream id", async () => {
    const { fake, h } = setup();
    const response = await h.server(
      "/v1/videos",
      post(createForm({ model: "relay", seconds: "8" })),
    );
    expect(response.status).toBe(200);
    const video = (await response.json()) as Video;
    const [sent] = fake.requests;
    expect(sent).toMatchObject({ method: "POST", path: "/videos" });
    expect(sent!.fields).toMatchObject({
      model: "sora-2",
      seconds: "8",
      size: "1280x720",
      prompt: "a slow dolly in on the lighthouse",
    });
    expect(sent!.file).toMatchObject({ type: "image/jpeg" });
    expect(sent!.headers.get("authorization")).toBe(`Bearer ${API_KEY}`);
    expect(sent!.headers.get("idempotency-key")).toBe(video.id);
    const upstreamId = [...fake.videos.keys()][0]!;
    expect(video.id).not.toBe(upstreamId);
    expect(JSON.stringify(video)).not.toContain(upstreamId);
    fake.assertClean();
  });

  it("asks the upstream once for many concurrent polls, and not again within the refresh interval", async () => {
    const { fake, h } = setup();
    const { id } = (await (
      await h.server("/v1/videos", post(createForm({ model: "relay" })))
    ).json()) as Video;
    h.advance(3000);
    const polls = await Promise.all(Array.from({ length: 10 }, () => h.server(`/v1/videos/${id}`)));
    expect(polls.every((r) => r.status === 200)).toBe(true);
    const gets = () =>
      fake.requests.filter((r) => r.method === "GET" && r.path.startsWith("/videos/")).length;
    expect(gets()).toBe(1);
    h.advance(1000);
    await h.server(`/v1/videos/${id}`);
    expect(gets()).toBe(1);
    h.advance(1500);
    await h.server(`/v1/videos/${id}`);
    expect(gets()).toBe(2);
    fake.assertClean();
  });

  it("streams finished content from the upstream with Range passed through", async () => {
    const { fake, h } = setup();
    const { id } = (await (
      await h.server("/v1/videos", post(createForm({ model: "relay" })))
    ).json()) as Video;
    let video: Video = { id, status: "queued", progress: 0, content_urls: null };
    for (let i = 0; i < 6 && video.status !== "completed"; i++) {
      h.advance(2500);
      video = (await (await h.server(`/v1/videos/${id}`)).json()) as Video;
    }
    expect(video.status).toBe("completed");
    const part = await h.server(`/v1/videos/${id}/content`, { headers: { range: "bytes=10-19" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toMatch(/^bytes 10-19\/65536$/);
    expect((await part.arrayBuffer()).byteLength).toBe(10);
    const contentRequest = fake.requests.at(-1)!;
    expect(contentRequest.headers.get("range")).toBe("bytes=10-19");
    expect(contentRequest.url.searchParams.get("variant")).toBe("video");
    fake.assertClean();
  });

  it("keeps serving the last known state when the upstream is down", async () => {
    const { fake, h } = setup();
    const { id } = (await (
      await h.server("/v1/videos", post(createForm({ model: "relay" })))
    ).json()) as Video;
    fake.failNext(503, { method: "GET", times: 10 });
    h.advance(3000);
    const response = await h.server(`/v1/videos/${id}`);
    expect(response.status).toBe(200);
    expect(((await response.json()) as Video).status).toBe("queued");
  });

  it("turns an upstream create refusal into a 4xx/5xx the caller can act on, storing nothing", async () => {
    const { fake, h } = setup();
    fake.failNext(503, { method: "POST" });
    const down = await h.server("/v1/videos", post(createForm({ model: "relay" })));
    expect(down.status).toBe(503);
    expect(fake.requests.filter((r) => r.method === "POST")).toHaveLength(1);
    fake.failNext(401, {
      method: "POST",
      error: { message: `Incorrect API key provided: ${API_KEY}` },
    });
    const badKey = await h.server("/v1/videos", post(createForm({ model: "relay" })));
    expect(badKey.status).toBe(502);
    expect(await badKey.text()).not.toContain(API_KEY.slice(3, 20));
    const list = (await (await h.server("/v1/videos")).json()) as { data: unknown[] };
    expect(list.data).toEqual([]);
  });

  it("never shows the provider key or the session secret in any response or log line", async () => {
    const { fake, h } = setup();
    const lines: string[] = [];
    for (const level of ["log", "info", "warn", "error", "debug"] as const) {
      vi.spyOn(console, level).mockImplementation(
        (...args: unknown[]) => void lines.push(args.map(String).join(" ")),
      );
    }
    const seen: string[] = [];
    const record = async (response: Response) => {
      seen.push(
        `${response.status} ${[...response.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}`,
      );
      seen.push(await response.text());
    };
    const { token } = await h.session();
    const origin = { origin: SITES[0]!.origins[0]! };
    await record(await h.call("/v1/models"));
    await record(await h.call("/openapi.json"));
    await record(await h.call("/healthz"));
    const created = await h.as(token, "/v1/videos", {
      ...post(createForm({ model: "relay" })),
      headers: origin,
    });
    const { id } = (await created.clone().json()) as Video;
    await record(created);
    for (let i = 0; i < 5; i++) {
      h.advance(2500);
      await record(await h.as(token, `/v1/videos/${id}`, { headers: origin }));
    }
    await record(await h.as(token, "/v1/videos", { headers: origin }));
    await record(await h.as(token, `/v1/videos/${id}/content`, { headers: origin }));
    await record(
      await h.as(token, `/v1/videos/${id}/content?variant=thumbnail`, { headers: origin }),
    );
    await record(
      await h.as(token, `/v1/videos/${id}/remix`, {
        ...post({ prompt: "again" }),
        headers: origin,
      }),
    );
    fake.failNext(429, {
      headers: { "retry-after": "3" },
      error: { message: `rate limited for key ${API_KEY}` },
    });
    await record(await h.server("/v1/videos", post(createForm({ model: "relay" }))));
    fake.failNext(400, {
      error: {
        message: `bad request with ${API_KEY} at https://relay.example.test/v1?key=${API_KEY}`,
      },
    });
    await record(await h.server("/v1/videos", post(createForm({ model: "relay" }))));
    await record(await h.call("/v1/videos", post(createForm())));
    await record(await h.as(token, `/v1/videos/${id}`, { method: "DELETE", headers: origin }));

    const everything = [...seen, ...lines].join("\n");
    expect(seen.length).toBeGreaterThan(20);
    for (const secret of [API_KEY, SESSION_SECRET]) {
      expect(everything).not.toContain(secret);
      expect(everything).not.toContain(secret.slice(0, 16));
    }
  });
});
