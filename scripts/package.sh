#!/usr/bin/env bash
# Builds headcount's .deb packages with cargo-deb and checks them:
#   scripts/package.sh            amd64 and arm64 (arm64 cross-built without Docker)
#   scripts/package.sh amd64      one architecture (amd64 or arm64)
#   scripts/package.sh --fast ... faster xz compression (a tenth larger, a third of the CPU): the
#                                 test suite's packages, which are checked, not shipped
# Each package holds the binary, the systemd unit, /etc/headcount/headcount.toml, the udev rules,
# the bundled model and the architecture's TF 2.9 and LiteRT runtimes. The check lists the package contents
# (dpkg-deb --contents), verifies the installed unit with systemd-analyze, prints its exposure score,
# and replays a clip under that unit's own seccomp filters to check the Landlock sandbox holds.
# Installs what it needs: cargo-deb (cargo install), and for arm64 what scripts/aarch64-check.sh
# installs.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
fast=()
[ "${1:-}" = --fast ] && { fast=(--fast); shift; }
arches=("${@:-amd64}")
[ $# -eq 0 ] && arches=(amd64 arm64)
command -v cargo-deb >/dev/null 2>&1 || cargo install cargo-deb --locked --version 3.8.0
command -v systemd-analyze >/dev/null 2>&1 || {
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends systemd >/dev/null
}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for arch in "${arches[@]}"; do
  case "$arch" in
    amd64)
      cargo build --release --locked
      deb=$(cargo deb --no-build --strip --locked "${fast[@]}" 2>/dev/null | tail -1) ;;
    arm64)
      # Built for glibc 2.28 (the Dev Board) and checked under qemu by aarch64-check.sh; a binary
      # needing a newer glibc (an older gcc-linked build) is not packed.
      bin=target/aarch64-unknown-linux-gnu/release/headcount
      if [ ! -x "$bin" ] || ! command -v aarch64-linux-gnu-objdump >/dev/null 2>&1 \
         || ! scripts/glibc-newest.sh "$bin" 2.28 >/dev/null; then
        ./scripts/aarch64-check.sh
      fi
      export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_STRIP=aarch64-linux-gnu-strip
      deb=$(cargo deb --no-build --strip --locked "${fast[@]}" --target aarch64-unknown-linux-gnu --variant arm64 2>/dev/null | tail -1) ;;
    *) echo "unknown architecture $arch (amd64, arm64)" >&2; exit 2 ;;
  esac
  contents=$(dpkg-deb --contents "$deb")
  for want in ./usr/bin/headcount ./usr/lib/systemd/system/headcount.service \
              ./usr/lib/systemd/system/headcount-aggregate.service ./etc/headcount/aggregate.toml \
              ./etc/headcount/headcount.toml ./usr/lib/udev/rules.d/60-headcount-coral.rules \
              ./usr/share/headcount/models/ssd_mobilenet_v1_coco_quant/detect.tflite \
              ./usr/share/headcount/models/ssd_mobilenet_v1_coco_quant/LICENSE \
              ./usr/lib/headcount/libtensorflowlite_c.so ./usr/lib/headcount/libLiteRt.so \
              ./usr/sbin/headcount-get-edgetpu-model ./usr/share/headcount/dashboard/index.html \
              ./usr/share/headcount/dashboard/app.js; do
    grep -q " $want\$" <<<"$contents" || { echo "$deb lacks $want" >&2; exit 1; }
  done
  [ "$(dpkg-deb -f "$deb" Architecture)" = "$arch" ] || { echo "$deb is not $arch" >&2; exit 1; }
  rm -rf "$work/root" && dpkg-deb -x "$deb" "$work/root"
  machine=$(od -An -tx1 -j18 -N2 "$work/root/usr/bin/headcount" | tr -d ' \n')
  case "$arch:$machine" in amd64:3e00|arm64:b700) ;; *) echo "$deb: binary has the wrong machine type ($machine)" >&2; exit 1 ;; esac
  echo "package: $deb ($(du -h "$deb" | cut -f1)): binary, units (sensor, site aggregator), configs, dashboard, udev rules, model, runtimes, Edge TPU model installer"
done

# The unit as installed (taken out of the amd64 package), with ExecStart pointing at a binary that
# exists here.
[ -x target/release/headcount ] || cargo build --release --locked
deb=$(ls -t target/debian/headcount_*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ] || { echo "no amd64 package to check the installed unit from" >&2; exit 1; }
rm -rf "$work/root" && dpkg-deb -x "$deb" "$work/root"
installed="$work/root/usr/lib/systemd/system/headcount.service"
sed "s|/usr/bin/headcount|$PWD/target/release/headcount|" "$installed" > "$work/headcount.service"
systemd-analyze verify "$work/headcount.service"
score=$(systemd-analyze security --offline=yes "$work/headcount.service" 2>/dev/null | awk '/Overall exposure level/ { print $(NF-2) }')
echo "systemd unit: verified; systemd-analyze security exposure $score"
awk -v s="$score" 'BEGIN { exit !(s + 0 < 2.0) }' || { echo "exposure $score is not below 2.0" >&2; exit 1; }
# The installed unit's own seccomp filters let the Landlock sandbox in: a short replay under them
# must report "sandbox":"landlock" on its privacy topic.
printed=$(scripts/unit-seccomp.py "$installed" -- target/release/headcount replay \
  tests/fixtures/one-by-one/one-by-one-person-detection.mp4 --config <(printf '[source]\nfps = 0.1\n') 2>/dev/null)
grep -q '"sandbox":"landlock"' <<<"$printed" || {
  echo "under the installed unit's seccomp filters the sandbox is off:" >&2
  grep -o '"sandbox":"[^"]*"' <<<"$printed" >&2; exit 1; }
echo "systemd unit: Landlock sandbox enforced under the installed unit's seccomp filters"

# The site aggregator's unit, likewise: verified, exposure below 2, and its Landlock sandbox on under
# its own filters (started without a broker, stopped after a few seconds).
installed="$work/root/usr/lib/systemd/system/headcount-aggregate.service"
sed "s|/usr/bin/headcount|$PWD/target/release/headcount|" "$installed" > "$work/headcount-aggregate.service"
systemd-analyze verify "$work/headcount-aggregate.service"
score=$(systemd-analyze security --offline=yes "$work/headcount-aggregate.service" 2>/dev/null | awk '/Overall exposure level/ { print $(NF-2) }')
awk -v s="$score" 'BEGIN { exit !(s + 0 < 2.0) }' || { echo "aggregator exposure $score is not below 2.0" >&2; exit 1; }
mkdir -p "$work/agg-state"
printf '[site]\nname = "pkg"\n[mqtt]\nurl = "mqtt://127.0.0.1:9"\n[state]\ndir = "%s"\n' "$work/agg-state" > "$work/aggregate.toml"
logged=$(HEADCOUNT_LOG=info timeout -s TERM 4 scripts/unit-seccomp.py "$installed" -- \
  target/release/headcount aggregate --config "$work/aggregate.toml" 2>&1 || true)
grep -q 'site aggregator sandbox sandbox=landlock' <<<"$logged" || {
  echo "under the aggregator unit's seccomp filters the sandbox is off:" >&2
  grep -i sandbox <<<"$logged" >&2; exit 1; }
echo "systemd unit headcount-aggregate: verified; exposure $score; Landlock sandbox enforced under its seccomp filters"
