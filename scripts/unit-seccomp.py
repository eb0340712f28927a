#!/usr/bin/python3
"""Runs a command under the seccomp filters that a systemd unit file asks for.

    scripts/unit-seccomp.py UNIT_FILE -- COMMAND [ARG...]

For checking that headcount works under its own unit's filters where PID 1 is not systemd (a CI
container, a build machine). It reads the unit's [Service] lines and builds, with libseccomp (the
library systemd itself uses, through Debian's python3-seccomp), the filters systemd would load:

- SystemCallFilter= (allow and ~deny lists, in order, sets expanded by `systemd-analyze
  syscall-filter` of the systemd installed here; an allow list starts from @default, as systemd's
  does) with SystemCallErrorNumber= as the refusal;
- RestrictAddressFamilies= (socket() of any other family fails with EAFNOSUPPORT);
- MemoryDenyWriteExecute=yes (writable and executable mappings, and making memory executable,
  fail with EPERM).

Other unit settings (namespaces, users, mounts) are not applied: they are not seccomp filters.
Prints one line on stderr saying what it applied, then replaces itself with COMMAND.
"""

import errno
import os
import socket
import subprocess
import sys

import seccomp

ARCH = seccomp.Arch.NATIVE


def service_lines(unit_path):
    """(key, value) of every setting in the [Service] section, in order."""
    section, out = None, []
    with open(unit_path, encoding="utf-8") as f:
        for raw in f:
            line = raw.strip()
            if not line or line.startswith(("#", ";")):
                continue
            if line.startswith("["):
                section = line
                continue
            if section == "[Service]" and "=" in line:
                key, value = line.split("=", 1)
                out.append((key.strip(), value.strip()))
    return out


_sets = {}


def expand(name):
    """The syscall names in `name` (a @set, recursively, or one syscall)."""
    if not name.startswith("@"):
        return {name}
    if name not in _sets:
        listing = subprocess.run(
            ["systemd-analyze", "syscall-filter", name],
            check=True, capture_output=True, text=True,
        ).stdout
        names = set()
        for line in listing.splitlines()[1:]:
            item = line.strip()
            if item and not item.startswith("#"):
                names |= expand(item)
        _sets[name] = names
    return _sets[name]


def syscall_filter(settings):
    """(allow_list, names) as systemd's parser builds them from the SystemCallFilter= lines."""
    allow_list, names = None, set()
    for key, value in settings:
        if key != "SystemCallFilter":
            continue
        if not value:
            allow_list, names = None, set()
            continue
        invert = value.startswith("~")
        words = value.lstrip("~").split()
        if allow_list is None:
            allow_list = not invert
            if allow_list:
                names |= expand("@default")
        for word in words:
            if invert == allow_list:
                names -= expand(word)
            else:
                names |= expand(word)
    return allow_list, names


def resolvable(name):
    try:
        return seccomp.resolve_syscall(ARCH, name) >= 0
    except (ValueError, RuntimeError):
        return False


def errno_number(value):
    if not value:
        return None
    if value.isdigit():
        return int(value)
    return getattr(errno, value.split(":")[-1])


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        sys.exit("usage: unit-seccomp.py UNIT_FILE -- COMMAND [ARG...]")
    unit, command = argv[1], argv[3:]
    settings = service_lines(unit)
    last = {k: v for k, v in settings}
    applied = []

    families = last.get("RestrictAddressFamilies", "")
    if families and not families.startswith("~"):
        allowed = {getattr(socket, fam) for fam in families.split()}
        f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        for fam in range(0, 64):
            if fam not in allowed:
                f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.EQ, fam))
        f.add_rule(seccomp.ERRNO(errno.EAFNOSUPPORT), "socket", seccomp.Arg(0, seccomp.GE, 64))
        f.load()
        applied.append(f"RestrictAddressFamilies ({families})")

    if last.get("MemoryDenyWriteExecute", "no") in ("yes", "true", "1", "on"):
        wx = 0x2 | 0x4  # PROT_WRITE | PROT_EXEC
        f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
        f.add_rule(seccomp.ERRNO(errno.EPERM), "mmap", seccomp.Arg(2, seccomp.MASKED_EQ, wx, wx))
        for call in ("mprotect", "pkey_mprotect"):
            f.add_rule(seccomp.ERRNO(errno.EPERM), call, seccomp.Arg(2, seccomp.MASKED_EQ, 0x4, 0x4))
        f.add_rule(seccomp.ERRNO(errno.EPERM), "shmat", seccomp.Arg(2, seccomp.MASKED_EQ, 0o100000, 0o100000))
        f.load()
        applied.append("MemoryDenyWriteExecute")

    # Last, as systemd does: once loaded, it may refuse the calls that load the others.
    allow_list, names = syscall_filter(settings)
    if allow_list is not None:
        refusal = errno_number(last.get("SystemCallErrorNumber", ""))
        refuse = seccomp.ERRNO(refusal) if refusal is not None else seccomp.KILL_PROCESS
        f = seccomp.SyscallFilter(defaction=refuse if allow_list else seccomp.ALLOW)
        rule = seccomp.ALLOW if allow_list else refuse
        known = sorted(n for n in names if resolvable(n))
        for name in known:
            f.add_rule(rule, name)
        f.load()
        kind = "allowed" if allow_list else "denied"
        applied.append(f"SystemCallFilter ({len(known)} calls {kind})")

    print(f"unit-seccomp: {os.path.basename(unit)}: {', '.join(applied) or 'no filters'}",
          file=sys.stderr)
    os.execvp(command[0], command)


if __name__ == "__main__":
    main(sys.argv)
