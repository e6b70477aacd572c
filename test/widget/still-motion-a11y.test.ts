/** `<still-motion>`: keyboard only, axe-core in every state, and a calm live region. */
import axe from "axe-core";
import { describe, expect, it } from "vitest";
import { userEvent } from "vitest/browser";
import { FakeStillMotionApi } from "./helpers/fake-api";
import {
  button,
  choosePhoto,
  mount,
  pickFile,
  photo,
  reach,
  submitJob,
  type Mounted,
} from "./helpers/mount";

/** The focused element, looking through shadow roots. */
function deepActive(): Element | null {
  let active = document.activeElement;
  while (active?.shadowRoot?.activeElement) active = active.shadowRoot.activeElement;
  return active;
}

/** Presses Tab until `target` has focus; fails if it is not reachable. */
async function tabTo(target: Element, max = 60): Promise<void> {
  for (let i = 0; i < max; i++) {
    if (deepActive() === target) return;
    await userEvent.tab();
  }
  throw new Error(`Tab never reached ${target.outerHTML.slice(0, 80)}`);
}

async function violations(m: Mounted): Promise<string[]> {
  await m.el.updateComplete;
  const result = await axe.run(m.el);
  return result.violations.map(
    (v) => `${v.id}: ${v.help} — ${v.nodes.map((n) => JSON.stringify(n.target)).join(", ")}`,
  );
}

describe("<still-motion> with the keyboard only", () => {
  it("picks, chooses a preset, writes, submits and cancels without a mouse", async () => {
    const m = await mount({ api: new FakeStillMotionApi({ pollsToComplete: 1000 }) });
    const input = m.root.querySelector<HTMLInputElement>("#file")!;
    let pickerOpened = 0;
    input.addEventListener("click", (event) => {
      pickerOpened++;
      event.preventDefault(); // no native dialog in a test
    });

    await tabTo(button(m, "dropzone"));
    await userEvent.keyboard("{Enter}");
    expect(pickerOpened).toBe(1);
    await userEvent.keyboard(" ");
    expect(pickerOpened).toBe(2);

    pickFile(m, await photo()); // what the picker hands back
    await reach(m.el, "editing");

    const preset = [...m.root.querySelectorAll<HTMLButtonElement>("[part~=preset]")].find(
      (b) => b.textContent?.trim() === "Gentle breeze",
    )!;
    await tabTo(preset);
    await userEvent.keyboard("{Enter}");
    await m.el.updateComplete;
    const action = m.root.querySelector<HTMLInputElement>("#f-action")!;
    expect(action.value).toContain("gentle breeze");

    await tabTo(action);
    await userEvent.keyboard("{End} and her scarf"); // Tab selected the text
    expect(action.value).toMatch(/gentle breeze.* and her scarf$/);

    await tabTo(button(m, "submit"));
    await userEvent.keyboard("{Enter}");
    await reach(m.el, "waiting");
    const sent = m.api.requests.find((r) => r.method === "POST" && r.path === "/v1/videos");
    expect(sent?.form?.get("prompt")).toContain("and her scarf");

    // Focus lands on Cancel rather than being lost with the removed submit button.
    expect(deepActive()).toBe(button(m, "cancel"));
    await userEvent.keyboard(" ");
    await reach(m.el, "editing");
  });
});

describe("<still-motion> axe-core", () => {
  it("finds no violations while choosing", async () => {
    const m = await mount();
    expect(await violations(m)).toEqual([]);
  });

  it("finds no violations while editing", async () => {
    const m = await mount({ attrs: { "show-price": "" } });
    await choosePhoto(m);
    expect(await violations(m)).toEqual([]);
  });

  it("finds no violations while waiting", async () => {
    const m = await mount({ api: new FakeStillMotionApi({ pollsToComplete: 1000 }) });
    await submitJob(m);
    await reach(m.el, "waiting");
    expect(await violations(m)).toEqual([]);
  });

  it("finds no violations when completed", async () => {
    const m = await mount();
    await submitJob(m);
    await reach(m.el, "completed");
    expect(await violations(m)).toEqual([]);
  });

  it("finds no violations when failed", async () => {
    const api = new FakeStillMotionApi().failNext(
      400,
      { message: "No.", code: "policy_violation" },
      { method: "POST", path: /^\/v1\/videos$/ },
    );
    const m = await mount({ api });
    await submitJob(m);
    await reach(m.el, "failed");
    expect(await violations(m)).toEqual([]);
  });
});

describe("<still-motion> live region", () => {
  it("announces photo ready, queued, every 25 % and done — nothing in between", async () => {
    const m = await mount({ api: new FakeStillMotionApi({ pollsToComplete: 8 }) });
    const region = m.root.querySelector("[aria-live=polite]")!;
    const heard: string[] = [];
    new MutationObserver(() => heard.push(region.textContent!.trim())).observe(region, {
      subtree: true,
      childList: true,
      characterData: true,
    });
    await submitJob(m);
    await reach(m.el, "completed");
    expect(heard.filter(Boolean)).toEqual([
      "Photo ready.",
      "Queued.",
      "25% done.",
      "50% done.",
      "75% done.",
      "Your video is ready.",
    ]);
  });

  it("marks the error with role=alert", async () => {
    const api = new FakeStillMotionApi().failNext(
      503,
      { message: "Down." },
      { method: "POST", path: /^\/v1\/videos$/, times: 2 },
    );
    const m = await mount({ api });
    await submitJob(m);
    await reach(m.el, "failed");
    expect(m.root.querySelector("[role=alert]")?.textContent).toContain("having trouble");
    expect(m.root.querySelector("[aria-live=polite]")?.textContent?.trim()).toBe(
      "The video could not be made.",
    );
  });
});
