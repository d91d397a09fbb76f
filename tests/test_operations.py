"""Running Roundtable as a service: online backups of both SQLite files (pg_dump guidance for
PostgreSQL), logs as JSON lines, and /healthz on a worker for its supervisor, asked with
`roundtable health`."""

from __future__ import annotations

import json
import socket
import sqlite3
import stat
import subprocess
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bot.core.replies import record_reply
from storage.database import Database
from storage.db import transaction
from storage.models import InboxEvent
from tests.helpers import ROUNDTABLE, cli_env, participant, run_cli, started_round, wait_for
from tests.slack_api_stub import SlackStub


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


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


def test_it_starts_serving_with_the_bot_token_in_its_environment_and_logs_no_warning(
        tmp_path: Path) -> None:
    """systemd's EnvironmentFile= and Docker's --env-file put SLACK_BOT_TOKEN in the process's
    environment, where Bolt reads it too: a clean start still says nothing to worry about."""
    stub = SlackStub().start()
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    env = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
           "SLACK_API_URL": stub.base_url, "ROUNDTABLE_LOG_FORMAT": "json",
           "PORT": str(free_port())}
    serve = subprocess.Popen([ROUNDTABLE, "serve"], cwd=tmp_path, env=cli_env(**env),
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for(lambda: run_cli("health", cwd=tmp_path, env=env).returncode == 0,
                 "serve's /healthz")
    finally:
        serve.terminate()
        _, errors = serve.communicate(timeout=60)
        stub.stop()
    lines = [json.loads(line) for line in errors.splitlines()]
    assert any(line["message"].startswith("Serving on http://") for line in lines)
    assert [line for line in lines if line["level"] != "INFO"] == []
