"""The dashboard in a real headless Chromium (Debian's chromium, driven through chromedriver by
Selenium): Mosquitto serves dashboard/ from its own WebSockets listener (http_dir), `headcount
aggregate` runs beside it, the one-by-one clip is replayed into it as sensor "hall" (a doorway
line, "hall" also a declared room and entrance), and a second sensor "lobby" runs until it is
killed with SIGKILL. The page must show the hall's occupancy going 0 -> 1 -> 0 live, the doorway's
in total reaching 6 (the building's too), the lobby offline after its kill, make no request to any
host but the broker, and log no error. Screenshots at 1280x800 and 390x844 go to OUT_DIR.

    python dashboard_e2e.py HEADCOUNT_BINARY CLIP DASHBOARD_DIR WORK_DIR OUT_DIR
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

import e2e_util
from e2e_util import fail, free_port, wait_for

SITE = "e2e"


e2e_util.NAME = "dashboard-e2e"


def sensor_config(work, name, mqtt_port, line):
    path = os.path.join(work, f"{name}.toml")
    text = f'[sensor]\nsite = "{SITE}"\nname = "{name}"\n'
    if line:
        text += '[[counting.lines]]\nname = "door"\nfrom = [0.0, 0.95]\nto = [1.0, 0.95]\n'
    text += f'[mqtt]\nurl = "mqtt://127.0.0.1:{mqtt_port}"\ninterval_s = 5\ndiscovery = false\n'
    with open(path, "w") as f:
        f.write(text)
    return path


# Recorded in the page: every value each [data-sensor][data-metric] element takes, in order.
RECORDER = """
window.__seen = {};
const note = () => {
  for (const e of document.querySelectorAll('[data-sensor][data-metric]')) {
    const key = e.dataset.sensor + '/' + e.dataset.metric + (e.dataset.line ? '/' + e.dataset.line : '');
    const list = window.__seen[key] || (window.__seen[key] = []);
    const v = e.textContent;
    if (list[list.length - 1] !== v) list.push(v);
  }
};
new MutationObserver(note).observe(document.body, {subtree: true, childList: true, characterData: true});
note();
"""


def transitions(seen, key):
    return seen.get(key, [])


def main():
    binary, clip, dashboard, work, out = sys.argv[1:6]
    mqtt_port, ws_port = free_port(), free_port()
    conf = os.path.join(work, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write(
            f"listener {mqtt_port} 127.0.0.1\nallow_anonymous true\n"
            f"listener {ws_port} 127.0.0.1\nprotocol websockets\nhttp_dir {dashboard}\n"
        )
    procs = []

    def start(args, log_name, env=None):
        log = open(os.path.join(work, log_name), "w")
        p = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             env=dict(os.environ, **(env or {})))
        procs.append(p)
        return p

    mosquitto = "/usr/sbin/mosquitto" if os.path.exists("/usr/sbin/mosquitto") else "mosquitto"
    start([mosquitto, "-c", conf], "mosquitto.log")
    wait_for("mosquitto", lambda: socket.socket().connect_ex(("127.0.0.1", ws_port)) == 0, 20)
    agg = os.path.join(work, "aggregate.toml")
    with open(agg, "w") as f:
        f.write(
            f'[site]\nname = "{SITE}"\n[[site.entrances]]\nsensor = "hall"\nline = "door"\n'
            f'[[site.rooms]]\nsensor = "hall"\ngroup = "ground"\ncapacity = 4\n'
            f'[mqtt]\nurl = "mqtt://127.0.0.1:{mqtt_port}"\ninterval_s = 5\n'
        )
    start([binary, "aggregate", "--config", agg], "aggregate.log", {"HEADCOUNT_LOG": "info"})

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800",
                "--no-first-run", "--disable-background-networking", "--disable-component-update"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
    try:
        page = f"http://127.0.0.1:{ws_port}/index.html?site={SITE}"
        driver.get(page)
        driver.execute_script(RECORDER)
        seen = lambda: driver.execute_script("return window.__seen")  # noqa: E731
        wait_for("the page to connect", lambda: "live" in seen().get("_page/connection", []), 20)

        lobby = start([binary, "replay", clip, "--realtime", "--quiet", "--config",
                       sensor_config(work, "lobby", mqtt_port, False)], "lobby.log")
        hall = start([binary, "replay", clip, "--quiet", "--config",
                      sensor_config(work, "hall", mqtt_port, True)], "hall.log")
        wait_for("the lobby online", lambda: (seen().get("lobby/state") or [""])[-1] == "online", 60)
        if hall.wait(timeout=600) != 0:
            fail(f"the hall's replay failed (see {work}/hall.log)")
        wait_for("the hall's in total at 6", lambda: (seen().get("hall/in_total/door") or [""])[-1] == "6", 30)
        wait_for("the building's in total at 6", lambda: (seen().get("_site/in_total") or [""])[-1] == "6", 30)
        occupancy = [v for v in seen().get("hall/occupancy", []) if v != "–"]
        ups = sum(1 for a, b in zip(occupancy, occupancy[1:]) if a == "0" and b == "1")
        if ups < 1 or occupancy[-1] != "0":
            fail(f"the hall's occupancy went {occupancy}, expected 0 -> 1 -> 0")

        lobby.send_signal(signal.SIGKILL)
        lobby.wait()
        wait_for("the lobby shown offline after SIGKILL",
                 lambda: (seen().get("lobby/state") or [""])[-1] == "offline", 30)

        shots = []
        for w, h in ((1280, 800), (390, 844)):
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": w, "height": h, "deviceScaleFactor": 1, "mobile": False})
            time.sleep(1.0)
            path = os.path.join(out, f"dashboard-{w}x{h}.png")
            driver.save_screenshot(path)
            shots.append(path)

        # Every request the page made went to the broker that served it.
        urls = []
        for entry in driver.get_log("performance"):
            msg = json.loads(entry["message"])["message"]
            params = msg.get("params", {})
            if msg.get("method") == "Network.requestWillBeSent":
                urls.append(params["request"]["url"])
            elif msg.get("method") == "Network.webSocketCreated":
                urls.append(params["url"])
        foreign = [u for u in urls
                   if urllib.parse.urlsplit(u).scheme not in ("data", "blob", "about")
                   and urllib.parse.urlsplit(u).netloc != f"127.0.0.1:{ws_port}"]
        if foreign or not any(u.startswith("ws://") for u in urls):
            fail(f"requests beyond the broker: {foreign}; all: {urls}")
        errors = [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]
        if errors:
            fail(f"errors in the page's console: {errors}")
        print(f"dashboard-e2e: hall occupancy {' '.join(occupancy)}; in total "
              f"{' '.join(seen().get('hall/in_total/door', []))}; lobby "
              f"{' '.join(seen().get('lobby/state', []))}; {len(urls)} requests, all to the broker; "
              f"screenshots {' '.join(shots)}")
        print("dashboard-e2e: passed")
    finally:
        driver.quit()
        for p in procs:
            if p.poll() is None:
                p.terminate()
        for p in procs:
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()


if __name__ == "__main__":
    main()
