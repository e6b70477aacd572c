/**
 * An https image_url is fetched only within its rules: public https hosts on the default port,
 * redirects held to the same rules (at most three), a byte limit while streaming, a timeout.
 * Every refusal is a 400 naming input_reference.image_url, and nothing else is fetched.
 */
import { describe, expect, it } from "vitest";
import { ApiError } from "../../../worker/errors";
import { fetchRemoteImage } from "../../../worker/media/remote-image";

function fake(answer: (url: URL) => Response | Promise<Response>) {
  const seen: Array<{ url: string; redirect: string | undefined }> = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const url = new URL(String(input));
    seen.push({ url: url.href, redirect: init?.redirect });
    return answer(url);
  };
  return { fetch, seen };
}

async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  const error = await promise.catch((e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).status).toBe(400);
  expect((error as ApiError).param).toBe("input_reference.image_url");
  return error as ApiError;
}

const BYTES = new Uint8Array([1, 2, 3, 4, 5]);

describe("fetching an https image_url", () => {
  it("returns the bytes of a public https image, fetched without following redirects itself", async () => {
    const f = fake(() => new Response(BYTES));
    expect(
      await fetchRemoteImage("https://images.example.com/a.jpg", { fetch: f.fetch, maxBytes: 100 }),
    ).toEqual(BYTES);
    expect(f.seen).toEqual([{ url: "https://images.example.com/a.jpg", redirect: "manual" }]);
  });

  it.each([
    "http://images.example.com/a.jpg",
    "ftp://images.example.com/a.jpg",
    "https://user:pw@images.example.com/a.jpg",
    "https://images.example.com:8443/a.jpg",
    "https://127.0.0.1/a.jpg",
    "https://169.254.169.254/latest/meta-data",
    "https://[::1]/a.jpg",
    "https://localhost/a.jpg",
    "https://localhost./a.jpg",
    "https://api.localhost./a.jpg",
    "https://2130706433/a.jpg",
    "https://0x7f.1/a.jpg",
    "https://[::ffff:127.0.0.1]/a.jpg",
    "https://intranet/a.jpg",
    "https://printer.local/a.jpg",
    "not a url",
  ])("refuses %s before any request", async (url) => {
    const f = fake(() => new Response(BYTES));
    await refusal(fetchRemoteImage(url, { fetch: f.fetch, maxBytes: 100 }));
    expect(f.seen).toEqual([]);
  });

  it("follows a redirect only where the same rules allow, at most three times", async () => {
    const to = (location: string) => () =>
      new Response(null, { status: 302, headers: { location } });
    const internal = fake(to("http://169.254.169.254/"));
    await refusal(
      fetchRemoteImage("https://a.example.com/x", { fetch: internal.fetch, maxBytes: 100 }),
    );
    expect(internal.seen).toHaveLength(1);

    let n = 0;
    const hops = fake((url) =>
      n++ < 2
        ? new Response(null, { status: 301, headers: { location: `/next${n}` } })
        : new Response(BYTES),
    );
    expect(
      await fetchRemoteImage("https://a.example.com/x", { fetch: hops.fetch, maxBytes: 100 }),
    ).toEqual(BYTES);
    expect(hops.seen.map((s) => s.url)).toEqual([
      "https://a.example.com/x",
      "https://a.example.com/next1",
      "https://a.example.com/next2",
    ]);

    const loop = fake(to("https://a.example.com/again"));
    await refusal(
      fetchRemoteImage("https://a.example.com/x", { fetch: loop.fetch, maxBytes: 100 }),
    );
    expect(loop.seen).toHaveLength(4);
  });

  it("stops reading at the byte limit, declared or not", async () => {
    const declared = fake(
      () => new Response(new Uint8Array(200), { headers: { "content-length": "200" } }),
    );
    await refusal(
      fetchRemoteImage("https://a.example.com/x", { fetch: declared.fetch, maxBytes: 100 }),
    );
    let pulled = 0;
    const endless = fake(
      () =>
        new Response(
          new ReadableStream({
            pull(c) {
              pulled++;
              c.enqueue(new Uint8Array(64));
            },
          }),
        ),
    );
    await refusal(
      fetchRemoteImage("https://a.example.com/x", { fetch: endless.fetch, maxBytes: 100 }),
    );
    expect(pulled).toBeLessThan(10);
  });

  it("gives up on a host that does not answer, and on an answer that is not 200", async () => {
    const hang = fake(() => new Promise<Response>(() => {}));
    const late = await refusal(
      fetchRemoteImage("https://slow.example.com/x", {
        fetch: hang.fetch,
        maxBytes: 100,
        timeoutMs: 20,
      }),
    );
    expect(late.message).toMatch(/could not be fetched/);
    // Headers at once, then a body that never ends: still the timeout, still a 400.
    const trickle = fake(
      () => new Response(new ReadableStream({ start: (c) => c.enqueue(new Uint8Array(1)) })),
    );
    const slow = await refusal(
      fetchRemoteImage("https://slow.example.com/x", {
        fetch: trickle.fetch,
        maxBytes: 100,
        timeoutMs: 20,
      }),
    );
    expect(slow.message).toMatch(/could not be read to the end/);
    const missing = fake(() => new Response("nope", { status: 404 }));
    expect(
      (
        await refusal(
          fetchRemoteImage("https://a.example.com/x", { fetch: missing.fetch, maxBytes: 100 }),
        )
      ).message,
    ).toMatch(/HTTP 404/);
  });
});
