"""`systemctl` for tests of docs/operations.md: runs the units' own ExecStart= lines as systemd
would, on a scratch folder, without root or a running systemd.

It reads units from $STAND_IN_UNITS (where the docs copy them), applies the path substitutions
in $STAND_IN_PATHS (JSON: path in the docs -> path on this machine), and keeps its state in
$STAND_IN_STATE. `Type=notify` units are started with a NOTIFY_SOCKET of its own and count as
started once the process says READY=1 (as systemd does); `Type=oneshot` units run to the end.
Handled: daemon-reload, enable [--now], start, stop, restart, status, is-active.
"""

from __future__ import annotations

import configparser
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

UNITS = Path(os.environ.get("STAND_IN_UNITS", "."))
STATE = Path(os.environ.get("STAND_IN_STATE", "."))
PATHS: dict[str, str] = json.loads(os.environ.get("STAND_IN_PATHS", "{}"))
READY_WITHIN = 120.0


def local(text: str) -> str:
    for documented, here in PATHS.items():
        text = text.replace(documented, here)
    return text


def unit_file(name: str) -> Path:
    return UNITS / (name if "." in name else f"{name}.service")


def service(name: str) -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str  # type: ignore[assignment, method-assign]
    parser.read(unit_file(name))
    return parser["Service"]


def command(line: str) -> list[str]:
    return shlex.split(local(line.replace("%%", "%")))


def pid_of(name: str) -> int | None:
    path = STATE / f"{name}.pid"
    if not path.exists():
        return None
    pid = int(path.read_text())
    try:
        os.kill(pid, 0)
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return None
    return None if state == "Z" else pid  # a zombie has exited; nobody reaped it yet


def start(name: str) -> int:
    if name.endswith(".timer"):
        return 0  # timers: what they start is tested by starting the service itself
    unit = service(name)
    workdir = local(unit.get("WorkingDirectory", "/"))
    if unit.get("Type") == "oneshot":
        for key in ("ExecStart", "ExecStartPost"):
            if key in unit:
                done = subprocess.run(command(unit[key]), cwd=workdir)
                if done.returncode != 0:
                    print(f"{name}: {key} failed ({done.returncode})", file=sys.stderr)
                    return 1
        return 0
    if pid_of(name) is not None:
        return 0
    folder = tempfile.mkdtemp(prefix="sd-", dir="/tmp")
    address = os.path.join(folder, "notify")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(address)
    env = dict(os.environ, NOTIFY_SOCKET=address)
    if "WatchdogSec" in unit:
        env["WATCHDOG_USEC"] = str(int(unit["WatchdogSec"]) * 1_000_000)
    log = open(STATE / f"{name}.log", "ab")  # noqa: SIM115 - the process keeps it
    process = subprocess.Popen(command(unit["ExecStart"]), cwd=workdir, env=env, stdout=log,
                               stderr=log, start_new_session=True)
    (STATE / f"{name}.pid").write_text(str(process.pid))
    try:
        return _until_ready(name, process, listener)
    finally:  # the process's later notifications find nobody, as when systemd reloads
        listener.close()
        shutil.rmtree(folder, ignore_errors=True)


def _until_ready(name: str, process: subprocess.Popen[bytes], listener: socket.socket) -> int:
    deadline = time.monotonic() + READY_WITHIN
    listener.settimeout(1.0)
    while time.monotonic() < deadline:
        if process.poll() is not None:
            print(f"{name}: exited with {process.returncode} before it was ready; its log:\n"
                  + (STATE / f"{name}.log").read_text(), file=sys.stderr)
            return 1
        try:
            if b"READY=1" in listener.recv(4096).split(b"\n"):
                return 0
        except TimeoutError:
            continue
    print(f"{name}: not ready within {READY_WITHIN:.0f} s", file=sys.stderr)
    return 1


def stop(name: str) -> int:
    pid = pid_of(name)
    if pid is None:
        return 0
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while pid_of(name) is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    if pid_of(name) is not None:
        os.kill(pid, signal.SIGKILL)
    (STATE / f"{name}.pid").unlink(missing_ok=True)
    return 0


def main(args: list[str]) -> int:
    verb, names = args[0], [a for a in args[1:] if not a.startswith("-")]
    if verb == "daemon-reload":
        return 0
    if verb == "enable":
        missing = [n for n in names if not unit_file(n).exists()]
        if missing:
            print(f"Unit file {missing[0]} does not exist.", file=sys.stderr)
            return 1
        return max((start(n) for n in names), default=0) if "--now" in args else 0
    if verb == "start":
        return max((start(n) for n in names), default=0)
    if verb == "stop":
        return max((stop(n) for n in names), default=0)
    if verb == "restart":
        return max((stop(n) or start(n) for n in names), default=0)
    if verb in ("status", "is-active"):
        down = [n for n in names if pid_of(n) is None]
        for name in names:
            print(f"{name}: {'inactive (dead)' if name in down else 'active (running)'}")
        return 3 if down else 0
    print(f"systemctl stand-in: {verb} is not handled", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
