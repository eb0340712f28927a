"""Home Assistant, end to end, against a real Home Assistant (scripts/ha-e2e.sh installs it).

Starts a private Mosquitto and a fresh Home Assistant on loopback ports, onboards it and sets
up its MQTT integration through its own REST API (no person at a browser), replays the
one-by-one clip with a zone and a doorway line into the broker, and reads Home Assistant's REST
API: every headcount entity on one device, occupancy following 0 -> 1 -> 0 six times, the line's
"in" total 6, everything unavailable once headcount is offline, the site aggregator's six
entities on a device of their own with the building's entries and occupancy at 6, and no warning
in Home Assistant's log about headcount's payloads. Standard library only; exits non-zero with the
reason on the first failed check.

usage: ha_e2e.py HEADCOUNT_BINARY CLIP WORKDIR
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

import e2e_util
from e2e_util import fail, free_port, wait_for

SITE, NAME = "e2e", "hall"
STARTUP_S = 600  # a first start installs the integrations' requirements into the venv
CLIENT_ID = None  # set once the port is known


e2e_util.NAME = "ha-e2e"


class Api:
    def __init__(self, port):
        self.base = f"http://127.0.0.1:{port}"
        self.token = None

    def call(self, method, path, body=None, form=False):
        headers = {}
        data = None
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if body is not None:
            if form:
                data = urllib.parse.urlencode(body).encode()
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            else:
                data = json.dumps(body).encode()
                headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.base + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
        return json.loads(text) if text.strip().startswith(("{", "[")) else text

    def up(self):
        try:
            return self.call("GET", "/api/onboarding")
        except (urllib.error.URLError, ConnectionError, OSError):
            return None


def onboard(api):
    """Creates the owner through the onboarding API and takes an access token."""
    user = api.call(
        "POST",
        "/api/onboarding/users",
        {
            "client_id": CLIENT_ID,
            "name": "e2e",
            "username": "e2e",
            "password": "e2e-not-a-secret",
            "language": "en",
        },
    )
    token = api.call(
        "POST",
        "/auth/token",
        {"grant_type": "authorization_code", "code": user["auth_code"], "client_id": CLIENT_ID},
        form=True,
    )
    api.token = token["access_token"]


def mqtt_integration(api, broker_port):
    """Sets up the MQTT integration with Home Assistant's own config flow."""
    step = api.call("POST", "/api/config/config_entries/flow", {"handler": "mqtt"})
    for _ in range(5):
        if step.get("type") == "create_entry":
            return
        if step.get("type") == "menu":
            # Newer versions may offer a menu first: the broker step is the manual one.
            options = step.get("menu_options", [])
            choice = "broker" if "broker" in options else options[0]
            step = api.call(
                "POST", f"/api/config/config_entries/flow/{step['flow_id']}", {"next_step_id": choice}
            )
            continue
        if step.get("type") != "form":
            fail(f"MQTT config flow: unexpected step {step}")
        fields = {f["name"] for f in step.get("data_schema", [])}
        answer = {"broker": "127.0.0.1", "port": broker_port}
        answer = {k: v for k, v in answer.items() if k in fields}
        step = api.call("POST", f"/api/config/config_entries/flow/{step['flow_id']}", answer)
    fail(f"MQTT config flow did not finish: {step}")


def template(api, text):
    return api.call("POST", "/api/template", {"template": text})


def entities(api):
    """(entity_id, device_id, friendly name) of every MQTT entity."""
    text = template(
        api,
        "{% set ns = namespace(out=[]) %}{% for e in integration_entities('mqtt') %}"
        "{% set ns.out = ns.out + [[e, device_id(e), state_attr(e, 'friendly_name')]] %}"
        "{% endfor %}{{ ns.out | tojson }}",
    )
    return json.loads(text) if isinstance(text, str) else text


def history(api, since, entity_ids):
    path = (
        f"/api/history/period/{urllib.parse.quote(since)}?filter_entity_id="
        + ",".join(entity_ids)
        + "&minimal_response&no_attributes"
    )
    return {series[0]["entity_id"]: [s["state"] for s in series] for series in api.call("GET", path) if series}


def transitions(states):
    out = []
    for s in states:
        if s in ("unavailable", "unknown"):
            continue
        if not out or out[-1] != s:
            out.append(s)
    return out


def replay(binary, clip, config, log):
    with open(log, "ab") as err:
        done = subprocess.run(
            [binary, "replay", clip, "--config", config, "--quiet"],
            stdout=subprocess.DEVNULL,
            stderr=err,
            timeout=900,
        )
    if done.returncode != 0:
        fail(f"headcount replay exited {done.returncode} (see {log})")


def main():
    global CLIENT_ID
    if len(sys.argv) != 4:
        fail(__doc__.strip().splitlines()[-1])
    binary, clip, work = sys.argv[1:4]
    os.makedirs(work, exist_ok=True)
    broker_port, ha_port = free_port(), free_port()
    CLIENT_ID = f"http://127.0.0.1:{ha_port}/"

    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(f"listener {broker_port} 127.0.0.1\nallow_anonymous true\npersistence false\n")
    mosquitto = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    broker = subprocess.Popen([mosquitto, "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    ha_dir = os.path.join(work, "ha")
    os.makedirs(ha_dir, exist_ok=True)
    with open(os.path.join(ha_dir, "configuration.yaml"), "w") as f:
        f.write(
            "homeassistant:\n  name: headcount-e2e\n  latitude: 0\n  longitude: 0\n  elevation: 0\n"
            "  unit_system: metric\n  time_zone: UTC\n"
            f"http:\n  server_host: 127.0.0.1\n  server_port: {ha_port}\n"
            "api:\nrecorder:\n  commit_interval: 1\nhistory:\nlogger:\n  default: warning\n"
        )
    ha_log = os.path.join(work, "home-assistant.log")
    hass = os.path.join(os.path.dirname(sys.executable), "hass")
    ha = subprocess.Popen(
        [hass, "-c", ha_dir, "--log-file", ha_log],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        run(binary, clip, work, broker_port, ha_port, ha_log)
    finally:
        for p in (ha, broker):
            p.terminate()
        for p in (ha, broker):
            try:
                p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                p.kill()


def run(binary, clip, work, broker_port, ha_port, ha_log):
    api = Api(ha_port)
    started = time.monotonic()
    wait_for("Home Assistant answering on its HTTP port", api.up, STARTUP_S, 1)
    onboard(api)
    version = api.call("GET", "/api/config")["version"]
    print(f"ha-e2e: Home Assistant {version} up in {time.monotonic() - started:.0f} s", file=sys.stderr)
    mqtt_integration(api, broker_port)

    # The site aggregator beside the broker: its six site entities on a device of their own.
    site_config = os.path.join(work, "aggregate.toml")
    with open(site_config, "w") as f:
        f.write(
            f'[site]\nname = "{SITE}"\n[[site.entrances]]\nsensor = "{NAME}"\nline = "door"\n'
            f'[[site.rooms]]\nsensor = "{NAME}"\ncapacity = 4\n'
            f'[mqtt]\nurl = "mqtt://127.0.0.1:{broker_port}"\ninterval_s = 30\n'
        )
    aggregate = subprocess.Popen(
        [binary, "aggregate", "--config", site_config],
        stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(work, "aggregate.log"), "w"),
    )
    try:
        check(api, binary, clip, work, broker_port, ha_log, version)
    finally:
        aggregate.terminate()
        aggregate.wait(timeout=30)


def site_entities(api):
    """{entity name: (entity_id, state)} of the site aggregator's device, when all six are there."""
    prefix = f"headcount {SITE} site "
    found = {
        (friendly or "")[len(prefix):]: (e, d)
        for e, d, friendly in entities(api)
        if (friendly or "").startswith(prefix)
    }
    if len(found) != 6:
        return None
    if len({d for _, d in found.values()}) != 1:
        fail(f"site entities not on one device: {found}")
    return found


def check(api, binary, clip, work, broker_port, ha_log, version):
    config = os.path.join(work, "headcount.toml")
    with open(config, "w") as f:
        f.write(
            f'[sensor]\nsite = "{SITE}"\nname = "{NAME}"\n'
            # Half the clip's frames: the same counts (0 -> 1 -> 0 six times, 6 in), half the
            # inference beside the rest of the suite.
            '[source]\nfps = 5\n'
            '[[counting.lines]]\nname = "door"\nfrom = [0.0, 0.95]\nto = [1.0, 0.95]\n'
            '[[counting.zones]]\nname = "left"\npolygon = [[0,0],[0.5,0],[0.5,1],[0,1]]\n'
            f'[mqtt]\nurl = "mqtt://127.0.0.1:{broker_port}"\ninterval_s = 30\n'
        )
    headcount_log = os.path.join(work, "headcount.log")
    # First the opening two seconds, so that Home Assistant has read the discovery configs and
    # subscribed to the state topics before the counts of the whole clip arrive.
    opening = os.path.join(work, "opening.mp4")
    subprocess.run(
        ["ffmpeg", "-loglevel", "error", "-y", "-i", clip, "-t", "2", "-c", "copy", opening], check=True
    )
    replay(binary, opening, config, headcount_log)
    names = {
        "occupancy": " Occupancy",
        "zone": " Occupancy left",
        "line_in": " door in",
        "line_out": " door out",
        "camera_view": " Camera view problem",
    }

    def ours():
        found = {}
        for entity_id, device, friendly in entities(api):
            for key, suffix in names.items():
                if (friendly or "").startswith(f"headcount {SITE}/{NAME}") and friendly.endswith(suffix):
                    found[key] = (entity_id, device)
        return found if len(found) == len(names) else None

    found = wait_for("headcount's entities in Home Assistant", ours, 60)
    all_ours = [e for e, d, f in entities(api) if (f or "").startswith(f"headcount {SITE}/{NAME}")]
    devices = {d for _, d in found.values()}
    if len(devices) != 1 or None in devices:
        fail(f"entities not on one device: {found}")
    print(f"ha-e2e: {len(all_ours)} entities on one device: {sorted(all_ours)}", file=sys.stderr)
    major, minor = (int(x) for x in version.split(".")[:2])
    if (major, minor) >= (2025, 10):
        # default_entity_id is honoured from 2025.10: ids stable for users upgrading.
        want = {
            "occupancy": f"sensor.headcount_{SITE}_{NAME}_occupancy",
            "line_in": f"sensor.headcount_{SITE}_{NAME}_line_door_in",
        }
        for key, entity_id in want.items():
            if found[key][0] != entity_id:
                fail(f"{key}: entity id {found[key][0]}, expected {entity_id} (default_entity_id)")

    since = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 1))
    replay(binary, clip, config, headcount_log)
    ids = [found[k][0] for k in ("occupancy", "zone", "line_in", "line_out")]

    def offline_everywhere():
        states = {e: api.call("GET", f"/api/states/{e}")["state"] for e in all_ours}
        return states if all(s == "unavailable" for s in states.values()) else None

    wait_for("every headcount entity unavailable after offline", offline_everywhere, 30)
    # The recorder commits every second: wait until the offline is in every entity's history,
    # so everything before it is too.
    def recorded():
        h = history(api, since, ids)
        return h if all(h.get(e, [])[-1:] == ["unavailable"] for e in ids) else None

    seen = wait_for("the clip's counts in Home Assistant's history", recorded, 30, 1)
    occupancy = transitions(seen.get(ids[0], []))
    if occupancy != ["0", "1"] * 6 + ["0"]:
        fail(f"occupancy went {occupancy}, expected 0 -> 1 -> 0 six times")
    line_in = transitions(seen.get(ids[2], []))
    if line_in[-1:] != ["6"]:
        fail(f"line in went {line_in}, expected to end at 6")
    site = wait_for("the site aggregator's entities", lambda: site_entities(api), 60)

    def building_at_six():
        states = {name: api.call("GET", f"/api/states/{e}")["state"] for name, (e, _) in site.items()}
        return states if states["Entered today"] == "6" and states["Building occupancy"] == "6" else None

    site_states = wait_for("the building's 6 entries in Home Assistant", building_at_six, 30)
    print(f"ha-e2e: site entities {sorted(e for e, _ in site.values())}: {site_states}", file=sys.stderr)
    print(
        f"ha-e2e: occupancy {' '.join(occupancy)}; line in {' '.join(line_in)}; "
        f"zone {' '.join(transitions(seen.get(ids[1], [])))}",
        file=sys.stderr,
    )
    with open(ha_log, errors="replace") as f:
        log = f.read()
    complaints = [
        line
        for line in log.splitlines()
        if re.search(r"\b(WARNING|ERROR)\b", line) and re.search(r"headcount|mqtt", line, re.I)
    ]
    if complaints:
        fail("Home Assistant's log complains:\n" + "\n".join(complaints[:20]))
    print(f"ha-e2e: passed on Home Assistant {version}", file=sys.stderr)


if __name__ == "__main__":
    main()
