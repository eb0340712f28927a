#!/usr/bin/env bash
# Builds headcount for aarch64 (Raspberry Pi 4/5, Coral Dev Board) without Docker, runs a short
# replay of the committed clip under qemu-aarch64 with the arm64 TF 2.9 runtime, and checks that
# it publishes the same counts as the x86-64 build on the same clip.
# Installs what it needs: Debian's gcc-aarch64-linux-gnu and qemu-user, rustup's aarch64 target.
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

export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
cargo build --release --locked --target aarch64-unknown-linux-gnu
cargo build --release --locked

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
clip=tests/fixtures/one-by-one/one-by-one-person-detection.mp4
# 1 frame per second keeps the emulated run short (about a minute).
printf '[source]\nfps = 1\n' > "$work/check.toml"
HEADCOUNT_TFLITE_LIB="$PWD/.runtime/linux_arm64/libtensorflowlite_c.so" \
  qemu-aarch64 -L /usr/aarch64-linux-gnu target/aarch64-unknown-linux-gnu/release/headcount \
  replay "$clip" --config "$work/check.toml" > "$work/arm64.jsonl"
target/release/headcount replay "$clip" --config "$work/check.toml" > "$work/x86_64.jsonl"
# Compare the occupancy messages without their wall-clock timestamps and sequence numbers (the
# emulated run is slower, so it may send an extra health heartbeat in between).
strip() { grep '/occupancy"' "$1" | sed -E 's/"ts":"[^"]*",?//; s/"seq":[0-9]+,?//'; }
if diff <(strip "$work/x86_64.jsonl") <(strip "$work/arm64.jsonl") >/dev/null; then
  echo "aarch64: $(strip "$work/arm64.jsonl" | wc -l) occupancy messages, identical to x86-64"
else
  echo "aarch64 counts differ from x86-64:" >&2
  diff <(strip "$work/x86_64.jsonl") <(strip "$work/arm64.jsonl") >&2 || true
  exit 1
fi
