/**
 * Copies into R2 are byte for byte and streamed: a body of unknown length is uploaded in parts
 * of a fixed size, one part in memory at a time, whatever the total.
 */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { copyToResults, fixedParts, PART_BYTES } from "../../../worker/results/copy";

const MP4_SIGNATURE = [0, 0, 0, 0x18, 0x66, 0x74, 0x79, 0x70, 0x69, 0x73, 0x6f, 0x6d];

/** A body made on demand, `total` bytes in `chunk`-sized pieces: nothing exists before it is read. */
function generated(
  total: number,
  chunk: number,
): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  let sent = 0;
  const body = new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        if (sent >= total) return controller.close();
        const size = Math.min(chunk, total - sent);
        const bytes = new Uint8Array(size);
        for (let i = 0; i < size; i++) bytes[i] = (sent + i) % 251;
        if (sent === 0 && size >= 12) bytes.set(MP4_SIGNATURE);
        sent += size;
        controller.enqueue(bytes);
      },
    },
    { highWaterMark: 0 },
  );
  return { body, pulled: () => sent };
}

async function sha256(stream: ReadableStream<Uint8Array>): Promise<string> {
  const digest = new crypto.DigestStream("SHA-256");
  await stream.pipeTo(digest);
  return [...new Uint8Array(await digest.digest)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

describe("copying into R2", () => {
  it("regroups a stream into equal parts and keeps every byte", async () => {
    const { body } = generated(2 * PART_BYTES + 12_345, 65_536 + 7);
    const sizes: number[] = [];
    let checksum = 0;
    let at = 0;
    for await (const part of fixedParts(body, PART_BYTES)) {
      sizes.push(part.byteLength);
      for (let i = 0; i < part.byteLength; i += 4099) {
        checksum += part[i]! === (at + i) % 251 ? 0 : 1;
      }
      at += part.byteLength;
    }
    expect(sizes).toEqual([PART_BYTES, PART_BYTES, 12_345]);
    expect(checksum).toBe(0);
  });

  it("pulls a part's worth at a time, not the whole body", async () => {
    const { body, pulled } = generated(4 * PART_BYTES, 1 << 20);
    const parts = fixedParts(body, PART_BYTES);
    await parts.next();
    // One part read (plus at most the chunk that completed it), three still unmade.
    expect(pulled()).toBeLessThanOrEqual(PART_BYTES + (1 << 20));
    await parts.return(undefined);
  });

  it("stores a body of unknown length in parts, identical to the source", async () => {
    const total = 3 * PART_BYTES + 1;
    const { body } = generated(total, 1 << 20);
    // No Content-Length: uploaded in parts.
    const upstream = new Response(body, { headers: { "content-type": "video/mp4" } });
    const stored = await copyToResults(env.RESULTS, "v1/test/video", upstream, "video", "video_x");
    expect(stored.size).toBe(total);
    const object = (await env.RESULTS.get("v1/test/video"))!;
    expect(object.size).toBe(total);
    expect(await sha256(object.body)).toBe(await sha256(generated(total, 1 << 20).body));
  }, 60_000);

  it("refuses what is not plainly the variant: an error page, an empty body", async () => {
    const page = new Response("<html>oops</html>", { headers: { "content-type": "video/mp4" } });
    await expect(copyToResults(env.RESULTS, "v1/t/p", page, "video", "v")).rejects.toThrow(
      /not a video\/mp4 file/,
    );
    const empty = new Response(new Uint8Array(0), { headers: { "content-length": "0" } });
    await expect(copyToResults(env.RESULTS, "v1/t/e", empty, "video", "v")).rejects.toThrow();
    expect((await env.RESULTS.list({ prefix: "v1/t/" })).objects).toEqual([]);
  });

  it("refuses an answer that is not a whole file", async () => {
    const partial = new Response("x", { status: 206 });
    await expect(copyToResults(env.RESULTS, "v1/t/v", partial, "video", "v")).rejects.toThrow(
      /HTTP 206/,
    );
    expect(await env.RESULTS.head("v1/t/v")).toBeNull();
  });

  it("copies 200 MB holding one part at a time: each is stored before the next is read", async () => {
    const total = 200 * 1024 * 1024;
    const { body, pulled } = generated(total, 1 << 20);
    const aheadAtEachPart: number[] = [];
    // The real bucket, watched: how far the source had been read when each part was sent.
    const bucket = new Proxy(env.RESULTS, {
      get(target, prop) {
        if (prop !== "createMultipartUpload") {
          return (Reflect.get(target, prop) as (...a: unknown[]) => unknown).bind(target);
        }
        return async (...args: Parameters<R2Bucket["createMultipartUpload"]>) => {
          const upload = await target.createMultipartUpload(...args);
          let sent = 0;
          return {
            uploadPart: async (n: number, part: Uint8Array) => {
              aheadAtEachPart.push(pulled() - sent);
              sent += part.byteLength;
              return upload.uploadPart(n, part);
            },
            complete: (parts: R2UploadedPart[]) => upload.complete(parts),
            abort: () => upload.abort(),
          };
        };
      },
    });
    const upstream = new Response(body, { headers: { "content-type": "video/mp4" } });
    const stored = await copyToResults(bucket, "v1/big/video", upstream, "video", "video_big");
    expect(stored.size).toBe(total);
    expect(aheadAtEachPart).toHaveLength(25);
    // Never more than the part being sent plus the chunk that completed it.
    expect(Math.max(...aheadAtEachPart)).toBeLessThanOrEqual(PART_BYTES + (1 << 20));
    // Spot checks of the stored bytes: start, a part boundary, the end.
    for (const offset of [0, PART_BYTES - 3, total - 16]) {
      const object = (await env.RESULTS.get("v1/big/video", { range: { offset, length: 16 } }))!;
      const bytes = new Uint8Array(await object.arrayBuffer());
      const expected = Array.from({ length: 16 }, (_, i) =>
        offset + i < 12 ? MP4_SIGNATURE[offset + i]! : (offset + i) % 251,
      );
      expect([...bytes]).toEqual(expected);
    }
  }, 120_000);
});
