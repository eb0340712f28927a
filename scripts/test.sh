#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
# installs what is missing, then formatting, lints, unit and integration tests, then the device
# checks: the aarch64 build replaying under qemu with the same counts as x86-64, and the .deb
# packages (contents, systemd unit verification and exposure score).
# Integration tests start real Mosquitto brokers, ffmpeg and the TF 2.9 runtime themselves.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase's wall time, for the log (and a total at the end).
started=$SECONDS
phase_start=$SECONDS
phase() { echo "phase: $1 took $((SECONDS - phase_start)) s" >&2; phase_start=$SECONDS; }
./scripts/setup.sh
phase setup
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
phase fmt+clippy
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked 2>&1 | tee "$log" || status=$?
# One closing line for the whole suite (cargo prints one per test binary).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed/) p += $i; if ($(i+1) ~ /^failed/) f += $i } }
     END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
phase tests
[ "$status" -eq 0 ] || exit "$status"
./scripts/aarch64-check.sh
phase aarch64
./scripts/package.sh amd64 arm64
phase packages
echo "total: $((SECONDS - started)) s" >&2
