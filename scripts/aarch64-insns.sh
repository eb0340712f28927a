#!/usr/bin/env bash
# What a Raspberry Pi pays beyond inference: guest instructions per frame of the aarch64 build,
# counted under qemu-aarch64 by a TCG plugin (benches/aarch64/insn_count.c), split by stage.
# Replays the committed clip twice (1 and 2 frames per second) with a counting line and a zone, so
# the per-frame figures are the difference of the two runs (start-up and model loading cancel).
# Installs what it needs through scripts/aarch64-check.sh's dependencies; takes a few minutes.
# Not part of the test suite: a measurement (README "Performance and accuracy, measured here"
# quotes it).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
command -v aarch64-linux-gnu-gcc >/dev/null 2>&1 && command -v qemu-aarch64 >/dev/null 2>&1 || {
  echo "needs gcc-aarch64-linux-gnu and qemu-user: run scripts/aarch64-check.sh once" >&2; exit 1; }
rustup target list --installed | grep -qx aarch64-unknown-linux-gnu || rustup target add aarch64-unknown-linux-gnu
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=aarch64-linux-gnu-gcc
cargo build --release --locked --target aarch64-unknown-linux-gnu
bin=target/aarch64-unknown-linux-gnu/release/headcount

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
. scripts/insn-plugin.sh
plugin=$(insn_plugin /usr/aarch64-linux-gnu "$work" "$bin" --version)

clip=tests/fixtures/one-by-one/one-by-one-person-detection.mp4
run() { # fps -> writes $work/counts.$1 and $work/out.$1
  printf '[source]\nfps = %s\n[[counting.lines]]\nname = "door"\nfrom = [0.0, 0.95]\nto = [1.0, 0.95]\n[[counting.zones]]\nname = "left"\npolygon = [[0,0],[0.5,0],[0.5,1],[0,1]]\n' \
    "$1" > "$work/c$1.toml"
  HEADCOUNT_TFLITE_LIB="$PWD/.runtime/linux_arm64/libtensorflowlite_c.so" \
    qemu-aarch64 -L /usr/aarch64-linux-gnu -plugin "$plugin,out=$work/counts.$1" \
    "$bin" replay "$clip" --config "$work/c$1.toml" > "$work/out.$1"
}
run 1
run 2
frames() { grep '/health"' "$work/out.$1" | tail -n 1 | sed -E 's/.*"frames":([0-9]+).*/\1/'; }
f1=$(frames 1); f2=$(frames 2)
echo "aarch64 (qemu-aarch64 $(qemu-aarch64 --version | head -n 1 | awk '{print $3}')), SSD MobileNet v1 uint8, TF 2.9 runtime; $f1 and $f2 frames"
python3 - "$work/counts.1" "$work/counts.2" "$f1" "$f2" <<'PY'
import sys
# Legacy-mangled Rust paths name their modules as <length><name>.
stages = [
    ("preprocess (frame -> input tensor)", ["6detect10preprocess"]),
    ("post-process (decode + NMS)", ["6detect6decode", "6detect3nms"]),
    ("counting (tracker, lines, zones)", ["5count"]),
    ("frame source (ffmpeg pipe)", ["6source"]),
    ("publish (JSON, MQTT)", ["7publish"]),
    ("other headcount code (pipeline, detector glue)", ["9headcount"]),
]
INFERENCE = "inference (TF Lite runtime)"
LIBC = "libc (frame copy into the input tensor; the runtime's memset, threads)"
RUST = "std, allocator, dependencies (serde, rumqttc)"
UNMAPPED = "unmapped code"
CALLED = " (called by the runtime and std)"
def key_of(sym):
    for name, pats in stages:
        if any(p in sym for p in pats):
            return name
    if sym.startswith("lib:libtensorflowlite"):
        return INFERENCE
    if sym.startswith("lib:libc."):
        return LIBC
    if sym.startswith("lib:"):
        return sym[4:] + CALLED
    return UNMAPPED if sym == "[shared libraries]" else RUST
def load(path):
    out = {}
    for line in open(path):
        n, sym = line.rstrip("\n").split("\t", 1)
        k = key_of(sym)
        out[k] = out.get(k, 0) + int(n)
    return out
a, b = load(sys.argv[1]), load(sys.argv[2])
f1, f2 = int(sys.argv[3]), int(sys.argv[4])
per = {k: (b.get(k, 0) - a.get(k, 0)) / (f2 - f1) for k in set(a) | set(b)}
libs = sorted(k for k in per if k.endswith(CALLED))
print("| stage | instructions per frame |")
print("|---|---:|")
for key in [s for s, _ in stages] + [RUST, LIBC] + libs + [UNMAPPED, INFERENCE]:
    print(f"| {key} | {per.get(key, 0):,.0f} |")
total = sum(per.values())
rest = total - per.get(INFERENCE, 0)
print(f"| total | {total:,.0f} |")
print(f"everything but inference: {rest:,.0f} instructions per frame ({rest / total:.2%})")
PY
