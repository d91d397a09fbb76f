"""The bot's replies in a conversation come in the order of what the person wrote, on Slack
and Teams alike: an answer's confirmation before the reply to a word written after it, even
when both wait for the same turn or were handled in one batch."""

from __future__ import annotations

import pytest

from bot.app.confirmations import Confirmations
from tests.adapters.harness import Harness
from tests.adapters.test_every_adapter import saved_to, wait
from tests.adapters.test_greeting_privacy import WORDS
from tests.helpers import HeldClock

ANSWER = "Protected time made it work."
FILES_ONLY = "Files and pictures are not kept, only words"
HELPED = "Write here to answer the question waiting"
GREETED = "Hello! "


def _first(told: list[str], starts: str) -> int:
    """Where the first message of `told` that starts with `starts` is."""
    return next(at for at, m in enumerate(told) if m.startswith(starts))


def _answered_then(paced: tuple[Harness, HeldClock], then: str, reply: str) -> list[str]:
    """Person 0 answers question 1, then writes `then`, while the bot waits its turn in their
    conversation; what they are told after, once the turn came and `reply` was said."""
    bot, pacing = paced
    bot.start()
    bot.write(0, "", files=1)  # told at once: what follows waits its turn, a second on
    wait(bot, lambda: any(FILES_ONLY in m for m in bot.said_to(0)), "a word about the file")
    before = len(bot.said_to(0))
    bot.write(0, ANSWER)
    bot.write(0, then)
    bot.write(1, ANSWER)  # handled after both: once it is confirmed, they were handled
    wait(bot, lambda: saved_to(bot, 1), "someone else's confirmation")
    assert not [m for m in bot.said_to(0)[before:] if m.startswith(("Saved", reply))]
    pacing.advance(Confirmations.SPACING)
    wait(bot, lambda: saved_to(bot, 0) and any(m.startswith(reply)
                                               for m in bot.said_to(0)[before:]),
         "the confirmation and the reply")
    return bot.said_to(0)[before:]


@pytest.mark.parametrize("paced", ["slack"], indirect=True)
def test_an_answer_and_help_written_after_it_are_replied_to_in_that_order(
        paced: tuple[Harness, HeldClock]) -> None:
    """Slack only: Teams answers `help` as a command, on the listener's thread, not in the
    inbox's order."""
    told = _answered_then(paced, "help", HELPED)
    assert _first(told, "Saved as your answer to question 1") < _first(told, HELPED), told


def test_an_answer_and_a_greeting_written_after_it_are_replied_to_in_that_order(
        paced: tuple[Harness, HeldClock]) -> None:
    told = _answered_then(paced, WORDS, GREETED)
    assert _first(told, "Saved as your answer to question 1") < _first(told, GREETED), told


def test_an_answer_and_a_file_sent_after_it_in_one_batch_are_replied_to_in_that_order(
        bot: Harness) -> None:
    bot.start()
    bot.app.inbox.stop()  # both wait in the inbox, to be handled in one batch
    bot.write(0, ANSWER)
    bot.write(0, "", files=1)
    bot.app.inbox.start()
    wait(bot, lambda: saved_to(bot, 0) and any(FILES_ONLY in m for m in bot.said_to(0)),
         "the confirmation and the word about the file")
    told = bot.said_to(0)
    assert _first(told, "Saved as your answer to question 1") < _first(told, "I could not"), \
        told
