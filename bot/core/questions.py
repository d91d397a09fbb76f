"""Questions as people meet them: one being sent, one someone was asked, an answer they gave."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.packs import Pack, Prompt
from bot.core.replies import asks_not_to_be_quoted
from bot.core.said import Command, Said, WhereAsked, lines, said
from bot.core.wording import counted, listed
from storage.models import Participant


@dataclass(frozen=True)
class Question:
    """One question of a round to send, numbered as the person sees it. The first comes with
    the pack's intro (`intro`): the few lines that tell someone why they are asked."""

    round_id: int
    delivery_id: int
    prompt: Prompt
    number: int
    total: int
    intro: Pack | None = None
    notice: Said | None = None
    """With the intro: how the round will use the person's words (bot.core.privacy)."""
    closes: str | None = None
    """With the intro: when the round closes, in the reader's own time (None: no close)."""


def how_it_goes(question: Question) -> Said:
    """Under the first question's intro: how answering works and when the round closes; how
    to stop too, when no privacy notice says it. People invited late get no reminder before
    the close, so this is where they learn it."""
    stop = () if question.notice is not None else (" ", Command("stop"),
                                                    " stops these messages.")
    return said(f"{counted(question.total, 'question')}, one at a time: the next comes when "
                "you answer or skip this one. Just write here to answer."
                + (f" {question.closes}" if question.closes else ""), *stop)


@dataclass(frozen=True)
class Asked:
    """A question someone was asked in a conversation."""

    round_id: int
    participant: Participant
    prompt: Prompt
    number: int


@dataclass(frozen=True)
class Saved:
    """An answer stored: words, or the options chosen (in ranked order)."""

    asked: Asked
    answer: str | tuple[str, ...]
    external_id: str | None = None
    """The answer's own id (for "don't quote me" on its confirmation)."""
    typed: bool = False
    """A vote read from a message's words (the confirmation says how it was understood)."""
    reason: str | None = None
    """The words after a typed vote, kept with it as the person's reason."""
    updated: bool = False
    """It revised an answer stored before (an edit, a new ballot): its confirmation says so."""
    quotable: bool = True
    """False once the person asked that it never be quoted (no "don't quote me" to offer)."""
    files_dropped: bool = False
    """The message came with files or pictures, which are not kept: its confirmation says so."""
    added: bool = False
    """Words written to a question the person had answered already: kept beside that answer,
    not in its place (its confirmation says so)."""

    FILES_NOT_KEPT = ("Only your words are saved: files and pictures are not kept, so the one "
                      "you sent with them is not part of your answer.")
    KEPT_BESIDE = ("these words are kept beside that answer, not in its place. If you did not "
                   "mean to add them, delete the message you wrote them in.")
    ADDED = "You had answered it already: " + KEPT_BESIDE
    """Under the confirmation of words `added` to an answer."""

    REASON_KEPT = ("Your words after it are kept with it, as your reason: the digest shows "
                   "them under your first choice.")
    REASON_NOT_QUOTED = ("Your words after it are kept with it, as your reason: as you asked, "
                         "they are never quoted, so the digest does not show them.")
    """REASON_KEPT once the person asked that the answer is never quoted."""


WRONG_QUESTION = said("Not the right question? Answer the one you meant ", WhereAsked(),
                      ", and delete the message you wrote.")
"""Under the confirmation of written answers: how to move words to the question meant."""
NOT_QUOTED_NOTE = "You asked that this answer is never quoted: it counts in its theme, that is all."
"""Under the confirmation of a written answer kept from quotes, in place of "Don't quote me"."""


def quote_choice(asked: Asked, text: str, external_id: str | None, quotable: bool = True
                 ) -> bool | None:
    """What the confirmation of a written answer (`text`) offers: "Don't quote me" (True),
    NOT_QUOTED_NOTE once the person asked, in its words or with the button (False); neither
    for a vote or an answer with no id (None)."""
    if asked.prompt.kind != "text" or external_id is None:
        return None
    return quotable and not asks_not_to_be_quoted(text)


def added_to(number: int) -> str:
    """What saving words beside an answer given already says, wherever they were saved."""
    return f"Added to your answer to question {number}, which you had answered already: " \
        + Saved.KEPT_BESIDE


def saved_as_answer(number: int) -> str:
    """What saving an answer says where the answer itself is not shown again."""
    return f"Saved as your answer to question {number}."


def deleted(asked: Asked, rest: bool = False) -> Said:
    """What a deleted answer's confirmation says instead of the answer (`rest`: other words
    still answer the question)."""
    if rest:
        return said(f"You deleted these words from your answer to question {asked.number}, "
                    "and they are deleted here too. The rest of your answer stays.")
    return said(f"You deleted your answer to question {asked.number}, and it is deleted "
                "here too. The question is open again: answer it ", WhereAsked(),
                " whenever you like.")


def deleted_among(gone: Sequence[tuple[Asked, bool]], standing: Sequence[Asked]) -> Said:
    """What a confirmation of several answers says instead of them once some are deleted:
    which are gone (`gone`: the question of each, and whether other words still answer it)
    and which are saved still (`standing`: the question of each)."""
    if len(gone) == 1:
        first = deleted(*gone[0])
        return lines([first, "The other answers this message confirmed are still saved."]
                     ) if standing else first
    asked = [a for a, _ in gone]
    one_question = len(_numbered([*asked, *standing])) == 1
    total = len(gone) + len(standing)
    how_many = f"{len(gone)} of the {total}" if standing else f"the {total}"
    told: list[Said | str] = [
        f"You deleted {how_many} messages this confirmed as your answer to "
        f"{_questions(asked)}, and they are deleted here too." if one_question else
        f"You deleted {how_many} answers this message confirmed, to {_questions(asked)}, "
        "and they are deleted here too."]
    if standing:
        to = "" if one_question else f", to {_questions(standing)},"
        told.append(f"The other one{to} is still saved." if len(standing) == 1
                    else f"The other {len(standing)}{to} are still saved.")
    shown = _numbered(standing)
    for question in _numbered([a for a, rest in gone if rest and _number(a) not in shown]
                              ).values():
        told.append("The rest of your answer stays." if one_question
                    else f"The rest of your answer to {_questions([question])} stays.")
    open_again = list(_numbered([a for a, rest in gone if not rest]).values())
    if open_again:
        are = "is" if len(open_again) == 1 else "are"
        which = _questions(open_again)
        told.append(said(f"{which[0].upper()}{which[1:]} {are} open again: answer "
                         f"{'it' if len(open_again) == 1 else 'them'} ", WhereAsked(),
                         " whenever you like."))
    return lines(told)


def _number(asked: Asked) -> tuple[int, int]:
    return asked.round_id, asked.number


def _numbered(asked: Sequence[Asked]) -> dict[tuple[int, int], Asked]:
    """These questions, each once, in order."""
    each: dict[tuple[int, int], Asked] = {}
    for one in asked:
        each.setdefault(_number(one), one)
    return each


def _questions(asked: Sequence[Asked]) -> str:
    """"question 2", "questions 1 and 2", "question 1 of round 3 and question 1 of round 4":
    these questions, each once."""
    named = list(_numbered(asked).values())
    if len({a.round_id for a in named}) > 1:
        return listed([f"question {a.number} of round {a.round_id}" for a in named])
    if len(named) == 1:
        return f"question {named[0].number}"
    return "questions " + listed([str(a.number) for a in named])


def comment_deleted(asked: Asked, voted: bool) -> Said:
    """What deleting a comment on a vote's question says (`voted`: the person's ballot on it
    stands): its notice said the digest shows it, and the digest no longer does."""
    vote = "ranking" if asked.prompt.kind == "rank" else "choice"
    return said(f"You deleted your comment on question {asked.number}, and it is deleted here "
                "too: the digest does not show it." + (f" Your {vote} stands." if voted else ""))


def form_saved(one: Saved) -> str:
    """The line by a form an answer was given in (its confirmation follows in the chat)."""
    if one.added:
        return added_to(one.asked.number)
    return saved_as_answer(one.asked.number)


def saved_as(one: Saved) -> str:
    """The start of the confirmation of one written answer, before its question: saved,
    updated (an edit), or added to the answer given before."""
    number = one.asked.number
    if one.updated:
        return f"Updated as your answer to question {number}: "
    if one.added:
        return f"Added to your answer to question {number}: "
    return f"Saved as your answer to question {number}: "


def saved_together(saved: Sequence[Saved], revised: bool = False) -> str:
    """The first line of one confirmation of several answers: which question each was saved
    to, naming the round of each when they are of several (question 1 of two rounds is two
    questions). `revised`: the confirmation brought up to date after an edit of those of
    them `updated`, which it says."""
    asked = [s.asked for s in saved]
    questions = _questions(asked)
    if len(_numbered(asked)) == 1:
        what = (f"Added {len(saved)} messages to your answer to {questions}"
                if all(s.added for s in saved)
                else f"Saved {len(saved)} messages as your answer to {questions}")
    else:
        what = f"Saved {len(saved)} answers, to {questions}"
    edited = sum(s.updated for s in saved) if revised else 0
    if edited:
        what += (", and updated one as you edited it" if edited == 1
                 else f", and updated {edited} as you edited them")
    return what + "."


def saved_to(one: Saved, saved: Sequence[Saved]) -> str:
    """What stands before the question of one of several answers confirmed together: its
    number, with its round when they are of several."""
    if _of_several_rounds(saved):
        return f"Round {one.asked.round_id}, question {one.asked.number}: "
    return f"{one.asked.number}. "


def _of_several_rounds(saved: Sequence[Saved]) -> bool:
    return len({s.asked.round_id for s in saved}) > 1
