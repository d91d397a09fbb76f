"""What becomes of a greeting (a message not taken as an answer) afterwards, on Slack and Teams
alike: edited into an answer it is saved as one; its button pressed after the question was
answered adds to that answer and says so; and "help" alone says which question waits."""

from __future__ import annotations

from tests.adapters.harness import Harness
from tests.adapters.test_every_adapter import (
    FIRST_QUESTION,
    SAVE,
    offers,
    saved_to,
    wait,
)
from tests.adapters.test_greeting_privacy import WORDS, _greeted, _holding

ANSWER = "Protected time made it work."


def test_a_greeting_edited_into_an_answer_is_saved_and_its_button_taken_down(
        bot: Harness) -> None:
    _greeted(bot)
    bot.edit(0, ANSWER)
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    assert any(ANSWER in m for m in saved_to(bot, 0))
    wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")
    assert [(r.prompt_id, r.text) for r in bot.replies()] == [("done-well", ANSWER)]
    # the reply to the greeting no longer holds its words, nor a button that would save them
    wait(bot, lambda: _holding(bot) == [], "the reply to the greeting, replaced")
    # a copy of its button still on someone's screen saves nothing more
    assert bot.press(0, SAVE) == "Already saved, to question 1."
    assert [(r.prompt_id, r.text) for r in bot.replies()] == [("done-well", ANSWER)]

    # edited again, it is an answer like any other: updated, the earlier words kept
    bot.edit(0, "Protected time and a named lead made it work.")
    wait(bot, lambda: [r.text for r in bot.replies()] == [
        "Protected time and a named lead made it work."], "the edit of the answer")


def test_a_greeting_edited_into_another_greeting_is_still_not_an_answer(bot: Harness) -> None:
    _greeted(bot)
    bot.edit(0, "Hello there!")
    bot.write(1, ANSWER)  # handled after the edit: once it is confirmed, the edit was handled
    wait(bot, lambda: saved_to(bot, 1), "someone else's confirmation")
    assert [(r.prompt_id, r.text) for r in bot.replies()] == [("done-well", ANSWER)]
    assert saved_to(bot, 0) == []
    assert _holding(bot) != []  # the offer stands


def test_save_pressed_after_the_question_was_answered_says_the_words_were_added(
        bot: Harness) -> None:
    _greeted(bot)
    bot.write(0, ANSWER)
    wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")
    done = bot.press(0, SAVE)
    assert done.startswith("Added to your answer to question 1, which you had answered "
                           "already: "), done
    assert "not in its place" in done
    wait(bot, lambda: len(bot.replies()) == 2, "the words added")
    assert sorted((r.prompt_id, r.text) for r in bot.replies()) == [
        ("done-well", WORDS), ("done-well", ANSWER)]


def test_help_alone_says_which_question_waits(bot: Harness) -> None:
    bot.start()
    bot.write(0, "help")
    told = wait_said(bot, 0, "Question 1 is waiting for your answer: " + FIRST_QUESTION)
    assert "stops the questions" in told
    assert offers(bot, 0) == []  # nobody answers a question with "help"
    assert bot.replies() == []
    if bot.platform == "teams":  # where "help" is also how a facilitator sees the commands
        assert "For facilitators" in bot.command("help")


def wait_said(bot: Harness, who: int, words: str) -> str:
    found: list[str] = []

    def said() -> bool:
        found[:] = [m for m in bot.said_to(who) if words in m]
        return bool(found)

    wait(bot, said, repr(words))
    return found[0]
