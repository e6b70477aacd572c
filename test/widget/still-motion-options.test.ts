/** `<still-motion>`: owner options (routes, price, templates, presets) and the prompt limit. */
import { describe, expect, it } from "vitest";
import type { ModelRoute } from "../../widget/api/types";
import { FakeStillMotionApi } from "./helpers/fake-api";
import { button, choosePhoto, mount, reach, text, writePrompt } from "./helpers/mount";

const route = (id: string, extra: Partial<ModelRoute> = {}): ModelRoute => ({
  id,
  label: `Model ${id}`,
  owned_by: "openai",
  simulated: false,
  sizes: ["1280x720", "720x1280", "1024x1024"],
  default_size: "1280x720",
  seconds: ["4", "8", "12"],
  default_seconds: "4",
  input_image: "required",
  remix: true,
  audio: false,
  price_per_second_usd: 0.1,
  prompt_max_chars: 500,
  ...extra,
});

const options = (select: HTMLSelectElement | null) =>
  [...(select?.options ?? [])].map((o) => o.value);

describe("<still-motion> routes and options", () => {
  it("offers only the owner's models, sizes and seconds", async () => {
    const api = new FakeStillMotionApi({ models: [route("a"), route("b"), route("c")] });
    const m = await mount({ api, attrs: { models: "c,a", sizes: "720x1280", seconds: "8,12" } });
    await choosePhoto(m);
    expect(options(m.root.querySelector("#model"))).toEqual(["c", "a"]);
    expect(options(m.root.querySelector("#size"))).toEqual(["720x1280"]);
    expect(options(m.root.querySelector("#seconds"))).toEqual(["8", "12"]);
  });

  it("shows the price only with show-price", async () => {
    const api = new FakeStillMotionApi({ models: [route("a")] });
    const plain = await mount({ api });
    await choosePhoto(plain);
    expect(plain.root.querySelector("[part~=price]")).toBeNull();
    plain.remove();

    const priced = await mount({ api, attrs: { "show-price": "" } });
    await choosePhoto(priced);
    expect(priced.root.querySelector("[part~=price]")?.textContent).toContain("$0.40");
    const seconds = priced.root.querySelector<HTMLSelectElement>("#seconds")!;
    seconds.value = "12";
    seconds.dispatchEvent(new Event("change"));
    await priced.el.updateComplete;
    expect(priced.root.querySelector("[part~=price]")?.textContent).toContain("$1.20");
  });

  it("labels a simulated route", async () => {
    const m = await mount();
    await choosePhoto(m);
    expect(m.root.querySelector("[part~=simulated]")?.textContent).toContain(
      "Simulator — no real video model",
    );
  });

  it("says so when no route is left to offer", async () => {
    const m = await mount({ attrs: { models: "nope" }, until: "failed" });
    expect(m.root.querySelector("[role=alert]")?.textContent).toContain("No video model");
  });

  it("starts in contain mode with fit=contain", async () => {
    const m = await mount({ attrs: { fit: "contain" } });
    await choosePhoto(m);
    expect(m.root.querySelector("still-motion-framer")?.mode).toBe("contain");
  });

  it("sends audio only for routes that make sound, with the Sound field", async () => {
    const api = new FakeStillMotionApi({ models: [route("a", { audio: true })] });
    const m = await mount({ api });
    await choosePhoto(m);
    expect(m.root.querySelector("#f-audio")).not.toBeNull();
    const silent = await mount({ api: new FakeStillMotionApi() });
    await choosePhoto(silent);
    expect(silent.root.querySelector("#f-audio")).toBeNull();
  });
});

describe("<still-motion> prompt", () => {
  it("fills the builder from each preset", async () => {
    const m = await mount();
    await choosePhoto(m);
    const presets = [...m.root.querySelectorAll<HTMLButtonElement>("[part~=preset]")];
    expect(presets.map((b) => b.textContent?.trim())).toEqual([
      "Slow dolly in",
      "Subtle parallax",
      "Pan left",
      "Gentle breeze",
      "Cinemagraph loop",
    ]);
    presets[2]!.click();
    await m.el.updateComplete;
    expect(m.root.querySelector<HTMLInputElement>("#f-camera")?.value).toBe(
      "smooth pan to the left",
    );
    expect(m.root.querySelector(".composed")?.textContent).toContain(
      "Camera: smooth pan to the left",
    );
    expect(button(m, "submit").disabled).toBe(false);
  });

  it("enforces prompt_max_chars with a live counter", async () => {
    const api = new FakeStillMotionApi({ models: [route("a", { prompt_max_chars: 40 })] });
    const m = await mount({ api });
    await choosePhoto(m);
    expect(button(m, "submit").disabled).toBe(true); // nothing written yet
    await writePrompt(m, "Waves roll in.");
    expect(m.root.querySelector("#counter")?.textContent).toContain("14 / 40");
    expect(m.root.querySelector("#prompt")?.getAttribute("maxlength")).toBe("40");
    expect(button(m, "submit").disabled).toBe(false);

    // The builder can compose past the limit: the counter says by how much and submit waits.
    m.root.querySelector<HTMLButtonElement>(".modes button")!.click();
    await m.el.updateComplete;
    m.root.querySelectorAll<HTMLButtonElement>("[part~=preset]")[0]!.click();
    await m.el.updateComplete;
    expect(m.root.querySelector("#counter")?.textContent).toMatch(/characters too long/);
    expect(button(m, "submit").disabled).toBe(true);
  });

  it("fills owner templates through inline blanks", async () => {
    const templates = [
      { label: "Product", text: "The {product} turns slowly on a {surface}." },
      { label: "Portrait", text: "{person} smiles." },
    ];
    const m = await mount({ props: { templates } });
    await choosePhoto(m);
    const modes = [...m.root.querySelectorAll<HTMLButtonElement>(".modes button")];
    modes.find((b) => b.textContent?.trim() === "Templates")!.click();
    await m.el.updateComplete;
    const blanks = [...m.root.querySelectorAll<HTMLInputElement>(".template input")];
    expect(blanks.map((b) => b.getAttribute("aria-label"))).toEqual(["product", "surface"]);
    for (const [input, value] of [
      [blanks[0]!, "red sneaker"],
      [blanks[1]!, "marble table"],
    ] as const) {
      input.value = value;
      input.dispatchEvent(new Event("input"));
      await m.el.updateComplete;
    }
    button(m, "submit").click();
    await reach(m.el, "waiting");
    const sent = m.api.requests.find((r) => r.method === "POST" && r.path === "/v1/videos");
    expect(sent?.form?.get("prompt")).toBe("The red sneaker turns slowly on a marble table.");
  });

  it("uses the owner's presets instead of the built-in ones", async () => {
    const presets = [{ id: "zoom", label: "Crash zoom", fields: { camera: "fast crash zoom" } }];
    const m = await mount({ props: { presets } });
    await choosePhoto(m);
    const buttons = [...m.root.querySelectorAll("[part~=preset]")];
    expect(buttons.map((b) => b.textContent?.trim())).toEqual(["Crash zoom"]);
    expect(text(m)).not.toContain("Slow dolly in");
  });
});
