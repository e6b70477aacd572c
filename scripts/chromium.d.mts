/** Types for scripts/chromium.mjs (plain JavaScript, so Node can run it without a build). */
export declare const CHROMIUM_FLAGS: string[];

export interface FoundChromium {
  source: "CHROMIUM_PATH" | "system" | "playwright" | "@sparticuz/chromium";
  executablePath: string;
  /** Ready for Playwright's `chromium.launch()`. */
  launchOptions: {
    executablePath: string;
    args: string[];
    env?: Record<string, string | undefined>;
  };
}

export declare function findChromium(options?: {
  env?: Record<string, string | undefined>;
  /** Replaces the system search; `[]` hides the system browser. */
  systemPaths?: string[];
}): Promise<FoundChromium>;
