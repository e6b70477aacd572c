/** `<still-motion>` in English and Simplified Chinese, with owner overrides. */
import { afterEach, describe, expect, it } from "vitest";
import { format, resolveLocale, stringsFor } from "../../widget/i18n";
import { en } from "../../widget/locales/en";
import { zhCN } from "../../widget/locales/zh-CN";
import { button, choosePhoto, mount, text } from "./helpers/mount";

describe("i18n", () => {
  it("reads zh, zh-CN and zh-Hans as Simplified Chinese and anything else as English", () => {
    for (const tag of ["zh", "zh-CN", "zh-cn", "zh-Hans", "zh-Hans-CN", "zh_CN", "zh-SG"]) {
      expect(resolveLocale(tag), tag).toBe("zh-CN");
    }
    for (const tag of ["", "en", "en-GB", "fr", "zh-TW", "zh-Hant", "zh-HK", null, undefined]) {
      expect(resolveLocale(tag), String(tag)).toBe("en");
    }
  });

  it("has the same keys and placeholders in both locales", () => {
    expect(Object.keys(zhCN).sort()).toEqual(Object.keys(en).sort());
    const placeholders = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort();
    for (const key of Object.keys(en) as (keyof typeof en)[]) {
      expect(placeholders(zhCN[key]), key).toEqual(placeholders(en[key]));
    }
  });

  it("fills placeholders and leaves unknown ones visible", () => {
    expect(format("{percent}% done, {x}", { percent: 50 })).toBe("50% done, {x}");
  });

  it("applies overrides but ignores unknown keys and empty strings", () => {
    const t = stringsFor("en", { submit: "Go", cancel: "", nope: "x" } as never);
    expect(t.submit).toBe("Go");
    expect(t.cancel).toBe("Cancel");
    expect("nope" in t).toBe(false);
  });
});

describe("<still-motion> languages", () => {
  const pageLang = document.documentElement.lang;
  afterEach(() => {
    document.documentElement.lang = pageLang;
  });

  it('renders Chinese with lang="zh-CN"', async () => {
    const m = await mount({ attrs: { lang: "zh-CN" } });
    expect(button(m, "dropzone").textContent).toContain("把照片拖到这里");
    await choosePhoto(m);
    expect(button(m, "submit").textContent?.trim()).toBe("生成视频");
    expect(text(m)).toContain("缓慢推进");
  });

  it("renders English by default", async () => {
    document.documentElement.lang = "en";
    const m = await mount();
    await choosePhoto(m);
    expect(button(m, "submit").textContent?.trim()).toBe("Make the video");
  });

  it("follows the page's <html lang> when it has no lang of its own, also when it changes", async () => {
    document.documentElement.lang = "zh-Hans";
    const m = await mount();
    expect(button(m, "dropzone").textContent).toContain("把照片拖到这里");
    document.documentElement.lang = "en";
    await expect.poll(() => button(m, "dropzone").textContent).toContain("Drop a photo here");
  });

  it("lets the owner override any string", async () => {
    const m = await mount({
      props: { strings: { submit: "Bring it to life" } },
      attrs: { lang: "zh-CN" },
    });
    await choosePhoto(m);
    expect(button(m, "submit").textContent?.trim()).toBe("Bring it to life");
    expect(text(m)).toContain("缓慢推进"); // the rest stays Chinese
  });
});
