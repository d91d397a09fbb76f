"""Words and a file sent together in answer to a vote's question, on both platforms: one reply
says what became of the words (a ranking stored, or kept as a comment) and that the file was
not kept, in the words any other answer's confirmation uses."""

from __future__ import annotations

from sqlalchemy import select

from bot.core.questions import Saved
from storage.database import Database
from storage.models import OwedConfirmation
from tests.adapters.harness import Harness
from tests.adapters.test_every_adapter import answer_text_questions, wait

RANKING = ("Protected time, psychological safety, relationships, executive backing, "
           "leadership development")
COMMENT = "Honestly it is time that matters, more than any list"


def told_after(bot: Harness, before: int, found: str) -> list[str]:
    """What person 0 was sent since their `before`th message, once one says `found` and the
    bot owes them nothing more."""
    wait(bot, lambda: any(found in m for m in bot.said_to(0)[before:]), repr(found))
    wait(bot, lambda: not _owed(bot), "every acknowledgement owed to be posted")
    return bot.said_to(0)[before:]


def shown_after(bot: Harness, found: str) -> str:
    """The one message person 0 reads now that says `found`, once there is one and the bot
    owes them nothing more."""
    wait(bot, lambda: any(found in m for m in bot.shown_to(0)), repr(found))
    wait(bot, lambda: not _owed(bot), "every acknowledgement owed to be posted")
    [shown] = [m for m in bot.shown_to(0) if found in m]
    return shown


def edit_taken(bot: Harness, text: str) -> None:
    """Return once person 0's edit into `text` is stored and what it owes them posted."""
    wait(bot, lambda: any(r.text == text for r in bot.replies()), "the edit, stored")
    wait(bot, lambda: not _owed(bot), "every acknowledgement owed to be posted")


def _owed(bot: Harness) -> list[int]:
    with bot.app.database.sessions() as session:
        return list(session.scalars(select(OwedConfirmation.id)))


def test_a_comment_sent_with_a_file_gets_one_reply_saying_both(
        bot: Harness, database: Database) -> None:
    bot.start()
    answer_text_questions(bot, range(1), database)
    before = len(bot.said_to(0))
    bot.write(0, COMMENT, files=1)
    told = told_after(bot, before, "as a comment")
    assert len(told) == 1, told
    assert told[0].startswith("I kept your message as a comment on question 6: "), told
    assert "It is not a vote yet" in told[0]
    assert Saved.FILES_NOT_KEPT in told[0], told
    [comment] = [r for r in bot.replies() if r.prompt_id == "support-factors"]
    assert comment.text == COMMENT and not comment.choices


def test_a_ranking_sent_with_a_file_gets_one_reply_saying_both(
        bot: Harness, database: Database) -> None:
    bot.start()
    answer_text_questions(bot, range(1), database)
    before = len(bot.said_to(0))
    bot.write(0, RANKING, files=1)
    told = told_after(bot, before, "as I read your message")
    assert len(told) == 1, told
    assert Saved.FILES_NOT_KEPT in told[0], told
    [vote] = [r for r in bot.replies() if r.prompt_id == "support-factors"]
    assert vote.choices is not None and vote.choices[0] == "Protected time"


def test_a_comment_sent_with_a_file_and_edited_is_still_told_the_file_was_not_kept(
        bot: Harness, database: Database) -> None:
    """As an edited answer's confirmation says it again, so does the edited comment's (its
    notice, said again in place)."""
    bot.start()
    answer_text_questions(bot, range(1), database)
    bot.write(0, COMMENT, files=1)
    told_after(bot, 0, "as a comment")
    before = len(bot.said_to(0))
    bot.edit(0, "Time matters most, and then trust", files=1)
    edit_taken(bot, "Time matters most, and then trust")
    told = shown_after(bot, "as a comment")
    assert told.startswith("I kept your message as a comment on question 6: "), told
    assert Saved.FILES_NOT_KEPT in told, told
    assert bot.said_to(0)[before:] == []
    [comment] = [r for r in bot.replies() if r.prompt_id == "support-factors"]
    assert comment.text == "Time matters most, and then trust"


def test_a_typed_ranking_edited_into_words_that_name_none_is_kept_as_a_comment(
        bot: Harness, database: Database) -> None:
    """The ranking the person took back no longer counts, their words are their comment,
    and they are told so (and how to rank again), as if they had written them anew: in
    place of the ranking's confirmation, which no longer says it is saved."""
    bot.start()
    answer_text_questions(bot, range(1), database)
    bot.write(0, "3, 1, 5, 2, 4")
    told_after(bot, 0, "as I read your message")
    before = len(bot.said_to(0))
    bot.edit(0, "Actually I cannot choose, they all matter")
    told = shown_after(bot, "as a comment")
    assert told.startswith("I kept your message as a comment on question 6: it appears in "
                           "the digest under the question, as your words."), told
    assert "It is not a vote yet" in told, told
    assert not any("as I read your message" in m for m in bot.shown_to(0))
    assert bot.said_to(0)[before:] == []  # said in place, not anew
    [comment] = [r for r in bot.replies() if r.prompt_id == "support-factors"]
    assert comment.text == "Actually I cannot choose, they all matter" and not comment.choices
    assert "Actually I cannot choose, they all matter" in "\n".join(bot.digest())


def test_a_deleted_comment_on_a_vote_s_question_is_said_deleted(
        bot: Harness, database: Database) -> None:
    """Its notice said the digest shows it: it says instead that it is deleted too, as an
    answer's confirmation does."""
    bot.start()
    answer_text_questions(bot, range(1), database)
    bot.write(0, "3, 1")
    told_after(bot, 0, "as a comment")
    before = len(bot.said_to(0))
    bot.delete(0)
    told = shown_after(bot, "You deleted")
    assert told == ("You deleted your comment on question 6, and it is deleted here too: the "
                    "digest does not show it."), told
    assert not any("as a comment" in m for m in bot.shown_to(0))
    assert bot.said_to(0)[before:] == []  # said in place, not anew
    assert [r.deleted_at is not None for r in bot.replies()
            if r.prompt_id == "support-factors"] == [True]


def test_a_deleted_comment_beside_a_ranking_leaves_the_ranking(
        bot: Harness, database: Database) -> None:
    bot.start()
    answer_text_questions(bot, range(1), database)
    bot.write(0, "3, 1, 5, 2, 4")
    told_after(bot, 0, "as I read your message")
    bot.write(0, COMMENT)
    told_after(bot, 0, "beside your ranking")
    before = len(bot.said_to(0))
    bot.delete(0)
    told = shown_after(bot, "You deleted")
    assert told == ("You deleted your comment on question 6, and it is deleted here too: the "
                    "digest does not show it. Your ranking stands."), told
    assert not any("beside your ranking" in m for m in bot.shown_to(0))
    assert any("as I read your message" in m for m in bot.shown_to(0))  # the ranking's
    assert bot.said_to(0)[before:] == []
    [vote] = [r for r in bot.replies() if r.prompt_id == "support-factors"
              and r.deleted_at is None]
    assert vote.choices is not None and len(vote.choices) == 5


def test_a_deleted_typed_ranking_opens_the_question_again(
        bot: Harness, database: Database) -> None:
    bot.start()
    answer_text_questions(bot, range(1), database)
    bot.write(0, "3, 1, 5, 2, 4")
    told_after(bot, 0, "as I read your message")
    bot.delete(0)
    wait(bot, lambda: any(m.startswith("You deleted your answer to question 6, and it is "
                                       "deleted here too. The question is open again")
                          for m in bot.shown_to(0)), "the confirmation changed")
    assert not any("You deleted your comment" in m for m in bot.said_to(0))


def test_a_reason_after_a_ranking_that_asks_not_to_be_quoted_is_not_said_to_be_shown(
        bot: Harness, database: Database) -> None:
    """The digest never quotes it: the confirmation says so, not that the digest shows it."""
    bot.start()
    answer_text_questions(bot, range(1), database)
    words = "3, 1, 5, 2, 4 because the board never listened, don't quote me"
    bot.write(0, words)
    [told] = told_after(bot, 0, "as I read your message")[-1:]
    assert ("Your words after it are kept with it, as your reason: as you asked, they are "
            "never quoted, so the digest does not show them.") in told, told
    assert "the digest shows them" not in told, told
    assert "the board never listened" not in "\n".join(bot.digest())
