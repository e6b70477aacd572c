/**
 * Keeps prompts out of the logs. A prompt is personal data (the review found a child's name and
 * address in a log line), and it reaches log text in pieces an exact match misses: an upstream
 * quotes it back with its newlines collapsed, cut at 200 characters, or in different case.
 *
 * So matching is by words, not characters: every run of three consecutive words of a known
 * prompt (fewer for a shorter prompt) is masked wherever it appears, whatever the whitespace
 * and case between them. Words that identify on their own — a name or place (capitalised
 * inside a sentence) and anything with a digit (a house number, a date) — are masked alone too,
 * so a quote of one or two words does not carry them out. Log text is read with JSON string
 * escapes decoded (`\u00e9`, `\n`), since upstream bodies are often logged as raw JSON.
 * Prompts become known when this isolate handles them (a create, a remix, a refresh of a stored
 * job), and the last MAX_PROMPTS are kept; masking a prompt of another request too costs
 * nothing: over-masking loses a word of a log line, under-masking leaks a person's data.
 * The owner may opt out with `LOG_PROMPTS=on`.
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
  for (const word of identifyingWords(prompt)) own.add(word);
  for (const run of own) runs.set(run, (runs.get(run) ?? 0) + 1);
  known.set(prompt, [...own]);
  if (known.size > MAX_PROMPTS) forget(known.keys().next().value!);
}

/**
 * The prompt's words that identify someone on their own: with a digit (two characters or
 * more), or capitalised where a sentence does not start (three letters or more, so "I" and
 * "TV" stay readable). A sentence's first word is left out: "The" would mask every "the".
 */
function identifyingWords(prompt: string): string[] {
  const text = prompt.normalize("NFKC").replace(/\p{Default_Ignorable_Code_Point}/gu, "");
  const found: string[] = [];
  let sentenceStart = true;
  for (const match of text.matchAll(/[\p{L}\p{N}\p{M}]+|[.!?;:\n]/gu)) {
    const word = match[0];
    if (/^[.!?;:\n]$/.test(word)) {
      sentenceStart = true;
      continue;
    }
    const digit = /\p{N}/u.test(word) && word.length >= 2;
    const proper = !sentenceStart && /^\p{Lu}/u.test(word) && word.length >= 3;
    if (digit || proper) found.push(...wordsOf(word));
    sentenceStart = false;
  }
  return found;
}

function forget(prompt: string): void {
  for (const run of known.get(prompt) ?? []) {
    const left = (runs.get(run) ?? 1) - 1;
    if (left > 0) runs.set(run, left);
    else runs.delete(run);
  }
  known.delete(prompt);
}

const WORD_OR_ESCAPE =
  /\\[nrtbf"\\/]|((?:\\u[0-9a-fA-F]{4}|[\p{L}\p{N}\p{M}\p{Default_Ignorable_Code_Point}])+)/gu;

const unescapeJson = (word: string): string =>
  word.includes("\\u")
    ? word.replace(/\\u([0-9a-fA-F]{4})/g, (_, hex: string) =>
        String.fromCharCode(parseInt(hex, 16)),
      )
    : word;

/** `text` with every stretch that quotes a known prompt replaced by `[prompt]`. */
export function maskPrompts(text: string): string {
  if (logPrompts || runs.size === 0) return text;
  // Word spans with their positions in the original text. A JSON escape is part of a word
  // (`\u00e9` is é) or a break between words (`\n`), never the letters it is spelled with.
  const spans: Array<{ word: string; start: number; end: number }> = [];
  for (const match of text.matchAll(WORD_OR_ESCAPE)) {
    if (match[1] === undefined) continue;
    for (const word of wordsOf(unescapeJson(match[1]))) {
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
