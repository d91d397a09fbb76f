"""What people write to the bot: answers, edits and deletions, as every platform's adapter
translates them (bot.core.incoming), handled in the inbox's batches.

An answer is stored to the question it replies to (bot.core.answers); an edit or a deletion
changes an answer only when it comes from the answer's author. A message that is only one of
the words a person uses about themselves (`stop`, `help`, `my-data`, `forget-me`) is not an
answer: `stop` stops the questions, `help` is told what to do here and which question waits
(`help_reply`, as Teams tells it too), the others are told how to use them. Files and pictures
are never kept: a message of only those is told to write its answer (or, in a closed round,
that the round closed), and the confirmation of words sent or edited with one says the file
was not kept. A message that is only a greeting or a question about the bot
(bot.app.small_talk) is not taken as an answer either: the bot says hello (or how it works)
and which question waits, and offers to save the words as the answer to it all the same
(`save_kept`, from the button); an edit that makes those words an answer saves them as one
written then, and the offer's button gives way (the offer is posted without it, when it was
still waiting for its turn). What to say back (a confirmation, that an
edited answer was updated, or why nothing was saved) is queued for after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from functools import partial

from sqlalchemy.orm import Session

from bot.app.confirmations import Confirmations
from bot.app.inbox import FollowUp
from bot.app.small_talk import Talk, small_talk
from bot.core import audit
from bot.core.answers import (
    NOT_ASKED,
    ChatAnswer,
    ChatMessage,
    Waiting,
    answer_from_chat,
    delete_from_chat,
    edit_from_chat,
    question_waiting,
    skip,
)
from bot.core.bot_messages import offer_holding, take_back_offers
from bot.core.confirmations_owed import (
    ConfirmationOf,
    Offered,
    not_owed,
    owe,
    owe_notice,
    owe_offer,
    owe_revision,
    owe_settling,
    owe_withdrawal,
)
from bot.core.errors import NotFound, RoundClosed, RoundtableError, as_sentence
from bot.core.inbox import Received
from bot.core.incoming import (
    Deleted,
    Edited,
    Incoming,
    Kept,
    Written,
    external_id,
    from_payload,
)
from bot.core.people import find_participant, stop_asking
from bot.core.ports import Clock, Where
from bot.core.questions import Asked, Saved, added_to, comment_deleted, saved_as_answer
from bot.core.replies import asks_not_to_be_quoted, clear_tombstone, is_answered
from bot.core.said import Command, OpenQuestions, Said, WhereAsked, said
from bot.core.typed_votes import TypedVote, comment_notice, read_vote_and_reason
from storage.leases import PROCESS
from storage.queries import replies_by_external_id

log = logging.getLogger(__name__)
NO_QUESTION = said("I have no open question waiting for an answer here (a round may "
                   "have closed). Use the buttons on the questions, or see your open "
                   "questions ", OpenQuestions(), ".")
STOPPED = said("Done: Roundtable will send you no more questions or reminders, in any round. "
               "Your answers are kept; ",
               Command("my-data"), " sends you a copy and ", Command("forget-me"),
               " deletes them.")
NOT_SAVED = "I could not save that. "
FILES_ONLY = said(NOT_SAVED, "Files and pictures are not kept, only words: please write your "
                  "answer here as text.")
FILE_NOT_KEPT = said(Saved.FILES_NOT_KEPT)  # beside a notice, as a confirmation says it
YOUR_DATA = said(Command("stop"), " stops the questions, ", Command("my-data"),
                 " sends you everything held about you and ", Command("forget-me"),
                 " deletes it.")
HELP_HERE = said("Write here to answer the question waiting, or answer another one ",
                 WhereAsked(), ". ") + YOUR_DATA


SORRY = said("Sorry, something went wrong on my side and that was not done. Please try again "
             "in a few minutes; if it keeps happening, tell your facilitator.")
"""What a person is told, on every platform, when their command, button or form failed for a
reason of ours (logged with its traceback), not because of anything they sent."""
UNCHANGED = said("I could not update the message whose button you pressed: it still shows as "
                 "it was.")
"""Said after what a button did, on every platform, when what it did was done but the message
it was on could not be changed to show it (the platform refused)."""


def why_refused(exc: RoundtableError | ValueError) -> Said:
    """Why something a person sent (a form, a button) was refused, as a sentence."""
    return as_sentence(exc.said if isinstance(exc, RoundtableError) else said(str(exc)))


def not_saved(exc: RoundtableError | ValueError) -> Said:
    """What a person is told when what they sent was refused: that it was not saved, and why."""
    return said(NOT_SAVED, why_refused(exc))


ALONE = frozenset({"stop", "help", "my-data", "forget-me", "questions", "skip"})
"""Words that, written alone, are the person speaking about themselves, not an answer (as a
Teams chat reads them before they reach the inbox): nobody answers a question with "stop",
and "skip" puts the question waiting aside, as its button does."""


def alone(text: str) -> str | None:
    """The word of ALONE that `text` is, with a full stop, "!" or "?" after it ("Stop."), or
    None."""
    word = text.strip().lower().rstrip(".!?")
    return word if word in ALONE else None

ABOUT_ME = said("I'm Roundtable: I ask you a workshop's questions one at a time, here, and "
                "keep your answers for the group's digest. ")
SAVE_OFFER = ("Not a greeting but your answer? Press Save as my answer and I will save what "
              "you wrote as it.")
SAVE_WORDLESS = ("Meant that as your answer? Press Save as my answer and I will save what "
                 "you sent as it.")
OFFER_DELETED = said("You deleted that message; nothing of it was saved.")
"""What the offer to save a message's words says once its writer deleted it: its button, and
the words it held, gone."""


def small_talk_reply(talk: Talk, waiting: Waiting | None) -> Said:
    """What the bot says to a greeting (hello), a question about itself (how it works) or
    emoji alone, and what waits for an answer."""
    if waiting is None:  # no question to point at: what there is, then what else I do
        return (said("Hello! ") + NO_QUESTION if talk == "greeting"
                else NO_QUESTION if talk == "no words"
                else ABOUT_ME + NO_QUESTION + " " + YOUR_DATA)
    if talk == "no words":
        return waiting_line(waiting) + said(" ", SAVE_WORDLESS)
    opening = said("Hello! ") if talk == "greeting" else ABOUT_ME + HELP_HERE + " "
    return opening + waiting_line(waiting) + said(" ", SAVE_OFFER)


def commented(asked: Asked, typed: TypedVote, *, voted: bool, quotable: bool, files: bool
              ) -> Said:
    """What words kept as a comment on a vote's question get: one reply saying so (and, when
    files came with them, that those were not kept, as an answer's confirmation says it)."""
    notice = comment_notice(asked.number, asked.prompt, typed, voted=voted, quotable=quotable)
    return notice + "\n" + FILE_NOT_KEPT if files else notice


def skipped(asked: Asked) -> Said:
    """What the person is told once a question is put aside (its button, or "skip")."""
    return said(f"Skipped question {asked.number} for now. It stays open ",
                OpenQuestions(yours=True), ", and you can still answer it ", WhereAsked(), ".")


def help_reply(waiting: Waiting | None) -> Said:
    """What `help` written alone to the bot gets: what to do here, and the question waiting
    restated (as a greeting's reply restates it), or that none waits."""
    if waiting is None:
        return NO_QUESTION + " " + YOUR_DATA
    return HELP_HERE + " " + waiting_line(waiting)


def waiting_line(waiting: Waiting) -> Said:
    """The question a message written here would answer, or that more words join its answer."""
    asked = waiting.asked
    if waiting.answered:
        return said(f"Your answer to question {asked.number} is saved; anything more you "
                    "write here is added to it.")
    return said(f"Question {asked.number} is waiting for your answer: "
                f"{asked.prompt.question}\nJust write your answer here.")


Offers = dict[tuple[str, str], int]
"""Offers to save words, by (platform, the id the words would be saved under): whose words."""
Translate = Callable[[dict[str, object]], Incoming | None]
"""A platform's own payload (stored by an earlier version) as an incoming event."""


class Conversations:
    """The inbox's handler: each event once, in order, in the inbox's transaction."""

    def __init__(self, clock: Clock, confirmations: Confirmations,
                 translate: Mapping[str, Translate] | None = None, worker: str = PROCESS
                 ) -> None:
        self.clock, self.confirmations = clock, confirmations
        self.translate = translate or {}
        self.worker = worker
        """The process that posts the confirmations it owes (their claim is its lease's)."""

    def __call__(self, session: Session, received: list[Received]) -> list[FollowUp]:
        now = self.clock()
        follow_ups: list[FollowUp] = []
        offered: Offers = {}  # offers queued by this batch, not yet handed to confirmations
        written: list[Written] = []  # consecutive answers of one platform, stored together
        platform = ""
        for item in received:
            event = self._incoming(item)
            if event is None:
                continue
            if isinstance(event, Written) and alone(event.text):
                follow_ups += self._answers(session, platform, written, now)
                written = []
                follow_ups += self._about_themselves(session, item.platform, event, now)
                continue
            if isinstance(event, Written) and (talk := small_talk(event.text)) is not None:
                follow_ups += self._answers(session, platform, written, now)
                written = []
                follow_ups += self._small_talk(session, item.platform, event, talk, offered)
                continue
            if written and (not isinstance(event, Written) or item.platform != platform):
                follow_ups += self._answers(session, platform, written, now)
                written = []
            if isinstance(event, Written):
                written.append(event)
                platform = item.platform
            else:
                follow_ups += self._change(session, item.platform, event, now, offered)
        follow_ups += self._answers(session, platform, written, now)
        return follow_ups

    def _incoming(self, received: Received) -> Incoming | None:
        event = from_payload(received.payload)
        if event is None and received.platform in self.translate:
            event = self.translate[received.platform](received.payload)
        return event

    def save_kept(self, session: Session, platform: str, author_id: str, kept: Kept
                  ) -> tuple[list[FollowUp], Said]:
        """Store words kept from a message not taken as an answer, as the answer to the
        question that waited when they were written, as that message would have been (once:
        under its own id); what to say back after the commit, and what the button did (that
        they joined an answer given already, when the question had one).
        RoundtableError when they cannot be saved (the round closed; not the presser's)."""
        written = kept.written_by(author_id)
        question = (kept.round_id, kept.prompt_id)
        before = question_waiting(session, _chat_message(written, question), platform)
        follow_ups, outcomes = self._stored(session, platform, [written], self.clock(),
                                            question)
        outcome = outcomes[0]
        if outcome.asked is None:
            raise NotFound(NOT_ASKED)
        if outcome.refused:
            raise RoundtableError(outcome.refused)
        number = outcome.asked.number
        if not outcome.created:
            return [], said(f"Already saved, to question {number}.")
        if outcome.comment is not None:
            return follow_ups, said(f"Kept as your comment on question {number}.")
        if before is not None and before.answered:  # since the greeting, or before it
            return follow_ups, said(added_to(number))
        return follow_ups, said(saved_as_answer(number))

    def _small_talk(self, session: Session, platform: str, event: Written, talk: Talk,
                    offered: Offers) -> list[FollowUp]:
        """A greeting, a question about the bot or emoji alone: not an answer. The reply
        says what waits, and its button keeps the words, to save them as the answer after
        all (`offered` notes whose words it holds)."""
        where = Where(event.channel_id, event.thread_id)
        waiting = question_waiting(session, _chat_message(event), platform)
        reply = small_talk_reply(talk, waiting)
        if waiting is None:
            return [self._notice(session, platform, where, reply)]
        asked = waiting.asked
        kept = Kept(asked.round_id, asked.prompt.id, event.channel_id, event.message_id,
                    event.text, event.thread_id)
        answer = external_id(event.channel_id, event.message_id)
        offered[(platform, answer)] = asked.participant.id
        offer = Offered(reply, kept, asked.participant.id)
        owed = owe_offer(session, platform, where, offer, answer, self.clock(), self.worker)
        return [partial(self.confirmations.offer, platform, where, replace(offer, owed=owed))]

    def _answers(self, session: Session, platform: str, written: list[Written],
                 now: datetime) -> list[FollowUp]:
        return self._stored(session, platform, written, now)[0]

    def _stored(self, session: Session, platform: str, written: list[Written],
                now: datetime, question: tuple[int, str] | None = None
                ) -> tuple[list[FollowUp], list[ChatAnswer]]:
        """Store the answers (to `question` when the person chose it); what to say back, one
        message per conversation (and thread) for the answers of this batch, so a burst does
        not become a burst of replies (one for those before a notice there and one for
        those after it: replies come in the order of what they answer), and what became of
        each."""
        if not written:
            return [], []
        messages = [_chat_message(w, question) for w in written]
        saved: dict[Where, list[Saved]] = {}
        follow_ups: list[FollowUp] = []

        def confirm(where: Where) -> None:
            answers = saved.pop(where, [])
            if answers:
                owe(session, platform, where, answers, now, self.worker)
                follow_ups.append(partial(self.confirmations.confirm, platform, where, answers))

        outcomes = answer_from_chat(session, messages, now, platform)
        for w, message, outcome in zip(written, messages, outcomes, strict=True):
            where = Where(message.channel_id, message.thread_id)
            files = w.files > 0
            if outcome.asked is None:
                confirm(where)  # before the notice: replies in the order of what they answer
                follow_ups.append(self._notice(session, platform, where, NO_QUESTION))
            elif outcome.refused:
                # in a closed round, the file is not what stands in the way
                refusal = (FILES_ONLY if files and not message.text.strip() and not outcome.closed
                           else said(NOT_SAVED, as_sentence(said(outcome.refused))))
                confirm(where)
                follow_ups.append(self._notice(session, platform, where, refusal,
                                               outcome.asked))
            elif outcome.created and outcome.vote is not None:
                saved.setdefault(where, []).append(Saved(outcome.asked, outcome.vote,
                                                         message.external_id, typed=True,
                                                         reason=outcome.reason,
                                                         updated=outcome.replaced,
                                                         quotable=outcome.quotable,
                                                         files_dropped=files))
            elif outcome.created and outcome.comment is not None:
                asked = outcome.asked
                confirm(where)
                follow_ups.append(self._notice(
                    session, platform, where,
                    commented(asked, outcome.comment, voted=outcome.beside_ballot,
                              quotable=not asks_not_to_be_quoted(message.text), files=files),
                    asked, instead_of=message.external_id))
            elif outcome.created:
                saved.setdefault(where, []).append(Saved(outcome.asked, message.text,
                                                         message.external_id,
                                                         files_dropped=files,
                                                         added=outcome.added))
            # else: stored before, and confirmed then
        for where in list(saved):
            confirm(where)
        return follow_ups, outcomes

    def _about_themselves(self, session: Session, platform: str, event: Written,
                          now: datetime) -> list[FollowUp]:
        """`stop` stops messaging the writer (their answers stay); `help` gets what to do
        here and the question waiting, `questions` where their open questions are and the
        question waiting; `skip` puts that question aside; the other words get how to use
        them."""
        where = Where(event.channel_id, event.thread_id)
        word = alone(event.text)
        if word in ("help", "questions", "skip"):
            waiting = question_waiting(session, _chat_message(event), platform)
            asked = waiting.asked if waiting is not None else None
            if word == "skip" and waiting is not None and not waiting.answered:
                return [self._skip(session, platform, where, waiting.asked, event, now)]
            if word == "help" or waiting is None:
                reply = help_reply(waiting)
            elif word == "skip":
                reply = said("No question is waiting to be skipped. ") + waiting_line(waiting)
            else:
                reply = said("Your open questions are ", OpenQuestions(yours=True),
                             ". ") + waiting_line(waiting)
            return [self._notice(session, platform, where, reply, asked)]
        if word != "stop":
            return [self._notice(session, platform, where, HELP_HERE)]
        stop_asking(session, platform, event.author_id, now,
                    audit.person(platform, event.author_id))
        return [self._notice(session, platform, where, STOPPED)]

    def _skip(self, session: Session, platform: str, where: Where, asked: Asked,
              event: Written, now: datetime) -> FollowUp:
        """"skip" written while `asked` waits: it is put aside, and the next one follows."""
        try:
            with session.begin_nested():
                asked = skip(session, asked.round_id, asked.prompt.id, event.author_id, now,
                             platform)[0]
        except RoundtableError as exc:
            return self._notice(session, platform, where, said("I could not skip it. ",
                                                               as_sentence(exc.said)), asked)
        return self._notice(session, platform, where, skipped(asked), asked)

    def _change(self, session: Session, platform: str, event: Edited | Deleted,
                now: datetime, offered: Offers) -> list[FollowUp]:
        """An edit or a deletion of an answer, by its author. An edit of a message stored as
        nothing may make it an answer (`_unstored_edited`); a deletion of one takes its words
        back from an offer to save them (`_unstored_deleted`); a change of someone else's
        message changes nothing. An edit that changed the answer is
        confirmed as an update; a deletion's confirmation stops repeating the words
        deleted; a deleted answer brought back is saved again (`_restored`)."""
        answer = external_id(event.channel_id, event.message_id)
        if isinstance(event, Edited) and event.restored:
            restored = self._restored(session, platform, event, answer, now)
            if restored is not None:
                return restored
        stored = replies_by_external_id(session, answer)
        comment = all(r.choices is None for r in stored)  # before a deletion clears them
        if not stored:
            if isinstance(event, Edited):
                return self._unstored_edited(session, platform, event, answer, now, offered)
            return self._unstored_deleted(session, platform, event, answer, now, offered)
        try:
            with session.begin_nested():
                if isinstance(event, Deleted):
                    author = (platform, event.author_id) if event.author_id is not None else None
                    asked = delete_from_chat(session, answer, now, author)
                    not_owed(session, platform, answer)
                    if asked is None:
                        return []
                    rest = is_answered(session, asked.round_id, asked.participant.id,
                                       asked.prompt.id)
                    where = Where(event.channel_id)
                    if asked.prompt.kind != "text" and comment:
                        return [self._notice(session, platform, where,
                                             comment_deleted(asked, rest), asked,
                                             instead_of=answer)]
                    owed = owe_withdrawal(session, platform, where, asked, answer, now,
                                          self.worker)
                    return [partial(self.confirmations.withdraw, platform, where, asked,
                                    answer, rest, owed)]
                saved = edit_from_chat(session, answer, event.text, now,
                                       (platform, event.author_id))
        except RoundClosed as exc:  # only an edit: a deletion is honoured in a closed round
            thread = event.thread_id if isinstance(event, Edited) else None
            return [self._notice(session, platform, Where(event.channel_id, thread),
                                 said("I could not save that edit. ", as_sentence(exc.said)))]
        except RoundtableError as exc:
            log.info("ignored a change on %s: %s", platform, exc)
            return []
        where = Where(event.channel_id, event.thread_id)
        if saved is None:  # the words are as they were: only a file came with the edit
            return [self._notice(session, platform, where, FILE_NOT_KEPT)
                    ] if event.files else []
        asked = saved.asked
        if asked.prompt.kind != "text" and isinstance(saved.answer, str):
            # still a comment on a vote's question, not a vote: said as when it was written
            typed = read_vote_and_reason(asked.prompt, saved.answer)[0]
            voted = is_answered(session, asked.round_id, asked.participant.id, asked.prompt.id)
            return [self._notice(session, platform, where,
                                 commented(asked, typed, voted=voted, quotable=saved.quotable,
                                           files=event.files > 0), asked, instead_of=answer)]
        if event.files:
            saved = replace(saved, files_dropped=True)
        owed = owe_revision(session, platform, where, saved, now, self.worker)
        return [partial(self.confirmations.revise, platform, where, saved, owed)]

    def _restored(self, session: Session, platform: str, event: Edited, answer: str,
                  now: datetime) -> list[FollowUp] | None:
        """A deleted answer brought back by its writer (an Undo): saved anew, to the
        question it answered, and confirmed as any answer is (beside the answer given
        since, if any; refused if the round has closed). None when it was no deleted answer
        of theirs: then it is read as an edit."""
        question = clear_tombstone(session, answer, (platform, event.author_id))
        if question is None:
            return None
        written = Written(event.channel_id, event.author_id, event.text, event.message_id,
                          event.thread_id, event.files)
        return self._stored(session, platform, [written], now, question)[0]

    def _unstored_edited(self, session: Session, platform: str, event: Edited, answer: str,
                         now: datetime, offers: Offers) -> list[FollowUp]:
        """An edit of a message not stored as an answer, when it was one the bot offered to
        save (a greeting: its offer may be posted, or still waiting for its turn) or one
        that carried only files (told that only words are kept): a reply written now, as if
        sent with those words. Of any other message (a command, words written when no
        question waited) the edit changes nothing: taking it as an answer would surprise."""
        offered = self._offered_to(session, platform, answer, event.author_id, offers) is not None
        if not offered and not event.files:
            return []
        if alone(event.text) or small_talk(event.text) is not None or not event.text.strip():
            return []
        written = Written(event.channel_id, event.author_id, event.text, event.message_id,
                          event.thread_id, event.files)
        follow_ups, outcomes = self._stored(session, platform, [written], now)
        asked = outcomes[0].asked
        if not offered or not outcomes[0].created or asked is None:
            return follow_ups
        done = (said(f"You edited that message: it is kept as your comment on question "
                     f"{asked.number}.") if outcomes[0].comment is not None else
                said(f"You edited that message into your answer to question {asked.number}, "
                     "and it is saved."))
        where = Where(event.channel_id, event.thread_id)
        owed = owe_settling(session, platform, where, answer, done, now, self.worker,
                            asked.participant.id)
        return [partial(self.confirmations.settle_offer, platform, where, answer, done, owed),
                *follow_ups]

    def _unstored_deleted(self, session: Session, platform: str, event: Deleted, answer: str,
                          now: datetime, offers: Offers) -> list[FollowUp]:
        """A deletion of a message not stored as an answer. When the bot offered to save its
        words (the offer posted, or still waiting for its turn), the offer takes them back: it
        says OFFER_DELETED instead, button and words gone, and no offer of them is owed any
        more (a process taking over would post the words again)."""
        person = self._offered_to(session, platform, answer, event.author_id, offers)
        if person is None:
            return []
        take_back_offers(session, platform, answer, person)
        not_owed(session, platform, answer)
        where = Where(event.channel_id)
        owed = owe_settling(session, platform, where, answer, OFFER_DELETED, now, self.worker,
                            person)
        return [partial(self.confirmations.settle_offer, platform, where, answer, OFFER_DELETED,
                        owed)]

    def _offered_to(self, session: Session, platform: str, answer: str, author_id: str | None,
                    offers: Offers) -> int | None:
        """Whose words an offer holds (posted and remembered, queued by this batch, or
        waiting to be posted) when they are `author_id`'s (None: the platform did not say who
        wrote the message, and its conversation vouches for it); else None."""
        held = offer_holding(session, platform, answer, author_id)
        if held is not None:
            return held.participant_id
        offered = offers.get((platform, answer)) or self.confirmations.offering(platform, answer)
        if offered is None or author_id is None:
            return offered
        person = find_participant(session, author_id, platform)
        return offered if person is not None and person.id == offered else None

    def _notice(self, session: Session, platform: str, where: Where, notice: Said,
                about: Asked | None = None, *, instead_of: str | None = None) -> FollowUp:
        """A notice owed in this transaction (`about`: the question it speaks of; `instead_of`:
        the answer to it whose confirmation it is, Notice.instead_of), to post after the
        commit."""
        owed = owe_notice(session, platform, where, notice, self.clock(), self.worker, about,
                          instead_of)
        confirming = None if about is None or instead_of is None else ConfirmationOf(
            about.round_id, instead_of, about.participant.id)
        return partial(self.confirmations.notify, platform, where, notice, owed, confirming)


def _chat_message(written: Written, question: tuple[int, str] | None = None) -> ChatMessage:
    """A message as answering reads it (to `question` when the person chose it)."""
    return ChatMessage(written.channel_id, written.author_id, written.text,
                       external_id(written.channel_id, written.message_id), written.thread_id,
                       question)
