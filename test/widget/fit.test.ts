import { beforeAll, describe, expect, it } from "vitest";
import { decodeImage, fitGeometry, fitImage, FitError, type FitMode } from "../../widget/fit";
import {
  asFile,
  makeAlphaPng,
  makeHeicHeader,
  makePhotoJpeg,
  readPixels,
  withExifOrientation,
} from "./helpers/images";

const SIZES = [
  { width: 1280, height: 720 },
  { width: 720, height: 1280 },
];
const MODES: FitMode[] = ["cover", "contain"];

/** Fixtures are made once and only read; every test decodes its own copy. */
const fixtures = {} as Record<"landscape" | "portrait" | "rotated" | "alphaPng", Uint8Array>;

beforeAll(async () => {
  fixtures.landscape = await makePhotoJpeg(4000, 3000, {
    marker: { corner: "top-left", color: "#ff0000" },
  });
  fixtures.portrait = await makePhotoJpeg(3000, 4000, { seed: 2 });
  fixtures.rotated = withExifOrientation(fixtures.landscape, 6);
  fixtures.alphaPng = await makeAlphaPng(800, 600);
});

async function rejection(promise: Promise<unknown>): Promise<FitError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(FitError);
  return error as FitError;
}

const isRed = ([r, g, b]: number[]) => r! > 200 && g! < 70 && b! < 70;

describe("decodeImage", () => {
  it("reports the size and the sniffed type of a JPEG, ignoring its declared type", async () => {
    const image = await decodeImage(asFile(fixtures.landscape, "image/png"));
    expect([image.width, image.height, image.type]).toEqual([4000, 3000, "image/jpeg"]);
    image.close();
  });

  it("turns an EXIF orientation 6 photo upright: stored 4000x3000 displays as 3000x4000", async () => {
    const image = await decodeImage(asFile(fixtures.rotated));
    expect([image.width, image.height]).toEqual([3000, 4000]);
    image.close();
  });

  it("refuses a HEIC file as unsupported_type and names the format", async () => {
    const error = await rejection(decodeImage(asFile(makeHeicHeader(), "image/jpeg")));
    expect([error.code, error.detected]).toEqual(["unsupported_type", "HEIC"]);
  });

  it("refuses random bytes as unsupported_type or decode_failed", async () => {
    const noise = crypto.getRandomValues(new Uint8Array(4096));
    noise[0] = 0x00; // never a JPEG/PNG/... signature by accident
    const error = await rejection(decodeImage(asFile(noise, "image/jpeg")));
    expect(["unsupported_type", "decode_failed"]).toContain(error.code);
  });

  it("refuses a truncated JPEG as decode_failed", async () => {
    const error = await rejection(decodeImage(asFile(fixtures.landscape.slice(0, 300))));
    expect([error.code, error.detected]).toEqual(["decode_failed", "JPEG"]);
  });

  it("refuses an image under 64 px on a side as too_small", async () => {
    const error = await rejection(decodeImage(asFile(await makeAlphaPng(63, 400))));
    expect(error.code).toBe("too_small");
  });

  it("refuses an image over the pixel limit as too_large", async () => {
    const limits = { maxPixels: 4000 * 3000 - 1 };
    const error = await rejection(decodeImage(asFile(fixtures.landscape), limits));
    expect(error.code).toBe("too_large");
  });
});

describe("fitGeometry", () => {
  const out = { width: 720, height: 1280 };

  it("centres the crop of a landscape photo in a portrait frame", () => {
    const g = fitGeometry(4000, 3000, { ...out, mode: "cover" });
    expect(g).toEqual({
      sx: 1156.25,
      sy: 0,
      sw: 1687.5,
      sh: 3000,
      dx: 0,
      dy: 0,
      dw: 720,
      dh: 1280,
    });
  });

  it("keeps sx at 0 with the focus on the left edge, and at the far edge on the right", () => {
    expect(fitGeometry(4000, 3000, { ...out, mode: "cover", focus: { x: 0, y: 0.5 } }).sx).toBe(0);
    const right = fitGeometry(4000, 3000, { ...out, mode: "cover", focus: { x: 1, y: 0.5 } });
    expect(right.sx + right.sw).toBe(4000);
  });

  it("halves the source window at zoom 2", () => {
    const one = fitGeometry(4000, 3000, { ...out, mode: "cover" });
    const two = fitGeometry(4000, 3000, { ...out, mode: "cover", zoom: 2 });
    expect([two.sw, two.sh]).toEqual([one.sw / 2, one.sh / 2]);
  });

  it("treats zoom below 1 as 1, so cover never shows an edge", () => {
    expect(fitGeometry(4000, 3000, { ...out, mode: "cover", zoom: 0.25 })).toEqual(
      fitGeometry(4000, 3000, { ...out, mode: "cover" }),
    );
  });

  it("always covers the whole canvas from inside the photo in cover mode", () => {
    for (const [w, h] of [
      [4000, 3000],
      [3000, 4000],
      [64, 5000],
      [1280, 720],
    ] as const)
      for (const size of SIZES)
        for (const zoom of [1, 1.7, 4])
          for (const focus of [
            { x: 0, y: 0 },
            { x: 0.3, y: 0.9 },
            { x: 2, y: -1 },
          ]) {
            const g = fitGeometry(w, h, { ...size, mode: "cover", zoom, focus });
            expect([g.dx, g.dy, g.dw, g.dh]).toEqual([0, 0, size.width, size.height]);
            expect(g.sx).toBeGreaterThanOrEqual(0);
            expect(g.sy).toBeGreaterThanOrEqual(0);
            expect(g.sx + g.sw).toBeLessThanOrEqual(w + 1e-9);
            expect(g.sy + g.sh).toBeLessThanOrEqual(h + 1e-9);
            expect(g.sw / g.sh).toBeCloseTo(size.width / size.height, 6);
          }
  });

  it("letterboxes the whole photo, centred, in contain mode", () => {
    const g = fitGeometry(4000, 3000, { ...out, mode: "contain" });
    expect(g).toEqual({ sx: 0, sy: 0, sw: 4000, sh: 3000, dx: 0, dy: 370, dw: 720, dh: 540 });
  });
});

describe("fitImage", () => {
  const cases = (["landscape", "portrait", "rotated"] as const).flatMap((source) =>
    SIZES.flatMap((size) => MODES.map((mode) => ({ source, mode, ...size }))),
  );

  it.each(cases)(
    "outputs exactly $width x $height from the $source photo in $mode mode",
    async ({ source, mode, width, height }) => {
      const image = await decodeImage(asFile(fixtures[source]));
      const out = await fitImage(image, { width, height, mode });
      image.close();
      const decoded = await createImageBitmap(out.blob);
      expect([decoded.width, decoded.height]).toEqual([width, height]);
      expect([out.width, out.height, out.type]).toEqual([width, height, "image/jpeg"]);
    },
  );

  it.each(SIZES)(
    "shrinks the 12 MP JPEG to a $width x $height upload well under maxBytes",
    async ({ width, height }) => {
      const image = await decodeImage(asFile(fixtures.landscape));
      const { blob } = await fitImage(image, { width, height, mode: "cover" });
      image.close();
      console.log(`12 MP JPEG ${fixtures.landscape.length} B -> ${width}x${height} ${blob.size} B`);
      expect(blob.size).toBeLessThanOrEqual(1_500_000);
      expect(blob.size * 5).toBeLessThan(fixtures.landscape.length);
    },
  );

  it("lowers the quality until the upload fits a tight maxBytes", async () => {
    const image = await decodeImage(asFile(fixtures.landscape));
    const o = { width: 1280, height: 720, mode: "cover" } as const;
    const best = await fitImage(image, o);
    const maxBytes = Math.round(best.blob.size * 0.7);
    const squeezed = await fitImage(image, { ...o, maxBytes });
    image.close();
    expect(squeezed.blob.size).toBeLessThanOrEqual(maxBytes);
  });

  it("fills contain bars with a blurred copy: corners opaque, neither black nor blank", async () => {
    const image = await decodeImage(asFile(fixtures.portrait));
    const out = await fitImage(image, {
      width: 1280,
      height: 720,
      mode: "contain",
      type: "image/webp",
    });
    image.close();
    const pixels = await readPixels(out.blob);
    for (const [x, y] of [
      [0, 0],
      [1279, 0],
      [0, 719],
      [1279, 719],
      [100, 360],
    ]) {
      const [r, g, b, a] = pixels.at(x!, y!);
      expect(a).toBe(255);
      expect(Math.max(r, g, b)).toBeGreaterThan(40);
      expect(Math.min(r, g, b)).toBeLessThan(235);
    }
  });

  it("shows white, not the blurred backdrop, through a transparent photo in contain mode", async () => {
    const image = await decodeImage(asFile(fixtures.alphaPng));
    const out = await fitImage(image, { width: 1280, height: 720, mode: "contain" });
    image.close();
    // 30 px above the sharp disc, where the blurred (and larger) copy behind is still teal.
    const [r, g, b] = (await readPixels(out.blob)).at(640, 150);
    expect([r, g, b].every((v) => v > 245)).toBe(true);
  });

  it("fills contain bars with a solid colour when asked", async () => {
    const image = await decodeImage(asFile(fixtures.landscape));
    const out = await fitImage(image, {
      width: 720,
      height: 1280,
      mode: "contain",
      fill: "#ff8800",
    });
    image.close();
    const [r, g, b] = (await readPixels(out.blob)).at(360, 10);
    expect([r, g, b].map((v, i) => Math.abs(v - [255, 136, 0][i]!) < 12)).toEqual([
      true,
      true,
      true,
    ]);
  });

  it("makes transparent PNG areas white, not black, even in WebP", async () => {
    const image = await decodeImage(asFile(fixtures.alphaPng));
    const out = await fitImage(image, {
      width: 1280,
      height: 720,
      mode: "cover",
      type: "image/webp",
    });
    image.close();
    expect(out.type).toBe("image/webp");
    const [r, g, b, a] = (await readPixels(out.blob)).at(5, 5);
    expect([r, g, b, a].every((v) => v > 245)).toBe(true);
  });

  it("keeps an unrotated corner marker top-left (control for the EXIF case)", async () => {
    const image = await decodeImage(asFile(fixtures.landscape));
    const out = await fitImage(image, { width: 1280, height: 720, mode: "cover" });
    image.close();
    const pixels = await readPixels(out.blob);
    expect(isRed(pixels.at(20, 20))).toBe(true);
    expect(isRed(pixels.at(1259, 20))).toBe(false);
  });

  it("moves the top-left marker of an EXIF orientation 6 photo to the top-right", async () => {
    const image = await decodeImage(asFile(fixtures.rotated));
    const out = await fitImage(image, { width: 720, height: 1280, mode: "cover" });
    image.close();
    const pixels = await readPixels(out.blob);
    expect(isRed(pixels.at(700, 20))).toBe(true);
    for (const [x, y] of [
      [20, 20],
      [20, 1260],
      [700, 1260],
    ])
      expect(isRed(pixels.at(x!, y!))).toBe(false);
  });

  it("refuses an output size that is not whole pixels", async () => {
    const image = await decodeImage(asFile(fixtures.alphaPng));
    await expect(fitImage(image, { width: 1280.5, height: 720, mode: "cover" })).rejects.toThrow(
      RangeError,
    );
    image.close();
  });
});
