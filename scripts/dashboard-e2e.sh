#!/usr/bin/env bash
# The dashboard in a real browser (scripts/dashboard_e2e.py says what is checked): installs Debian's
# chromium and chromium-driver when missing, Selenium into a venv in the user's cache
# (${XDG_CACHE_HOME:-~/.cache}/headcount, or $HEADCOUNT_CACHE), the dashboard's libraries
# (scripts/setup.sh), then runs the check against the release build (built if missing).
# Screenshots land in target/dashboard-1280x800.png and target/dashboard-390x844.png.
#   usage: scripts/dashboard-e2e.sh [HEADCOUNT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-target/release/headcount}
[ -x "$binary" ] || cargo build --release --locked
./scripts/setup.sh
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  echo "dashboard-e2e: installing chromium and chromium-driver" >&2
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null
fi
cache=${HEADCOUNT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/headcount}
venv="$cache/dashboard-venv"
mkdir -p "$cache"
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -c 'import selenium' 2>/dev/null || "$venv/bin/python" -m pip install --quiet selenium==4.50.0
echo "dashboard-e2e: $(chromium --version 2>/dev/null | head -1); selenium $("$venv/bin/python" -c 'import selenium; print(selenium.__version__)')" >&2
work=$(mktemp -d)
chmod 755 "$work"
trap 'rm -rf "$work"' EXIT
# Mosquitto may run as its own user: the served directory must be readable by it.
chmod -R a+rX dashboard
mkdir -p target
status=0
SE_OFFLINE=true "$venv/bin/python" scripts/dashboard_e2e.py "$binary" \
  "$PWD/tests/fixtures/one-by-one/one-by-one-person-detection.mp4" "$PWD/dashboard" "$work" "$PWD/target" || status=$?
if [ "$status" -ne 0 ]; then
  for log in aggregate hall lobby mosquitto; do
    echo "dashboard-e2e: the last lines of $log.log:" >&2
    tail -n 15 "$work/$log.log" >&2 2>/dev/null || true
  done
fi
exit "$status"
