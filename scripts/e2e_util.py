"""Helpers shared by the end-to-end checks (ha_e2e.py, dashboard_e2e.py): a one-line failure, a
free loopback port, and a bounded wait. Set NAME to the check's name before use."""

import socket
import sys
import time

NAME = "e2e"


def fail(why):
    print(f"{NAME}: FAILED: {why}", file=sys.stderr)
    sys.exit(1)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(what, check, limit_s, step_s=0.5):
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step_s)
    fail(f"{what}: not within {limit_s} s")
