"""What becomes of edits of messages that were not stored as answers, and of words added to
an answer, on Slack and Teams alike: nothing a person wrote is lost, whatever the order in
which the bot hears of it, and what they are told says where their words went."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app.confirmations import Confirmations
from bot.core.incoming import Edited, Written, to_payload
from storage.database import Database
from storage.db import transaction
from storage.models import InboxEvent
from tests.adapters.harness import MEMBERS, Harness, SlackHarness, harness, leaders_tenant
from tests.adapters.test_every_adapter import (
    answer_text_question,
    offers,
    saved_to,
    wait,
)
from tests.adapters.test_greeting_privacy import WORDS, _holding
from tests.adapters.test_vote_files import COMMENT, _owed, edit_taken, shown_after
from tests.helpers import HeldClock

FIRST = "Protected time made it work."
SECOND = "The ICS board and the LPC."
MORE = "And a named lead in each PCN."
EDITED = "And a named lead in every PCN, paid for it."
FILES_ONLY = "Files and pictures are not kept, only words"
FILE_NOT_KEPT = "Only your words are saved: files and pictures are not kept"


def answers(bot: Harness) -> list[tuple[str, str]]:
    """The answers kept (deleted ones are tombstones)."""
    return sorted((r.prompt_id, r.text or "") for r in bot.replies() if r.deleted_at is None)


def test_a_greeting_edited_into_an_answer_before_the_bot_replied_to_it_is_saved(
        paced: tuple[Harness, HeldClock]) -> None:
    bot, pacing = paced
    bot.start()
    bot.write(0, FIRST)  # confirmed at once; what follows in this conversation waits its turn
    wait(bot, lambda: saved_to(bot, 0), "the first confirmation")
    wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")
    bot.write(0, WORDS)
    bot.edit(0, SECOND)  # while the reply to the greeting waits to be posted
    bot.write(1, FIRST)  # handled after the edit: once it is confirmed, the edit was handled
    wait(bot, lambda: saved_to(bot, 1), "someone else's confirmation")
    assert ("bought-in", SECOND) in answers(bot), "the edited greeting was lost"

    pacing.advance(Confirmations.SPACING)
    wait(bot, lambda: any(SECOND in m for m in saved_to(bot, 0)), "its confirmation")
    assert any("into your answer to question 2, and it is saved" in m for m in bot.said_to(0))
    assert _holding(bot, WORDS) == []  # no button left that would save the greeting
    assert offers(bot, 0) == []
    wait(bot, lambda: any("Question 3 of 6" in m for m in bot.said_to(0)), "question 3")


def test_a_greeting_and_its_edit_handled_in_one_batch_save_the_answer(
        database: Database, database_url: str, tmp_path: Path) -> None:
    """The edit arrives while the greeting waits to be handled: both are handled together,
    before the reply to the greeting is even queued."""
    with harness("slack", database, database_url, str(tmp_path), leaders_tenant) as bot:
        assert isinstance(bot, SlackHarness)
        bot.start()
        channel, user = "D" + MEMBERS[0], MEMBERS[0]
        bot.app.inbox.stop()
        with transaction(bot.app.database.inbox_sessions) as session:
            for n, event in enumerate([Written(channel, user, WORDS, "1900000001.000100"),
                                       Edited(channel, user, "1900000001.000100", FIRST)]):
                session.add(InboxEvent(platform="slack", event_id=f"EvBatch{n}",
                                       received_at=datetime.now(UTC),
                                       payload=json.dumps(to_payload(event))))
        bot.app.inbox.start()
        wait(bot, lambda: any(FIRST in m for m in saved_to(bot, 0)), "the confirmation")
        assert answers(bot) == [("done-well", FIRST)]
        assert _holding(bot, WORDS) == []
        assert offers(bot, 0) == []


def test_a_file_sent_alone_then_edited_to_add_words_saves_the_words(bot: Harness) -> None:
    bot.start()
    bot.write(0, "", files=1)
    wait(bot, lambda: any(FILES_ONLY in m for m in bot.said_to(0)), "a word about the file")
    assert bot.replies() == []
    bot.edit(0, FIRST, files=1)
    confirmed = wait_said(bot, lambda m: FIRST in m and "Saved as your answer" in m)
    assert "question 1" in confirmed
    assert FILE_NOT_KEPT in confirmed
    assert answers(bot) == [("done-well", FIRST)]
    wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")

    # edited again, it is an answer like any other
    bot.edit(0, SECOND, files=1)
    wait(bot, lambda: answers(bot) == [("done-well", SECOND)], "the edit of the answer")


def test_a_file_sent_alone_then_edited_into_a_greeting_is_not_an_answer(bot: Harness) -> None:
    bot.start()
    bot.write(0, "", files=1)
    wait(bot, lambda: any(FILES_ONLY in m for m in bot.said_to(0)), "a word about the file")
    bot.edit(0, "Hello!", files=1)
    bot.write(1, FIRST)  # handled after the edit: once it is confirmed, the edit was handled
    wait(bot, lambda: saved_to(bot, 1), "someone else's confirmation")
    assert answers(bot) == [("done-well", FIRST)]  # person 1's alone
    assert saved_to(bot, 0) == []


def test_words_written_to_a_question_answered_already_are_confirmed_as_added(
        bot: Harness) -> None:
    bot.start()
    bot.app.outbox.stop()  # question 2 waits (as it does through someone's quiet hours)
    bot.write(0, FIRST)
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    bot.write(0, MORE)
    added = wait_said(bot, lambda m: MORE in m)
    assert added.startswith("Added to your answer to question 1: "), added
    assert ("You had answered it already: these words are kept beside that answer, not in "
            "its place.") in added, added
    assert answers(bot) == sorted([("done-well", FIRST), ("done-well", MORE)])


def wait_said(bot: Harness, found: object) -> str:
    """The first message person 0 was sent for which `found` is true, once there is one."""
    assert callable(found)
    said: list[str] = []

    def any_found() -> bool:
        said[:] = [m for m in bot.said_to(0) if found(m)]
        return bool(said)

    wait(bot, any_found, "the message")
    return said[0]


def test_an_answer_edited_after_its_round_closed_stays_as_it_was_and_its_writer_is_told(
        bot: Harness) -> None:
    bot.start()
    bot.write(0, FIRST)
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    [round_id] = {r.round_id for r in bot.replies()}
    assert "closed" in bot.command(f"close {round_id}")
    before = len(bot.said_to(0))
    bot.edit(0, SECOND)
    told = wait_said(bot, lambda m: "closed" in m and m not in bot.said_to(0)[:before])
    assert told == (f"I could not save that edit. Round {round_id} has closed, so your answer "
                    "stays as it was when it closed."), told
    assert answers(bot) == [("done-well", FIRST)]


def test_words_deleted_from_an_answer_leave_the_rest_of_it_and_the_question_answered(
        bot: Harness) -> None:
    bot.start()
    bot.app.outbox.stop()  # question 2 waits: more words join the answer to question 1
    bot.write(0, FIRST)
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    bot.write(0, MORE)
    wait_said(bot, lambda m: MORE in m)
    bot.delete(0)
    wait(bot, lambda: answers(bot) == [("done-well", FIRST)], "the deletion")
    told = wait_shown(bot, lambda m: "You deleted" in m)
    assert told == ("You deleted these words from your answer to question 1, and they are "
                    "deleted here too. The rest of your answer stays."), told
    assert not any(MORE in m for m in bot.shown_to(0))
    assert any(FIRST in m for m in bot.shown_to(0))  # its own confirmation stands



def test_words_deleted_from_answers_confirmed_together_leave_their_confirmation(
        paced: tuple[Harness, HeldClock]) -> None:
    """Words that arrive while the last confirmation went out this second are confirmed
    together, in one message repeating each: deleting one takes its words off it too."""
    bot, pacing = paced
    _confirmed_together(paced)
    bot.delete(0)
    told = wait_shown(bot, in_turn(pacing, lambda m: "You deleted" in m))
    assert told == ("You deleted these words from your answer to question 1, and they are "
                    "deleted here too. The rest of your answer stays.\n"
                    "The other answers this message confirmed are still saved."), told
    assert not any(MORE in m for m in bot.shown_to(0))
    assert any(FIRST in m for m in bot.shown_to(0))  # its own confirmation stands

def test_words_deleted_while_their_confirmation_with_others_is_posted_leave_it_saying_so(
        paced: tuple[Harness, HeldClock]) -> None:
    """The confirmation of words that arrived together is in the chat, but the platform has
    not said where yet, when one of them is deleted: once it has, the confirmation says what
    it would had it been known, and the other answers' confirmations stand."""
    bot, pacing = paced
    bot.start()
    bot.app.outbox.stop()
    bot.write(0, FIRST)
    wait(bot, lambda: saved_to(bot, 0), "the first confirmation, at once")
    bot.withhold_posts(0, MORE)
    bot.write(0, SECOND)
    bot.write(0, MORE)
    wait(bot, lambda: len(bot.replies()) == 3, "the words, saved")
    pacing.advance(Confirmations.SPACING)
    wait(bot, bot.holding, "their confirmation, on its way")
    bot.delete(0)
    wait(bot, lambda: ("done-well", MORE) not in answers(bot), "the deletion")
    bot.release()
    told = wait_shown(bot, in_turn(pacing, lambda m: "You deleted" in m))
    assert told == ("You deleted these words from your answer to question 1, and they are "
                    "deleted here too. The rest of your answer stays.\n"
                    "The other answers this message confirmed are still saved."), told
    assert not any(MORE in m for m in bot.shown_to(0))
    assert any(FIRST in m for m in bot.shown_to(0))


def _confirmed_together(paced: tuple[Harness, HeldClock], together: tuple[str, ...] = (
        SECOND, MORE), with_a_file: str | None = None) -> str:
    """FIRST confirmed alone, at once; the words `together` (one of them, `with_a_file`,
    sent with a file), written within its second, confirmed together in one message a
    second on: that message."""
    bot, pacing = paced
    bot.start()
    bot.app.outbox.stop()  # question 2 waits: more words join the answer to question 1
    bot.write(0, FIRST)
    wait(bot, lambda: saved_to(bot, 0), "the first confirmation, at once")
    for words in together:
        bot.write(0, words, files=int(words == with_a_file))
    wait(bot, lambda: len(bot.replies()) == 1 + len(together), "the words, saved")
    pacing.advance(Confirmations.SPACING)
    return wait_said(bot, lambda m: all(words in m for words in together))


def in_turn(pacing: HeldClock, found: Callable[..., bool]) -> Callable[..., bool]:
    """`found`, looked for with the pacing clock a second on at each look: each
    acknowledgement waits its turn, a second after the last."""
    def came(*seen: str) -> bool:
        pacing.advance(Confirmations.SPACING)
        return found(*seen)
    return came


def test_an_answer_edited_among_answers_confirmed_together_is_updated_in_their_confirmation(
        paced: tuple[Harness, HeldClock]) -> None:
    """The one message confirming answers that arrived together repeats each: once one is
    edited, it repeats the new words beside the others', and no longer the old ones."""
    bot, pacing = paced
    _confirmed_together(paced)
    bot.edit(0, EDITED)
    told = wait_shown(bot, in_turn(pacing, lambda m: EDITED in m))
    assert SECOND in told and MORE not in told, told
    assert told.startswith("Added 2 messages to your answer to question 1"), told
    assert "and updated one as you edited it." in told, told
    assert not any(MORE in m for m in bot.shown_to(0))
    assert not any(EDITED in m for m in bot.said_to(0)), "posted anew, not updated"
    assert answers(bot) == sorted([("done-well", FIRST), ("done-well", SECOND),
                                   ("done-well", EDITED)])


def test_an_edit_among_answers_confirmed_together_keeps_saying_a_file_was_not_kept(
        paced: tuple[Harness, HeldClock]) -> None:
    """The one message confirming answers that arrived together says the file sent with one
    of them was not kept: brought up to date after an edit of another, it still says so."""
    bot, pacing = paced
    together = _confirmed_together(paced, with_a_file=SECOND)
    assert FILE_NOT_KEPT in together, together
    bot.edit(0, EDITED)
    told = wait_shown(bot, in_turn(pacing, lambda m: EDITED in m))
    assert SECOND in told and MORE not in told, told
    assert FILE_NOT_KEPT in told, told
    assert not any(EDITED in m for m in bot.said_to(0)), "posted anew, not updated"


def test_a_second_deletion_among_answers_confirmed_together_says_which_are_gone_and_kept(
        paced: tuple[Harness, HeldClock]) -> None:
    """Once a deletion's acknowledgement replaced a confirmation of several answers, a
    deletion of another of them says how many of them are gone and how many still saved."""
    bot, pacing = paced
    _confirmed_together(paced, (SECOND, MORE, EDITED))
    bot.delete(0)
    wait_shown(bot, in_turn(pacing, lambda m: m.startswith("You deleted these words")))
    bot.delete(0, back=1)  # MORE
    told = wait_shown(bot, in_turn(pacing, lambda m: m.startswith("You deleted 2")))
    assert told == ("You deleted 2 of the 3 messages this confirmed as your answer to "
                    "question 1, and they are deleted here too.\n"
                    "The other one is still saved."), told
    assert not any(MORE in m or EDITED in m for m in bot.shown_to(0))
    assert answers(bot) == sorted([("done-well", FIRST), ("done-well", SECOND)])


def test_a_deleted_answer_opens_its_question_again(bot: Harness) -> None:
    bot.start()
    bot.write(0, FIRST)
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    bot.delete(0)
    told = wait_shown(bot, lambda m: "You deleted" in m)
    assert told.startswith("You deleted your answer to question 1, and it is deleted here "
                           "too. The question is open again"), told
    assert bot.replies()[0].deleted_at is not None


def wait_shown(bot: Harness, found: Callable[[str], bool]) -> str:
    """The first message person 0 reads now for which `found` is true, once there is one."""
    shown: list[str] = []

    def any_found() -> bool:
        shown[:] = [m for m in bot.shown_to(0) if found(m)]
        return bool(shown)

    wait(bot, any_found, "the message")
    return shown[0]


def test_a_comment_on_the_ranking_edited_into_a_ranking_is_the_person_s_vote(
        bot: Harness, database: Database) -> None:
    bot.start()
    for n in range(1, 6):
        answer_text_question(bot, 0, database, n)
    bot.write(0, "Honestly it is time that matters, more than any list")
    wait(bot, lambda: any("kept your message as a comment" in m for m in bot.said_to(0)),
         "the comment's notice")
    bot.edit(0, "3, 1, 5, 2, 4")
    read = wait_shown(bot, lambda m: "as I read your message" in m)  # in the notice's place
    assert read.index("Clear purpose and motivation") < read.index("Protected time"), read
    assert not any("as a comment" in m for m in bot.shown_to(0))
    [vote] = [r for r in bot.replies() if r.prompt_id == "support-factors"]
    assert vote.text == "3, 1, 5, 2, 4" and vote.choices is not None and len(vote.choices) == 5


def test_a_ranking_and_its_edit_into_a_comment_handled_in_one_batch_are_told_once(
        bot: Harness, database: Database) -> None:
    """The edit arrives while the ranking waits to be handled: the comment's notice, meant to
    take the place of the ranking's confirmation, is the one message the person gets, and a
    later edit changes it in place."""
    bot.start()
    for n in range(1, 6):
        answer_text_question(bot, 0, database, n)
    before = len(bot.said_to(0))
    bot.app.inbox.stop()  # both wait in the inbox, to be handled in one batch
    bot.write(0, "3, 1, 5, 2, 4")
    bot.edit(0, COMMENT)
    bot.app.inbox.start()
    told = wait_said(bot, lambda m: "as a comment" in m)
    edit_taken(bot, COMMENT)
    assert bot.said_to(0)[before:] == [told], bot.said_to(0)[before:]
    [comment] = [r for r in bot.replies() if r.prompt_id == "support-factors"]
    assert comment.text == COMMENT and not comment.choices

    bot.edit(0, "Time matters most, and then trust")
    edit_taken(bot, "Time matters most, and then trust")
    assert bot.said_to(0)[before:] == [told]  # said again in place, not anew


def test_a_ranking_edited_into_a_comment_while_its_confirmation_waits_is_told_once(
        paced: tuple[Harness, HeldClock], database: Database,
        caplog: pytest.LogCaptureFixture) -> None:
    """The ranking's confirmation waits its turn when the edit makes it a comment: the
    comment's notice, meant to take its place, is the one message the person gets, and a
    later edit changes it in place. The log says the vote became a comment, not that it was
    deleted."""
    caplog.set_level(logging.INFO, logger="bot.app.confirmations")
    bot, pacing = paced
    bot.start()
    for n in range(1, 6):  # each confirmed at once: the last went out a second before
        pacing.advance(Confirmations.SPACING)
        answer_text_question(bot, 0, database, n)
    pacing.advance(Confirmations.SPACING)
    bot.write(0, "", files=1)  # told at once: what follows waits its turn, a second on
    wait(bot, lambda: any(FILES_ONLY in m for m in bot.said_to(0)), "a word about the file")
    before = len(bot.said_to(0))
    bot.write(0, "3, 1, 5, 2, 4")
    wait(bot, lambda: any(r.choices for r in bot.replies()), "the ranking, saved")
    bot.edit(0, COMMENT)
    wait(bot, lambda: any(r.text == COMMENT for r in bot.replies()), "the edit, stored")
    told = wait_said(bot, in_turn(pacing, lambda m: "as a comment" in m))
    wait(bot, in_turn(pacing, lambda: not _owed(bot)), "every acknowledgement owed to be posted")
    assert bot.said_to(0)[before:] == [told], bot.said_to(0)[before:]
    left_out = [r.getMessage() for r in caplog.records if "left out of a" in r.getMessage()]
    assert left_out == ["left out of a confirmation 1 answer no longer saved as written while "
                        "it waited (deleted, or a vote edited into a comment)"], left_out

    bot.edit(0, "Time matters most, and then trust")
    wait(bot, in_turn(pacing, lambda: any(r.text == "Time matters most, and then trust"
                                    for r in bot.replies()) and not _owed(bot)), "the edit")
    pacing.advance(Confirmations.SPACING)
    wait(bot, in_turn(pacing, lambda: not _owed(bot)), "every acknowledgement owed to be posted")
    assert bot.said_to(0)[before:] == [told]  # said again in place, not anew


def test_a_comment_on_the_ranking_edited_into_another_comment_is_still_called_a_comment(
        bot: Harness, database: Database) -> None:
    bot.start()
    for n in range(1, 6):
        answer_text_question(bot, 0, database, n)
    bot.write(0, "Honestly it is time that matters, more than any list")
    wait(bot, lambda: any("kept your message as a comment" in m for m in bot.said_to(0)),
         "the comment's notice")
    before = len(bot.said_to(0))
    bot.edit(0, "Time matters most, and then trust")
    edit_taken(bot, "Time matters most, and then trust")
    told = shown_after(bot, "as a comment")  # its notice, said again in place
    assert bot.said_to(0)[before:] == []
    assert told.startswith("I kept your message as a comment on question 6: "), told
    assert "It is not a vote yet" in told
    assert "your answer" not in told
    [comment] = [r for r in bot.replies() if r.prompt_id == "support-factors"]
    assert comment.text == "Time matters most, and then trust" and not comment.choices
