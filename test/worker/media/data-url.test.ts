import { describe, expect, it } from "vitest";
import { decodeDataUrl, parseJsonWithDataUrl } from "../../../worker/media/data-url";

const PATH = ["input_reference", "image_url"] as const;
const bytes = Uint8Array.from({ length: 300 }, (_, i) => (i * 37 + 11) & 0xff);
const base64 = (data: Uint8Array) => btoa(String.fromCharCode(...data));
const b64 = base64(bytes);
const url = `data:image/png;base64,${b64}`;

/** The decoder before the header was matched by hand: the reference for every header below. */
const HEADER = /^data:[\w.+-]+\/[\w.+-]+;base64,$/;

/** What workerd's `Uint8Array.fromBase64` says, which the sized decoder must always agree with. */
function fromBase64(text: string): Uint8Array | "throws" {
  try {
    return (Uint8Array as unknown as { fromBase64: (text: string) => Uint8Array }).fromBase64(text);
  } catch {
    return "throws";
  }
}

describe("decodeDataUrl", () => {
  it("decodes a base64 data: URL to its bytes", () => {
    expect(decodeDataUrl(url)).toEqual({ ok: true, bytes });
  });

  it("judges the header exactly as the RegExp it replaces", () => {
    const headers = [
      "data:image/png;base64,",
      "data:image/svg+xml;base64,",
      "data:image/vnd.ms-photo_1;base64,",
      "data:a/b;base64,",
      "data:/png;base64,",
      "data:image/;base64,",
      "data:image;base64,",
      "data:image/png/x;base64,",
      "data:image/png;charset=utf-8;base64,",
      "data:image/png;BASE64,",
      "DATA:image/png;base64,",
      "data:ima ge/png;base64,",
      "data:imäge/png;base64,",
      "data:image/png;base64;base64,",
      "data:image/png,",
      "xdata:image/png;base64,",
      "data:image/png ;base64,",
      "data:;base64,",
      "data:image/png;base64:",
      `data:image/${"x".repeat(120)};base64,`,
      `data:image/${"x".repeat(100)};base64,`,
    ];
    for (const header of headers) {
      const expected = HEADER.test(header) && header.length <= 128;
      const decoded = decodeDataUrl(`${header}${b64}`);
      expect({ header, accepted: decoded.ok }).toEqual({ header, accepted: expected });
      if (!decoded.ok) expect(decoded.reason).toBe("not_base64_data_url");
    }
  });

  it("finds no header when the first slash comes after the comma", () => {
    expect(decodeDataUrl("data:image;base64,ab/c")).toEqual({
      ok: false,
      reason: "not_base64_data_url",
    });
    expect(decodeDataUrl("https://example.com/a.png")).toEqual({
      ok: false,
      reason: "not_base64_data_url",
    });
  });

  it("gives exactly what Uint8Array.fromBase64 gives, bytes and refusals", () => {
    const bodies = [
      "AAAA",
      "AAE=",
      "AQ==",
      "AQ",
      "AQI",
      " AQID ",
      "AQ ID\nBA==",
      "AQIDBA==\n",
      "AQIDBA== \t",
      "\fAQID\r",
      "AAAA=",
      "AA=",
      "A",
      "AAA=A",
      "AA==AA==",
      "AQID-_",
      "AQID!",
      "AQ\u00a0ID",
      b64,
      `${b64.slice(0, 100)} \n ${b64.slice(100)}`,
    ];
    for (const body of bodies) {
      const reference = fromBase64(body);
      const decoded = decodeDataUrl(`data:image/png;base64,${body}`);
      if (reference === "throws" || reference.byteLength === 0) {
        expect({ body, decoded }).toEqual({
          body,
          decoded: { ok: false, reason: "invalid_base64" },
        });
      } else {
        expect({ body, decoded }).toEqual({ body, decoded: { ok: true, bytes: reference } });
        if (decoded.ok) expect(decoded.bytes.buffer.byteLength).toBe(reference.byteLength);
      }
    }
  });

  it("refuses an empty payload", () => {
    expect(decodeDataUrl("data:image/png;base64,")).toEqual({
      ok: false,
      reason: "invalid_base64",
    });
  });
});

/**
 * Either the shortcut's answer is JSON.parse's (same value, same key order, same URL and the
 * URL's bytes), or it declines; `fast` says which one a body must get.
 */
function expectSameAsJsonParse(text: string, fast: boolean) {
  const lifted = parseJsonWithDataUrl(text, PATH);
  expect({ text: text.slice(0, 120), fast: lifted !== null }).toEqual({
    text: text.slice(0, 120),
    fast,
  });
  if (!lifted) return;
  const parsed = JSON.parse(text) as { input_reference: { image_url: string } };
  expect(lifted.body).toEqual(parsed);
  expect(JSON.stringify(lifted.body)).toBe(JSON.stringify(parsed));
  expect(lifted.url).toBe(parsed.input_reference.image_url);
  expect(decodeDataUrl(lifted.url)).toEqual({ ok: true, bytes: lifted.bytes });
}

describe("parseJsonWithDataUrl", () => {
  it("lifts the data: URL out of the bodies clients send", () => {
    const body = { prompt: "a slow dolly in", input_reference: { image_url: url } };
    expectSameAsJsonParse(JSON.stringify(body), true);
    expectSameAsJsonParse(JSON.stringify(body, null, 2), true);
    expectSameAsJsonParse(JSON.stringify(body, null, "\t"), true);
    expectSameAsJsonParse(
      `\r\n{ "input_reference" :\n\t{ "image_url"\r\n :  "${url}" } , "size": "720x1280" }\n`,
      true,
    );
  });

  it("keeps escapes elsewhere in the body, which JSON.parse reads as usual", () => {
    expectSameAsJsonParse(
      JSON.stringify({
        prompt: 'say "cheese"\n\\ caf\u00e9 \u2028 🎥',
        input_reference: { image_url: url },
        seconds: "4",
      }),
      true,
    );
    expectSameAsJsonParse(
      `{"prompt":"\\u0061 \\/ \\"image_url\\": \\"x\\"","input_reference":{"image_url":"${url}"}}`,
      true,
    );
  });

  it("leaves a data: URL with JSON escapes in it to JSON.parse", () => {
    expectSameAsJsonParse(
      `{"input_reference":{"image_url":"${url.replaceAll("/", "\\/")}"}}`,
      false,
    );
    expectSameAsJsonParse(
      `{"input_reference":{"image_url":"${url.replace("A", "\\u0041")}"}}`,
      false,
    );
    expectSameAsJsonParse(`{"input_reference":{"image_url":"${url}\\n"}}`, false);
    expectSameAsJsonParse(`{"input_reference":{"image_url":"${url}\\""}}`, false);
  });

  it("declines raw control characters in the URL, which make the body invalid JSON", () => {
    for (const control of ["\n", "\t", "\r", "\f"]) {
      const text = `{"input_reference":{"image_url":"${url.slice(0, 40)}${control}${url.slice(40)}"}}`;
      expect(() => JSON.parse(text)).toThrow();
      expectSameAsJsonParse(text, false);
    }
  });

  it("keeps a space in the base64, which JSON allows and base64 skips", () => {
    expectSameAsJsonParse(
      `{"input_reference":{"image_url":"${url.slice(0, 40)} ${url.slice(40)}"}}`,
      true,
    );
  });

  it("declines when JSON.parse would keep another value (duplicate keys)", () => {
    const other = `data:image/png;base64,${base64(bytes.subarray(0, 30))}`;
    const cases = [
      `{"input_reference":{"image_url":"${url}"},"input_reference":{"image_url":"${other}"}}`,
      `{"input_reference":{"image_url":"${url}","image_url":"${other}"}}`,
      `{"input_reference":{"image_url":"${url}"},"input_reference":{"image_url":"https://x.test/a.png"}}`,
      `{"input_reference":{"image_url":"${url}"},"input_reference":null}`,
      `{"image_url":"${url}","input_reference":{"image_url":"${other}"}}`,
    ];
    for (const text of cases) expectSameAsJsonParse(text, false);
  });

  it("is not fooled by a body that spells out its placeholder", () => {
    for (const placeholder of ["dataUrlPlaceholderA", "dataUrlPlaceholderB"]) {
      const spelled = `{"input_reference":{"image_url":"${url}"},"input_reference":{"image_url":"${placeholder}"}}`;
      expectSameAsJsonParse(spelled, false);
      const escaped = `{"input_reference":{"image_url":"${url}"},"input_reference":{"image_url":"\\u0064${placeholder.slice(1)}"}}`;
      expectSameAsJsonParse(escaped, false);
    }
  });

  it("declines a duplicate that JSON.parse resolves to the lifted value too", () => {
    // The first "image_url" is the one lifted; JSON.parse keeps the second, identical or not.
    expectSameAsJsonParse(
      `{"input_reference":{"image_url":"${url}"},"input_reference":{"image_url":"${url}"}}`,
      false,
    );
  });

  it("declines bodies that are not JSON, whatever the data: URL looks like", () => {
    const cases = [
      `{"input_reference":{"image_url":"${url}"}`,
      `{"input_reference":{"image_url":"${url}"}},`,
      `{"input_reference":{"image_url":"${url}"}} x`,
      `{"prompt":"\\"image_url":"${url}"}`,
      `{"prompt":"a""image_url":"${url}"}`,
      `{"input_reference":{"image_url":"${url}",}}`,
      `{input_reference:{"image_url":"${url}"}}`,
      `{"input_reference":{"image_url":"${url}"}}\u0000`,
    ];
    for (const text of cases) {
      expect(() => JSON.parse(text)).toThrow();
      expectSameAsJsonParse(text, false);
    }
  });

  it("declines odd shapes, for JSON.parse and the schema to judge", () => {
    const cases = [
      `[{"input_reference":{"image_url":"${url}"}}]`,
      `{"input_reference":[{"image_url":"${url}"}]}`,
      `{"input_reference":{"nested":{"image_url":"${url}"}}}`,
      `{"other":{"image_url":"${url}"}}`,
      `{"input_reference":{"image_url":["${url}"]}}`,
      `{"input_reference":{"image_url":1}}`,
      `{"input_reference":{"image_url":null}}`,
      `{"input_reference":{"image_url":"https://x.test/a.png"}}`,
      `{"input_reference":{"image_url":"data:image/png;base64,@@@@"}}`,
      `{"input_reference":{"image_url":"data:image/png;base64,"}}`,
      `{"input_reference":{"image_url":"data:image/png,abc"}}`,
      `{"input_reference":{"image\\u005furl":"${url}"}}`,
      `{"input_reference":{"${url}":"image_url"}}`,
      `"image_url"`,
      ``,
    ];
    for (const text of cases) expectSameAsJsonParse(text, false);
  });

  it("reads the data: URL when it comes after the rest", () => {
    expectSameAsJsonParse(
      `{"prompt":"p","size":"720x1280","input_reference":{"image_url":"${url}"}}`,
      true,
    );
  });
});
