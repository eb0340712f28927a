#!/usr/bin/env bash
# Builds headcount for aarch64 (Raspberry Pi 4/5, Coral Dev Board) without Docker, for glibc 2.28
# (the Dev Board's Mendel / Debian 10; Raspberry Pi OS bullseye has 2.31) with cargo-zigbuild,
# checks that neither the binary nor the arm64 TF 2.9 runtime the .deb ships needs a newer glibc
# symbol (objdump -T), runs a short replay of the committed clip under qemu-aarch64 with that
# runtime, and checks that it publishes the same counts as the x86-64 build on the same clip.
# Installs what it needs: Debian's gcc-aarch64-linux-gnu (the arm64 sysroot qemu runs against, and
# objdump) and qemu-user, rustup's aarch64 target, cargo-zigbuild (cargo install) and zig (the
# ziglang wheel, unpacked into .runtime/zig: no pip install into the system Python).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
need=()
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 || need+=(gcc-aarch64-linux-gnu libc6-dev-arm64-cross)
command -v qemu-aarch64 >/dev/null 2>&1 || need+=(qemu-user)
if [ ${#need[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
command -v cargo-zigbuild >/dev/null 2>&1 || cargo install cargo-zigbuild --locked --version 0.24.0
zig_version=0.17.0
zig="$PWD/.runtime/zig/ziglang/zig"
if [ ! -x "$zig" ] || [ "$("$zig" version)" != "$zig_version" ]; then
  echo "aarch64: fetching zig $zig_version (the ziglang wheel)" >&2
  tmp=$(mktemp -d)
  python3 -m pip download --quiet --no-deps --only-binary=:all: \
    --platform manylinux_2_12_x86_64 "ziglang==$zig_version" -d "$tmp"
  rm -rf .runtime/zig && mkdir -p .runtime/zig
  python3 - "$tmp" .runtime/zig <<'PY'
import glob, os, sys, zipfile
with zipfile.ZipFile(glob.glob(sys.argv[1] + "/*.whl")[0]) as z:
    for m in z.namelist():
        if m.startswith("ziglang/"):
            z.extract(m, sys.argv[2])
os.chmod(sys.argv[2] + "/ziglang/zig", 0o755)
PY
  rm -rf "$tmp"
fi
export CARGO_ZIGBUILD_ZIG_PATH="$zig"
# glibc 2.28: the oldest the sensors run (Mendel). The binary lands where a plain
# `--target aarch64-unknown-linux-gnu` build would, so scripts/package.sh packs this one.
cargo zigbuild --release --locked --target aarch64-unknown-linux-gnu.2.28
cargo build --release --locked

# No symbol newer than glibc 2.28, in the binary or in the runtime the arm64 .deb ships.
for f in target/aarch64-unknown-linux-gnu/release/headcount .runtime/linux_arm64/libtensorflowlite_c.so; do
  echo "aarch64: $f needs glibc $(scripts/glibc-newest.sh "$f" 2.28) at most (Dev Board: 2.28)"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clip=tests/fixtures/one-by-one/one-by-one-person-detection.mp4
# arm64 LiteRT needs a newer glibc than the Dev Board's: there `runtime = "auto"` falls back to
# TF 2.9 (a Pi with Debian 12 gets LiteRT).
echo "aarch64: .runtime/linux_arm64/libLiteRt.so needs glibc $(scripts/glibc-newest.sh .runtime/linux_arm64/libLiteRt.so 2.99 || true): on the Dev Board (2.28) runtime \"auto\" runs TF 2.9"
# One frame every four seconds keeps the emulated run short (35 frames, about 0.8 CPU-s each
# under qemu): each of the six people is on at least one of them and, with no smoothing, comes
# and goes in the counts (12 changes, as at one frame every two seconds, which took twice the
# CPU). The Dev Board's runtime, on one thread.
printf '[source]\nfps = 0.25\n[detector]\nruntime = "tflite"\nthreads = 1\n[counting]\nsmoothing_frames = 1\n' > "$work/check.toml"
HEADCOUNT_TFLITE_LIB="$PWD/.runtime/linux_arm64/libtensorflowlite_c.so" \
  qemu-aarch64 -L /usr/aarch64-linux-gnu target/aarch64-unknown-linux-gnu/release/headcount \
  replay "$clip" --config "$work/check.toml" > "$work/arm64.jsonl"
target/release/headcount replay "$clip" --config "$work/check.toml" > "$work/x86_64.jsonl"
# Compare the occupancy messages without their wall-clock timestamps and sequence numbers (the
# emulated run is slower, so it may send an extra health heartbeat in between).
strip() { grep '/occupancy"' "$1" | sed -E 's/"ts":"[^"]*",?//; s/"seq":[0-9]+,?//'; }
# Six people coming and going: at least 13 messages (0, then 1 and 0 six times), or the sample
# is too thin to compare anything.
changes=$(strip "$work/x86_64.jsonl" | wc -l)
if [ "$changes" -lt 13 ]; then
  echo "aarch64: only $changes occupancy messages on x86-64 (want 13 or more: six people in and out)" >&2
  exit 1
fi
if diff <(strip "$work/x86_64.jsonl") <(strip "$work/arm64.jsonl") >/dev/null; then
  echo "aarch64: $changes occupancy messages, identical to x86-64"
else
  echo "aarch64 counts differ from x86-64:" >&2
  diff <(strip "$work/x86_64.jsonl") <(strip "$work/arm64.jsonl") >&2 || true
  exit 1
fi
