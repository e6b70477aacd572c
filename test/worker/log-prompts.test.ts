/**
 * Prompts never reach a log line, whichever way an upstream quotes them back: collapsed
 * whitespace, another case, cut short, inside JSON — unless the owner opts in (LOG_PROMPTS=on).
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { log } from "../../worker/log";
import { maskPrompts, rememberPrompt, setLogPrompts } from "../../worker/log-prompts";

const PROMPT =
  "Maria  Example (age 7)\nwaves from her balcony at 12 Quiet Lane,\tSpringfield, as the sun sets " +
  "behind the hills and a dog runs past the gate; ".repeat(6);

/** Every run of three words of `prompt`, as a reader would spot it. */
function runsOf(prompt: string): string[] {
  const words = prompt
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
  return words.slice(0, -2).map((_, i) => words.slice(i, i + 3).join(" "));
}

const wordsOf = (text: string) =>
  text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean)
    .join(" ");

afterEach(() => {
  setLogPrompts(false);
  vi.restoreAllMocks();
});

describe("prompts in logs", () => {
  it.each([
    ["verbatim", (p: string) => `refused: ${p}`],
    ["whitespace collapsed", (p: string) => `refused: ${p.replace(/\s+/g, " ")}`],
    ["upper-cased", (p: string) => `REFUSED: ${p.toUpperCase()}`],
    ["cut at 200 characters", (p: string) => `refused: ${p.replace(/\s+/g, " ").slice(0, 200)}…`],
    ["in JSON", (p: string) => JSON.stringify({ error: { message: `bad prompt "${p}"` } })],
    ["a middle stretch", (p: string) => `…balcony at 12 Quiet Lane, Springfield…`],
  ])("are masked when an upstream quotes one %s", (_, quote) => {
    rememberPrompt(PROMPT);
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    log("warn", "provider_refused", { detail: quote(PROMPT), kind: "input_rejected" });
    const text = wordsOf(lines.join("\n"));
    const leaked = runsOf(PROMPT).filter((run) => text.includes(run));
    expect(leaked).toEqual([]);
    expect(lines[0]).toContain("[prompt]");
    expect(JSON.parse(lines[0]!).kind).toBe("input_rejected");
  });

  it("are masked however the upstream spells them: fullwidth, decomposed, soft hyphens", () => {
    rememberPrompt("Zoë waves from the balcony");
    for (const quote of [
      "Ｚｏë ｗａｖｅｓ ｆｒｏｍ ｔｈｅ balcony", // fullwidth
      "Zoe\u0308 waves from the balcony", // decomposed ë
      "Zoë wa\u00adves from the bal\u00adcony", // soft hyphens
    ]) {
      expect(wordsOf(maskPrompts(quote))).not.toContain("waves from the");
    }
  });

  it("are masked inside JSON text with string escapes", () => {
    rememberPrompt("Zoë waves\nfrom the balcony");
    // An upstream body logged raw: é as \u00eb, the newline as \n, a slash as \/.
    const raw = String.raw`{"error":"refused: Zo\u00eb waves\nfrom the balcony\/roof"}`;
    const masked = maskPrompts(raw);
    expect(masked).toContain("[prompt]");
    expect(wordsOf(JSON.parse(masked).error)).not.toMatch(/waves|balcony|zo/);
    expect(JSON.parse(masked).error).toMatch(/^refused: /);
  });

  it("mask a name, a place or a number even when only it is quoted", () => {
    rememberPrompt("My daughter Emma waves from 12 Quiet Lane in Springfield at dusk");
    for (const quote of ["unsafe name: Emma", "EMMA", "house 12", "in springfield", "Lane?"]) {
      expect(maskPrompts(quote)).toContain("[prompt]");
    }
    // A sentence's first word and short common words stay readable.
    expect(maskPrompts("My request in time at dusk")).toBe("My request in time at dusk");
  });

  it("leave other text alone, and a short prompt's common words too", () => {
    rememberPrompt("a cat");
    expect(maskPrompts("a dog saw a cat on the mat")).toBe("a dog saw [prompt] on the mat");
    expect(maskPrompts("HTTP 500: upstream timeout")).toBe("HTTP 500: upstream timeout");
  });

  it("are kept when the owner opts in with LOG_PROMPTS=on", () => {
    setLogPrompts(true);
    rememberPrompt("the owner wants this prompt logged");
    expect(maskPrompts("quoted: the owner wants this prompt logged")).toBe(
      "quoted: the owner wants this prompt logged",
    );
  });
});
