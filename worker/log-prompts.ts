/**
 * Keeps prompts out of the logs. A prompt is personal data (the review found a child's name and
 * address in a log line), and it reaches log text in pieces an exact match misses: an upstream
 * quotes it back with its newlines collapsed, cut at 200 characters, or in different case.
 *
 * So matching is by words, not characters: every run of three consecutive words of a known
 * prompt (fewer for a shorter prompt) is masked wherever it appears, whatever the whitespace
 * and case between them. Prompts become known when this isolate handles them (a create, a
 * remix, a refresh of a stored job), and the last MAX_PROMPTS are kept; masking a prompt of
 * another request too costs nothing. The owner may opt out with `LOG_PROMPTS=on`.
 */

const MAX_PROMPTS = 500;
const RUN = 3;
const MASK = "[prompt]";

/** Words as compared: lowercase letters and digits of every script, punctuation dropped. */
const wordsOf = (text: string): string[] =>
  normalized(text)
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);

/**
 * Compatibility forms folded (NFKC: fullwidth, ligatures, composed accents) and invisible
 * characters dropped (a soft hyphen an upstream removed), so a quote matches however it is
 * spelled. Applied to prompts and to log text alike, word by word.
 */
const normalized = (text: string): string =>
  text
    .normalize("NFKC")
    .replace(/\p{Default_Ignorable_Code_Point}/gu, "")
    .toLowerCase();

const known = new Map<string, string[]>(); // prompt → its runs, in insertion (LRU) order
const runs = new Map<string, number>(); // run → how many known prompts contain it
let logPrompts = false;

/** The owner's choice (`LOG_PROMPTS=on`): prompts are then left in log text as they come. */
export function setLogPrompts(on: boolean): void {
  logPrompts = on;
}

/** Remembers a prompt so that any log line quoting it is masked. Cheap to call again. */
export function rememberPrompt(prompt: string): void {
  if (logPrompts || !prompt) return;
  const seen = known.get(prompt);
  if (seen) {
    known.delete(prompt);
    known.set(prompt, seen);
    return;
  }
  const words = wordsOf(prompt);
  const size = Math.min(RUN, words.length);
  const own = new Set<string>();
  for (let i = 0; size > 0 && i + size <= words.length; i++) {
    const run = words.slice(i, i + size).join(" ");
    // A lone short word ("a", "ok") would mask half the log.
    if (size < RUN && run.length < 4) continue;
    own.add(run);
  }
  for (const run of own) runs.set(run, (runs.get(run) ?? 0) + 1);
  known.set(prompt, [...own]);
  if (known.size > MAX_PROMPTS) forget(known.keys().next().value!);
}

function forget(prompt: string): void {
  for (const run of known.get(prompt) ?? []) {
    const left = (runs.get(run) ?? 1) - 1;
    if (left > 0) runs.set(run, left);
    else runs.delete(run);
  }
  known.delete(prompt);
}

/** `text` with every stretch that quotes a known prompt replaced by `[prompt]`. */
export function maskPrompts(text: string): string {
  if (logPrompts || runs.size === 0) return text;
  // Word spans with their positions in the original text.
  const spans: Array<{ word: string; start: number; end: number }> = [];
  for (const match of text.matchAll(/[\p{L}\p{N}\p{M}\p{Default_Ignorable_Code_Point}]+/gu)) {
    for (const word of wordsOf(match[0])) {
      spans.push({ word, start: match.index, end: match.index + match[0].length });
    }
  }
  const masked = new Uint8Array(spans.length);
  for (let size = 1; size <= RUN; size++) {
    for (let i = 0; i + size <= spans.length; i++) {
      const run = spans
        .slice(i, i + size)
        .map((s) => s.word)
        .join(" ");
      if (runs.has(run)) masked.fill(1, i, i + size);
    }
  }
  if (!masked.includes(1)) return text;
  let out = "";
  let at = 0;
  for (let i = 0; i < spans.length; i++) {
    if (!masked[i]) continue;
    let j = i;
    while (j + 1 < spans.length && masked[j + 1]) j++;
    out += text.slice(at, spans[i]!.start) + MASK;
    at = spans[j]!.end;
    i = j;
  }
  return out + text.slice(at);
}
