#!/usr/bin/env bash
# What the decoder child costs a Raspberry Pi or the Dev Board per frame: guest instructions of
# Debian's arm64 ffmpeg, counted under qemu-aarch64 by the same TCG plugin as
# scripts/aarch64-insns.sh (benches/aarch64/insn_count.c), split by library, running the very
# command headcount starts for a file (`-threads 1` as source.decoder_threads gives on a 2-core
# machine, scaled to the SSD's 300 x 300 rgb24) on the committed clip at 1 and 2 frames per
# second delivered: per delivered frame from the difference of the two runs (start-up and the
# decoding of every frame cancel), per decoded frame from the first run. Then the scaler alone
# (yuv420p out) and the camera path's exact chroma, so the conversion's share is known.
#
# The arm64 ffmpeg and its 212 libraries are Debian 12's packages, downloaded and unpacked into
# target/aarch64-sysroot, never installed (installing them would upgrade the host's own
# libraries to match); `dpkg --add-architecture arm64` lets apt download them. A measurement,
# not part of the test suite (README "Performance and accuracy, measured here" quotes it);
# a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v qemu-aarch64 >/dev/null 2>&1 && command -v gcc >/dev/null 2>&1 || {
  echo "needs qemu-user and gcc: run scripts/aarch64-check.sh once" >&2; exit 1; }
root="$PWD/target/aarch64-sysroot"
if [ ! -x "$root/usr/bin/ffmpeg" ]; then
  dpkg --print-foreign-architectures | grep -qx arm64 || dpkg --add-architecture arm64
  apt-get update -qq
  libs="libavcodec59:arm64 libavformat59:arm64 libavfilter8:arm64 libavdevice59:arm64 libswscale6:arm64 libc6:arm64"
  # shellcheck disable=SC2086
  pkgs=$(apt-get install -s --no-install-recommends $libs | awk '/^Inst/ && /arm64\]/ {print $2}' | sort -u)
  debs=$(mktemp -d)
  chmod 755 "$debs" # apt downloads as its own user where it can
  # shellcheck disable=SC2086
  (cd "$debs" && apt-get download -qq $pkgs ffmpeg:arm64)
  mkdir -p "$root"
  for d in "$debs"/*.deb; do dpkg -x "$d" "$root"; done
  rm -rf "$debs"
  # What update-alternatives would have linked on an arm64 system.
  for l in blas/libblas.so.3 lapack/liblapack.so.3; do
    ln -sf "$l" "$root/usr/lib/aarch64-linux-gnu/$(basename "$l")"
  done
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. scripts/insn-plugin.sh
plugin=$(insn_plugin "$root" "$work" "$root/usr/bin/ffmpeg" -version)

clip=tests/fixtures/one-by-one/one-by-one-person-detection.mp4
decoded=$(ffprobe -v error -count_frames -select_streams v:0 -show_entries stream=nb_read_frames \
  -of csv=p=0 "$clip")
run() { # name fps scale-flags pix_fmt -> $work/<name>.counts; prints the frames delivered
  qemu-aarch64 -L "$root" -plugin "$plugin,out=$work/$1.counts" "$root/usr/bin/ffmpeg" \
    -nostdin -hide_banner -loglevel error -filter_threads 1 -threads 1 -xerror -i "$clip" \
    -map 0:v:0 -an -sn -dn -vf "fps=$2,scale=300:300:flags=$3" -pix_fmt "$4" -f rawvideo pipe:1 \
    | wc -c
}
b1=$(run rgb1 1 area rgb24)
b2=$(run rgb2 2 area rgb24)
run yuv2 2 area yuv420p >/dev/null
run exact2 2 area+accurate_rnd+full_chroma_int rgb24 >/dev/null
f1=$((b1 / 270000)); f2=$((b2 / 270000))
echo "aarch64 ffmpeg $(qemu-aarch64 -L "$root" "$root/usr/bin/ffmpeg" -version | head -n 1 | awk '{print $3}')" \
  "(Debian 12's, under qemu-aarch64), the committed clip (768 x 432 H.264, $decoded frames decoded)" \
  "scaled to 300 x 300: $f1 and $f2 frames delivered"
python3 - "$work" "$f1" "$f2" "$decoded" <<'PY'
import sys
work, f1, f2, decoded = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
def load(name):
    out = {}
    for line in open(f"{work}/{name}.counts"):
        n, sym = line.rstrip("\n").split("\t", 1)
        key = sym[4:].split(".so")[0] if sym.startswith("lib:") else "ffmpeg itself"
        out[key] = out.get(key, 0) + int(n)
    return out
a, b = load("rgb1"), load("rgb2")
keys = sorted(set(a) | set(b), key=lambda k: -b.get(k, 0))
per_delivered = {k: (b.get(k, 0) - a.get(k, 0)) / (f2 - f1) for k in keys}
print("| library | per decoded frame (run 1 / frames decoded) | per delivered frame (difference) |")
print("|---|---:|---:|")
for k in keys[:8]:
    print(f"| {k} | {a.get(k, 0) / decoded:,.0f} | {per_delivered[k]:,.0f} |")
sws = lambda name: load(name).get("libswscale", 0) / f2
scale, rgb, exact = sws("yuv2"), sws("rgb2"), sws("exact2")
print(f"libswscale per delivered frame: area scaling alone (yuv420p out) {scale:,.0f}; "
      f"with the rgb24 conversion (files) {rgb:,.0f}, of which the conversion {rgb - scale:,.0f}; "
      f"with exact chroma (cameras) {exact:,.0f}")
print(f"start-up, once: the dynamic loader {a.get('ld-linux-aarch64', 0):,.0f} instructions")
PY
