"""Running Roundtable as a service: online backups of both SQLite files (pg_dump guidance for
PostgreSQL), logs as JSON lines, and /healthz on a worker for its supervisor, asked with
`roundtable health`."""

from __future__ import annotations

import json
import socket
import sqlite3
import stat
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.core.replies import record_reply
from storage.database import Database
from storage.db import transaction
from storage.models import InboxEvent
from tests.helpers import (
    ROUNDTABLE,
    cli_env,
    free_port,
    participant,
    run_cli,
    started_round,
    wait_for,
)
from tests.slack_api_stub import SlackStub


def test_it_backs_up_both_sqlite_files_while_the_database_is_in_use_or_guides_to_pg_dump(
        database: Database, database_url: str, now: datetime, tmp_path: Path) -> None:
    with transaction(database.sessions) as session:
        round_id = started_round(session, now, 2).id
        record_reply(session, round_id, "done-well", participant(session, "U0001"),
                     "Huddles every Monday", now)
    with transaction(database.inbox_sessions) as session:
        session.add(InboxEvent(platform="slack", event_id="Ev1", payload="{}", received_at=now))
    target = tmp_path / "backups" / "nightly.db"
    with database.sessions() as holding:  # the service is running: a connection is open
        holding.scalars(select(InboxEvent)).all()
        result = run_cli("db", "backup", str(target), cwd=tmp_path,
                         env={"DATABASE_URL": database_url})
    if database.engine.dialect.name == "postgresql":
        assert result.returncode == 1
        assert result.stderr.startswith("roundtable: DATABASE_URL is PostgreSQL: back it up "
                                        "with pg_dump, e.g. `pg_dump --format=custom")
        assert not target.exists()
        return
    assert result.returncode == 0, result.stderr
    inbox = tmp_path / "backups" / "nightly.inbox.db"
    assert result.stdout.splitlines()[-2:][-1].endswith(f" -> {inbox}")
    for copy in (target, inbox):
        assert stat.S_IMODE(copy.stat().st_mode) == 0o600
    with sqlite3.connect(target) as copied:
        assert copied.execute("select text from replies").fetchall() == [
            ("Huddles every Monday",)]
    with sqlite3.connect(inbox) as copied:
        assert copied.execute("select event_id from inbox_events").fetchall() == [("Ev1",)]
    again = run_cli("db", "backup", str(target), cwd=tmp_path, env={"DATABASE_URL": database_url})
    assert again.returncode == 1
    assert again.stderr.strip() == (f"roundtable: db backup: {target} exists already: give a "
                                    "new name (backups are never overwritten)")


def test_a_worker_logs_json_lines_and_answers_healthz_for_its_supervisor(
        tmp_path: Path) -> None:
    stub = SlackStub().start()
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    port = free_port()
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": stub.base_url, "ROUNDTABLE_LOG_FORMAT": "json",
           "ROUNDTABLE_HEALTH_PORT": str(port)}
    worker = subprocess.Popen([ROUNDTABLE, "worker"], cwd=tmp_path, env=cli_env(**env),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        report = wait_for(lambda: (r := run_cli("health", cwd=tmp_path, env=env)).returncode
                          == 0 and r.stdout, "the worker's /healthz")
        assert json.loads(report)["ok"] is True
        assert set(json.loads(report)["loops"]) >= {"inbox-handle", "outbox", "leases"}
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=60)
        stub.stop()
    lines = [json.loads(line) for line in errors.splitlines()]
    assert {"time", "level", "logger", "thread", "message"} <= set(lines[0])
    assert any(line["message"] == "handling the inbox for the serving processes; GET /healthz "
               f"on port {port}" for line in lines)
    down = run_cli("health", cwd=tmp_path, env=env)
    assert down.returncode == 1
    assert down.stderr.startswith(f"roundtable: nothing answers at http://127.0.0.1:{port}"
                                  "/healthz (")
    assert down.stderr.strip().endswith("is the service running?")


def test_a_library_warning_comes_out_as_a_json_log_line() -> None:
    """A warning (Python's `warnings`) raised once logging is set to JSON is one more JSON
    line, not plain text in among them."""
    probe = ("import warnings; from bot.app import logs; logs.configure('INFO', 'json'); "
             "warnings.warn('that option will go in the next version', UserWarning)")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                            check=True)
    [line] = [json.loads(line) for line in result.stderr.splitlines()]
    assert line["level"] == "WARNING" and line["logger"] == "py.warnings"
    assert "UserWarning: that option will go in the next version" in line["message"]


class Serving:
    """`roundtable serve` as a service runs it, with SLACK_BOT_TOKEN in its environment
    (systemd's EnvironmentFile=, Docker's --env-file) and JSON logs; `lines` once stopped."""

    def __init__(self, workdir: Path, **settings: str) -> None:
        workdir.mkdir(exist_ok=True)
        self.workdir, self.stub = workdir, SlackStub().start()
        assert run_cli("db", "upgrade", cwd=workdir).returncode == 0
        self.port = free_port()
        self.env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
                    "SLACK_API_URL": self.stub.base_url, "ROUNDTABLE_LOG_FORMAT": "json",
                    "PORT": str(self.port), **settings}
        self.lines: list[dict[str, str]] = []

    def __enter__(self) -> Serving:
        self.process = subprocess.Popen(
            [ROUNDTABLE, "serve"], cwd=self.workdir, env=cli_env(**self.env),
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            wait_for(lambda: run_cli("health", cwd=self.workdir, env=self.env).returncode == 0,
                     "serve's /healthz")
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.process.terminate()
        _, errors = self.process.communicate(timeout=60)
        self.stub.stop()
        self.lines = [json.loads(line) for line in errors.splitlines()]

    def answers_at(self, host: str) -> bool:
        with socket.socket() as probe:
            return probe.connect_ex((host, self.port)) == 0


def test_it_starts_serving_with_the_bot_token_in_its_environment_and_logs_no_warning(
        tmp_path: Path) -> None:
    """Bolt reads SLACK_BOT_TOKEN from the environment too: a clean start still says nothing
    to worry about."""
    with Serving(tmp_path) as serving:
        pass
    assert any(line["message"].startswith("Serving on http://") for line in serving.lines)
    assert [line for line in serving.lines if line["level"] != "INFO"] == []


@pytest.mark.long
def test_it_serves_on_this_machine_only_unless_roundtable_host_says_otherwise(
        tmp_path: Path) -> None:
    """Only the TLS proxy on the same machine should reach serve; in a container,
    ROUNDTABLE_HOST=0.0.0.0 (the image sets it). 127.0.0.2 is this machine too, but not the
    address serve was told to listen on."""
    with Serving(tmp_path / "default") as serving:
        assert serving.answers_at("127.0.0.1") and not serving.answers_at("127.0.0.2")
    assert f"Serving on http://127.0.0.1:{serving.port}" in [
        line["message"] for line in serving.lines]
    with Serving(tmp_path / "chosen", ROUNDTABLE_HOST="127.0.0.2") as serving:
        assert serving.answers_at("127.0.0.2") and not serving.answers_at("127.0.0.1")
    with Serving(tmp_path / "everywhere", ROUNDTABLE_HOST="0.0.0.0") as serving:
        assert serving.answers_at("127.0.0.1") and serving.answers_at("127.0.0.2")


@pytest.mark.parametrize(("host", "problem"), [
    ("every interface", "expected an address to listen on, not 'every interface': 127.0.0.1 "
                        "(this machine only) or 0.0.0.0 (every interface)"),
    ("192.0.2.1", "cannot listen on 192.0.2.1 (Cannot assign requested address): give an "
                  "address of this machine, 127.0.0.1 or 0.0.0.0"),
])
def test_a_host_it_cannot_listen_on_is_one_line_naming_roundtable_host(
        tmp_path: Path, host: str, problem: str) -> None:
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    result = run_cli("serve", cwd=tmp_path, env={
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s", "PORT": str(free_port()),
        "SLACK_API_URL": (stub := SlackStub().start()).base_url, "ROUNDTABLE_HOST": host})
    stub.stop()
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == f"roundtable: ROUNDTABLE_HOST: {problem}"
