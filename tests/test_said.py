"""The bot's words as each platform shows them, and as they are stored between processes."""

from __future__ import annotations

from bot.core.said import (
    AnswerForm,
    Code,
    Command,
    DirectChat,
    OpenQuestions,
    Place,
    Someone,
    Strong,
    WhereAsked,
    from_parts,
    said,
    to_parts,
)
from bot.slack.mrkdwn import said_mrkdwn
from bot.teams.render import plain as teams_plain

EVERY_PART = said("Hi ", Strong("Amara"), ": type ", Code("3, 1, 2"), " or ", Command("stop"),
                  " in ", Place("C1"), ", ", DirectChat(), ", ", OpenQuestions(yours=True),
                  ", ", WhereAsked(), ", ", AnswerForm(), ", ", Someone("U1"), ".")


def test_every_part_survives_being_stored() -> None:
    assert from_parts(to_parts(EVERY_PART)) == EVERY_PART


def test_the_form_that_answers_a_question_is_named_the_platforms_way() -> None:
    words = said("To change your ranking, use ", AnswerForm(), ".")
    assert said_mrkdwn(words) == "To change your ranking, use the button on the question."
    assert teams_plain(words) == "To change your ranking, use the form on its card."
    assert words.plain == "To change your ranking, use the question's form."
