/**
 * Picks the UI strings for a language tag and fills `{placeholders}`. Only English and
 * Simplified Chinese ship today; anything else falls back to English.
 *
 * English is in the bundle; other locales are separate chunks loaded on first use, so pages in
 * English do not download Chinese strings (the bundle budget is 25 KB gzipped).
 */
import { en, type Strings } from "./locales/en";

export type { Strings } from "./locales/en";
export type Locale = "en" | "zh-CN";

const LOADERS: Record<Exclude<Locale, "en">, () => Promise<Strings>> = {
  "zh-CN": () => import("./locales/zh-CN").then((m) => m.zhCN),
};
const loaded: Partial<Record<Locale, Strings>> = { en };
const loading = new Map<Locale, Promise<void>>();

/**
 * Makes the strings for `lang` available to `stringsFor`. Resolves at once when they already
 * are; a failed load (offline, blocked chunk) leaves English in place rather than failing.
 */
export function ensureLocale(lang: string | null | undefined): Promise<void> {
  const locale = resolveLocale(lang);
  if (locale === "en" || loaded[locale]) return Promise.resolve();
  const pending =
    loading.get(locale) ??
    LOADERS[locale]().then(
      (strings) => void (loaded[locale] = strings),
      () => void loading.delete(locale), // try again next time; English meanwhile
    );
  loading.set(locale, pending);
  return pending;
}

/**
 * `zh`, `zh-CN`, `zh-SG` and any `zh-Hans…` tag read Simplified Chinese. Traditional tags
 * (`zh-TW`, `zh-HK`, `zh-Hant…`) get English rather than a script their readers did not ask for.
 */
export function resolveLocale(lang: string | null | undefined): Locale {
  const tag = (lang ?? "").trim().toLowerCase().replaceAll("_", "-");
  if (tag === "zh" || tag.startsWith("zh-hans")) return "zh-CN";
  if (tag === "zh-cn" || tag === "zh-sg" || tag.startsWith("zh-cn-") || tag.startsWith("zh-sg-"))
    return "zh-CN";
  return "en";
}

/** The locale's strings with the site owner's overrides on top (empty overrides are ignored). */
export function stringsFor(lang: string | null | undefined, overrides?: Partial<Strings>): Strings {
  const base = loaded[resolveLocale(lang)] ?? en;
  if (!overrides) return base;
  const merged = { ...base };
  for (const [key, value] of Object.entries(overrides)) {
    if (key in base && typeof value === "string" && value !== "")
      merged[key as keyof Strings] = value;
  }
  return merged;
}

/** Replaces `{name}` with `values.name`; unknown placeholders stay visible so typos show up. */
export function format(template: string, values: Record<string, string | number>): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in values ? String(values[name]) : whole,
  );
}

/** "1:05" style clock for elapsed time. */
export function formatClock(ms: number): string {
  const total = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return `${minutes}:${String(seconds).padStart(2, "0")}`;
}

/** "in 30 seconds" / "in 2 minutes" / "30秒后", in the reader's language. */
export function formatRelative(seconds: number, lang: string): string {
  const rtf = new Intl.RelativeTimeFormat(resolveLocale(lang), { numeric: "always" });
  if (seconds < 90) return rtf.format(Math.max(1, Math.ceil(seconds)), "second");
  if (seconds < 90 * 60) return rtf.format(Math.ceil(seconds / 60), "minute");
  return rtf.format(Math.ceil(seconds / 3600), "hour");
}

/** A duration without "in": "45 seconds", "2 minutes". */
export function formatDuration(seconds: number, lang: string): string {
  const locale = resolveLocale(lang);
  const unit = seconds < 90 ? "second" : "minute";
  const value = unit === "second" ? Math.max(1, Math.ceil(seconds)) : Math.ceil(seconds / 60);
  return new Intl.NumberFormat(locale, { style: "unit", unit, unitDisplay: "long" }).format(value);
}

/** USD with cents, in the reader's number format. */
export function formatPrice(usd: number, lang: string): string {
  return new Intl.NumberFormat(resolveLocale(lang), { style: "currency", currency: "USD" }).format(
    usd,
  );
}
