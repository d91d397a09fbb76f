"""What is left in chat after a round is deleted, or someone asked to be forgotten, on Slack
and Teams alike: a question left there says why it takes no answer and saves nothing; a
message holding someone's words that the platform would not let the bot remove is named to
whoever deleted the round."""

from __future__ import annotations

import pytest

from bot.app import facilitation
from bot.app.actors import OPERATOR
from bot.core import audit
from tests.adapters.harness import Harness, SlackHarness, TeamsHarness
from tests.adapters.test_every_adapter import wait
from tests.adapters.test_greeting_privacy import (
    ANSWER,
    WORDS,
    _answered,
    _forget_me,
    _holding,
    _round_id,
)

SKIP = "Skip for now"


@pytest.mark.parametrize("words", [ANSWER, WORDS], ids=["confirmation", "greeting-reply"])
def test_a_reply_being_posted_while_its_writer_is_forgotten_does_not_stay(
        bot: Harness, words: str) -> None:
    """The platform has not answered the post of the reply repeating her words (the
    confirmation of her answer, or the reply to her greeting, whose button holds its words)
    when she is forgotten: once it has, the reply is taken down, as forget-me takes down
    those it knows of."""
    bot.start()
    bot.hold_posts(0, words)
    bot.write(0, words)
    wait(bot, bot.holding, "the reply, on its way")
    assert _forget_me(bot).startswith("Done.")
    bot.release()
    bot.app.confirmations.stop()  # answered, and recorded or taken down
    assert _holding(bot, words) == []


def test_a_question_of_a_deleted_round_says_the_round_was_deleted(bot: Harness) -> None:
    bot.start()
    round_id = _round_id(bot)
    facilitation.delete(bot.app, OPERATOR, round_id)
    assert bot.press(0, SKIP) == (
        f"Round {round_id} was deleted, with its answers, so its questions take no more "
        "answers. Nothing was saved.")
    assert bot.replies() == []


def test_a_question_left_after_forget_me_says_they_asked_to_be_forgotten(bot: Harness) -> None:
    bot.start()
    assert _forget_me(bot).startswith("Done.")
    assert bot.press(0, SKIP) == (
        "You asked Roundtable to forget you, so it takes no more answers from you. Nothing "
        "was saved.")


def _deletion_logged(bot: Harness, round_id: int) -> str:
    """The round's deletion as `roundtable audit` prints it."""
    with bot.app.database.sessions() as session:
        return next(audit.line(entry) for entry in audit.entries(session, round_id)
                    if entry.action == "round.delete")


def test_the_audit_log_counts_the_messages_of_people_s_words_a_deletion_took_down(
        bot: Harness) -> None:
    _answered(bot)  # its confirmation repeats the answer
    round_id = _round_id(bot)
    facilitation.delete(bot.app, OPERATOR, round_id)
    assert _deletion_logged(bot, round_id).endswith(
        f"round {round_id}  1 answer, 0 digests; 1 message holding someone's words deleted "
        "in chat")
    assert _holding(bot, ANSWER) == []


def test_deleting_a_round_names_the_messages_of_people_s_words_left_in_chat(
        bot: Harness) -> None:
    _answered(bot)  # its confirmation repeats the answer
    if isinstance(bot, SlackHarness):
        bot.stub.fail_next("chat.delete", status=200, error="cant_delete_message")
        platform = "Slack"
    else:
        assert isinstance(bot, TeamsHarness)
        bot.stub.fail_next("delete", status=403)
        platform = "Teams"
    round_id = _round_id(bot)
    done = facilitation.delete(bot.app, OPERATOR, round_id).plain
    assert done.startswith(f"Round {round_id} is deleted, with its 1 answer and 0 digests. "
                           f"1 message of mine holding someone's words could not be removed in "
                           f"{platform} ("), done
    assert done.endswith("): ask an admin to remove it.")
    assert _holding(bot, ANSWER) != []  # as it says
    assert _deletion_logged(bot, round_id).endswith(
        "1 answer, 0 digests; 0 messages holding someone's words deleted in chat, 1 could "
        "not be")
