"""A question stays in someone's chat after its round is deleted, or after they asked to be
forgotten: its buttons then say what happened, on Slack and Teams alike, and save nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import facilitation
from bot.app.actors import OPERATOR
from storage.database import Database
from tests.adapters.harness import Harness, harness
from tests.adapters.test_every_adapter import PLATFORMS, _tenant
from tests.adapters.test_greeting_privacy import _forget_me, _round_id

SKIP = "Skip for now"


@pytest.fixture(params=PLATFORMS)
def bot(request: pytest.FixtureRequest, database: Database, database_url: str,
        tmp_path: Path) -> Iterator[Harness]:
    with harness(request.param, database, database_url, str(tmp_path), _tenant) as running:
        yield running


def test_a_question_of_a_deleted_round_says_the_round_was_deleted(bot: Harness) -> None:
    bot.start()
    round_id = _round_id(bot)
    facilitation.delete(bot.app, OPERATOR, round_id)
    assert bot.press(0, SKIP).endswith(
        f"round {round_id} was deleted, with its answers, so its questions take no more "
        "answers; nothing was saved")
    assert bot.replies() == []


def test_a_question_left_after_forget_me_says_they_asked_to_be_forgotten(bot: Harness) -> None:
    bot.start()
    assert _forget_me(bot).startswith("Done.")
    assert bot.press(0, SKIP).endswith(
        "you asked Roundtable to forget you, so it takes no more answers from you; nothing "
        "was saved")
