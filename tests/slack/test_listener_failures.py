"""A command, button or form whose work fails unexpectedly, for a real reason (Slack refusing
a call, the database stopped): Slack still gets its answer at once (no 404, no 500, so the
person sees no error from Slack), the person is told that it was not done, and the failure
is logged."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest

from storage.database import connect
from storage.db import make_engine
from tests.pg_cluster import PrivatePostgres
from tests.slack.conftest import FACILITATOR, MEMBERS, Running, run_bot
from tests.slack.test_round_loop import asked, sent_to_everyone, start_round
from tests.slack_api_stub import SlackStub

# On both databases: how each locks and fails is tested here (the database failing under the bot).
pytestmark = pytest.mark.each_database

SORRY = ("Sorry, something went wrong on my side and that was not done. Please try again in "
         "a few minutes; if it keeps happening, tell your facilitator.")
FAILED = "the Slack listener %s failed"


def told(running: Running, count: int) -> list[str]:
    """The apologies sent to people through response_url, once there are `count`."""
    def found() -> list[str] | None:
        sorry = [c.params.get("text", "") for c in running.stub.calls_to("response_url")
                 if c.params.get("text", "") == SORRY]
        return sorry if len(sorry) == count else None
    return list(running.wait_for(found, f"{count} apologies"))


def failures_logged(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [str(r.args[0]) for r in caplog.records
            if r.msg == FAILED and r.levelno == logging.ERROR and r.exc_info]


def test_a_button_whose_form_slack_will_not_open_is_answered_and_the_person_told(
        running: Running, caplog: pytest.LogCaptureFixture) -> None:
    """The Answer button acks, then views.open fails (the trigger expired): the click was
    answered 200 and the person reads why nothing opened."""
    round_id = start_round(running)
    sent_to_everyone(running)
    running.stub.fail_next("views.open", status=200, error="expired_trigger_id")
    value = json.dumps({"round": round_id, "prompt": "done-well"})
    response = running.slack.click(MEMBERS[0], "answer_open", value)
    assert (response.status, response.body) == (200, b"")
    assert told(running, 1) == [SORRY]
    running.wait_for(lambda: failures_logged(caplog), "the failure logged")
    assert failures_logged(caplog) == ["open_answer"]


def test_commands_buttons_and_forms_during_a_database_outage_are_answered_and_told(
        private_postgres: PrivatePostgres, stub: SlackStub,
        caplog: pytest.LogCaptureFixture) -> None:
    """With the database stopped: `stop` fails after its ack, `status` before it (checking
    who may facilitate), Delete everything after its ack, and the answer form before its
    ack: each is answered, the form kept open with the words written in it, and each person
    is told."""
    pg = private_postgres
    engine = make_engine(pg.url)
    database = connect(engine)
    try:
        with run_bot(database, pg.url, stub) as running:
            round_id = start_round(running)
            sent_to_everyone(running)
            asked(running, MEMBERS[0], "done-well")
            form: dict[str, Any] = {"type": "modal", "callback_id": "answer_submit",
                                    "id": "VFORM1", "private_metadata": json.dumps(
                                        {"round": round_id, "prompt": "done-well"})}
            answered = len(running.stub.calls_to("response_url"))
            with pg.down("immediate"):
                responses = [running.slack.command(MEMBERS[1], "stop"),
                             running.slack.command(FACILITATOR, "status"),
                             running.slack.click(MEMBERS[2], "forget_confirm")]
                kept = running.slack.submit(MEMBERS[0], form, {"answer": {"value": {
                    "type": "plain_text_input", "value": "Protected time for leads"}}})
                apologies = told(running, 3)
            assert [(r.status, r.body) for r in responses] == [(200, b"")] * 3
            assert (kept.status, kept.json()) == (200, {
                "response_action": "errors", "errors": {"answer": SORRY[:150]}})
            assert apologies == [SORRY] * 3
            assert len(running.stub.calls_to("response_url")) == answered + 3
            assert sorted(failures_logged(caplog)) == [
                "answer_submitted", "forget_confirm", "roundtable", "roundtable"]
            assert running.replies() == []
    finally:
        if database.inbox is not None:
            database.inbox.kw["bind"].dispose()
        engine.dispose()
