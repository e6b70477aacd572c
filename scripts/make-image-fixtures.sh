#!/usr/bin/env bash
# Regenerates the real-encoder image fixtures used by test/worker/media/image.test.ts.
#
# Deterministic: solid colours, no metadata (-strip / cwebp's default `-metadata none`), no
# timestamps, so re-running yields byte-identical files. Every output stays a few KB.
# Needs ImageMagick 6 (`convert`) and `cwebp` (Debian: imagemagick, webp).
set -euo pipefail

out="$(cd "$(dirname "$0")/.." && pwd)/test/fixtures/images"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$out"

# JPEG, baseline (SOF0) and progressive (SOF2), 1280x720.
convert -size 1280x720 xc:'#3366cc' -strip -quality 80 -interlace none "$out/baseline-1280x720.jpg"
convert -size 1280x720 xc:'#3366cc' -strip -quality 80 -interlace JPEG "$out/progressive-1280x720.jpg"

# JPEG stored 1280x720 with EXIF orientation 6 ("rotate 90° CW to display"), like a portrait
# phone photo. ImageMagick 6 does not write an EXIF block for -orient on a stripped image, so
# splice a minimal APP1 by hand right after SOI + the 16-byte JFIF APP0 (20 bytes):
#   FF E1, length 0x0022 (34 = 2 + "Exif\0\0" + 26-byte TIFF), then little-endian TIFF:
#   "II" 2A 00, IFD0 at 8; 1 entry: tag 0x0112 SHORT count 1 value 6; next IFD 0.
convert -size 1280x720 xc:'#cc6633' -strip -quality 80 "$tmp/o6.jpg"
{
  head -c 20 "$tmp/o6.jpg"
  printf '\xff\xe1\x00\x22Exif\x00\x00'
  printf 'II\x2a\x00\x08\x00\x00\x00'
  printf '\x01\x00\x12\x01\x03\x00\x01\x00\x00\x00\x06\x00\x00\x00\x00\x00\x00\x00'
  tail -c +21 "$tmp/o6.jpg"
} >"$out/exif-orientation6-1280x720.jpg"

# WebP: simple lossy (VP8), simple lossless (VP8L), and lossy with alpha, which cwebp must
# write in the extended format (VP8X + ALPH + VP8). Distinct sizes so a swapped width/height
# or an off-by-one in the "minus one" fields shows up.
convert -size 1280x720 xc:'#33cc66' -strip "PNG24:$tmp/opaque.png"
convert -size 720x1280 xc:'#33cc66' -strip "PNG24:$tmp/opaque-portrait.png"
convert -size 1000x563 xc:'rgba(51,204,102,0.5)' -strip "PNG32:$tmp/alpha.png"
cwebp -quiet -q 50 "$tmp/opaque.png" -o "$out/lossy-1280x720.webp"
cwebp -quiet -lossless "$tmp/opaque-portrait.png" -o "$out/lossless-720x1280.webp"
cwebp -quiet -q 50 "$tmp/alpha.png" -o "$out/alpha-1000x563.webp"

ls -l "$out"
