#!/usr/bin/env bash
# The whole test suite, as CI runs it (.ci/run calls this script):
# installs what is missing, then formatting, lints, the release build, unit and integration tests
# (cargo-nextest: each test in a process of its own, several at once; .config/nextest.toml), and
# beside them the device check (the aarch64 build for glibc 2.28 replaying under qemu with the
# same counts as x86-64), Home Assistant end to end (the newest one this machine's Python
# runs, in a venv) and the dashboard in headless Chromium (scripts/dashboard-e2e.sh), and after the aarch64 build the .deb packages (contents, systemd unit
# verification and exposure score). Integration tests start real Mosquitto brokers, ffmpeg and the runtimes themselves.
# The PETS09 evaluations run the optimised build (HEADCOUNT_OPTIMISED_BIN); the rest the test
# build, with its debug assertions.
set -euo pipefail
cd "$(dirname "$0")/.."
# Each phase's wall time, for the log (and a total at the end).
started=$SECONDS
phase_start=$SECONDS
phase() { echo "phase: $1 took $((SECONDS - phase_start)) s" >&2; phase_start=$SECONDS; }
./scripts/setup.sh
command -v cargo-nextest >/dev/null 2>&1 || cargo install cargo-nextest --locked
# A clean clone (CI) gains nothing from incremental compilation's bookkeeping; a developer
# running this again keeps it.
[ "${CI:-}" = true ] && export CARGO_INCREMENTAL=0
phase setup
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
phase fmt+clippy
cargo build --release --locked
cargo nextest run --locked --no-run
phase build

logs=$(mktemp -d)
cleanup() {
  for pid in ${aarch64_pid:-} ${ha_pid:-} ${dash_pid:-}; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$logs"
}
trap cleanup EXIT
# Checks that mostly wait (a cross build's link, an emulator, a Home Assistant, the dashboard in
# headless Chromium) run beside
# the tests, each into its own log, printed when it ends; the .deb packages are built and
# checked once the arm64 build is there, beside the tests too.
timed() {
  local name=$1 t=$SECONDS s=0
  shift
  "$@" || s=$?
  echo "phase: $name took $((SECONDS - t)) s (beside the tests)"
  return "$s"
}
timed aarch64 bash -c './scripts/aarch64-check.sh && ./scripts/package.sh --fast amd64 arm64' \
  > "$logs/aarch64.log" 2>&1 &
aarch64_pid=$!
timed home-assistant ./scripts/ha-e2e.sh target/release/headcount > "$logs/ha.log" 2>&1 &
ha_pid=$!
timed dashboard ./scripts/dashboard-e2e.sh target/release/headcount > "$logs/dashboard.log" 2>&1 &
dash_pid=$!

status=0
HEADCOUNT_OPTIMISED_BIN="$PWD/target/release/headcount" cargo nextest run --locked || status=$?
phase tests
report() {  # name, pid, log: waits for a check beside the tests and prints its log
  local s=0
  wait "$2" || s=$?
  echo "---- $1 (exit $s) ----" >&2
  cat "$3" >&2
  return $s
}
report "aarch64 and packages" "$aarch64_pid" "$logs/aarch64.log" || status=$?
report home-assistant "$ha_pid" "$logs/ha.log" || status=$?
report dashboard "$dash_pid" "$logs/dashboard.log" || status=$?
aarch64_pid="" ha_pid="" dash_pid=""
phase "waiting for the checks beside the tests"
[ "$status" -eq 0 ] || exit "$status"
echo "total: $((SECONDS - started)) s" >&2
