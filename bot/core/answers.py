"""Which question a chat message answers, and storing chat messages as answers: a reply in a
question's thread answers that question; any other message in the conversation answers the
question that is waiting. Answering or skipping the question waiting queues the next one."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, selectinload

from bot.core import audit, incoming
from bot.core.errors import NotFound, RoundClosed, RoundtableError
from bot.core.next_questions import ask_next
from bot.core.packs import Pack
from bot.core.people import suppressed
from bot.core.questions import Asked, Saved
from bot.core.replies import (
    Author,
    answered_before,
    asks_not_to_be_quoted,
    check_text_answer,
    delete_reply,
    edit_reply,
    is_answered,
    record_reply,
    record_vote,
)
from bot.core.rounds import round_pack, vote_questions
from bot.core.typed_votes import TypedVote, read_vote_and_reason
from storage.models import BotMessage, Delivery, Participant, QuestionMessage, Reply, Round
from storage.queries import is_an_answer

NOT_ASKED = "That question was not asked of you: answer the questions Roundtable sent you."


@dataclass(frozen=True)
class ChatMessage:
    """A message someone wrote in their conversation with the bot."""

    channel_id: str
    user_id: str
    text: str
    external_id: str
    thread_id: str | None = None
    question: tuple[int, str] | None = None
    """(round, prompt) when the person chose the question it answers: words kept when they
    were not taken as an answer, saved later with a button."""


@dataclass(frozen=True)
class ChatAnswer:
    """What became of a chat message: the question it answers (None when no question waits
    for an answer there), whether it was stored now, and why not if it was refused. To a
    rank or choice question, a message is a `vote` (the options understood, in order) or,
    when it names no ballot, kept as a comment: then `comment` says why it is not a vote."""

    asked: Asked | None
    created: bool = False
    refused: str | None = None
    vote: tuple[str, ...] | None = None
    comment: TypedVote | None = None
    beside_ballot: bool = False
    """A comment from someone who had already voted on the question."""
    reason: str | None = None
    """The person's words after the ballot in their message (kept with it)."""
    replaced: bool = False
    """The vote replaced the person's earlier ballot on the question (kept as a version)."""
    closed: bool = False
    """Refused because the question's round is closed."""
    added: bool = False
    """Words to a written question the person had answered already: kept beside that answer."""
    quotable: bool = True
    """False when the vote stored may not be quoted (its words, or the ballot's before, asked
    so): the digest does not show its reason."""


def answer_from_chat(session: Session, messages: Sequence[ChatMessage], now: datetime,
                     platform: str) -> list[ChatAnswer]:
    """Store chat messages, in order, as answers to the questions they reply to.

    A reply in a question's thread answers that question; any other message answers the
    question that is waiting: of the newest open round asked in that conversation, the first
    question the person has neither answered nor skipped, in the order asked; when there
    is none, the last one asked (so words sent before the next question arrives join the
    answer before). To a rank or choice question, a message that names options (by
    number or name, in order) is stored as that vote; any other is kept as a comment on it.
    A message stored before (same external id) is not stored again. People
    whose answer leaves no question waiting get their next question queued (`ask_next`). The
    whole batch costs a handful of queries and one insert, whatever its size.
    """
    if not messages:
        return []
    talk = _Conversations(session, {m.channel_id for m in messages})
    stored = set(session.scalars(select(Reply.external_id).where(
        Reply.external_id.in_([m.external_id for m in messages]))))
    rows: list[dict[str, object]] = []
    votes: list[tuple[int, int]] = []
    out: list[ChatAnswer] = []
    for message in messages:
        asked = _theirs(talk.question(message), message, platform)
        if asked is None:
            out.append(ChatAnswer(None))
            continue
        if message.external_id in stored:
            out.append(ChatAnswer(asked))
            continue
        typed, reason = (read_vote_and_reason(asked.prompt, message.text)
                         if asked.prompt.kind != "text" else (None, None))
        try:
            check_text_answer(talk.round_of(asked), asked.prompt.id, asked.prompt, message.text,
                              comment=typed is not None)
            if typed is not None and typed.ballot is not None:
                recorded = record_vote(session, asked.round_id, asked.prompt.id,
                                       asked.participant, typed.ballot, now, source="chat",
                                       external_id=message.external_id, text=message.text)
                stored.add(message.external_id)
                talk.answered(asked)
                out.append(ChatAnswer(asked, created=True, vote=typed.ballot, reason=reason,
                                      replaced=recorded.replaced,
                                      quotable=recorded.reply.quotable))
                votes.append((asked.round_id, asked.participant.id))
                continue
        except RoundtableError as exc:
            out.append(ChatAnswer(asked, refused=str(exc), closed=isinstance(exc, RoundClosed)))
            continue
        rows.append({"round_id": asked.round_id, "prompt_id": asked.prompt.id,
                     "participant_id": asked.participant.id, "text": message.text,
                     "source": "chat", "external_id": message.external_id, "created_at": now,
                     "quotable": not asks_not_to_be_quoted(message.text)})
        stored.add(message.external_id)
        added = typed is None and talk.has_answered(asked)
        if typed is None:
            talk.answered(asked)
        out.append(ChatAnswer(asked, created=True, comment=typed,
                              beside_ballot=typed is not None and talk.has_answered(asked),
                              added=added))
    if rows:
        session.execute(insert(Reply), rows)
    if rows or votes:
        ask_next(session, {(a.asked.round_id, a.asked.participant.id) for a in out
                           if a.created and a.asked is not None}, now)
    return out


@dataclass(frozen=True)
class Waiting:
    """The question a chat message would answer, and whether the person has answered it
    (then the message would join their answer: no other question waits yet)."""

    asked: Asked
    answered: bool


def question_waiting(session: Session, message: ChatMessage, platform: str) -> Waiting | None:
    """The question `message` would answer if it were stored (answer_from_chat), without
    storing it; None when none waits for this person there."""
    talk = _Conversations(session, {message.channel_id})
    asked = _theirs(talk.question(message), message, platform)
    return None if asked is None else Waiting(asked, talk.has_answered(asked))


def _theirs(asked: Asked | None, message: ChatMessage, platform: str) -> Asked | None:
    """The question, when it was asked of the message's writer."""
    if (asked is None or asked.participant.platform_user_id != message.user_id
            or asked.participant.platform != platform):
        return None
    return asked


class _Conversations:
    """What answering needs to know about some conversations, read in four queries."""

    def __init__(self, session: Session, channels: set[str]) -> None:
        self._session = session
        deliveries = session.scalars(
            select(Delivery).where(Delivery.channel_id.in_(channels))
            .options(selectinload(Delivery.round), selectinload(Delivery.participant))).all()
        self.deliveries = {d.id: d for d in deliveries}
        self.rounds = {d.round_id: d.round for d in deliveries}
        self.newest_open: dict[str, Delivery] = {}
        for d in sorted(deliveries, key=lambda d: d.round_id):
            if d.round.status == "open":
                self.newest_open[str(d.channel_id)] = d
        self.threads: dict[tuple[str, str], tuple[Delivery, str | None]] = {}
        self.asked: dict[int, list[str]] = {}
        self.skipped: set[tuple[int, str]] = set()
        for m in session.execute(
                select(QuestionMessage.channel_id, QuestionMessage.message_id,
                       QuestionMessage.prompt_id, QuestionMessage.delivery_id,
                       QuestionMessage.skipped_at)
                .where(QuestionMessage.delivery_id.in_(list(self.deliveries)))
                .order_by(QuestionMessage.id)):
            delivery = self.deliveries[m.delivery_id]
            self.threads[(m.channel_id, m.message_id)] = (delivery, m.prompt_id)
            if m.prompt_id is not None:
                self.asked.setdefault(delivery.id, []).append(m.prompt_id)
                if m.skipped_at is not None:
                    self.skipped.add((delivery.id, m.prompt_id))
        self.done: dict[tuple[int, int], set[str]] = {}
        open_ = list(self.newest_open.values())
        for round_id, participant_id, prompt_id in session.execute(
                select(Reply.round_id, Reply.participant_id, Reply.prompt_id).where(
                    Reply.participant_id.in_([d.participant_id for d in open_]),
                    Reply.round_id.in_({d.round_id for d in open_}),
                    Reply.deleted_at.is_(None),
                    is_an_answer(vote_questions(d.round for d in open_))).distinct()):
            self.done.setdefault((round_id, participant_id), set()).add(prompt_id)
        self.packs: dict[int, Pack] = {}

    def question(self, message: ChatMessage) -> Asked | None:
        if message.question is not None:
            round_id, chosen = message.question
            to = next((d for d in self.deliveries.values() if d.round_id == round_id
                       and d.channel_id == message.channel_id), None)
            return None if to is None else _asked(to, chosen, self._pack(to))
        if message.thread_id:
            found = (self.threads.get((message.channel_id, message.thread_id))
                     or self._answered_in(message) or self._being_asked(message))
            if found is not None and found[1] is not None:
                return _asked(found[0], found[1], self._pack(found[0]))
        delivery = self.newest_open.get(message.channel_id)
        if delivery is None:
            return None
        pack = self._pack(delivery)
        asked = [pid for pid in self.asked.get(delivery.id, []) if pack.prompt(pid)]
        if not asked:
            return None
        answered = self.done.get((delivery.round_id, delivery.participant_id), set())
        waiting = next((pid for pid in asked
                        if pid not in answered and (delivery.id, pid) not in self.skipped),
                       asked[-1])
        return _asked(delivery, waiting, pack)

    def _answered_in(self, message: ChatMessage) -> tuple[Delivery, str] | None:
        """The question whose answer opened the thread `message` is in: the thread of the
        person's own answer, or of the bot's confirmation of it, is where they add to it."""
        channel, thread = message.channel_id, message.thread_id or ""
        here = {d.round_id: d for d in self.deliveries.values() if d.channel_id == channel}
        answers = [incoming.external_id(channel, thread)]
        confirmation = self._session.execute(  # a bot message naming answers confirms them
            select(BotMessage.answer_id, BotMessage.answers).where(
                BotMessage.channel_id == channel, BotMessage.message_id == thread,
                BotMessage.round_id.in_(list(here)),
                BotMessage.answer_id.is_not(None) | BotMessage.answers.is_not(None))).first()
        if confirmation is not None:
            answers = [confirmation.answer_id] if confirmation.answer_id else list(
                confirmation.answers or ())
        asked = {(r.round_id, r.prompt_id) for r in self._session.execute(
            select(Reply.round_id, Reply.prompt_id).where(
                Reply.external_id.in_(answers), Reply.round_id.in_(list(here))))}
        if len(asked) != 1:  # none, or a confirmation of answers to several questions
            return None
        round_id, prompt_id = asked.pop()
        return here[round_id], prompt_id

    def _being_asked(self, message: ChatMessage) -> tuple[Delivery, str] | None:
        """The question being posted in this conversation now, if one is: a thread the bot
        does not know yet is most likely its message's, posted before the platform said
        where (the sender writes it down once it has)."""
        delivery = self.newest_open.get(message.channel_id)
        if delivery is None or delivery.claimed_by is None or delivery.next_prompt_id is None:
            return None
        return delivery, delivery.next_prompt_id

    def round_of(self, asked: Asked) -> Round:
        return self.rounds[asked.round_id]

    def has_answered(self, asked: Asked) -> bool:
        return asked.prompt.id in self.done.get((asked.round_id, asked.participant.id), set())

    def answered(self, asked: Asked) -> None:
        self.done.setdefault((asked.round_id, asked.participant.id), set()).add(asked.prompt.id)

    def _pack(self, delivery: Delivery) -> Pack:
        if delivery.round_id not in self.packs:
            self.packs[delivery.round_id] = round_pack(delivery.round)
        return self.packs[delivery.round_id]


def _asked(delivery: Delivery, prompt_id: str, pack: Pack | None = None) -> Asked | None:
    return _asked_in(pack or round_pack(delivery.round), delivery.round_id, delivery.participant,
                     prompt_id)


def _asked_in(pack: Pack, round_id: int, participant: Participant, prompt_id: str
              ) -> Asked | None:
    """The question `prompt_id` of the round's pack as asked of this person, with its number."""
    for number, prompt in enumerate(pack.prompts, start=1):
        if prompt.id == prompt_id:
            return Asked(round_id, participant, prompt, number)
    return None


def open_questions(session: Session, participant: Participant) -> list[Asked]:
    """The questions of open rounds this person was sent and has not answered yet."""
    out: list[Asked] = []
    deliveries = session.scalars(
        select(Delivery)
        .join(Round, Round.id == Delivery.round_id)
        .where(Delivery.participant_id == participant.id, Delivery.state == "sent",
               Round.status == "open")
        .order_by(Delivery.round_id)
    )
    for delivery in deliveries:
        answered = set(session.scalars(select(Reply.prompt_id).where(
            Reply.round_id == delivery.round_id, Reply.participant_id == participant.id,
            Reply.deleted_at.is_(None), is_an_answer(vote_questions([delivery.round])))))
        for number, prompt in enumerate(round_pack(delivery.round).prompts, start=1):
            if prompt.id not in answered:
                out.append(Asked(delivery.round_id, participant, prompt, number))
    return out


def edit_from_chat(session: Session, external_id: str, text: str, now: datetime,
                   author: Author) -> Saved | None:
    """Store an edit of an answer made in its conversation (RoundtableError when it is not
    the author's live answer): the answer as it stands now, to confirm as updated, or None
    when the edit changed nothing."""
    revision = edit_reply(session, external_id, text, now, author)
    reply = revision.reply
    if not revision.changed:
        return None
    if revision.voted:  # the question is answered now: the next one follows
        ask_next(session, [(reply.round_id, reply.participant_id)], now)
    asked = _asked_in(round_pack(session.get_one(Round, reply.round_id)), reply.round_id,
                      reply.participant, reply.prompt_id)
    if asked is None:
        return None
    if reply.choices:  # a typed vote, read again from the edited words
        reason = read_vote_and_reason(asked.prompt, reply.text)[1] if reply.text else None
        return Saved(asked, tuple(reply.choices), external_id, typed=True, reason=reason,
                     updated=True, quotable=reply.quotable)
    return Saved(asked, reply.text or "", external_id, updated=True, quotable=reply.quotable)


def asked_again(session: Session, round_id: int, participant: Participant, prompt_id: str
                ) -> Asked | None:
    """The question as it was asked of this person; None when its round (or the question)
    is gone."""
    round_ = session.get(Round, round_id)
    return _asked_in(round_pack(round_), round_id, participant, prompt_id) if round_ else None


def as_it_stands(session: Session, round_id: int, participant: Participant, prompt_id: str,
                 answer_id: str, *, vote: bool = False, updated: bool = False,
                 files_dropped: bool = False, added: bool = False) -> Saved | None:
    """An answer saved earlier, to confirm as it stands now: written words by the id of the
    message they came in (as edited since), a vote (typed in words, or chosen in a form) as
    the person's ballot on the question now; None when it was deleted since (or its question
    is gone)."""
    asked = asked_again(session, round_id, participant, prompt_id)
    if asked is None:
        return None
    live = select(Reply).where(Reply.round_id == round_id, Reply.deleted_at.is_(None))
    if not vote:
        reply = session.scalar(live.where(Reply.external_id == answer_id))
        if reply is None or reply.text is None:
            return None
        return Saved(asked, reply.text, answer_id, quotable=reply.quotable,
                     files_dropped=files_dropped, added=added)
    ballot = next((r for r in session.scalars(live.where(
        Reply.prompt_id == prompt_id, Reply.participant_id == participant.id).order_by(Reply.id))
        if r.choices), None)
    if ballot is None or ballot.choices is None:
        return None
    reason = read_vote_and_reason(asked.prompt, ballot.text)[1] if ballot.text else None
    return Saved(asked, tuple(ballot.choices), answer_id, typed=ballot.source != "form",
                 reason=reason, updated=updated, files_dropped=files_dropped,
                 quotable=ballot.quotable)


Shown = str | tuple[int, str]
"""An answer a confirmation showed: written words by the external id of their message, a vote
by its round and question (a new ballot keeps the row of the first)."""


def shown_of(saved: Saved) -> Shown | None:
    """How a confirmation names an answer it shows, to show it again (None: it cannot)."""
    if not isinstance(saved.answer, str):
        return saved.asked.round_id, saved.asked.prompt.id
    return saved.external_id


def confirmed_again(session: Session, participant: Participant, shown: Sequence[Shown]
                    ) -> list[Saved]:
    """The person's answers a confirmation showed, as they stand now and in that order, to
    confirm again: written words as edited since (updated, or added beside an answer given
    before), a vote as their ballot now. Anyone else's answers, and answers deleted since
    (or whose question is gone), are left out."""
    written = {one for one in shown if isinstance(one, str)}
    rows = session.scalars(select(Reply).where(
        Reply.participant_id == participant.id, Reply.external_id.in_(written),
        Reply.deleted_at.is_(None), Reply.text.is_not(None))) if written else ()
    by_id = {r.external_id: r for r in rows}
    out = []
    for one in dict.fromkeys(shown):
        if isinstance(one, tuple):
            saved = as_it_stands(session, one[0], participant, one[1], "", vote=True)
            if saved is not None:
                out.append(replace(saved, external_id=None))
            continue
        reply = by_id.get(one)  # read above: the live words are at hand
        asked = None if reply is None else asked_again(session, reply.round_id, participant,
                                                       reply.prompt_id)
        if reply is not None and asked is not None:
            out.append(Saved(asked, reply.text or "", one, quotable=reply.quotable,
                             updated=bool(reply.versions),
                             added=answered_before(session, reply)))
    return out


def still_standing(session: Session, saved: Sequence[Saved]) -> list[Saved]:
    """Those of these answers that stand now, to be repeated in a confirmation: an answer
    deleted since, or its round, or its author forgotten, is left out."""
    standing = []
    for one in saved:
        participant = session.get(Participant, one.asked.participant.id)
        if participant is None:
            continue
        if one.external_id is None:
            if session.get(Round, one.asked.round_id) is not None:
                standing.append(one)
        elif as_it_stands(session, one.asked.round_id, participant, one.asked.prompt.id,
                          one.external_id, vote=not isinstance(one.answer, str)) is not None:
            standing.append(one)
    return standing


def delete_from_chat(session: Session, external_id: str, now: datetime,
                     author: Author | None) -> Asked | None:
    """Honour the deletion of an answer made in its conversation (RoundtableError when it is
    not the author's live answer): the question it answered, open again."""
    reply = delete_reply(session, external_id, now, author)
    return _asked_in(round_pack(session.get_one(Round, reply.round_id)), reply.round_id,
                     reply.participant, reply.prompt_id)


@dataclass(frozen=True)
class FormAnswer:
    queued: int
    """Next questions queued (0 or 1)."""
    replaced: bool
    """A vote that replaced the person's earlier ballot (kept as a version)."""


def answer_in_form(session: Session, asked: Asked, answer: str | Sequence[str],
                   now: datetime, external_id: str) -> FormAnswer:
    """Store an answer given in a form: text, or the options chosen (in ranked order). Queues
    the next question if none is waiting any more."""
    if isinstance(answer, str):
        recorded = record_reply(session, asked.round_id, asked.prompt.id, asked.participant,
                                answer, now, source="form", external_id=external_id)
    else:
        recorded = record_vote(session, asked.round_id, asked.prompt.id, asked.participant,
                               answer, now, source="form", external_id=external_id)
    queued = ask_next(session, [(asked.round_id, asked.participant.id)], now)
    return FormAnswer(queued, recorded.replaced)


def skip(session: Session, round_id: int, prompt_id: str, user_id: str, now: datetime,
         platform: str) -> tuple[Asked, bool]:
    """The person puts a question aside for now; whether a next question was queued. Their
    question stays open (in the list of open questions, reminders) and can still be answered
    where it was asked."""
    asked = asked_of(session, round_id, prompt_id, user_id, platform)
    message = session.scalar(
        select(QuestionMessage).join(Delivery, Delivery.id == QuestionMessage.delivery_id)
        .where(Delivery.round_id == round_id, Delivery.participant_id == asked.participant.id,
               QuestionMessage.prompt_id == prompt_id))
    if message is None:
        raise not_asked(session, round_id, user_id, platform)
    if session.get_one(Round, round_id).status != "open":
        raise RoundClosed("This round has closed, so its questions take no more answers and "
                          "need not be skipped.")
    if is_answered(session, round_id, asked.participant.id, prompt_id):
        raise RoundtableError(f"Question {asked.number} is answered already, so there is "
                              "nothing to skip: to change your answer, edit it.")
    if message.skipped_at is None:
        message.skipped_at = now
    return asked, ask_next(session, [(round_id, asked.participant.id)], now) > 0


def asked_of(session: Session, round_id: int, prompt_id: str, user_id: str,
             platform: str) -> Asked:
    """The question as asked of this person; NotFound when they were not asked it."""
    delivery = session.scalar(
        select(Delivery).join(Participant, Participant.id == Delivery.participant_id).where(
            Delivery.round_id == round_id, Participant.platform_user_id == user_id,
            Participant.platform == platform)
    )
    asked = _asked(delivery, prompt_id) if delivery is not None else None
    if asked is None:
        raise not_asked(session, round_id, user_id, platform)
    return asked


def not_asked(session: Session, round_id: int, user_id: str, platform: str) -> NotFound:
    """Why a question of this round takes no answer from this person: the round was deleted,
    they asked to be forgotten, or it was never asked of them."""
    if session.get(Round, round_id) is None and audit.done_to_round(
            session, "round.delete", round_id):
        return NotFound(f"Round {round_id} was deleted, with its answers, so its questions "
                        "take no more answers. Nothing was saved.")
    if suppressed(session, [user_id], platform):
        return NotFound("You asked Roundtable to forget you, so it takes no more answers from "
                        "you. Nothing was saved.")
    return NotFound(NOT_ASKED)
