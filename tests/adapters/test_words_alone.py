"""What a pharmacist types in their chat that is not an answer to the question waiting, on
both platforms: "skip" puts it aside as the button does, "questions" asks where the open
questions are, an emoji alone is not taken for an answer, and a comment to a vote that says
"don't quote me" is not promised a quote."""

from __future__ import annotations

from storage.database import Database
from tests.adapters.harness import Harness
from tests.adapters.test_every_adapter import answer_text_questions, wait

FIRST = "Where have you seen clinical or professional system leadership work well"
SAVE = "Save as my answer"


def test_skip_typed_alone_puts_the_question_aside_and_saves_nothing(bot: Harness) -> None:
    bot.start()
    bot.write(0, "Skip.")
    wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")
    said = bot.said_to(0)
    assert any(m.startswith("Skipped question 1 for now.") for m in said), said
    assert not [m for m in said if "Saved" in m], said
    assert bot.replies() == []


def test_questions_typed_alone_is_not_saved_as_an_answer(bot: Harness) -> None:
    bot.start()
    before = len(bot.said_to(0))
    bot.write(0, "questions")
    wait(bot, lambda: bot.said_to(0)[before:], "the answer to 'questions'")
    [told] = bot.said_to(0)[before:]
    assert FIRST in told and "Saved" not in told, told
    assert bot.replies() == []
    assert not any("Question 2 of 6" in m for m in bot.said_to(0))


def test_a_comment_to_a_vote_that_says_dont_quote_me_is_not_promised_to_the_digest(
        bot: Harness, database: Database) -> None:
    bot.start()
    answer_text_questions(bot, range(1), database)
    bot.write(0, "Honestly the LPC is no help here, don't quote me")
    wait(bot, lambda: any("as a comment" in m for m in bot.said_to(0)), "the comment's notice")
    notice = next(m for m in bot.said_to(0) if "as a comment" in m)
    assert "as your words" not in notice, notice
    assert "never quoted" in notice, notice
    assert "\n\n".join(bot.digest()).count("the LPC") == 0


def test_an_emoji_alone_is_not_an_answer_and_its_button_saves_it_as_one(bot: Harness) -> None:
    """A thumbs-up to the question is not what the pharmacist would have the group read as
    their answer: it is not saved, the question waits, and the button saves it after all."""
    bot.start()
    before = len(bot.said_to(0))
    bot.write(0, ":+1:" if bot.platform == "slack" else "\U0001f44d")
    wait(bot, lambda: bot.said_to(0)[before:], "the answer to the emoji")
    [told] = bot.said_to(0)[before:]
    assert told.startswith(f"Question 1 is waiting for your answer: {FIRST}"), told
    assert SAVE in told and "greeting" not in told, told
    assert bot.replies() == []

    assert bot.press(0, SAVE) == "Saved as your answer to question 1."
    wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")
    assert [r.prompt_id for r in bot.replies()] == ["done-well"]
