/**
 * The one redaction rule (worker/redact.ts) on its own: no run of four or more characters of a
 * configured secret's body survives, whatever its case or however it is cut; the well-known
 * kind prefix may stay. test/worker/security/secrets-hygiene.test.ts checks that the deployment
 * applies it to every response and log line.
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import { log } from "../../worker/log";
import { sanitizeUpstreamText } from "../../worker/providers/kit/sanitize";
import { Redactor, redactSecrets, registerSecrets } from "../../worker/redact";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/**
 * A key in the shape providers issue: a kind prefix and a random-looking body. Seeded (xorshift),
 * so a run is repeatable: a truly random body could, once in a long while, share four letters
 * with the surrounding text and make an assertion about that text flaky.
 */
let seed = 0x2545f491;
function randomKey(prefix: string, length = 40): string {
  let body = "";
  for (let i = 0; i < length; i++) {
    seed ^= seed << 13;
    seed ^= seed >>> 17;
    seed ^= seed << 5;
    body += ALPHABET[(seed >>> 0) % ALPHABET.length];
  }
  return prefix + body;
}

/** Every slice of `body` of `min` characters or more. */
function slicesOf(body: string, min = 4): string[] {
  const out: string[] = [];
  for (let length = min; length <= body.length; length++) {
    for (let i = 0; i + length <= body.length; i++) out.push(body.slice(i, i + length));
  }
  return out;
}

describe("Redactor", () => {
  for (const prefix of ["sk-proj-", "sk-", "r8_", "key_", "whsec_", ""]) {
    it(`masks every slice of four or more characters of a ${prefix || "bare"} key, and keeps the prefix`, () => {
      const key = randomKey(prefix);
      const body = key.slice(prefix.length);
      const redactor = new Redactor([key]);
      for (const slice of slicesOf(body)) {
        const text = `upstream said: key ${prefix}${slice}… is not valid`;
        const out = redactor.redact(text);
        expect(out, `key ${key}, slice ${slice}`).not.toContain(slice);
        expect(out).toContain("[redacted]");
        expect(out.startsWith("upstream said: key ")).toBe(true);
        if (prefix) expect(out).toContain(`${prefix}[redacted]`);
      }
    });
  }

  it("catches a slice in any case, and with the key cut at both ends", () => {
    const key = randomKey("sk-");
    const middle = key.slice(10, 21);
    const redactor = new Redactor([key]);
    for (const variant of [middle, middle.toUpperCase(), middle.toLowerCase()]) {
      expect(redactor.redact(`…${variant}…`)).toBe("…[redacted]…");
    }
  });

  it("masks a run that spans two secrets as one [redacted], and leaves other text alone", () => {
    const a = randomKey("r8_", 24);
    const b = randomKey("key_", 24);
    const text = `first ${a.slice(5, 15)}${b.slice(8, 14)} then ordinary words`;
    expect(redactSecrets(text, [a, b])).toBe("first [redacted] then ordinary words");
    expect(redactSecrets("nothing secret here", [a, b])).toBe("nothing secret here");
  });

  it("leaves three characters alone: shorter runs are not a key", () => {
    const key = "sk-Zq9Xw2Ec9Rv4Tb6Yn1Um";
    expect(redactSecrets("Zq9 and Yn1", [key])).toBe("Zq9 and Yn1");
  });

  it("does nothing without secrets", () => {
    expect(new Redactor().redact("sk-anything-at-all")).toBe("sk-anything-at-all");
  });
});

describe("sanitizeUpstreamText", () => {
  it("applies the rule to upstream text, however the key is cut", () => {
    const key = randomKey("sk-proj-");
    const body = key.slice("sk-proj-".length);
    const quoted = `Incorrect API key provided: ${body.slice(0, 4)}***${body.slice(-6)}.`;
    const out = sanitizeUpstreamText(quoted, [key]);
    expect(out).not.toContain(body.slice(0, 4));
    expect(out).not.toContain(body.slice(-6));
    expect(out).toMatch(/^Incorrect API key provided: /);
  });
});

describe("log", () => {
  afterEach(() => vi.restoreAllMocks());

  it("masks registered secrets in free-text fields and writes our own fields as they are", () => {
    const key = randomKey("sk-");
    registerSecrets([key]);
    const lines: string[] = [];
    vi.spyOn(console, "warn").mockImplementation((line: string) => void lines.push(line));
    log("warn", "provider_error", {
      route: "relay",
      kind: "auth_failed",
      detail: `upstream quoted ${key.slice(3, 9)} and ${key.slice(-6)}`,
      nested: { reason: [key.slice(12, 20)] },
    });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({ level: "warn", event: "provider_error", route: "relay" });
    expect(line.detail).toBe("upstream quoted [redacted] and [redacted]");
    expect(line.nested).toEqual({ reason: ["[redacted]"] });
    for (const slice of [key.slice(3, 9), key.slice(-6), key.slice(12, 20)]) {
      expect(lines[0]).not.toContain(slice);
    }
  });
});
