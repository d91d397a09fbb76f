"""The bot's own messages that repeat someone's words, kept so that they can be taken off the
platform: confirmations (in the person's conversation with the bot), replies to words not
taken as an answer (offers: their "Save as my answer" button holds the words, which are stored
nowhere else), the copies of a person's data that my-data sent them (every answer they gave,
word for word), the parts of posted digests (one per question, each drawing on everyone who
answered it), the drafts of digests shown to facilitators for review, and the edit forms open
on those drafts (a Slack modal lists answers word for word). Forget-me deletes or replaces the
person's, and closes the forms of their rounds; a round's deletion, or the end of its retention
period, those of the round in people's conversations, its drafts and its forms
(`holding_words_in`)."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core import audit
from bot.core.dates import long_date
from bot.core.ports import Clock, DeliveryError, Gateways, Sent
from bot.core.said import Said, said
from bot.core.wording import counted
from storage.db import transaction
from storage.models import (
    BotMessage,
    Digest,
    OwedConfirmation,
    OwedKind,
    Participant,
    Reply,
    Round,
)

log = logging.getLogger(__name__)
CONFIRMATION = "confirmation"
OFFER = "offer"
TAKEN_BACK = "offer-withdrawn"
"""An offer whose words their writer took back by deleting their message: replaced by a line
saying nothing was saved (it holds the words until that lands, so it is taken down as an
offer is), and no longer one whose button holds words (my-data)."""
DIGEST = "digest"
DRAFT = "review"
"""A draft digest shown to a facilitator (bot.core.digest_review), quoting answers."""
MY_DATA = "my-data"
"""What holds a copy of someone's data sent by my-data: a file, or messages holding it."""
FORM = "review-form"
"""An edit form open on a draft digest (a Slack modal, by its view id; its channel the
facilitator's id): it lists the answers to move and the quotes to hide, word for word. Kept
while it is open: the facilitator saving or cancelling it deletes it (`forget_form`)."""


def remember_confirmation(session: Session, platform: str, sent: Sent, participant_id: int,
                          round_id: int | None, now: datetime, answer_id: str | None = None,
                          *, offer_for: str | None = None, answers: Sequence[str] = (),
                          files_dropped: Sequence[str] = ()) -> None:
    """A confirmation; `answer_id` (the answer's external id) when it confirms that one
    answer alone, so that an edit of it can update it. With `offer_for` (a prompt id), an
    offer: `answer_id` is then the id the words its button holds would be saved under. A
    confirmation repeating answers of several rounds is remembered once for each. An offer
    whose words their writer took back while it was being posted is remembered as taken back
    (TAKEN_BACK), as if it had been remembered before. `answers`: those of the round a
    confirmation of several answers repeats (`confirmations_repeating`), and `files_dropped`
    those of them whose files it said were not kept."""
    kind = CONFIRMATION
    if offer_for is not None:
        kind = TAKEN_BACK if answer_id is not None and _taken_back(
            session, platform, answer_id, participant_id) else OFFER
    together = kind == CONFIRMATION and answer_id is None and bool(answers)
    session.add(BotMessage(platform=platform, channel_id=sent.channel_id,
                           message_id=sent.message_id, kind=kind,
                           round_id=round_id, participant_id=participant_id,
                           answer_id=answer_id, prompt_id=offer_for,
                           answers=list(answers) if together else None,
                           files_dropped=list(files_dropped) if together and files_dropped
                           else None, created_at=now))


def remember_copy(session: Session, platform: str, sent: Iterable[Sent], participant_id: int,
                  round_ids: Iterable[int], now: datetime) -> None:
    """What holds a copy of someone's data (`send_file`'s answer), once for each round it
    covers, so that the deletion of any of them takes it down with forget-me (None: it
    covers no round)."""
    covered: list[int | None] = [*round_ids] or [None]
    for one in sent:
        for round_id in covered:
            session.add(BotMessage(platform=platform, channel_id=one.channel_id,
                                   message_id=one.message_id, kind=MY_DATA, round_id=round_id,
                                   participant_id=participant_id, created_at=now))


def remember_form(session: Session, platform: str, form: Sent, round_id: int, now: datetime
                  ) -> None:
    """An edit form a facilitator opened on a draft of the round, so that it can be closed
    when the answers it lists are deleted."""
    session.add(BotMessage(platform=platform, channel_id=form.channel_id,
                           message_id=form.message_id, kind=FORM, round_id=round_id,
                           created_at=now))


def forms_of(session: Session, round_ids: Iterable[int], note: Said) -> list[TakeDown]:
    """The edit forms opened on drafts of these rounds, each to be closed with `note` (one
    the facilitator has closed already is left as it is)."""
    return [TakeDown(m.platform, Sent(m.channel_id, m.message_id), note, form=True)
            for m in each_once(session.scalars(select(BotMessage).where(
                BotMessage.kind == FORM, BotMessage.round_id.in_(list(round_ids)))
                .order_by(BotMessage.id)))]


def forget_forms(session: Session, round_ids: Iterable[int]) -> None:
    """Once closed, the rounds' forms need no closing again."""
    session.execute(delete(BotMessage).where(BotMessage.kind == FORM,
                                             BotMessage.round_id.in_(list(round_ids))))


def confirmation_of(session: Session, platform: str, round_id: int, answer_id: str
                    ) -> Sent | None:
    """The newest confirmation of this one answer, if the bot remembers one."""
    row = session.scalar(select(BotMessage).where(
        BotMessage.platform == platform, BotMessage.kind == CONFIRMATION,
        BotMessage.round_id == round_id, BotMessage.answer_id == answer_id)
        .order_by(BotMessage.id.desc()).limit(1))
    return None if row is None else Sent(row.channel_id, row.message_id)


def confirmations_repeating(session: Session, platform: str, round_id: int, answer_id: str
                            ) -> list[Repeated]:
    """The confirmations of several answers that repeat this one, each with the answers it
    repeats (of every round), and those of them whose files it said were not kept. Rows
    kept before they named their answers name none here."""
    rows = [m for m in session.scalars(select(BotMessage).where(
        BotMessage.platform == platform, BotMessage.kind == CONFIRMATION,
        BotMessage.round_id == round_id, BotMessage.answer_id.is_(None),
        BotMessage.answers.is_not(None)).order_by(BotMessage.id)) if answer_id in (m.answers or ())]
    found: list[Repeated] = []
    for row in rows:
        repeated = [(r, ids or [], files or []) for r, ids, files in session.execute(
            select(BotMessage.round_id, BotMessage.answers, BotMessage.files_dropped).where(
                BotMessage.platform == platform, BotMessage.channel_id == row.channel_id,
                BotMessage.message_id == row.message_id, BotMessage.answers.is_not(None))
            .order_by(BotMessage.id)) if r is not None]
        found.append(Repeated(Sent(row.channel_id, row.message_id),
                              [(r, a) for r, ids, _ in repeated for a in ids],
                              frozenset((r, a) for r, _, files in repeated for a in files)))
    return found


@dataclass(frozen=True)
class Repeated:
    """A confirmation of several answers: where it landed, and the answers it repeats, as
    (round, external id), in the order it shows them."""

    sent: Sent
    answers: list[tuple[int, str]]
    files_dropped: frozenset[tuple[int, str]] = frozenset()
    """Those of `answers` whose files it said were not kept."""


def remember_digest(session: Session, platform: str, round_id: int, digest_id: int,
                    parts: dict[int, Sent], prompt_ids: Sequence[str], now: datetime) -> None:
    """A posted digest's messages: part 0 the top, then part n for the n-th question."""
    known = set(session.scalars(select(BotMessage.part).where(BotMessage.digest_id == digest_id)))
    for part, sent in sorted(parts.items()):
        if part in known:
            continue
        prompt = prompt_ids[part - 1] if 0 < part <= len(prompt_ids) else None
        session.add(BotMessage(platform=platform, channel_id=sent.channel_id,
                               message_id=sent.message_id, kind=DIGEST, round_id=round_id,
                               digest_id=digest_id, part=part, prompt_id=prompt, created_at=now))


@dataclass(frozen=True)
class Repeating:
    """The bot's messages that repeat a person's words."""

    confirmations: list[BotMessage]
    """Confirmations and offers, in their conversation with the bot."""
    digest_parts: list[BotMessage]
    """Parts of digests about a question the person had answered by the time it was posted."""
    digest_tops: list[BotMessage] = field(default_factory=list)
    """The top messages of those digests that followed an earlier one of their round: their
    "new since the last digest" lines name themes whose titles are words of the answers."""
    copies: list[BotMessage] = field(default_factory=list)
    """What holds the copies of their data that my-data sent them."""


def repeating(session: Session, participant_id: int) -> Repeating:
    confirmations = each_once(session.scalars(select(BotMessage).where(
        BotMessage.participant_id == participant_id,
        BotMessage.kind.in_((CONFIRMATION, OFFER, TAKEN_BACK))).order_by(BotMessage.id)))
    answered = select(Reply.id).where(
        Reply.participant_id == participant_id, Reply.round_id == BotMessage.round_id,
        Reply.prompt_id == BotMessage.prompt_id, Reply.created_at <= BotMessage.created_at,
        or_(Reply.deleted_at.is_(None), Reply.deleted_at > BotMessage.created_at))
    parts = list(session.scalars(select(BotMessage).where(
        BotMessage.kind == DIGEST, BotMessage.prompt_id.is_not(None), answered.exists())
        .order_by(BotMessage.id)))
    digests = {p.digest_id for p in parts if p.digest_id is not None}
    earlier = select(Digest.id).where(
        Digest.round_id == BotMessage.round_id, Digest.content.is_not(None),
        Digest.id != BotMessage.digest_id, Digest.created_at <= BotMessage.created_at)
    tops = list(session.scalars(select(BotMessage).where(
        BotMessage.kind == DIGEST, BotMessage.part == 0, BotMessage.digest_id.in_(digests),
        earlier.exists()).order_by(BotMessage.id))) if digests else []
    copies = each_once(session.scalars(select(BotMessage).where(
        BotMessage.participant_id == participant_id, BotMessage.kind == MY_DATA)
        .order_by(BotMessage.id)))
    return Repeating(confirmations, parts, tops, copies)


def unsaved_offers(session: Session, participant_id: int) -> list[BotMessage]:
    """Offers whose words were not saved as an answer: their button still holds them."""
    saved = select(Reply.id).where(Reply.participant_id == participant_id,
                                   Reply.round_id == BotMessage.round_id,
                                   Reply.external_id == BotMessage.answer_id)
    return list(session.scalars(select(BotMessage).where(
        BotMessage.participant_id == participant_id, BotMessage.kind == OFFER,
        ~saved.exists()).order_by(BotMessage.id)))


def offer_holding(session: Session, platform: str, answer_id: str, user_id: str | None
                  ) -> BotMessage | None:
    """The offer whose button holds the words of this person's message (by the id they would
    be saved under), while they are not saved (`user_id` None: whoever wrote it, as the
    conversation the id names vouches)."""
    saved = select(Reply.id).where(Reply.external_id == answer_id)
    query = (select(BotMessage).join(Participant, Participant.id == BotMessage.participant_id)
             .where(BotMessage.platform == platform, BotMessage.kind == OFFER,
                    BotMessage.answer_id == answer_id, ~saved.exists()))
    if user_id is not None:
        query = query.where(Participant.platform_user_id == user_id)
    return session.scalar(query.order_by(BotMessage.id.desc()).limit(1))


def take_back_offers(session: Session, platform: str, answer_id: str, participant_id: int
                     ) -> None:
    """The offers holding the words of this message, which its writer (`participant_id`)
    deleted: offers no more (TAKEN_BACK). Called before the deletion owes the offer's
    replacement (`_taken_back` reads that)."""
    hold_person(session, participant_id)
    session.execute(update(BotMessage).where(
        BotMessage.platform == platform, BotMessage.kind == OFFER,
        BotMessage.answer_id == answer_id).values(kind=TAKEN_BACK))


def _taken_back(session: Session, platform: str, answer_id: str, participant_id: int) -> bool:
    """Whether the words an offer being remembered holds were taken back already: their
    message's deletion owes the offer's replacement (a `settled` acknowledgement, as an edit
    that saved them does), and they are saved as no answer."""
    hold_person(session, participant_id)
    replacing = select(OwedConfirmation.id).where(
        OwedConfirmation.platform == platform, OwedConfirmation.kind == OwedKind.SETTLED,
        OwedConfirmation.answer_id == answer_id)
    saved = select(Reply.id).where(Reply.external_id == answer_id)
    return bool(session.scalar(select(replacing.exists() & ~saved.exists())))


def hold_person(session: Session, participant_id: int) -> bool:
    """Take the person's row for this transaction; whether it stands (not forgotten). An
    offer of theirs being remembered and the deletion of the message whose words it holds
    come one after the other, so that each sees the other's rows (on PostgreSQL they would
    not, at once; SQLite writes one at a time); so do a copy of their data being remembered
    and forget-me (`words_recorded_since`). A lock that lets rows referring to the person
    be written meanwhile."""
    return session.scalar(select(Participant.id).where(Participant.id == participant_id)
                          .with_for_update(key_share=True)) is not None


def offer_of(session: Session, platform: str, answer_id: str) -> Sent | None:
    """The newest offer to save the words of this message (by the id they would be saved
    under), saved since or not, or taken back."""
    row = session.scalar(select(BotMessage).where(
        BotMessage.platform == platform, BotMessage.kind.in_((OFFER, TAKEN_BACK)),
        BotMessage.answer_id == answer_id).order_by(BotMessage.id.desc()).limit(1))
    return None if row is None else Sent(row.channel_id, row.message_id)


def holding_words_in(session: Session, round_ids: Iterable[int], now: datetime
                     ) -> list[TakeDown]:
    """The bot's messages of these rounds that hold someone's words: confirmations repeating
    answers and offers whose button holds words, saved or not (deleted), copies of people's
    data covering any of these rounds (deleted: my-data sends a fresh one of what is left),
    drafts of their digests shown to facilitators (replaced by a note: a facilitator would
    wonder where a draft went), and the edit forms open on those drafts (closed with a
    note). A round's deletion, or the end of its retention period, takes them down with its
    rows: the words are deleted, so no copy of the bot's should stay in chat."""
    return [_taking_down(m, now) for m in _holding_words(session, list(round_ids))]


def words_recorded_in(session: Session, round_ids: Iterable[int], taking: Iterable[TakeDown],
                      now: datetime) -> list[TakeDown]:
    """The messages of these rounds that `holding_words_in` would take down and that are not
    among `taking` (what it found before the platforms were called): recorded meanwhile, as
    the rounds' answers were being deleted (the round deleted, or purged), each to be taken
    down as it says. Called in the transaction that deletes the rounds' rows, it first locks
    the rounds: whatever records such a message locks its rounds first (`rounds_standing`;
    an edit form, bot.app.review.form_opened), so that it is either found here or recorded
    after that transaction, and then taken down, its round gone."""
    ids = _lock_rounds(session, round_ids)
    return [_taking_down(m, now)
            for m in _not_among(_holding_words(session, ids), taking)]


def _holding_words(session: Session, round_ids: list[int],
                   kinds: Sequence[str] = (CONFIRMATION, OFFER, TAKEN_BACK, DRAFT, MY_DATA, FORM)
                   ) -> list[BotMessage]:
    """The messages of these rounds, of these kinds, that hold someone's words."""
    return each_once(session.scalars(select(BotMessage).where(
        BotMessage.kind.in_(kinds), BotMessage.round_id.in_(round_ids))
        .order_by(BotMessage.id)))


def _taking_down(message: BotMessage, now: datetime) -> TakeDown:
    """How a message holding words of a round whose answers are deleted is taken down."""
    if message.kind == DRAFT:
        return draft_removed(message.platform, Sent(message.channel_id, message.message_id),
                             message.round_id or 0, now)
    if message.kind == FORM:
        return form_closed(message.platform, Sent(message.channel_id, message.message_id),
                           message.round_id or 0, now)
    return TakeDown(message.platform, Sent(message.channel_id, message.message_id),
                    file=message.kind == MY_DATA)


def forms_opened_since(session: Session, round_ids: Iterable[int], taking: Iterable[TakeDown],
                       now: datetime, note: Said) -> list[TakeDown]:
    """The edit forms of these rounds that are not among `taking` (what forget-me's
    `forms_of` found before the platforms were called): opened meanwhile, as someone who
    answered in them was being forgotten, each to be closed with `note`. Called in the
    transaction that forgets them, it first locks the rounds, so that a form being opened is
    either found here or is recorded after that transaction (bot.app.review.form_opened
    closes it when its round is gone)."""
    ids = _lock_rounds(session, round_ids)
    return [TakeDown(m.platform, Sent(m.channel_id, m.message_id), note, form=True)
            for m in _not_among(_holding_words(session, ids, [FORM]),
                                [t for t in taking if t.form])]


def rounds_standing(session: Session, round_ids: Iterable[int]) -> set[int]:
    """Those of these rounds whose answers stand (neither deleted nor purged), their rows
    held for this transaction: a message holding their words recorded in it is found by
    the deletion's re-check (`words_recorded_in` locks the rounds first), or is recorded
    after the deletion has committed and sees here that they are gone (and is taken down
    instead). A lock that lets other such records be written meanwhile."""
    return set(session.scalars(select(Round.id).where(
        Round.id.in_(list(round_ids)), Round.purged_at.is_(None))
        .order_by(Round.id).with_for_update(key_share=True)))


def _lock_rounds(session: Session, round_ids: Iterable[int]) -> list[int]:
    """Take the rounds' rows for this transaction; their ids."""
    ids = list(round_ids)
    session.execute(select(Round.id).where(Round.id.in_(ids)).order_by(Round.id)
                    .with_for_update())
    return ids


def _not_among(messages: Iterable[BotMessage], taking: Iterable[TakeDown]
               ) -> list[BotMessage]:
    """The messages that are none of those being taken down already."""
    known = {(t.platform, t.sent.channel_id, t.sent.message_id) for t in taking}
    return [m for m in messages if (m.platform, m.channel_id, m.message_id) not in known]


def words_recorded_since(session: Session, participant_id: int, taking: Iterable[TakeDown]
                         ) -> list[TakeDown]:
    """The confirmations and offers repeating this person's words, and the copies of their
    data, that are not among `taking` (what forget-me found before the platforms were
    called): recorded meanwhile, as they were being forgotten, each to be deleted. Called in
    the transaction that forgets them, after their rounds are locked (`forms_opened_since`),
    it first locks their row: a confirmation being recorded locks both in the same order
    (bot.core.confirmations_gone), as a copy does (`rounds_standing`, `hold_person`), so
    that it is either found here or recorded after that transaction, and then taken down,
    its author gone."""
    session.execute(select(Participant.id).where(Participant.id == participant_id)
                    .with_for_update())
    mine = repeating(session, participant_id)
    return ([TakeDown(m.platform, Sent(m.channel_id, m.message_id))
             for m in _not_among(mine.confirmations, taking)]
            + [TakeDown(m.platform, Sent(m.channel_id, m.message_id), file=True)
               for m in _not_among(mine.copies, taking)])


def sent_again(session: Session, platform: str, old: Sent, new: Sent) -> None:
    """A message of ours the platform no longer had, sent again in its place: what was kept
    of it (a facilitator's copy of a draft, say) names the new one from now on."""
    session.execute(update(BotMessage).where(
        BotMessage.platform == platform, BotMessage.channel_id == old.channel_id,
        BotMessage.message_id == old.message_id).values(channel_id=new.channel_id,
                                                         message_id=new.message_id))


def forget_form(session: Session, platform: str, form: Sent) -> None:
    """A form saved or closed by the facilitator: nothing is left to close."""
    session.execute(delete(BotMessage).where(
        BotMessage.kind == FORM, BotMessage.platform == platform,
        BotMessage.channel_id == form.channel_id, BotMessage.message_id == form.message_id))


def each_once(messages: Iterable[BotMessage]) -> list[BotMessage]:
    """These rows, one per message on its platform (a confirmation of several rounds' answers
    is kept once for each round)."""
    once: dict[tuple[str, str, str], BotMessage] = {}
    for message in messages:
        once.setdefault((message.platform, message.channel_id, message.message_id), message)
    return list(once.values())


def draft_removed(platform: str, draft: Sent, round_id: int, now: datetime) -> TakeDown:
    """A facilitator's copy of a draft of the round to replace, its answers deleted."""
    return TakeDown(platform, draft, said(
        f"This draft of round {round_id}'s digest was removed on {long_date(now)}: the "
        "round's answers were deleted."))


def form_closed(platform: str, form: Sent, round_id: int, now: datetime) -> TakeDown:
    """An edit form of the round to close, its answers deleted."""
    return TakeDown(platform, form, _form_closed(round_id, now), form=True)


def form_outdated(platform: str, form: Sent, now: datetime) -> TakeDown:
    """An edit form to close as it opens: answers it lists were deleted (or their author
    forgotten) since its draft was read, and nothing would close it later."""
    return TakeDown(platform, form, said(
        f"This form was closed on {long_date(now)}: answers it listed were deleted while it "
        "opened. Press Edit on the draft again to edit it as it is now."), form=True)


def card_form_closed(round_id: int) -> Said:
    """What a facilitator is told when an edit form open on their copy of a draft (a Teams
    card) is closed, as the copy no longer quotes someone who asked to be forgotten."""
    return said(f"Your form on the draft digest of round {round_id} was closed: someone who "
                "answered in this round asked Roundtable to delete their answers. Press Edit "
                "on the draft to edit it as it is now.")


def _form_closed(round_id: int | None, now: datetime) -> Said:
    return said(f"This form was closed on {long_date(now)}: round {round_id}'s answers were "
                "deleted, so there is nothing left to edit.")


@dataclass(frozen=True)
class TakeDown:
    """One of the bot's messages to take off its platform: deleted, or replaced by `note`;
    a `file` (what `send_file` returned) is deleted as one; a `form` is closed with `note`."""

    platform: str
    sent: Sent
    note: Said | None = None
    file: bool = False
    form: bool = False


@dataclass
class TakenDown:
    """What `take_down` did, and could not do."""

    deleted: int = 0
    copies: int = 0
    """Of those deleted, what held copies of someone's data (my-data's files or cards)."""
    replaced: int = 0
    forms: int = 0
    """Edit forms closed with a note (not counted among the messages: a form is no message
    in anyone's chat)."""
    replaced_in: list[str] = field(default_factory=list)
    """The channels of the replaced messages, each once."""
    changed_on: list[str] = field(default_factory=list)
    """The platforms where messages were deleted or replaced, each once."""
    failed: list[tuple[str, str | None]] = field(default_factory=list)
    """(platform, its reason) for each message left as it was; None as the reason when this
    process runs no gateway for that platform."""

    @property
    def failed_on(self) -> list[str]:
        return list(dict.fromkeys(platform for platform, _ in self.failed))

    @property
    def removed(self) -> int:
        """The messages deleted or replaced (forms closed are no message in anyone's chat)."""
        return self.deleted + self.replaced

    def add(self, later: TakenDown) -> None:
        """What a later pass did, counted with this one's."""
        self.deleted += later.deleted
        self.copies += later.copies
        self.replaced += later.replaced
        self.forms += later.forms
        self.replaced_in = list(dict.fromkeys(self.replaced_in + later.replaced_in))
        self.changed_on = list(dict.fromkeys(self.changed_on + later.changed_on))
        self.failed += later.failed


def taken_down_counts(removed: int, left: int) -> str:
    """How an audit line counts the bot's messages holding someone's words that were taken
    off chat (deleted, or replaced by a note) and those left there; "" when there were none."""
    if not removed and not left:
        return ""
    return (f"{counted(removed, 'message')} holding someone's words deleted in chat"
            + (f", {left} could not be" if left else ""))


def taken_down_after(sessions: sessionmaker[Session], gateways: Gateways,
                     messages: Iterable[TakeDown], clock: Clock, actor: str, action: str,
                     round_id: int | None = None) -> TakenDown:
    """Take down what a deletion's re-check found recorded while it ran (its rows gone by
    now), and add to the audit log, as `action`, what that did, when it did anything: the
    deletion's own entry stands as it was written, for the log is only added to."""
    later = take_down(gateways, messages)
    if later.removed or later.failed:
        with transaction(sessions) as session:
            audit.record(session, clock(), actor, action, round_id=round_id,
                         detail=taken_down_counts(later.removed, len(later.failed)))
    return later


def take_down(gateways: Gateways, messages: Iterable[TakeDown]) -> TakenDown:
    """Delete (or replace) these messages of the bot's on their platforms."""
    done = TakenDown()
    for message in messages:
        gateway = gateways.get(message.platform)
        if gateway is None:
            done.failed.append((message.platform, None))
            continue
        try:
            if message.form and message.note is not None:
                gateway.replace_form(message.sent, message.note)
                done.forms += 1
                continue
            if message.file:
                gateway.delete_file(message.sent)
                done.deleted += 1
                done.copies += 1
            elif message.note is None:
                gateway.delete_message(message.sent)
                done.deleted += 1
            else:
                gateway.replace_message(message.sent, message.note)
                done.replaced += 1
                _once(done.replaced_in, message.sent.channel_id)
            _once(done.changed_on, message.platform)
        except DeliveryError as exc:
            log.warning("could not take a message down on %s: %s", message.platform, exc.reason)
            done.failed.append((message.platform, exc.reason))
    return done


def _once(items: list[str], item: str) -> None:
    if item not in items:
        items.append(item)
