#!/usr/bin/env bash
# Home Assistant end to end (scripts/ha_e2e.py says what is checked): installs the newest Home
# Assistant whose Python requirement an interpreter on this machine meets (pip chooses it) into a
# venv in the user's cache (${XDG_CACHE_HOME:-~/.cache}/headcount, or $HEADCOUNT_CACHE; shared by
# every clone, reused and upgraded on later runs: a clean clone does not reinstall Home
# Assistant's few hundred packages), then runs the check
# against the release build, which it builds if missing. Prints the Home Assistant version it ran.
#   usage: scripts/ha-e2e.sh [HEADCOUNT_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
binary=${1:-target/release/headcount}
[ -x "$binary" ] || cargo build --release --locked

# The newest CPython 3 on the machine: on PATH (python3.N) or under pyenv.
best="" best_version=0
for py in $(compgen -c python3. | grep -E '^python3\.[0-9]+$' | sort -u) "$HOME"/.pyenv/versions/3.*/bin/python3; do
  command -v "$py" >/dev/null 2>&1 || [ -x "$py" ] || continue
  v=$("$py" -c 'import sys; print(sys.version_info[0] * 10000 + sys.version_info[1] * 100 + sys.version_info[2])' 2>/dev/null) || continue
  if [ "$v" -gt "$best_version" ]; then best=$py best_version=$v; fi
done
[ -n "$best" ] || { echo "ha-e2e: no python3 found" >&2; exit 1; }
cache=${HEADCOUNT_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/headcount}
mkdir -p "$cache"
venv="$cache/ha-venv-$best_version"
if [ ! -x "$venv/bin/python" ]; then
  echo "ha-e2e: making a venv with $("$best" --version) in $venv" >&2
  "$best" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet --upgrade homeassistant
echo "ha-e2e: $("$venv/bin/python" -m pip show homeassistant | grep '^Version') on $("$venv/bin/python" --version)" >&2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
"$venv/bin/python" scripts/ha_e2e.py "$binary" tests/fixtures/one-by-one/one-by-one-person-detection.mp4 "$work" || status=$?
if [ "$status" -ne 0 ]; then
  echo "ha-e2e: the last lines of Home Assistant's log:" >&2
  tail -n 40 "$work/home-assistant.log" >&2 2>/dev/null || true
fi
exit "$status"
