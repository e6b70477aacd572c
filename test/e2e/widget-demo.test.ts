/**
 * End to end in a real browser: Chromium (scripts/chromium.mjs finds one) opens the demo page served by `wrangler dev`
 * (what `npm start` runs), picks a photo, submits, and plays the finished clip — the widget,
 * the bundle and chunks, CORS, sessions, fitting, the API and content streaming all together.
 */
import { fileURLToPath } from "node:url";
import { chromium, type Browser } from "playwright";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findChromium } from "../../scripts/chromium.mjs";
import { SIM_ROUTE } from "../fixtures/routes";
import { startDevServer, type DevServer } from "./dev-server";

const PHOTO = fileURLToPath(
  new URL("../fixtures/images/progressive-1280x720.jpg", import.meta.url),
);

let server: DevServer;
let browser: Browser;

beforeAll(async () => {
  server = await startDevServer((url) => ({
    MODEL_ROUTES: JSON.stringify([
      { ...SIM_ROUTE, id: "sim-fast", provider: { type: "simulator", duration_ms: 2000 } },
    ]),
    SITES: JSON.stringify([{ id: "demo", publishable_key: "pk_e2e_demo_0001", origins: [url] }]),
    DEMO_SITE_KEY: "pk_e2e_demo_0001",
    REFRESH_INTERVAL_MS: "0",
  }));
  browser = await chromium.launch((await findChromium()).launchOptions);
}, 90_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
});

describe("the demo page in Chromium", () => {
  it("turns a picked photo into a clip that plays, with a real download name", async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(String(error)));
    await page.goto(`${server.url}/`);
    const widget = page.locator("still-motion");
    await widget.locator('input[type="file"]').first().setInputFiles(PHOTO);
    await widget.locator('[part~="preset"]').first().click();
    await widget.locator('[part~="submit"]').click();

    const video = widget.locator('video[part~="video"]');
    await video.waitFor({ timeout: 30_000 });
    const playback = await video.evaluate(
      (element: HTMLVideoElement) =>
        new Promise<{ width: number; height: number; duration: number }>((resolve, reject) => {
          const done = () =>
            resolve({
              width: element.videoWidth,
              height: element.videoHeight,
              duration: element.duration,
            });
          if (element.readyState >= 1) done();
          element.addEventListener("loadedmetadata", done, { once: true });
          element.addEventListener("error", () => reject(new Error("the video failed to load")), {
            once: true,
          });
        }),
    );
    expect(playback).toMatchObject({ width: 1280, height: 720 });
    expect(playback.duration).toBeGreaterThan(3.5);
    expect(await video.getAttribute("poster")).toContain("variant=thumbnail");

    const download = page.waitForEvent("download");
    await widget.locator('[part~="download"]').click();
    expect((await download).suggestedFilename()).toMatch(/^stillmotion-video_[0-9a-z]{26}\.mp4$/);
    expect(errors).toEqual([]);
  }, 60_000);
});
