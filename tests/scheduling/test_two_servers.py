"""Two `roundtable serve` processes on one PostgreSQL database: each digest is posted once, and
killing the process that runs the schedule hands it to the other."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.db import make_engine, make_session_factory
from storage.models import Digest, Lease
from tests.conftest import _truncate
from tests.helpers import ROUNDTABLE, cli_env, free_port, run_cli
from tests.slack_api_stub import SlackStub

DIGESTS = "CDIGESTS"



@pytest.fixture
def postgres(postgres_url: str) -> Iterator[Database]:
    engine = make_engine(postgres_url)
    yield Database(engine, make_session_factory(engine))
    _truncate(engine)
    engine.dispose()


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    for user in ("UAMARA", "UBEN"):
        slack.add_user(user, user.title())
    slack.add_channel(DIGESTS, ["UFAC"])
    yield slack
    slack.stop()


def env_for(url: str, stub: SlackStub) -> dict[str, str]:
    """The servers' settings: the shortest lease the settings allow, which is how long the
    hand-over waits for a killed scheduler's lease to lapse."""
    return cli_env(DATABASE_URL=url, SLACK_BOT_TOKEN="xoxb-test",
                   SLACK_SIGNING_SECRET="test-signing-secret", SLACK_API_URL=stub.base_url,
                   ROUNDTABLE_LEASE_SECONDS="2", PYTHONUNBUFFERED="1")


def posted(database: Database) -> list[Digest]:
    with database.sessions() as session:
        return list(
            session.scalars(select(Digest).where(Digest.state == "posted").order_by(Digest.period))
        )


def holder_pid(database: Database) -> int | None:
    with database.sessions() as session:
        lease = session.get(Lease, "scheduler")
        return int(lease.holder.split(":")[1]) if lease else None


@pytest.mark.long
def test_it_posts_each_digest_once_and_hands_the_schedule_over(
    postgres: Database, postgres_url: str, stub: SlackStub, tmp_path: Path
) -> None:
    env = env_for(postgres_url, stub)
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "UAMARA,UBEN",
                      "--digest", DIGESTS, "--digest-cron", "* * * * * *",
                      "--no-review", env=env, cwd=tmp_path)  # each second, posted as built
    assert started.returncode == 0, started.stderr
    servers = [
        subprocess.Popen(
            [ROUNDTABLE, "serve"],
            env={**env, "PORT": str(free_port())},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"serve-{i}.log", "w"),
        )  # noqa: SIM115
        for i in range(2)
    ]
    try:
        stub.wait_for(lambda: len(posted(postgres)) >= 5, timeout=60, what="five digest periods")
        leader = holder_pid(postgres)
        assert leader in {s.pid for s in servers}
        os.kill(leader, signal.SIGKILL)
        before = len(posted(postgres))
        stub.wait_for(
            lambda: holder_pid(postgres) not in (leader, None),
            what="the other process to take the schedule over",
        )
        stub.wait_for(
            lambda: len(posted(postgres)) >= before + 3,
            timeout=60,
            what="digests from the new scheduler",
        )
    finally:
        for server in servers:
            if server.poll() is None:
                server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(timeout=30)
    with postgres.sessions() as session:
        claimed = list(session.scalars(select(Digest)))  # one row per period, by its unique key
    top_posts = {c.answer["ts"] for c in stub.posted(DIGESTS) if not c.params.get("thread_ts")}
    # Every recorded digest was posted, and nothing was posted beyond one message per claimed
    # period (a process killed mid-post may leave a period claimed and posted but unrecorded).
    assert {d.message_id for d in posted(postgres)} <= top_posts
    assert len(top_posts) <= len(claimed)
