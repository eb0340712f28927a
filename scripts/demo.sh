#!/usr/bin/env bash
# The main job on the bundled model and clip: installs what is missing, builds headcount, starts
# a private Mosquitto on a free loopback port (with a WebSockets listener serving dashboard/, and
# `headcount aggregate` beside it), and replays the one-by-one clip into it. Each published count is
# printed as a JSON line; at the end, the retained state a dashboard sees. Open the dashboard URL it
# prints; on a terminal it keeps the broker up for the dashboard until you press Enter.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
cargo build --release --locked

work=$(mktemp -d)
cleanup() {
  for pid in ${agg_pid:-} ${broker_pid:-}; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
free_port() {  # a free loopback port: nothing answers on it
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (echo > "/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "demo: no free port found" >&2; exit 1
}
port=$(free_port)
ws_port=$(free_port)
chmod -R a+rX dashboard
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\nlistener %s 127.0.0.1\nprotocol websockets\nhttp_dir %s\n' \
  "$port" "$ws_port" "$PWD/dashboard" > "$work/mosquitto.conf"
mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
"$mosquitto_bin" -c "$work/mosquitto.conf" >/dev/null 2>&1 &
broker_pid=$!
for _ in $(seq 50); do (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done

cat > "$work/headcount.toml" <<TOML
[sensor]
site = "demo"
name = "doorway"
[[counting.lines]]
name = "door"
from = [0.0, 0.95]
to = [1.0, 0.95]
[mqtt]
url = "mqtt://127.0.0.1:$port"
TOML
cat > "$work/aggregate.toml" <<TOML
[site]
name = "demo"
[[site.entrances]]
sensor = "doorway"
line = "door"
[[site.rooms]]
sensor = "doorway"
capacity = 4
[mqtt]
url = "mqtt://127.0.0.1:$port"
TOML
./target/release/headcount aggregate --config "$work/aggregate.toml" 2>/dev/null &
agg_pid=$!
echo "dashboard: open http://127.0.0.1:$ws_port/index.html?site=demo" >&2
echo "replaying tests/fixtures/one-by-one/one-by-one-person-detection.mp4 into mqtt://127.0.0.1:$port ..." >&2
./target/release/headcount replay tests/fixtures/one-by-one/one-by-one-person-detection.mp4 \
  --config "$work/headcount.toml" "$@"
echo "retained on the broker now (what a dashboard sees):" >&2
mosquitto_sub -h 127.0.0.1 -p "$port" -t 'headcount/#' --retained-only -W 1 -v 2>/dev/null || true
if [ -t 0 ]; then
  read -r -p "dashboard: http://127.0.0.1:$ws_port/index.html?site=demo — press Enter to stop the broker " _ || true
fi
