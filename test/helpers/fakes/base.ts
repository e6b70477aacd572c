/**
 * What every contract fake shares (one per provider in this folder): the requests it saw, the
 * contract violations it recorded, the queue of scripted answers a test sets up, and the byte
 * helpers fake media and images are made with. A fake extends `ContractFake` and keeps only what
 * is its provider's own: routes, auth, envelopes, lifecycles.
 *
 * Violations are recorded *and* thrown: retrying code may swallow the throw, so tests also call
 * `assertClean()`.
 */

export class ContractViolation extends Error {
  override readonly name = "ContractViolation";
}

/** The part of a scripted answer the base needs; each fake adds how it matches requests. */
export interface ScriptedBase<R> {
  /** How many matching requests get this answer (default 1). */
  times?: number;
  respond: (request: R) => Response | Promise<Response>;
}

export abstract class ContractFake<R, A extends ScriptedBase<R>> {
  readonly requests: R[] = [];
  readonly violations: string[] = [];
  private readonly scripts: Array<A & { left: number }> = [];

  /** `matches` says whether a scripted answer applies to a recorded request. */
  constructor(private readonly matches: (answer: A, request: R) => boolean) {}

  /** The next matching request(s) get this answer (after the contract checks pass). */
  script(answer: A): this {
    this.scripts.push({ ...answer, left: answer.times ?? 1 });
    return this;
  }

  /** Fails the test when any request broke the contract, even if the adapter swallowed it. */
  assertClean(): void {
    if (this.violations.length > 0) {
      throw new ContractViolation(`Contract violations: ${this.violations.join("; ")}`);
    }
  }

  /** The first scripted answer for `request`, used up by one; undefined when none applies. */
  protected scripted(request: R): A | undefined {
    const answer = this.scripts.find((s) => s.left > 0 && this.matches(s, request));
    if (answer) answer.left--;
    return answer;
  }
}

export function patternBytes(length: number): Uint8Array {
  return Uint8Array.from({ length }, (_, i) => (i * 7 + 3) % 251);
}

/** Type and dimensions from PNG, JPEG or WebP headers; null for anything else. */
export function imageInfo(b: Uint8Array): { type: string; width: number; height: number } | null {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const ascii = (at: number, n: number) => String.fromCharCode(...b.subarray(at, at + n));
  if (b.length >= 24 && b[0] === 0x89 && ascii(1, 3) === "PNG") {
    return { type: "image/png", width: view.getUint32(16), height: view.getUint32(20) };
  }
  if (b.length >= 30 && ascii(0, 4) === "RIFF" && ascii(8, 4) === "WEBP") {
    const u24 = (at: number) => b[at]! | (b[at + 1]! << 8) | (b[at + 2]! << 16);
    const chunk = ascii(12, 4);
    if (chunk === "VP8X") return { type: "image/webp", width: u24(24) + 1, height: u24(27) + 1 };
    if (chunk === "VP8 ") {
      return {
        type: "image/webp",
        width: view.getUint16(26, true) & 0x3fff,
        height: view.getUint16(28, true) & 0x3fff,
      };
    }
    return null;
  }
  if (b[0] === 0xff && b[1] === 0xd8) {
    // Walk the segments to the first start-of-frame marker (SOF0–SOF15 except DHT/JPG/DAC).
    for (let i = 2; i + 9 < b.length; i += 2 + view.getUint16(i + 2)) {
      if (b[i] !== 0xff) return null;
      const marker = b[i + 1]!;
      if (marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker)) {
        return { type: "image/jpeg", height: view.getUint16(i + 5), width: view.getUint16(i + 7) };
      }
    }
  }
  return null;
}
