"""A confirmation Slack refuses while the bot runs: one refused for now is posted again by the
same process (after Retry-After, or a pause), once; one refused for good is given up, said
once in the log, and owed no more."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import select

from storage.models import OwedConfirmation, QuestionMessage
from tests.slack.conftest import MEMBERS, Running
from tests.slack.test_round_loop import question_ts, sent_to_everyone, start_round

SAVED = "Saved as your answer"


def confirming(user: str) -> Any:
    """Matches the confirmation of an answer in `user`'s conversation with the bot."""
    return lambda params: params.get("channel") == "D" + user and SAVED in str(params.get("text"))


def confirmations_to(running: Running, user: str) -> list[str]:
    return [
        str(c.params["text"])
        for c in running.stub.posted("D" + user)
        if SAVED in str(c.params.get("text"))
    ]


def owed(running: Running) -> list[OwedConfirmation]:
    return running.scalars(select(OwedConfirmation))


@pytest.mark.parametrize(
    ("refusals", "status", "error"),
    [
        (7, 429, "ratelimited"),  # the first try and all six of the client's own retries
        (1, 200, "internal_error"),  # no rate limit, nothing said about when: a pause
    ],
    ids=["rate-limited", "failed"],
)
def test_it_posts_a_confirmation_refused_for_now_again_while_it_runs(
    running: Running, refusals: int, status: int, error: str
) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    running.stub.refuse("chat.postMessage", confirming(user), refusals, status=status, error=error)
    running.slack.dm(
        user, "Protected time for leadership", thread_ts=question_ts(running, user, "done-well")
    )
    running.wait_for(lambda: confirmations_to(running, user), "the confirmation, posted again")
    running.wait_for(lambda: not owed(running), "the confirmation owed no more")
    [confirmation] = confirmations_to(running, user)  # once
    assert confirmation.startswith("Saved as your answer to question 1")


def test_it_gives_up_a_confirmation_refused_for_good_and_says_so_once(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    running.stub.refuse(
        "chat.postMessage", confirming(user), 1, status=200, error="channel_not_found"
    )
    with caplog.at_level(logging.WARNING, logger="bot.app.confirmations"):
        running.slack.dm(
            user, "Protected time for leadership", thread_ts=question_ts(running, user, "done-well")
        )
        running.wait_for(lambda: not owed(running), "the confirmation given up")
        # the next question still follows the answer
        running.wait_for(
            lambda: running.scalar(
                select(QuestionMessage.id).where(
                    QuestionMessage.channel_id == "D" + user,
                    QuestionMessage.prompt_id == "bought-in",
                )
            ),
            "the next question",
        )
    assert confirmations_to(running, user) == []
    given_up = [r for r in caplog.records if r.name == "bot.app.confirmations"]
    assert [r.getMessage() for r in given_up] == [
        "gave up confirming 1 answer on slack: channel_not_found"
    ]
