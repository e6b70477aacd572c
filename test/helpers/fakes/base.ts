/**
 * What every contract fake shares (one per provider in this folder): the requests it saw, the
 * contract violations it recorded, the queue of scripted answers a test sets up (a failure, a
 * hang, a reset), and the byte helpers fake media and images are made with. A fake extends
 * `ContractFake` and keeps only what is its provider's own: routes, auth, envelopes, lifecycles.
 *
 * Violations are recorded *and* thrown: retrying code may swallow the throw, so tests also call
 * `assertClean()`.
 */

export class ContractViolation extends Error {
  override readonly name = "ContractViolation";
}

/** What every fake records of a request; each fake adds its parsed body. */
export interface RecordedBase {
  method: string;
  url: URL;
  headers: Headers;
}

/** The part of a scripted answer the base needs; each fake adds how it matches requests. */
export interface ScriptedBase<R> {
  method?: string;
  /** How many matching requests get this answer (default 1). */
  times?: number;
  respond: (request: R) => Response | Promise<Response>;
}

/** A scripted answer's pattern: a string matches exactly, a RegExp by `test`, none matches all. */
export type Pattern = string | RegExp | undefined;

/**
 * How a fake matches a scripted answer to a request: its method, then `pattern` (the answer's
 * `path` or `url`) against `subject` (the request's path, pathname or full URL).
 */
export interface Matching<R, A> {
  pattern: (answer: A) => Pattern;
  subject: (request: R) => string;
}

export abstract class ContractFake<R extends RecordedBase, A extends ScriptedBase<R>> {
  readonly requests: R[] = [];
  readonly violations: string[] = [];
  /** Hand this to the adapter as its `fetch`. */
  readonly fetch: typeof fetch = (input, init) => this.handle(new Request(input, init));
  private readonly scripts: Array<A & { left: number }> = [];
  private readonly signals = new WeakMap<R, AbortSignal>();

  constructor(private readonly matching: Matching<R, A>) {}

  /** The next matching request(s) get this answer (after the contract checks pass). */
  script(answer: A): this {
    this.scripts.push({ ...answer, left: answer.times ?? 1 });
    return this;
  }

  /** The next matching request(s) never answer: they end only when the caller aborts. */
  hangNext(match = {} as Omit<A, "respond">): this {
    return this.answer(match, (r) => {
      const signal = this.signals.get(r);
      return new Promise<Response>((_, reject) => {
        if (signal?.aborted) return reject(signal.reason);
        signal?.addEventListener("abort", () => reject(signal.reason), { once: true });
      });
    });
  }

  /** The next matching request(s) lose their connection: `fetch` rejects with a TypeError. */
  resetNext(match = {} as Omit<A, "respond">, message = "Network connection lost."): this {
    return this.answer(match, () => Promise.reject(new TypeError(message)));
  }

  /** `script` for the base's own answers: the fake's match fields plus a `respond`. */
  protected answer(match: Omit<A, "respond">, respond: A["respond"]): this {
    return this.script({ ...match, respond } as unknown as A);
  }

  /** Fails the test when any request broke the contract, even if the adapter swallowed it. */
  assertClean(): void {
    if (this.violations.length > 0) {
      throw new ContractViolation(`Contract violations: ${this.violations.join("; ")}`);
    }
  }

  protected abstract handle(request: Request): Promise<Response>;

  /** Records a request (method, URL, a copy of its headers, plus the fake's own fields). */
  protected record(request: Request, fields: Omit<R, keyof RecordedBase>): R {
    const recorded = {
      method: request.method,
      url: new URL(request.url),
      headers: new Headers(request.headers),
      ...fields,
    } as R;
    this.requests.push(recorded);
    this.signals.set(recorded, request.signal);
    return recorded;
  }

  /** The first scripted answer for `request`, used up by one; undefined when none applies. */
  protected scripted(request: R): A | undefined {
    const answer = this.scripts.find((s) => s.left > 0 && this.matches(s, request));
    if (answer) answer.left--;
    return answer;
  }

  /** Records a contract violation and throws it. */
  protected violate(r: R, why: string): never {
    const message = `${r.method} ${this.where(r)}: ${why}`;
    this.violations.push(message);
    throw new ContractViolation(message);
  }

  /** How a violation names the request (default: its path). */
  protected where(r: R): string {
    return r.url.pathname;
  }

  /** `map.get(id)`, for test set-up that must name something the fake made. */
  protected must<V>(map: Map<string, V>, id: string, what: string): V {
    const value = map.get(id);
    if (value === undefined) throw new Error(`The fake has no ${what} ${id}`);
    return value;
  }

  private matches(answer: A, r: R): boolean {
    if (answer.method && answer.method !== r.method) return false;
    const pattern = this.matching.pattern(answer);
    if (typeof pattern === "string") return pattern === this.matching.subject(r);
    return pattern ? pattern.test(this.matching.subject(r)) : true;
  }
}

/** Deterministic bytes standing in for an MP4. */
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
