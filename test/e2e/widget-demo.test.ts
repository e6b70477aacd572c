/**
 * End to end in a real browser: Chromium (scripts/chromium.mjs finds one) opens the demo page served by `wrangler dev`
 * (what `npm start` runs), picks a photo, submits, and plays the finished clip — the widget,
 * the bundle and chunks, CORS, sessions, fitting, the API and content streaming all together.
 */
import { fileURLToPath } from "node:url";
import { mkdirSync } from "node:fs";
import { chromium, type Browser, type Locator, type Page } from "playwright";
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

/** Where a failing test leaves a screenshot of its page (gitignored). */
const SHOTS = fileURLToPath(new URL("../../test-results/", import.meta.url));

/** Runs `body` on a fresh page; on failure, saves a screenshot named after the test first. */
async function onPage(name: string, body: (page: Page, errors: string[]) => Promise<void>) {
  const page = await browser.newPage();
  const errors: string[] = [];
  page.on("pageerror", (error) => errors.push(String(error)));
  try {
    await body(page, errors);
  } catch (error) {
    mkdirSync(SHOTS, { recursive: true });
    await page.screenshot({ path: `${SHOTS}e2e-${name}.png`, fullPage: true }).catch(() => {});
    throw error;
  } finally {
    await page.close();
  }
}

/** The clip's size and length once it can play. */
function metadata(video: Locator) {
  return video.evaluate(
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
}

/** The job id in the download's file name (stillmotion-<id>.mp4). */
async function downloadedId(page: Page, widget: Locator): Promise<string> {
  const download = page.waitForEvent("download");
  await widget.locator('[part~="download"]').click();
  const name = (await download).suggestedFilename();
  expect(name).toMatch(/^stillmotion-video_[0-9a-z]{26}\.mp4$/);
  return name.slice("stillmotion-".length, -".mp4".length);
}

async function submitPhoto(widget: Locator) {
  await widget.locator('input[type="file"]').first().setInputFiles(PHOTO);
  await widget.locator('[part~="preset"]').first().click();
  await widget.locator('[part~="submit"]').click();
}

describe("the demo page in Chromium", () => {
  it("turns a picked photo into a clip that plays and seeks, with a real download name", async () => {
    await onPage("create", async (page, errors) => {
      await page.goto(`${server.url}/`);
      const widget = page.locator("still-motion");
      await submitPhoto(widget);
      const video = widget.locator('video[part~="video"]');
      await video.waitFor({ timeout: 30_000 });
      const playback = await metadata(video);
      expect(playback).toMatchObject({ width: 1280, height: 720 });
      expect(playback.duration).toBeGreaterThan(3.5);
      expect(await video.getAttribute("poster")).toContain("variant=thumbnail");
      // Seeking needs the server's ranges: the browser asks for the bytes at 2.5 s.
      const seeked = await video.evaluate(
        (element: HTMLVideoElement) =>
          new Promise<number>((resolve) => {
            element.addEventListener("seeked", () => resolve(element.currentTime), { once: true });
            element.currentTime = 2.5;
          }),
      );
      expect(seeked).toBeCloseTo(2.5, 0);
      await downloadedId(page, widget);
      expect(errors).toEqual([]);
    });
  }, 60_000);

  it("resumes the job after a reload in the middle of it, and remixes the result", async () => {
    await onPage("reload-remix", async (page, errors) => {
      await page.goto(`${server.url}/`);
      const widget = page.locator("still-motion");
      const created = page.waitForResponse(
        (r) => r.request().method() === "POST" && new URL(r.url()).pathname === "/v1/videos",
      );
      await submitPhoto(widget);
      const { id } = (await (await created).json()) as { id: string };
      await page.reload();
      const video = page.locator("still-motion").locator('video[part~="video"]');
      await video.waitFor({ timeout: 30_000 });
      expect((await metadata(video)).width).toBe(1280);
      expect(await downloadedId(page, page.locator("still-motion"))).toBe(id);

      const remix = page.locator("still-motion").locator('[part~="remix"]');
      await remix.locator("input").fill("the same, at dusk");
      await remix.locator('button[type="submit"]').click();
      const remixed = page.locator("still-motion").locator('video[part~="video"]');
      await expect
        .poll(async () => remixed.getAttribute("src"), { timeout: 30_000 })
        .not.toContain(id);
      const newId = await downloadedId(page, page.locator("still-motion"));
      expect(newId).not.toBe(id);
      expect(errors).toEqual([]);
    });
  }, 90_000);
});
