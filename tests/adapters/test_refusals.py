"""What a participant is told when what they sent cannot be taken, on both platforms: each a
sentence (a capital first, a full stop last) that says what happened and what to do, in the
same words on Slack and Teams."""

from __future__ import annotations

import re

from storage.database import Database
from tests.adapters.harness import Harness
from tests.adapters.test_every_adapter import answer_text_questions, wait

SENTENCES = re.compile(r"[A-Z“][^\n]*[.!?]")
"""One or more sentences on a line: a capital (or an opening quote) first, a stop last."""


def newest(bot: Harness, who: int, words: str) -> str:
    """The newest message to person `who` that holds `words`, once it is there."""
    wait(bot, lambda: any(words in m for m in bot.said_to(who)), f"a message with {words!r}")
    return next(m for m in reversed(bot.said_to(who)) if words in m)


def test_every_refusal_a_participant_meets_is_a_sentence_that_says_what_to_do(
        bot: Harness, database: Database) -> None:
    bot.start()
    told: dict[str, str] = {}

    bot.write(0, "", files=1)
    told["a file alone"] = newest(bot, 0, "Files and pictures")

    answer_text_questions(bot, range(1), database)  # the first person, up to the ranking
    told["skip an answered question"] = bot.press_changed(0, "Skip for now",
                                                          prompt="done-well")
    told["a question not asked of them"] = bot.press_changed(0, "Skip for now", round=99)

    bot.write(0, "3, 1")
    told["a typed ranking too short"] = newest(bot, 0, "It is not a vote yet")

    assert "closed" in bot.command("close 1")
    told["a closed round"] = bot.press(0, "Skip for now")

    assert told["a file alone"] == (
        "I could not save that. Files and pictures are not kept, only words: please write "
        "your answer here as text.")
    assert told["skip an answered question"] == (
        "Question 1 is answered already, so there is nothing to skip: to change your answer, "
        "edit it.")
    assert told["a question not asked of them"] == (
        "That question was not asked of you: answer the questions Roundtable sent you.")
    assert "but a ranking here needs your top 5, and I found 2. It is not a vote yet: to " \
           "rank, use " in told["a typed ranking too short"]
    assert told["a closed round"] == (
        "This round has closed, so its questions take no more answers and need not be "
        "skipped.")
    for what, text in told.items():
        assert all(SENTENCES.fullmatch(line) for line in text.splitlines() if line), (what, text)
    assert len(bot.replies()) == 6  # five answers and the comment: nothing refused is kept
