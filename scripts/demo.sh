#!/usr/bin/env bash
# The main job on the bundled model and clip: installs what is missing, builds headcount, starts
# a private Mosquitto on a free loopback port, and replays the one-by-one clip into it. Each
# published count is printed as a JSON line; at the end, the retained state a dashboard would see.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --locked

work=$(mktemp -d)
cleanup() { [ -n "${broker_pid:-}" ] && kill "$broker_pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT
port=""
for _ in $(seq 50); do  # a free loopback port: nothing answers on it
  p=$((20000 + RANDOM % 40000))
  if ! (echo > "/dev/tcp/127.0.0.1/$p") 2>/dev/null; then port=$p; break; fi
done
[ -n "$port" ] || { echo "demo: no free port found" >&2; exit 1; }
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$port" > "$work/mosquitto.conf"
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$mosquitto_bin" -c "$work/mosquitto.conf" >/dev/null 2>&1 &
broker_pid=$!
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

cat > "$work/headcount.toml" <<TOML
[sensor]
site = "demo"
name = "doorway"
[mqtt]
url = "mqtt://127.0.0.1:$port"
TOML
echo "replaying tests/fixtures/one-by-one/one-by-one-person-detection.mp4 into mqtt://127.0.0.1:$port ..." >&2
./target/release/headcount replay tests/fixtures/one-by-one/one-by-one-person-detection.mp4 \
  --config "$work/headcount.toml" "$@"
echo "retained on the broker now (what a dashboard sees):" >&2
mosquitto_sub -h 127.0.0.1 -p "$port" -t 'headcount/#' --retained-only -W 1 -v 2>/dev/null || true
