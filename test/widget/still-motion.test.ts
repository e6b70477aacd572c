/** `<still-motion>`: choosing a photo, fitting it to the route size, and the happy path. */
import { describe, expect, it } from "vitest";
import type { StillMotionImageEvent } from "../../widget/events";
import { asFile, makeHeicHeader } from "./helpers/images";
import { FakeStillMotionApi } from "./helpers/fake-api";
import {
  button,
  choosePhoto,
  mount,
  photo,
  pickFile,
  reach,
  submitJob,
  text,
  writePrompt,
  type Mounted,
} from "./helpers/mount";

function transfer(file: File): DataTransfer {
  const data = new DataTransfer();
  data.items.add(file);
  return data;
}

async function expectPreview(m: Mounted) {
  await reach(m.el, "editing");
  const framer = m.root.querySelector("still-motion-framer")!;
  expect(framer).not.toBeNull();
  expect(framer.image?.width).toBeGreaterThan(0);
}

describe("<still-motion> choosing a photo", () => {
  it("starts with a drop zone button once the models are loaded", async () => {
    const m = await mount();
    const zone = button(m, "dropzone");
    expect(zone.tagName).toBe("BUTTON");
    expect(
      m.root.querySelector('input[type=file][accept="image/*"]:not([capture])'),
    ).not.toBeNull();
    expect(m.root.querySelector('input[type=file][capture="environment"]')).not.toBeNull();
  });

  it("takes a photo dropped on the drop zone", async () => {
    const m = await mount();
    const drop = new DragEvent("drop", {
      bubbles: true,
      cancelable: true,
      dataTransfer: transfer(await photo()),
    });
    button(m, "dropzone").dispatchEvent(drop);
    expect(drop.defaultPrevented).toBe(true);
    await expectPreview(m);
  });

  it("takes a photo pasted anywhere in the element", async () => {
    const m = await mount();
    const paste = new ClipboardEvent("paste", {
      bubbles: true,
      composed: true,
      cancelable: true,
      clipboardData: transfer(await photo()),
    });
    m.root.querySelector(".intro")!.dispatchEvent(paste);
    expect(paste.defaultPrevented).toBe(true);
    await expectPreview(m);
  });

  it("takes a photo pasted while the element itself has focus", async () => {
    const m = await mount();
    m.root.querySelector<HTMLElement>("[part~=base]")!.focus();
    expect(document.activeElement).toBe(m.el);
    m.el.dispatchEvent(
      new ClipboardEvent("paste", { bubbles: true, clipboardData: transfer(await photo()) }),
    );
    await expectPreview(m);
  });

  it("leaves a text paste alone", async () => {
    const m = await mount();
    const data = new DataTransfer();
    data.setData("text/plain", "hello");
    const paste = new ClipboardEvent("paste", {
      bubbles: true,
      cancelable: true,
      clipboardData: data,
    });
    m.el.dispatchEvent(paste);
    expect(paste.defaultPrevented).toBe(false);
    expect(m.el.state).toBe("choosing");
  });

  it("takes a photo from the file picker and shows the object-URL preview at once", async () => {
    const m = await mount();
    pickFile(m, await photo());
    expect(m.el.state).toBe("decoding");
    await m.el.updateComplete;
    const img = m.root.querySelector<HTMLImageElement>("[part~=preview] img")!;
    expect(img.src).toMatch(/^blob:/);
    await expectPreview(m);
  });

  it("takes a photo from the camera input", async () => {
    const m = await mount();
    pickFile(m, await photo(), "#camera");
    await expectPreview(m);
  });

  it("fires still-motion-image with the size of the upload", async () => {
    const m = await mount();
    const event = new Promise<StillMotionImageEvent>((resolve) =>
      m.el.addEventListener("still-motion-image", resolve, { once: true }),
    );
    await choosePhoto(m);
    const { width, height, bytes } = await event;
    expect([width, height]).toEqual([1280, 720]);
    expect(bytes).toBeGreaterThan(1000);
  });

  it("says plainly that a HEIC photo cannot be opened here", async () => {
    const m = await mount();
    pickFile(m, asFile(makeHeicHeader(), "image/heic", "IMG_0001.HEIC"));
    await reach(m.el, "failed");
    const alert = m.root.querySelector("[role=alert]")!;
    expect(alert.textContent).toContain(
      "This browser can't open HEIC photos. Convert it to JPEG or take a screenshot of it.",
    );
    // The way forward is another photo.
    const again = m.root.querySelector<HTMLButtonElement>("[part~=error] .primary")!;
    expect(again.textContent?.trim()).toBe("Choose another photo");
    again.click();
    await reach(m.el, "choosing");
  });
});

describe("<still-motion> fitting to the route size", () => {
  const cases = [
    { source: [1600, 1000], size: "1280x720" },
    { source: [1600, 1000], size: "720x1280" },
    { source: [900, 1600], size: "1280x720" },
    { source: [900, 1600], size: "720x1280" },
  ] as const;
  for (const { source, size } of cases) {
    it(`uploads exactly ${size} from a ${source.join("x")} photo`, async () => {
      const m = await mount();
      await choosePhoto(m, await photo(source[0], source[1]));
      const select = m.root.querySelector<HTMLSelectElement>("#size")!;
      select.value = size;
      select.dispatchEvent(new Event("change"));
      await writePrompt(m, "Slow dolly in.");
      button(m, "submit").click();
      await reach(m.el, "waiting");
      const create = m.api.requests.find((r) => r.method === "POST" && r.path === "/v1/videos")!;
      expect(create.form?.get("size")).toBe(size);
      const image = create.form?.get("input_reference") as File;
      const bitmap = await createImageBitmap(image);
      expect(`${bitmap.width}x${bitmap.height}`).toBe(size);
      bitmap.close();
    });
  }
});

describe("<still-motion> framing", () => {
  it("keeps the framer's focus point in step with the visitor's framing (and its focus() intact)", async () => {
    const m = await mount();
    await choosePhoto(m, await photo(1600, 1000));
    const framer = m.root.querySelector("still-motion-framer")!;
    const canvas = framer.shadowRoot!.querySelector<HTMLElement>('[part~="canvas"]')!;
    canvas.dispatchEvent(
      new KeyboardEvent("keydown", { key: "ArrowUp", bubbles: true, composed: true }),
    );
    await m.el.updateComplete;
    await framer.updateComplete;
    expect(framer.focusPoint.y).toBeLessThan(0.5);
    expect(typeof framer.focus).toBe("function");
    const chosen = { ...framer.focusPoint };
    // A re-render (here: another photo) shows the framing the upload will use, not a default.
    await choosePhoto(m, await photo(1600, 1000));
    const next = m.root.querySelector("still-motion-framer")!;
    await next.updateComplete;
    expect(next.focusPoint).toEqual(chosen);
  });
});

describe("<still-motion> happy path", () => {
  it("goes from photo to a playable video and fires the lifecycle events", async () => {
    const m = await mount();
    const seen: string[] = [];
    for (const type of ["created", "progress", "completed"] as const) {
      m.el.addEventListener(`still-motion-${type}`, () => seen.push(type));
    }
    await submitJob(m, "The leaves move in the wind.");
    await reach(m.el, "completed");
    const video = m.root.querySelector<HTMLVideoElement>("video[part~=video]")!;
    const job = [...m.api.videos.values()][0]!;
    expect(video.getAttribute("src")).toBe(job.content_urls!.video);
    expect(video.getAttribute("poster")).toBe(job.content_urls!.thumbnail);
    expect(video.hasAttribute("playsinline")).toBe(true);
    expect(video.hasAttribute("controls")).toBe(true);
    expect(video.getAttribute("preload")).toBe("metadata");
    expect(seen[0]).toBe("created");
    expect(seen).toContain("progress");
    expect(seen.at(-1)).toBe("completed");
    const create = m.api.requests.find((r) => r.path === "/v1/videos" && r.method === "POST")!;
    expect(create.form?.get("prompt")).toBe("The leaves move in the wind.");
    expect(create.headers.get("idempotency-key")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("shows a progress bar, status text, elapsed time and Cancel while waiting", async () => {
    const api = new FakeStillMotionApi({ pollsToComplete: 50 });
    const m = await mount({ api });
    await submitJob(m);
    await reach(m.el, "waiting");
    await expect
      .poll(() => m.root.querySelector("progress")?.getAttribute("value"), { timeout: 5000 })
      .toMatch(/^\d+$/);
    expect(text(m)).toMatch(/Generating the video…|Finishing…/);
    expect(text(m)).toMatch(/Elapsed \d+:\d\d/);
    expect(button(m, "cancel").textContent?.trim()).toBe("Cancel");
  });
});
