/**
 * Finds a Chromium for the browser tests and benchmarks without ever downloading one, so
 * `npm install && npm test` works on a machine that has Node and nothing else. In order:
 *
 *   1. `CHROMIUM_PATH`, when set (it must point at a file: a typo is an error, not a fallback);
 *   2. a system Chromium or Chrome (Debian's `chromium`, Google Chrome, the macOS app bundles);
 *   3. the Chromium that Playwright installed (`npx playwright install chromium`);
 *   4. the headless Chromium shipped inside the `@sparticuz/chromium` npm package (Linux x64 and
 *      arm64), unpacked once into `node_modules/.cache/`.
 *
 * Every source gets the same launch flags. @sparticuz/chromium's own `chromium.args` are meant
 * for AWS Lambda and include `--disable-web-security`, which would switch off the very CORS and
 * origin checks the widget tests exercise; its binary runs here with the flags below alone.
 * See docs/decisions/0011-test-browser.md.
 */
import {
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from "node:fs";
import { writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { delimiter, dirname, join } from "node:path";
import { pipeline } from "node:stream/promises";
import { fileURLToPath } from "node:url";
import { createBrotliDecompress } from "node:zlib";

const root = fileURLToPath(new URL("..", import.meta.url));
const require = createRequire(import.meta.url);

/** The flags every launch uses: headless as root, and no traffic of Chromium's own. */
export const CHROMIUM_FLAGS = [
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

const SYSTEM_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];
const SYSTEM_PATHS = [
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
  "C:\\Program Files\\Google\\Chrome\\Application\\chrome.exe",
  "C:\\Program Files (x86)\\Google\\Chrome\\Application\\chrome.exe",
];

/**
 * @typedef {object} FoundChromium
 * @property {"CHROMIUM_PATH" | "system" | "playwright" | "@sparticuz/chromium"} source
 * @property {string} executablePath
 * @property {{ executablePath: string, args: string[], env?: Record<string, string | undefined> }} launchOptions
 *   ready for Playwright's `chromium.launch()`
 */

/** @type {Promise<FoundChromium> | undefined} */
let found;

/**
 * @param {{ env?: Record<string, string | undefined>, systemPaths?: string[] }} [options]
 *   `systemPaths` replaces the system search (tests hide the system browser with `[]`).
 * @returns {Promise<FoundChromium>}
 */
export function findChromium(options = {}) {
  if (Object.keys(options).length > 0) return locate(options);
  found ??= locate(options);
  return found;
}

/** @param {{ env?: Record<string, string | undefined>, systemPaths?: string[] }} options */
async function locate({ env = process.env, systemPaths } = {}) {
  /** Playwright's `env` replaces the browser's whole environment, so extras extend ours. */
  const launch = (executablePath, source, extraEnv) => ({
    source,
    executablePath,
    launchOptions: {
      executablePath,
      args: [...CHROMIUM_FLAGS],
      ...(extraEnv ? { env: { ...process.env, ...extraEnv } } : {}),
    },
  });

  if (env.CHROMIUM_PATH) {
    if (!existsSync(env.CHROMIUM_PATH)) {
      throw new Error("CHROMIUM_PATH is set but names no file; unset it or point it at Chromium.");
    }
    return launch(env.CHROMIUM_PATH, "CHROMIUM_PATH");
  }

  const system = (systemPaths ?? systemCandidates(env)).find((path) => existsSync(path));
  if (system) return launch(system, "system");

  const installed = playwrightChromium();
  if (installed) return launch(installed, "playwright");

  const packaged = await packagedChromium();
  if (packaged) return launch(packaged.executablePath, "@sparticuz/chromium", packaged.env);

  throw new Error(
    "No Chromium found. Set CHROMIUM_PATH, install Chromium or Chrome, or run " +
      "`npx playwright install chromium` (macOS and Windows); on Linux, `npm install` brings " +
      "one in the @sparticuz/chromium package.",
  );
}

/** @param {Record<string, string | undefined>} env */
function systemCandidates(env) {
  const dirs = (env.PATH ?? "").split(delimiter).filter(Boolean);
  return [...dirs.flatMap((dir) => SYSTEM_NAMES.map((name) => join(dir, name))), ...SYSTEM_PATHS];
}

/** Where Playwright keeps the Chromium of its version, if it was installed. */
function playwrightChromium() {
  try {
    const path = require("playwright").chromium.executablePath();
    return path && existsSync(path) ? path : null;
  } catch {
    return null;
  }
}

/**
 * Unpacks @sparticuz/chromium's brotli-compressed binary (and its fonts, for machines with none)
 * into a cache named by the package's version, writing to a temporary name first so that
 * concurrent test processes never run a half-written binary.
 */
async function packagedChromium() {
  if (process.platform !== "linux" || !["x64", "arm64"].includes(process.arch)) return null;
  let pkgDir;
  try {
    // The package exports only its entry (build/index.js), not package.json.
    pkgDir = dirname(dirname(fileURLToPath(import.meta.resolve("@sparticuz/chromium"))));
  } catch {
    return null;
  }
  const { version } = JSON.parse(readFileSync(join(pkgDir, "package.json"), "utf8"));
  const cache = join(root, "node_modules", ".cache", "stillmotion-chromium", version);
  const executablePath = join(cache, "chromium");
  const fontsDir = join(cache, "fonts");
  const fontsConf = join(cache, "fonts.conf");
  mkdirSync(cache, { recursive: true });

  if (!existsSync(executablePath)) {
    const partial = `${executablePath}.${process.pid}.partial`;
    await pipeline(
      createReadStream(join(pkgDir, "bin", "chromium.br")),
      createBrotliDecompress(),
      createWriteStream(partial, { mode: 0o755 }),
    );
    renameSync(partial, executablePath);
  }
  if (!existsSync(fontsConf)) {
    const partial = `${fontsDir}.${process.pid}.partial`;
    const tar = createRequire(join(pkgDir, "package.json"))("tar-fs");
    await pipeline(
      createReadStream(join(pkgDir, "bin", "fonts.tar.br")),
      createBrotliDecompress(),
      tar.extract(partial),
    );
    try {
      renameSync(partial, fontsDir);
    } catch {
      rmSync(partial, { recursive: true, force: true }); // another process unpacked them first
    }
    // The system's fonts when it has any, then the package's Open Sans; written under a
    // temporary name so a concurrent launch never reads half a file.
    const xml = (path) => path.replace(/&/g, "&amp;").replace(/</g, "&lt;");
    const confPartial = `${fontsConf}.${process.pid}.partial`;
    await writeFile(
      confPartial,
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n` +
        `  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n` +
        `  <dir>${xml(fontsDir)}</dir>\n` +
        `  <cachedir>${xml(join(cache, "fonts-cache"))}</cachedir>\n` +
        `</fontconfig>\n`,
    );
    renameSync(confPartial, fontsConf);
  }
  return { executablePath, env: { FONTCONFIG_FILE: fontsConf } };
}
