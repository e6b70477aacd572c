import { describe, expect, it } from "vitest";
import {
  checkSignature,
  declares,
  MEDIA_CSP,
  servedMedia,
  sniffMediaType,
} from "../../../worker/media/media-type";
import { simulatorMedia } from "../../../worker/providers/simulator/media";

const real = (variant: "video" | "thumbnail" | "spritesheet") =>
  new Uint8Array(simulatorMedia("1280x720", "4", variant)!.bytes);
const text = (s: string) => new TextEncoder().encode(s);
const HTML = text("<!doctype html><script>alert(document.domain)</script>");

/** A body that arrives in the given chunks, counting how many were pulled. */
function chunked(chunks: Uint8Array[]) {
  let pulled = 0;
  const stream = new ReadableStream<Uint8Array>({
    pull(controller) {
      const next = chunks[pulled++];
      if (next) controller.enqueue(next);
      else controller.close();
    },
  });
  return { stream, pulled: () => pulled };
}

describe("sniffMediaType", () => {
  it("recognises the simulator's real MP4, WebP and JPEG files", () => {
    expect(sniffMediaType(real("video"))).toBe("video/mp4");
    expect(sniffMediaType(real("thumbnail"))).toBe("image/webp");
    expect(sniffMediaType(real("spritesheet"))).toBe("image/jpeg");
  });

  it("recognises the bare signatures", () => {
    expect(sniffMediaType(Uint8Array.of(0, 0, 0, 0x20, ...text("ftypisom")))).toBe("video/mp4");
    expect(sniffMediaType(text("RIFF\x24\0\0\0WEBPVP8 "))).toBe("image/webp");
    expect(sniffMediaType(Uint8Array.of(0xff, 0xd8, 0xff, 0xe0))).toBe("image/jpeg");
  });

  it("recognises nothing else", () => {
    expect(sniffMediaType(HTML)).toBeNull();
    expect(sniffMediaType(text("<svg xmlns='http://www.w3.org/2000/svg'/>"))).toBeNull();
    expect(sniffMediaType(text("RIFF\x24\0\0\0WAVEfmt "))).toBeNull();
    expect(
      sniffMediaType(Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)),
    ).toBeNull();
    expect(sniffMediaType(Uint8Array.of(0xff, 0xd8))).toBeNull();
    expect(sniffMediaType(new Uint8Array(0))).toBeNull();
  });
});

describe("checkSignature", () => {
  it("says too_short only for a prefix that agrees so far", () => {
    expect(checkSignature(Uint8Array.of(0, 0), "video/mp4")).toBe("too_short");
    expect(checkSignature(text("RIFF\0\0"), "image/webp")).toBe("too_short");
    expect(checkSignature(Uint8Array.of(0xff, 0xd8), "image/jpeg")).toBe("too_short");
    expect(checkSignature(text("<h"), "image/jpeg")).toBe("mismatch");
    expect(checkSignature(text("<htm"), "image/webp")).toBe("mismatch");
  });

  it("does not take one expected type's file for another's", () => {
    expect(checkSignature(real("spritesheet"), "video/mp4")).toBe("mismatch");
    expect(checkSignature(real("video"), "image/webp")).toBe("mismatch");
    expect(checkSignature(real("thumbnail"), "image/jpeg")).toBe("mismatch");
  });
});

describe("declares", () => {
  it("compares the media type alone, ignoring parameters and case", () => {
    expect(declares("video/mp4", "video/mp4")).toBe(true);
    expect(declares("Video/MP4; codecs=avc1", "video/mp4")).toBe(true);
    expect(declares("video/mp4x", "video/mp4")).toBe(false);
    expect(declares("text/html; x=video/mp4", "video/mp4")).toBe(false);
    expect(declares(null, "video/mp4")).toBe(false);
  });
});

describe("servedMedia", () => {
  it("finds a signature split across tiny chunks and re-emits every byte in order", async () => {
    const bytes = real("thumbnail");
    const pieces = [bytes.slice(0, 2), bytes.slice(2, 9), bytes.slice(9, 40), bytes.slice(40)];
    const { stream } = chunked(pieces);
    const upstream = new Response(stream, {
      headers: { "content-type": "text/html", "content-length": String(bytes.length) },
    });
    const served = await servedMedia(upstream, "thumbnail", "video_1");
    expect(served.headers.get("content-type")).toBe("image/webp");
    expect(served.headers.get("content-disposition")).toBe('inline; filename="video_1.webp"');
    expect(served.headers.get("content-length")).toBe(String(bytes.length));
    expect(new Uint8Array(await served.arrayBuffer())).toEqual(bytes);
  });

  it("reads only what the sniff needs before answering", async () => {
    const chunk = real("video").slice(0, 64 * 1024);
    const { stream, pulled } = chunked(Array.from({ length: 64 }, () => chunk));
    const served = await servedMedia(new Response(stream), "video", "video_1");
    expect(served.headers.get("content-type")).toBe("video/mp4");
    expect(served.body).toBeInstanceOf(ReadableStream);
    expect(pulled()).toBeLessThan(8);
    await served.body!.cancel();
  });

  it("keeps no upstream header outside its list", async () => {
    const upstream = new Response(real("spritesheet"), {
      headers: {
        "content-type": "image/jpeg",
        etag: '"e1"',
        "set-cookie": "a=b",
        "x-request-id": "req_1",
        "content-disposition": "inline; filename=evil.html",
        "content-security-policy": "default-src *",
      },
    });
    const served = await servedMedia(upstream, "spritesheet", "video_1");
    expect(served.headers.get("etag")).toBe('"e1"');
    expect(served.headers.get("set-cookie")).toBeNull();
    expect(served.headers.get("x-request-id")).toBeNull();
    expect(served.headers.get("content-disposition")).toBe('inline; filename="video_1.jpg"');
    expect(served.headers.get("content-security-policy")).toBe(MEDIA_CSP);
    expect(served.headers.get("x-content-type-options")).toBe("nosniff");
    await served.arrayBuffer();
  });

  it("serves an empty 200 by its declared type, there being nothing to sniff", async () => {
    const good = await servedMedia(
      new Response(null, { headers: { "content-type": "video/mp4" } }),
      "video",
      "v",
    );
    expect(good.headers.get("content-type")).toBe("video/mp4");
    const bad = await servedMedia(
      new Response(null, { headers: { "content-type": "text/html" } }),
      "video",
      "v",
    );
    expect(bad.headers.get("content-type")).toBe("application/octet-stream");
    expect(bad.headers.get("content-disposition")).toBe('attachment; filename="v.mp4"');
  });
});
