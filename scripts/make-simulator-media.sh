#!/usr/bin/env bash
# Renders the simulator provider's media (clips, thumbnails, spritesheets) into
# worker/providers/simulator/media/. The outputs are committed and bundled into the worker as
# binary modules, so they must stay small, and rerunning this script must reproduce them byte for
# byte (same ffmpeg/x264 build assumed: Debian bookworm's ffmpeg 5.1 / libx264 164). Everything is
# synthetic: no network, no model, no input files.
#
# Usage: scripts/make-simulator-media.sh
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/worker/providers/simulator/media"
FONT=/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf

SIZES=("1280x720" "720x1280")
SECONDS_LIST=(4 8 12 16)
FPS=24

# Installs a Debian package when its file is missing; uses sudo only when not already root.
ensure_package() {
  local path=$1 package=$2
  [[ -e $path ]] && return 0
  echo "$path missing; installing $package" >&2
  local sudo=()
  [[ $(id -u) -eq 0 ]] || sudo=(sudo)
  "${sudo[@]}" apt-get update
  "${sudo[@]}" apt-get install -y "$package"
}

if ! command -v ffmpeg >/dev/null 2>&1; then
  ensure_package /usr/bin/ffmpeg ffmpeg
fi
# The watermark is best-effort: without the font the clips are still valid, just unlabelled.
ensure_package "$FONT" fonts-dejavu-core || true

mkdir -p "$OUT"

# Flags that keep container and stream free of anything run-dependent (encoder version strings,
# creation times, random ids), so the committed bytes only change when the recipe does.
BITEXACT=(-fflags +bitexact -flags:v +bitexact -map_metadata -1 -map_chapters -1)

# One clip: a slowly turning sunset gradient with a soft drifting glow and a gentle push-in, like
# a still image being brought to life. Smooth content keeps the H.264 stream tiny.
render_clip() {
  local w=$1 h=$2 seconds=$3 out=$4
  local short=$((w < h ? w : h))
  local frames=$((seconds * FPS))

  # Corner-to-corner line (endpoints must lie inside the frame, else the filter picks random ones).
  local sky="gradients=s=${w}x${h}:r=${FPS}:d=${seconds}:n=4"
  sky+=":c0=0x241a5c:c1=0xb83a8f:c2=0xff9e6b:c3=0xffe3a8"
  sky+=":x0=0:y0=0:x1=$((w - 1)):y1=$((h - 1)):speed=0.002:seed=1"
  local glow="gradients=s=${w}x${h}:r=${FPS}:d=${seconds}:type=radial:n=2"
  glow+=":c0=0xfff4d6@0.5:c1=0xfff4d6@0"
  glow+=":x0=$((w * 3 / 5)):y0=$((h * 2 / 5)):x1=$((w * 3 / 5 + short * 7 / 10)):y1=$((h * 2 / 5))"
  glow+=":speed=0.004:seed=1"

  # 4% push-in over the whole clip, whatever its length.
  local zoom="zoompan=z='1+0.04*on/${frames}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
  zoom+=":d=1:s=${w}x${h}:fps=${FPS}"

  local label=""
  if [[ -e $FONT ]]; then
    local margin=$((short / 24))
    label=",drawtext=fontfile=${FONT}:text=SIMULATED:fontsize=$((short / 28))"
    label+=":fontcolor=white@0.75:shadowcolor=black@0.4:shadowx=1:shadowy=1"
    label+=":x=w-tw-${margin}:y=h-th-${margin}"
  else
    echo "warning: $FONT not found; clips will carry no SIMULATED label" >&2
  fi

  # keyint 2 s keeps seeking cheap; fixed x264 params and one thread make the stream reproducible.
  ffmpeg -hide_banner -loglevel error -y \
    -f lavfi -i "$sky" -f lavfi -i "$glow" \
    -filter_complex "[0][1]overlay=format=auto,format=yuv420p,${zoom}${label}" \
    -frames:v "$frames" -r "$FPS" -an \
    -c:v libx264 -preset slow -crf 30 -profile:v main -pix_fmt yuv420p -threads 1 \
    -x264-params "keyint=48:min-keyint=48:scenecut=0" \
    -movflags +faststart "${BITEXACT[@]}" \
    "$out"
}

for size in "${SIZES[@]}"; do
  w=${size%x*}
  h=${size#*x}
  for s in "${SECONDS_LIST[@]}"; do
    render_clip "$w" "$h" "$s" "$OUT/clip-${size}-${s}s.mp4"
  done

  clip4="$OUT/clip-${size}-4s.mp4"

  # Thumbnail: the middle frame of the 4 s clip, so it matches what the player first shows.
  ffmpeg -hide_banner -loglevel error -y -i "$clip4" \
    -vf "select='eq(n\,$((2 * FPS)))'" -frames:v 1 \
    -c:v libwebp -lossless 0 -quality 75 -compression_level 6 "${BITEXACT[@]}" \
    -f webp "$OUT/thumb-${size}.webp"

  # Spritesheet: 20 evenly spaced frames (5 per second of the 4 s clip), 160 px wide tiles,
  # 5 columns x 4 rows, for scrubbing previews.
  ffmpeg -hide_banner -loglevel error -y -i "$clip4" \
    -vf "fps=5,scale=160:-2:flags=lanczos,tile=5x4" -frames:v 1 -update 1 \
    -c:v mjpeg -q:v 5 -pix_fmt yuvj420p "${BITEXACT[@]}" \
    "$OUT/sprite-${size}.jpg"
done

# Size table with budgets; fail loudly if a file outgrew its budget (they ship in every bundle).
over=0
printf '%-26s %10s %10s\n' file bytes budget
for f in "$OUT"/*; do
  name=$(basename "$f")
  bytes=$(stat -c %s "$f")
  case $name in
    clip-*-4s.mp4) budget=153600 ;;
    clip-*-8s.mp4) budget=307200 ;;
    clip-*-12s.mp4) budget=460800 ;;
    clip-*-16s.mp4) budget=614400 ;;
    thumb-*.webp) budget=40960 ;;
    sprite-*.jpg) budget=61440 ;;
    *) budget=0 ;;
  esac
  flag=""
  if ((budget > 0 && bytes > budget)); then
    flag="  OVER BUDGET"
    over=1
  fi
  printf '%-26s %10d %10d%s\n' "$name" "$bytes" "$budget" "$flag"
done
exit "$over"
