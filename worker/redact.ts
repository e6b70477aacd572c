/**
 * The one redaction rule for secrets, used on upstream text before anyone sees it and on every
 * log line: no run of four or more characters of a configured secret survives, beyond the
 * well-known prefix that says what kind of key it is (`sk-`, `r8_`, `key_`, `whsec_`…).
 *
 * Why four-character windows: upstreams quote keys in part ("sk-abc…wxyz1234"), and the first
 * rule here (whole secret, then 8-character windows) let an 11-character slice through. Every
 * 4-gram of the secret's body is looked for, case-insensitively, and each character covered by
 * one is masked; a run of masked characters becomes one `[redacted]`. The cost of a false
 * positive (four letters of ordinary text that happen to occur in a key) is a less readable
 * message, which is the right side to err on.
 */

/** Prefixes that name a key's kind, longest first; publishing them gives nothing away. */
const KNOWN_PREFIXES = [
  "sk-or-v1-",
  "sk-proj-",
  "sk-svcacct-",
  "sk-admin-",
  "sk-ant-",
  "sk-",
  "r8_",
  "key_",
  "whsec_",
  "AIza",
];
const WINDOW = 4;
const MASK = "[redacted]";

/** The part of a secret that is secret: what follows a known prefix. */
function secretBody(secret: string): string {
  const prefix = KNOWN_PREFIXES.find((p) => secret.startsWith(p) && secret.length > p.length);
  return prefix ? secret.slice(prefix.length) : secret;
}

/** Lowercased 4-grams of a secret's body; empty when it is too short to leak in parts. */
function windowsOf(secret: string): Set<string> {
  const body = secretBody(secret).toLowerCase();
  const windows = new Set<string>();
  for (let i = 0; i + WINDOW <= body.length; i++) windows.add(body.slice(i, i + WINDOW));
  return windows;
}

/** A compiled rule for a set of secrets: build once, apply to many texts. */
export class Redactor {
  private readonly windows = new Set<string>();

  constructor(secrets: Iterable<string> = []) {
    this.add(secrets);
  }

  add(secrets: Iterable<string>): void {
    for (const secret of secrets) for (const w of windowsOf(secret)) this.windows.add(w);
  }

  get empty(): boolean {
    return this.windows.size === 0;
  }

  /** `text` with every stretch of any secret's body (four characters or more) masked. */
  redact(text: string): string {
    if (this.windows.size === 0 || text.length < WINDOW) return text;
    const lower = text.toLowerCase();
    let masked: Uint8Array | null = null;
    for (let i = 0; i + WINDOW <= lower.length; i++) {
      if (!this.windows.has(lower.slice(i, i + WINDOW))) continue;
      masked ??= new Uint8Array(text.length);
      masked.fill(1, i, i + WINDOW);
    }
    if (!masked) return text;
    let out = "";
    for (let i = 0; i < text.length; i++) {
      if (!masked[i]) out += text[i];
      else if (i === 0 || !masked[i - 1]) out += MASK;
    }
    return out;
  }
}

/** Redacts `secrets` from `text` (a one-off; build a `Redactor` for repeated use). */
export function redactSecrets(text: string, secrets: readonly string[]): string {
  return new Redactor(secrets).redact(text);
}

/**
 * The deployment's secrets, registered when the configuration is read, so log lines can be
 * redacted without every caller knowing the keys. Per isolate, like the configuration cache.
 */
const registered = new Redactor();
const seen = new Set<string>();

export function registerSecrets(secrets: Iterable<string>): void {
  const fresh = [...secrets].filter((s) => s && !seen.has(s));
  for (const s of fresh) seen.add(s);
  registered.add(fresh);
}

/** Every string inside `value` (objects and arrays walked) with the registered secrets masked. */
export function redactRegistered<T>(value: T, depth = 0): T {
  if (registered.empty) return value;
  if (typeof value === "string") return registered.redact(value) as T;
  if (depth > 8 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((v) => redactRegistered(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactRegistered(v, depth + 1);
  return out as T;
}
