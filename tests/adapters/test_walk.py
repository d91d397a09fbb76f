"""A round walked as its people meet it, on both platforms: pharmacists answer in chat
(comments and reasons on a vote among them), and the facilitator reviews the draft from the
command line before the group sees it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.database import Database
from tests.adapters.harness import Harness, harness
from tests.adapters.test_every_adapter import (
    PLATFORMS,
    RANKED_BY_NAME,
    REASON,
    _tenant,
    answer_text_questions,
    wait,
)
from tests.helpers import run_cli

COMMENT = "Honestly it is time to think that matters, more than any list"


@pytest.fixture(params=PLATFORMS)
def bot(request: pytest.FixtureRequest, database: Database, database_url: str,
        tmp_path: Path) -> Iterator[Harness]:
    with harness(request.param, database, database_url, str(tmp_path), _tenant) as running:
        yield running


def test_a_vote_s_comment_and_reason_are_shown_in_review_and_a_hidden_one_is_quoted_nowhere(
        bot: Harness, database: Database, database_url: str) -> None:
    """What people wrote to a vote reaches the group word for word: the facilitator reviewing
    the draft sees it with its id, and what they hide is in no digest (the ballot counts)."""
    bot.start()
    answer_text_questions(bot, range(2), database)
    bot.write(0, COMMENT)
    bot.write(1, f"{RANKED_BY_NAME}\n\n{REASON}")
    wait(bot, lambda: any("kept your message as a comment" in m for m in bot.said_to(0)),
         "the comment's notice")
    wait(bot, lambda: any("as your reason" in m for m in bot.said_to(1)), "the ranking")
    env = {"DATABASE_URL": database_url}
    round_id = str(bot.replies()[0].round_id)

    shown = run_cli("digest", "review", round_id, env=env)
    assert shown.returncode == 0, shown.stderr
    vote = shown.stdout[shown.stdout.index("[support-factors]"):].splitlines()
    ids = {words: next((line.split()[0] for line in vote if words in line), None)
           for words in (COMMENT, REASON)}
    assert None not in ids.values(), shown.stdout

    hidden = run_cli("digest", "review", round_id, *(f"--hide={i}" for i in ids.values()),
                     env=env)
    assert hidden.returncode == 0, hidden.stderr
    for form in ("md", "json", "text"):
        digest = run_cli("digest", "--round", round_id, "--format", form, env=env).stdout
        assert COMMENT not in digest and REASON not in digest, form
    assert "1 ballot" in run_cli("digest", "--round", round_id, env=env).stdout
