/**
 * Public `WxH` sizes (OpenAI's shape) in the terms providers use: an aspect ratio and a named
 * resolution. Adapters map with these, and refuse — listing what they can do — anything else.
 */
export interface SizeParts {
  width: number;
  height: number;
  /** Reduced ratio, e.g. "16:9", "9:16", "1:1", "4:3". */
  aspect: string;
  /** The short side as "720p", "1080p", "480p"…, or "4k" for 2160. */
  resolution: string;
  orientation: "landscape" | "portrait" | "square";
}

export function sizeParts(size: string): SizeParts {
  const [width, height] = size.split("x").map(Number) as [number, number];
  const divisor = gcd(width, height);
  const short = Math.min(width, height);
  return {
    width,
    height,
    aspect: `${width / divisor}:${height / divisor}`,
    resolution: short === 2160 ? "4k" : `${short}p`,
    orientation: width > height ? "landscape" : width < height ? "portrait" : "square",
  };
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}
