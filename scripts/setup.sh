#!/usr/bin/env bash
# Installs what headcount needs on a Debian/Ubuntu machine, idempotently:
#   - ffmpeg (frame source), mosquitto + clients (broker for tests and the demo), rabbitmq-server (the
#     fleet tests' cluster; its own system service, where systemd starts one, is not used), strace (privacy tests),
#     gcc (the stub libedgetpu the Edge TPU tests build), openssl (the TLS tests' test CA),
#     faketime (libfaketime: the clock-step test moves the system clock under the daemon),
#     python3-seccomp + systemd (scripts/unit-seccomp.py runs tests under the unit's own filters),
#     librsvg2-bin (rsvg-convert: the survey tests render its SVG pictures)
#   - the TensorFlow Lite C runtime, TF 2.9.0, unpacked from the npm package tfjs-tflite-node@0.0.2
#     into .runtime/<arch>/libtensorflowlite_c.so (ignored by git).
#   - the dashboard's MQTT client and chart library, from npm, into dashboard/vendor/ (ignored by git).
# Safe to run again: it only installs what is missing.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"

need_apt=()
{ command -v ffmpeg && command -v ffprobe; } >/dev/null 2>&1 || need_apt+=(ffmpeg)
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need_apt+=(mosquitto)
command -v mosquitto_sub >/dev/null 2>&1 || need_apt+=(mosquitto-clients)
# tests/fleet_cluster.rs forms a three-node RabbitMQ cluster (rabbitmq_mqtt) of its own on loopback.
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need_apt+=(rabbitmq-server)
command -v strace >/dev/null 2>&1 || need_apt+=(strace)
command -v npm >/dev/null 2>&1 || need_apt+=(npm)
command -v gcc >/dev/null 2>&1 || need_apt+=(gcc)
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v faketime >/dev/null 2>&1 || need_apt+=(faketime)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
command -v rsvg-convert >/dev/null 2>&1 || need_apt+=(librsvg2-bin)
# scripts/unit-seccomp.py: the service unit's own seccomp filters applied to a test run (libseccomp's
# Python binding, and systemd-analyze to expand the unit's syscall sets).
/usr/bin/python3 -c 'import seccomp' >/dev/null 2>&1 || need_apt+=(python3-seccomp)
command -v systemd-analyze >/dev/null 2>&1 || need_apt+=(systemd)
# libusb (what libedgetpu uses for a Coral USB): tests/edgetpu.rs initialises it under the unit.
[ -e /usr/lib/"$(gcc -dumpmachine 2>/dev/null || echo x86_64-linux-gnu)"/libusb-1.0.so.0 ] || need_apt+=(libusb-1.0-0)
python3 -m pip --version >/dev/null 2>&1 || need_apt+=(python3-pip)
if [ ${#need_apt[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "setup: installing ${need_apt[*]}" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo not found; install Rust (rustup) first, then run this again" >&2
  exit 1
fi

# TF 2.9.0 C runtime, both architectures (arm64 is used for the aarch64 build and qemu runs).
runtime="$here/.runtime"
if [ ! -f "$runtime/linux_amd64/libtensorflowlite_c.so" ] || [ ! -f "$runtime/linux_arm64/libtensorflowlite_c.so" ]; then
  echo "setup: fetching libtensorflowlite_c.so (TF 2.9.0) from npm package tfjs-tflite-node@0.0.2" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent tfjs-tflite-node@0.0.2 >/dev/null && tar xzf tfjs-tflite-node-0.0.2.tgz)
  for arch in linux_amd64 linux_arm64; do
    mkdir -p "$runtime/$arch"
    cp "$tmp/package/cc_deps/$arch/libtensorflowlite_c.so" "$runtime/$arch/"
  done
  mkdir -p "$runtime/include"
  cp -r "$tmp/package/cc_deps/include/." "$runtime/include/"
fi
# LiteRT (the fast CPU runtime, detector.runtime = "litert"): libLiteRt.so from the ai-edge-litert
# wheel, both architectures. Only the library is kept; the wheel is a zip.
litert_version=2.3.0
if [ ! -f "$runtime/linux_amd64/libLiteRt.so" ] || [ ! -f "$runtime/linux_arm64/libLiteRt.so" ]; then
  echo "setup: fetching libLiteRt.so from the ai-edge-litert $litert_version wheels" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  for pair in linux_amd64:manylinux_2_27_x86_64 linux_arm64:manylinux_2_27_aarch64; do
    arch=${pair%%:*}; platform=${pair#*:}
    python3 -m pip download --quiet --no-deps --only-binary=:all: --platform "$platform" \
      --python-version 3.11 "ai-edge-litert==$litert_version" -d "$tmp/$arch"
    python3 - "$tmp/$arch" "$runtime/$arch" <<'PY'
import glob, sys, zipfile
wheel = glob.glob(sys.argv[1] + "/*.whl")[0]
with zipfile.ZipFile(wheel) as z, open(sys.argv[2] + "/libLiteRt.so", "wb") as out:
    out.write(z.read("ai_edge_litert/libLiteRt.so"))
PY
  done
fi
# The dashboard's two libraries (dashboard/ is served by Mosquitto's http_dir; the browser fetches
# nothing from the internet): the MQTT client and the chart, from their npm packages, with licences.
vendor="$here/dashboard/vendor"
mqtt_js=5.16.0
uplot=1.6.32
if [ ! -f "$vendor/mqtt-$mqtt_js.min.js" ] || [ ! -f "$vendor/uPlot-$uplot.iife.min.js" ]; then
  echo "setup: fetching the dashboard's libraries (npm mqtt@$mqtt_js, uplot@$uplot)" >&2
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  (cd "$tmp" && npm pack --silent "mqtt@$mqtt_js" "uplot@$uplot" >/dev/null)
  mkdir -p "$tmp/mqtt" "$tmp/uplot" "$vendor"
  tar xzf "$tmp/mqtt-$mqtt_js.tgz" -C "$tmp/mqtt"
  tar xzf "$tmp/uplot-$uplot.tgz" -C "$tmp/uplot"
  rm -f "$vendor"/*
  cp "$tmp/mqtt/package/dist/mqtt.min.js" "$vendor/mqtt-$mqtt_js.min.js"
  cp "$tmp/mqtt/package/LICENSE.md" "$vendor/mqtt.LICENSE.md"
  cp "$tmp/uplot/package/dist/uPlot.iife.min.js" "$vendor/uPlot-$uplot.iife.min.js"
  cp "$tmp/uplot/package/dist/uPlot.min.css" "$vendor/uPlot-$uplot.min.css"
  cp "$tmp/uplot/package/LICENSE" "$vendor/uPlot.LICENSE"
  chmod -R a+rX "$vendor"
fi
echo "setup: ok (runtime in $runtime)" >&2
