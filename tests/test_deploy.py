"""deploy/, the Dockerfile and compose.yaml hold together (issue 15, acceptance 1): systemd
accepts the units, the image is slim, non-root, healthy by /healthz with its data in a volume,
and compose.yaml runs what the README and docs/operations.md say it runs. No Docker engine is
needed: the files are read as Docker reads them."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import threading
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers import ROUNDTABLE, cli_env, run_cli, wait_for
from tests.slack_api_stub import SlackStub

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "deploy" / "systemd"
PROCESSES = ("serve", "worker", "scheduler")


def units_here(tmp_path: Path) -> list[Path]:
    """The units with the installed command where they expect /opt/roundtable's (systemd
    checks that each command exists and is executable)."""
    copies = []
    for unit in sorted(UNITS.iterdir()):
        copy = tmp_path / unit.name
        copy.write_text(unit.read_text().replace("/opt/roundtable/.venv/bin/roundtable",
                                                 ROUNDTABLE))
        copies.append(copy)
    return copies


def verify(units: list[Path]) -> subprocess.CompletedProcess[str]:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.skip("systemd-analyze is not installed here (apt-get install systemd); the "
                    "units were not verified")
    # to the console even without a terminal (else the warnings go to the journal)
    return subprocess.run([tool, "verify", "--man=no", *map(str, units)],
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "SYSTEMD_LOG_TARGET": "console"})


def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    units = units_here(tmp_path)
    assert {u.name for u in units} == {*(f"roundtable-{p}.service" for p in PROCESSES),
                                       "roundtable-backup.service", "roundtable-backup.timer"}
    checked = verify(units)
    assert checked.returncode == 0 and checked.stderr == "", checked.stderr
    broken = tmp_path / "broken" / "roundtable-serve.service"
    broken.parent.mkdir()
    serve = next(u for u in units if u.name == broken.name).read_text()
    broken.write_text(serve.replace("Restart=always", "Restart=sometimes"))
    assert "Failed to parse service restart specifier" in verify([broken]).stderr  # it checks


def test_each_process_unit_runs_its_command_as_a_service(tmp_path: Path) -> None:
    for process in PROCESSES:
        text = (UNITS / f"roundtable-{process}.service").read_text()
        assert re.search(rf"^ExecStart=/opt/roundtable/\.venv/bin/roundtable {process}\b", text,
                         re.M), process
        for line in ("Type=notify", "User=roundtable", "WorkingDirectory=/var/lib/roundtable",
                     "ReadWritePaths=/var/lib/roundtable", "Restart=always",
                     "ProtectSystem=strict", "NoNewPrivileges=yes"):
            assert re.search(f"^{re.escape(line)}$", text, re.M), (process, line)


def test_a_process_tells_systemd_it_is_ready_and_healthy_and_when_it_stops(
        tmp_path: Path) -> None:
    stub = SlackStub().start()
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    folder = tempfile.mkdtemp(prefix="sd-", dir="/tmp")  # a short path for the socket
    address = os.path.join(folder, "notify")
    said: list[bytes] = []
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as listener:
        listener.bind(address)
        listener.settimeout(60)

        def read() -> None:  # as systemd does, all the time
            while (message := listener.recv(4096)) != b"STOPPING=1":
                said.append(message)
            said.append(message)

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        worker = subprocess.Popen([ROUNDTABLE, "worker"], cwd=tmp_path, text=True,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                  env=cli_env(SLACK_BOT_TOKEN="xoxb-test",
                                              SLACK_SIGNING_SECRET="s",
                                              SLACK_API_URL=stub.base_url,
                                              NOTIFY_SOCKET=address, WATCHDOG_USEC="300000"))
        try:
            wait_for(lambda: b"WATCHDOG=1" in said, "the first WATCHDOG=1", timeout=60)
        finally:
            worker.terminate()
            worker.communicate(timeout=60)
            stub.stop()
        reader.join(60)
    shutil.rmtree(folder)
    assert said[:2] == [b"READY=1", b"WATCHDOG=1"]
    assert said[-1] == b"STOPPING=1"


def dockerfile() -> list[tuple[str, str]]:
    """(instruction, arguments) of the Dockerfile, continuation lines joined."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1]) for line in lines
            if line and not line.startswith("#")]


def test_the_image_is_slim_runs_as_its_own_user_keeps_data_in_a_volume_and_checks_health(
        ) -> None:
    steps = dockerfile()
    assert steps[0][0] == "FROM" and re.fullmatch(r"python:3\.11-slim(-\w+)?", steps[0][1])
    users = [args for op, args in steps if op == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert ("VOLUME", '["/data"]') in steps
    env = " ".join(args for op, args in steps if op == "ENV")
    assert "ROUNDTABLE_DATA_DIR=/data" in env and "DATABASE_URL=sqlite:////data/" in env
    assert "ROUNDTABLE_HOST=0.0.0.0" in env  # a published port reaches only that
    health = next(args for op, args in steps if op == "HEALTHCHECK")
    assert health.endswith('CMD ["roundtable", "health"]')
    for op, args in steps:
        if op == "COPY":
            for source in args.split()[:-1]:
                assert (ROOT / source).exists(), source
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    assert ignored[1] == "*" or "*" in ignored  # everything out, then only what is needed in
    assert not any(line.startswith("!") and (".venv" in line or ".git" in line)
                   for line in ignored)


MODEL = "--no-deps -r bot/core/digest/model-requirements.txt"
"""How the README's quick start installs the theme engine's model files (without them every
digest falls back to word-based themes, with a warning in the log)."""


def test_the_image_has_the_theme_engines_model_as_the_quick_start_installs_it() -> None:
    installs = [args for op, args in dockerfile() if op == "RUN" and "pip install" in args]
    assert installs, "the Dockerfile installs nothing"
    steps = [step.strip() for args in installs for step in args.split("&&")]
    roundtable = next(i for i, step in enumerate(steps) if step.endswith("pip install ."))
    model = [i for i, step in enumerate(steps) if step.endswith(f"pip install {MODEL}")]
    assert model and model[0] > roundtable, steps


def compose() -> dict[str, Any]:
    model = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(model, dict)
    return model


def table(path: Path, heading: str) -> list[dict[str, str]]:
    """The rows of the Markdown table whose header row starts with `heading`."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"| {heading} |"))
    names = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = []
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        rows.append(dict(zip(names, (c.strip() for c in line.strip("|").split("|")),
                             strict=True)))
    return rows


def names(cell: str) -> set[str]:
    return set(re.findall(r"`([^`]+)`", cell))


@pytest.mark.parametrize("described_in", ["README.md", "docs/operations.md"])
def test_compose_runs_what_the_docs_say(described_in: str) -> None:
    model = compose()
    services: dict[str, Any] = model["services"]
    rows = {next(iter(names(r["service"]))): r for r in table(ROOT / described_in, "service")}
    assert set(rows) == set(services) == {"postgres", "migrate", "serve", "worker"}
    for name, row in rows.items():
        service = services[name]
        check = service.get("healthcheck") or {}
        if row["health check"] == "none":
            assert check.get("disable") is True, name
        else:
            assert " ".join(check["test"][1:3]) in names(row["health check"]) or \
                check["test"][1] in names(row["health check"]), name
        mounted = {v.split(":")[0] for v in service.get("volumes", [])}
        assert mounted == (names(row["volume"]) if row["volume"] != "none" else set()), name
    assert set(model["volumes"]) == {v for r in rows.values() for v in names(r["volume"])}
    serve, worker = services["serve"], services["worker"]
    assert serve["command"] == ["roundtable", "serve"] and serve["ports"] == ["3000:3000"]
    assert worker["command"] == ["roundtable", "worker"]
    assert worker["environment"]["ROUNDTABLE_HEALTH_PORT"] == "3001"
    for app in (serve, worker, services["migrate"]):
        assert app["environment"]["DATABASE_URL"].startswith("postgresql://roundtable:")
        assert app["environment"]["ROUNDTABLE_DATA_DIR"] == "/data"
        assert app["environment"]["ROUNDTABLE_HOST"] == "0.0.0.0"
        assert app["build"] == "." and app["env_file"] == ".env"
    for waiting in (serve, worker):
        assert waiting["depends_on"] == {"migrate": {
            "condition": "service_completed_successfully"}}
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}


def test_the_windows_services_run_the_same_commands_each_with_its_own_data_folder() -> None:
    folders = set()
    for process in ("serve", "worker"):
        service = ET.parse(ROOT / "deploy" / "windows" / f"roundtable-{process}.xml").getroot()
        assert service.findtext("id") == f"roundtable-{process}"
        assert service.findtext("executable", "").endswith(r"\.venv\Scripts\roundtable.exe")
        assert service.findtext("arguments") == process
        assert service.findtext("workingdirectory") == r"C:\ProgramData\Roundtable"
        env = {e.get("name"): e.get("value") for e in service.iter("env")}
        folders.add(env["ROUNDTABLE_DATA_DIR"])
        assert service.find("onfailure") is not None
    assert len(folders) == 2
