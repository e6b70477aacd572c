/**
 * An esbuild plugin that shrinks the text inside Lit's css`…` and html`…` templates, which
 * minifiers leave untouched (they are string literals). Only the static parts between `${…}`
 * are changed, and only in ways the browser cannot tell apart:
 * - CSS: comments go, whitespace runs become one space, spaces around { } ; , > and after a
 *   colon or "(" and before ")" disappear (none of them is a descendant combinator);
 * - HTML: a whitespace run that contains a newline (indentation) becomes one space — HTML
 *   collapses such runs anyway — and the space between two tags goes.
 */
import { readFile } from "node:fs/promises";

const TEMPLATE = /\b(css|html)`((?:[^`\\]|\\.)*)`/gs;

export function minifyCss(text) {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, "")
    .replace(/\s+/g, " ")
    .replace(/\s*([{};,>])\s*/g, "$1")
    .replace(/:\s+/g, ":")
    .replace(/\(\s+/g, "(")
    .replace(/\s+\)/g, ")")
    .replace(/;}/g, "}")
    .trim();
}

export function minifyHtml(text) {
  return text.replace(/\s*\n\s*/g, " ").replace(/>\s+</g, "><");
}

/** Applies `fn` to the static parts of a template body, leaving `${…}` expressions intact. */
function staticParts(body, fn) {
  let out = "";
  let depth = 0;
  let chunk = "";
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (depth === 0 && ch === "$" && body[i + 1] === "{") {
      out += fn(chunk) + "${";
      chunk = "";
      depth = 1;
      i++;
    } else if (depth > 0) {
      if (ch === "{") depth++;
      if (ch === "}") depth--;
      out += ch;
    } else chunk += ch;
  }
  return out + fn(chunk);
}

export const minifyTemplates = {
  name: "minify-lit-templates",
  setup(build) {
    build.onLoad({ filter: /[\\/]widget[\\/].*\.ts$/ }, async ({ path }) => {
      const source = await readFile(path, "utf8");
      const contents = source.replace(TEMPLATE, (_, tag, body) => {
        const fn = tag === "css" ? minifyCss : minifyHtml;
        return `${tag}\`${staticParts(body, fn)}\``;
      });
      return { contents, loader: "ts" };
    });
  },
};
