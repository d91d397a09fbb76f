"""A serving process killed (kill -9) after it stored answers but before it confirmed them:
the process that comes after it posts each confirmation still owed, once, of the answer as it
stands (in its words as edited since; none for an answer deleted since)."""

from __future__ import annotations

import signal
import subprocess
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, or_, select

from storage.database import Database
from storage.models import OwedConfirmation, Reply
from tests.helpers import ROUNDTABLE, cli_env, run_cli, seed_pack
from tests.outbox.fanout import missing_and_repeated, people
from tests.scheduling.test_two_servers import free_port
from tests.slack.conftest import PACK, SECRET, SlackDriver
from tests.slack_api_stub import SlackStub

PEOPLE = 12
SAVED = "Saved as your answer"
CONFIRMING = "as your answer to question"
"""In every confirmation: saved, or updated."""


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    yield slack
    slack.stop()


def answered(database: Database) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Reply)) or 0)


def confirmations(stub: SlackStub) -> Counter[tuple[str, str]]:
    """(conversation, the words it repeats) of every confirmation posted."""
    seen: Counter[tuple[str, str]] = Counter()
    for call in stub.posted():
        if CONFIRMING in str(call.params.get("text")):
            channel, shown = str(call.params["channel"]), str(call.params.get("blocks"))
            words = (f"Second thoughts of {channel[1:]}", f"Answer of {channel[1:]}")
            seen[(channel, next((w for w in words if w in shown), ""))] += 1
    return seen


def edit(driver: SlackDriver, user: str, ts: str, text: str) -> None:
    message = {
        "type": "message",
        "user": user,
        "text": text,
        "ts": ts,
        "edited": {"user": user, "ts": "1900000999.1"},
    }
    driver.event(
        {
            "type": "message",
            "subtype": "message_changed",
            "channel": "D" + user,
            "channel_type": "im",
            "ts": "1900000999.1",
            "hidden": True,
            "message": message,
            "previous_message": {"user": user, "ts": ts},
        }
    )


def delete(driver: SlackDriver, user: str, ts: str) -> None:
    driver.event(
        {
            "type": "message",
            "subtype": "message_deleted",
            "channel": "D" + user,
            "channel_type": "im",
            "ts": "1900001000.1",
            "hidden": True,
            "deleted_ts": ts,
            "previous_message": {"user": user, "ts": ts},
        }
    )


def changed(database: Database) -> list[tuple[str | None, bool]]:
    """(the words now, deleted) of every answer edited or deleted."""
    with database.sessions() as session:
        return [
            (r.text, r.deleted_at is not None)
            for r in session.scalars(
                select(Reply)
                .where(or_(Reply.edited_at.is_not(None), Reply.deleted_at.is_not(None)))
                .order_by(Reply.id)
            )
        ]


def test_it_posts_the_confirmations_a_killed_process_owed_once(
    database: Database, database_url: str, stub: SlackStub, tmp_path: Path
) -> None:
    users = people(stub, PEOPLE)
    env = cli_env(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=stub.base_url,
        ROUNDTABLE_LEASE_SECONDS="2",
    )
    started = run_cli("round", "start", PACK, "--to", ",".join(users), env=env, cwd=tmp_path)
    assert started.returncode == 0, started.stderr

    def serve() -> tuple[subprocess.Popen[bytes], SlackDriver]:
        port = free_port()
        server = subprocess.Popen(
            [ROUNDTABLE, "serve"],
            env={**env, "PORT": str(port)},
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=open(tmp_path / f"serve-{port}.log", "w"),
        )  # noqa: SIM115
        driver = SlackDriver(port, stub)
        stub.wait_for(
            lambda: server.poll() is not None or _healthy(driver),
            timeout=20,
            what="the server to listen",
        )
        assert server.poll() is None, (tmp_path / f"serve-{port}.log").read_text()
        return server, driver

    first = [seed_pack().prompts[0].id]
    edited, deleted = users[:2]
    server, driver = serve()
    try:
        stub.wait_for(
            lambda: missing_and_repeated(stub, users, first)[0] == 0,
            what="everyone's first question",
        )
        # the first confirmation waits at "Slack" (and the rest behind it) until the kill
        stub.hold("chat.postMessage", lambda params: SAVED in str(params.get("text")))
        sent = {}
        for user in users:
            sent[user], acked = driver.dm(user, f"Answer of {user}")
            assert acked.status == 200
        stub.wait_for(
            lambda: answered(database) == PEOPLE and stub.held,
            what="every answer stored, and a confirmation on its way",
        )
        # handled, and their own messages waiting behind the held one too
        edit(driver, edited, sent[edited], f"Second thoughts of {edited}")
        delete(driver, deleted, sent[deleted])
        stub.wait_for(lambda: len(changed(database)) == 2, what="the edit and the deletion")
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    stub.release()
    assert not confirmations(stub)

    server, driver = serve()
    try:
        stub.wait_for(
            lambda: len(confirmations(stub)) >= PEOPLE - 1,  # none for the deletion
            timeout=30,
            what="the confirmations the killed process owed",
        )
    finally:
        server.send_signal(signal.SIGTERM)  # it posts whatever it still holds, and stops
        server.wait(timeout=30)
    assert changed(database) == [(f"Second thoughts of {edited}", False), (None, True)]
    assert confirmations(stub) == Counter(
        {
            ("D" + edited, f"Second thoughts of {edited}"): 1,
            **{("D" + u, f"Answer of {u}"): 1 for u in users[2:]},
        }
    )
    with database.sessions() as session:  # nothing left for a later process to post again
        assert session.scalars(select(OwedConfirmation)).all() == []


def _healthy(driver: SlackDriver) -> Any:
    try:
        return driver.get("/healthz").status == 200
    except OSError:
        return False
