"""A serving process killed (kill -9) after it stored answers but before it confirmed them:
the process that comes after it posts each confirmation still owed, once, of the answer as it
stands (in its words as edited since; none for an answer deleted since)."""

from __future__ import annotations

import json
import signal
import subprocess
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, or_, select

from storage.database import Database
from storage.models import OwedConfirmation, QuestionMessage, Reply, Round
from tests.helpers import ROUNDTABLE, cli_env, free_port, run_cli, seed_pack
from tests.outbox.fanout import missing_and_repeated, people
from tests.slack.conftest import PACK, SECRET, SlackDriver
from tests.slack_api_stub import SlackStub

# On both databases: how each locks and fails is tested here (processes killed mid-work).
pytestmark = pytest.mark.each_database

PEOPLE = 12
SAVED = "Saved as your answer"
CONFIRMING = "as your answer to question"
"""In every confirmation of words: saved, or updated."""
ANSWER_SAVED = "your answer to question"
"""In every confirmation of one answer, of words or of a ranking."""


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
            words = (
                f"Second thoughts of {channel[1:]}",
                f"Answer of {channel[1:]}",
                f"Form words of {channel[1:]}",
            )
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
        return serving(env, stub, tmp_path)

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


def serving(
    env: dict[str, str], stub: SlackStub, tmp_path: Path
) -> tuple[subprocess.Popen[bytes], SlackDriver]:
    """`roundtable serve` in a process of its own, listening."""
    port = free_port()
    log = tmp_path / f"serve-{port}.log"
    server = subprocess.Popen(
        [ROUNDTABLE, "serve"],
        env={**env, "PORT": str(port)},
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=open(log, "w"),
    )  # noqa: SIM115
    driver = SlackDriver(port, stub)
    try:
        stub.wait_for(lambda: server.poll() is not None or _healthy(driver),
                      what="the server to listen")
    except AssertionError as timed_out:  # what the process said while starting
        server.kill()
        server.wait(timeout=30)
        raise AssertionError(f"{timed_out}\n{log.read_text(errors='replace')}") from None
    assert server.poll() is None, log.read_text()
    return server, driver


def answer_in_form(
    driver: SlackDriver,
    stub: SlackStub,
    user: str,
    round_id: int,
    prompt_id: str,
    values: Callable[[dict[str, Any]], dict[str, Any]],
) -> None:
    """Open the question's form from its Answer button and submit it, filled by `values`
    (given the form as shown)."""
    opened = len(stub.calls_to("views.open"))
    value = json.dumps({"round": round_id, "prompt": prompt_id})
    assert driver.click(user, "answer_open", value).status == 200
    calls = stub.wait_for(lambda: stub.calls_to("views.open")[opened:], what="the form")
    view = calls[0].answer["view"]
    response = driver.submit(user, view, values(view))
    assert response.status == 200 and not response.body, response.body


def test_it_posts_the_confirmations_of_form_answers_a_killed_process_owed_once(
    database: Database, database_url: str, stub: SlackStub, tmp_path: Path
) -> None:
    writer, ranker = users = people(stub, 2)
    env = cli_env(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=stub.base_url,
        ROUNDTABLE_LEASE_SECONDS="2",
    )
    started = run_cli("round", "start", PACK, "--to", ",".join(users), env=env, cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    with database.sessions() as session:
        round_id = session.scalars(select(Round.id)).one()

    def ranked(view: dict[str, Any]) -> dict[str, Any]:
        options = {
            b["block_id"]: b["element"]["options"] for b in view["blocks"] if b["type"] == "input"
        }
        return {
            block: {"value": {"type": "static_select", "selected_option": shown[place]}}
            for place, (block, shown) in enumerate(options.items())
        }

    server, driver = serving(env, stub, tmp_path)
    try:
        stub.wait_for(
            lambda: missing_and_repeated(stub, users, [seed_pack().prompts[0].id])[0] == 0,
            what="everyone's first question",
        )
        stub.hold("chat.postMessage", lambda params: ANSWER_SAVED in str(params.get("text")))
        answer_in_form(
            driver,
            stub,
            writer,
            round_id,
            "bought-in",
            lambda _: {
                "answer": {
                    "value": {"type": "plain_text_input", "value": f"Form words of {writer}"}
                }
            },
        )
        answer_in_form(driver, stub, ranker, round_id, "support-factors", ranked)
        stub.wait_for(
            lambda: answered(database) == 2 and stub.held,
            what="both form answers stored, and a confirmation on its way",
        )
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    stub.release()
    assert not confirmations(stub)

    assert not saved_to(stub, writer) and not saved_to(stub, ranker)

    server, _ = serving(env, stub, tmp_path)
    try:
        stub.wait_for(
            lambda: saved_to(stub, writer) and saved_to(stub, ranker),
            what="the confirmations of the form answers the killed process owed",
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    [words] = saved_to(stub, writer)  # once each
    assert words.startswith("Saved as your answer to question 2")
    assert f"Form words of {writer}" in str(stub.posted("D" + writer)[-1].params["blocks"])
    [ranking] = saved_to(stub, ranker)
    assert ranking.startswith("Saved your answer to question 6")
    with database.sessions() as session:
        assert session.scalars(select(OwedConfirmation)).all() == []


def saved_to(stub: SlackStub, user: str) -> list[str]:
    """The confirmations posted to `user` (their text)."""
    return [
        str(c.params["text"])
        for c in stub.posted("D" + user)
        if ANSWER_SAVED in str(c.params.get("text"))
    ]


def _healthy(driver: SlackDriver) -> Any:
    try:
        return driver.get("/healthz").status == 200
    except OSError:
        return False


def test_it_posts_the_confirmation_of_words_added_to_an_answer_as_added_after_a_crash(
    database: Database, database_url: str, stub: SlackStub, tmp_path: Path
) -> None:
    [user] = people(stub, 1)
    env = cli_env(
        DATABASE_URL=database_url,
        SLACK_BOT_TOKEN="xoxb-test",
        SLACK_SIGNING_SECRET=SECRET,
        SLACK_API_URL=stub.base_url,
        ROUNDTABLE_LEASE_SECONDS="2",
    )
    started = run_cli("round", "start", PACK, "--to", user, env=env, cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    first = seed_pack().prompts[0].id
    later = f"More words of {user}"

    server, driver = serving(env, stub, tmp_path)
    try:
        stub.wait_for(
            lambda: missing_and_repeated(stub, [user], [first])[0] == 0,
            what="the first question",
        )

        def question_ts() -> str | None:  # recorded just after Slack took the post
            with database.sessions() as session:
                return session.scalar(
                    select(QuestionMessage.message_id).where(QuestionMessage.prompt_id == first)
                )

        question = stub.wait_for(question_ts, what="the question's message recorded")
        driver.dm(user, f"Answer of {user}", thread_ts=question)
        stub.wait_for(lambda: saved_to(stub, user), what="the answer's confirmation")
        stub.hold("chat.postMessage", lambda params: later in str(params.get("blocks")))
        driver.dm(user, later, thread_ts=question)  # to the question answered already
        stub.wait_for(
            lambda: answered(database) == 2 and stub.held,
            what="the added words stored, and their confirmation on its way",
        )
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=30)
    stub.release()

    server, _ = serving(env, stub, tmp_path)
    try:
        stub.wait_for(
            lambda: len(saved_to(stub, user)) == 2,
            what="the confirmation the killed process owed",
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    confirmation = stub.posted("D" + user)[-1]
    assert later in str(confirmation.params["blocks"])
    assert str(confirmation.params["text"]).startswith("Added to your answer to question 1")
    assert "You had answered it already" in str(confirmation.params["blocks"])
