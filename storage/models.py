"""The tables, as typed SQLAlchemy 2 models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.sql.expression import false, true
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


MAX_ROW_ID = 2**31 - 1
"""The largest id a row can have (PostgreSQL's `integer`): an id beyond it, typed or carried by
a button, names no row, and is never handed to the database, which would fail on it."""


def row_id(value: object) -> int | None:
    """The id of a row a button, card or form names, or None when it cannot be one: only a
    whole number from 1 to MAX_ROW_ID (JSON's true is an int to Python, and is none)."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ROW_ID:
        return None
    return value


class UtcDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always read back time-zone aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: Roundtable stores aware UTC times only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value


class Words(TypeDecorator[str]):
    """What a person wrote, stored as text without NUL characters: PostgreSQL refuses text
    holding one (SQLite keeps it), so an answer with a stray NUL in it was refused there on
    every attempt and never stored. No one writes a NUL; it is dropped, the rest kept."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return value.replace("\x00", "") if value else value


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UtcDateTime(), dict[str, Any]: JSON}


class Participant(Base):
    """A person who may be asked questions, known by their chat platform id."""

    __tablename__ = "participants"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), default="slack")
    platform_user_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str | None] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(100))
    organisation: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None]
    details_fetched_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class Facilitator(Base):
    """Someone allowed to run rounds, added from chat by another facilitator."""

    __tablename__ = "facilitators"
    __table_args__ = (UniqueConstraint("platform", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), default="slack")
    platform_user_id: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime]


class Round(Base):
    """One run of a prompt pack for an audience; keeps the pack as it was at the start."""

    __tablename__ = "rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    pack_id: Mapped[str] = mapped_column(String(100))
    pack_title: Mapped[str] = mapped_column(String(300))
    pack: Mapped[dict[str, Any]]
    platform: Mapped[str] = mapped_column(String(16), default="slack")
    audience: Mapped[dict[str, Any]]
    digest_channel: Mapped[str | None] = mapped_column(String(64))
    digest_cron: Mapped[str | None] = mapped_column(String(100))
    reminder_slots_done: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """How many of the scheduled reminder times have been acted on (claimed by UPDATE)."""
    anonymity: Mapped[str] = mapped_column(String(16), default="role")
    """named, role (by role: the default) or anonymous: how answers are attributed."""
    secret: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_hex(16))
    """Key of the round's opaque answer ids (bot/core/public_ids.py); never shown."""
    privacy_notice: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    """What the first message told people about their answers (bot/core/privacy.py)."""
    withdrawn: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    """People who asked to be forgotten: counted, nothing else kept of them."""
    purged_at: Mapped[datetime | None]
    """When the retention job deleted the round's answers and digests."""
    summary: Mapped[dict[str, Any] | None]
    """The round's counts as they were when its answers were deleted (retention)."""
    review: Mapped[str] = mapped_column(String(8), default="post", server_default="post")
    """post (digests are posted as built) or review (a facilitator approves each first)."""
    review_hours: Mapped[int] = mapped_column(Integer, default=24, server_default="24")
    """How long a digest in review waits for approval before `unreviewed` applies."""
    unreviewed: Mapped[str] = mapped_column(String(8), default="wait", server_default="wait")
    """What happens to a digest nobody approved in time: post (as built) or wait."""
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    started_by: Mapped[str | None] = mapped_column(String(64))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]

    deliveries: Mapped[list[Delivery]] = relationship(back_populates="round")


class RoundFacilitator(Base):
    """A co-facilitator of one round, added by its owner (who started it) or an admin."""

    __tablename__ = "round_facilitators"
    __table_args__ = (UniqueConstraint("round_id", "platform_user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    platform_user_id: Mapped[str] = mapped_column(String(64))
    added_by: Mapped[str | None] = mapped_column(String(64))
    added_at: Mapped[datetime]


class Delivery(Base):
    """The questions of one round for one participant: the outbox row.

    `state` is the first message's (the intro with the first question); later questions are
    asked one at a time, each once the person has no question waiting, through `next_prompt_id`.
    """

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("round_id", "participant_id"),
        Index("ix_deliveries_state_not_before", "state", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    state: Mapped[str] = mapped_column(String(16), default="pending")
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    not_before: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    uncertain: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """An attempt ended without knowing whether its last message arrived: look before sending."""
    next_prompt_id: Mapped[str | None] = mapped_column(String(100))
    """The question to ask next, queued when the person answered or skipped the one waiting."""
    follow_up_at: Mapped[datetime | None]
    """When the person's answer queued `next_prompt_id`: they are at their keyboard then."""
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]

    round: Mapped[Round] = relationship(back_populates="deliveries")
    participant: Mapped[Participant] = relationship()


class QuestionMessage(Base):
    """A chat message that asked one question, so a threaded answer finds its prompt."""

    __tablename__ = "question_messages"
    __table_args__ = (UniqueConstraint("channel_id", "message_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), index=True
    )
    prompt_id: Mapped[str | None] = mapped_column(String(100))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    skipped_at: Mapped[datetime | None]
    """The person chose to skip the question for now (it stays open on their Home tab)."""


class Reply(Base):
    """One answer (text) or vote (choices); idempotent on its external id within a round."""

    __tablename__ = "replies"
    __table_args__ = (
        UniqueConstraint("round_id", "external_id"),
        Index("ix_replies_round_prompt", "round_id", "prompt_id"),
        # chat answers are looked up by message id alone (edits, deletions, the platform's retries)
        Index("ix_replies_external_id", "external_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    prompt_id: Mapped[str] = mapped_column(String(100))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str | None] = mapped_column(Words)
    choices: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    """None is stored as SQL NULL, not JSON null: queries tell a ballot from a comment by
    `choices IS NOT NULL`, also once a ballot was edited into a comment."""
    source: Mapped[str] = mapped_column(String(16), default="chat")
    external_id: Mapped[str | None] = mapped_column(String(200))
    """The answer's id where it came from (conversation and message, a CSV's id): for
    retries, edits and deletions only; outputs name answers by bot/core/public_ids.py."""
    quotable: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    """False once the author said "don't quote me": counted in its theme, never quoted."""
    created_at: Mapped[datetime]
    edited_at: Mapped[datetime | None]
    deleted_at: Mapped[datetime | None]

    participant: Mapped[Participant] = relationship()
    versions: Mapped[list[ReplyVersion]] = relationship(
        back_populates="reply", order_by="ReplyVersion.id", cascade="all, delete-orphan"
    )


class ReplyVersion(Base):
    """The text (or choices) a reply had before an edit."""

    __tablename__ = "reply_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    reply_id: Mapped[int] = mapped_column(ForeignKey("replies.id", ondelete="CASCADE"), index=True)
    text: Mapped[str | None] = mapped_column(Words)
    choices: Mapped[list[str] | None] = mapped_column(JSON)
    replaced_at: Mapped[datetime]

    reply: Mapped[Reply] = relationship(back_populates="versions")


class Digest(Base):
    """A digest of a round for one period; the unique key makes posting it a one-time claim."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("round_id", "period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="claimed")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    content: Mapped[dict[str, Any] | None]
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime]
    posted_at: Mapped[datetime | None]
    platform: Mapped[str | None] = mapped_column(String(16))
    """Where it is posted when not on the round's own platform (a mixed round's other
    platforms each get the same digest, under the period `<period>@<platform>`)."""
    review_until: Mapped[datetime | None]
    """A digest in review (state "review") waits for approval until then."""
    approved_by: Mapped[str | None] = mapped_column(String(200))
    """Who approved it (as the audit log names them), or `scheduler` at the deadline."""
    refused_reason: Mapped[str | None] = mapped_column(Text)
    """Why the platform last refused to post it for good (state failed), in its words; None
    once it is posted."""
    refused_hint: Mapped[str | None] = mapped_column(Text)
    """What a person can do about that refusal, in the platform's terms."""


class DigestEdit(Base):
    """A facilitator's change to a round's digests, applied to every later build of them:
    a theme is named by the answers it held when it was edited, and the change applies to
    the theme that still holds most of them. Holds ids and the facilitator's own words, never
    an answer's."""

    __tablename__ = "digest_edits"
    __table_args__ = (Index("ix_digest_edits_round_id", "round_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    prompt_id: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(16))
    """rename, merge, move, group (answers made a new theme), hide, show (a hidden answer
    quoted again) or lead."""
    theme: Mapped[list[str] | None] = mapped_column(JSON)
    """The answer ids of the theme edited (rename, merge: the theme kept; move: the target,
    None for "Other answers")."""
    other: Mapped[list[str] | None] = mapped_column(JSON)
    """merge: the answer ids of the theme merged into `theme`; group: the answers the new
    theme was made of (answers given after `seen_at` may join it: bot.core.digest.edits)."""
    reply_id: Mapped[str | None] = mapped_column(String(200))
    """move, hide, show: the answer's public id."""
    text: Mapped[str | None] = mapped_column(Words)
    """rename, group: the title; lead: the question's lead line."""
    actor: Mapped[str] = mapped_column(String(200))
    at: Mapped[datetime]
    seen_at: Mapped[datetime | None]
    """group: when the draft the facilitator chose from was shown to them (their form
    opened), if known, at or before `at`. Answers given after it may join the theme; those
    given before, they saw and left. None: `at`."""


class BotMessage(Base):
    """A message of the bot's that repeats someone's words (a confirmation, a digest part),
    kept so that forget-me can delete or replace it on the platform."""

    __tablename__ = "bot_messages"
    __table_args__ = (Index("ix_bot_messages_round_id_kind", "round_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str] = mapped_column(String(64))
    message_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    """confirmation (in someone's conversation) or digest (a part of a posted digest)."""
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    """Whose answers a confirmation repeats."""
    digest_id: Mapped[int | None] = mapped_column(
        ForeignKey("digests.id", ondelete="CASCADE"), index=True)
    part: Mapped[int | None] = mapped_column(Integer)
    """A digest's message: 0 the top, then one per question in the pack's order."""
    prompt_id: Mapped[str | None] = mapped_column(String(100))
    answer_id: Mapped[str | None] = mapped_column(String(200))
    """A confirmation of one answer: that answer's external id (its edits update it)."""
    answers: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    """A confirmation of several answers: the external ids of those of its round it repeats
    (the deletion of one replaces it); SQL NULL on one of a single answer, and on rows kept
    before it was recorded."""
    files_dropped: Mapped[list[str] | None] = mapped_column(JSON(none_as_null=True))
    """Those of `answers` whose message came with files, which were not kept: the
    confirmation said so, and says so again when an edit brings it up to date. SQL NULL when
    none did, and on rows kept before it was recorded."""
    created_at: Mapped[datetime]


class OwedKind(StrEnum):
    """What an owed acknowledgement is (`OwedConfirmation.kind`)."""

    SAVED = "saved"
    """An answer's confirmation."""
    REVISED = "revised"
    """That an edit of an answer was taken."""
    WITHDRAWN = "withdrawn"
    """That a deletion of an answer was taken."""
    NOTICE = "notice"
    OFFER = "offer"
    """A reply offering to save words as an answer."""
    SETTLED = "settled"
    """What an offer says instead once its words were saved otherwise."""


class OwedConfirmation(Base):
    """An acknowledgement owed to someone and not yet posted: an answer's confirmation, that
    an edit or a deletion of an answer was taken, a notice, a reply to a greeting (`kind`).
    Written in the transaction that makes the change it acknowledges, deleted once it is
    posted. Claimed by the process that will post it (as deliveries are: its `worker:` lease
    keeps the claim alive), so that when that process dies, another one posts it."""

    __tablename__ = "owed_confirmations"
    __table_args__ = (Index("ix_owed_confirmations_answer_id", "answer_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default=OwedKind.SAVED,
                                      server_default=OwedKind.SAVED.value)
    """An `OwedKind`."""
    channel_id: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str | None] = mapped_column(String(64))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    """The round it is about (an answer's, an offer's, a notice's about one of its questions):
    deleting the round, or retention deleting its answers, deletes it."""
    participant_id: Mapped[int | None] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True)
    """Whose answer, or whose words a notice or an offer carries (forgetting them deletes it);
    None for a notice to someone no round knows."""
    prompt_id: Mapped[str | None] = mapped_column(String(100))
    answer_id: Mapped[str | None] = mapped_column(String(200))
    """The external id of the message the answer came in (of an offer: the id its words
    would be saved under)."""
    vote: Mapped[bool] = mapped_column(Boolean, default=False)
    """A vote (typed in words, or chosen in a form): confirmed as the person's ballot on the
    question now."""
    updated: Mapped[bool] = mapped_column(Boolean, default=False)
    """The vote replaced an earlier ballot: its confirmation says so."""
    files_dropped: Mapped[bool] = mapped_column(Boolean, default=False)
    added: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    """Words kept beside an answer given already: confirmed as added, not as the answer."""
    said: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    """What a notice, an offer or a settled offer says (bot.core.said.to_parts)."""
    kept: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    """The words an offer's button carries (Kept.to_data)."""
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class HomeOwed(Base):
    """Someone's own page of the app (Slack's App Home) to publish again, after a change only
    a use case knows of (a round deleted, someone forgotten, a round's answers deleted by
    retention): written in the transaction that makes the change, published by a process
    signed in to the platform (bot.app.homes), then deleted. Claimed as confirmations owed
    are (its `worker:` lease keeps the claim alive); the rows of one person are published
    once."""

    __tablename__ = "homes_owed"

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class AuditEntry(Base):
    """Who did what to which round, and when: never the words of an answer, never a token.
    No foreign key: the log outlives the rounds it names."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    """platform:user id, `cli` (the operator), `scheduler`, or `a forgotten person`."""
    action: Mapped[str] = mapped_column(String(50))
    round_id: Mapped[int | None] = mapped_column(Integer, index=True)
    subject: Mapped[str | None] = mapped_column(String(200))
    """Whom it was about, where that is not the actor (a facilitator added)."""
    detail: Mapped[str] = mapped_column(Text, default="")


class Suppressed(Base):
    """Someone who asked to be forgotten and never to be messaged again, as a one-way
    fingerprint of their platform id (bot/core/personal_data.py): it cannot be read back to
    the id, only matched when the same person is in a new audience."""

    __tablename__ = "suppressed"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime]


class ProcessedEvent(Base):
    """The ledger of platform event ids already acted on (Slack retries the same event)."""

    __tablename__ = "processed_events"

    event_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), default="slack")
    received_at: Mapped[datetime]


class InboxEvent(Base):
    """An event stored before the platform was told it arrived, until it has been handled
    (bot/core/inbox.py). Rows that keep failing stay, with their error, for a person to see."""

    __tablename__ = "inbox_events"
    __table_args__ = (UniqueConstraint("platform", "event_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    platform: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)


class Reminder(Base):
    """A nudge to one participant about their open questions (the cap counts these), or a
    notice that the round's close moved (`moved_from`); numbered per participant."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("round_id", "participant_id", "number"),
        Index("ix_reminders_state_not_before", "state", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(
        ForeignKey("participants.id", ondelete="CASCADE"), index=True
    )
    number: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    not_before: Mapped[datetime | None]
    claimed_at: Mapped[datetime | None]
    channel_id: Mapped[str | None] = mapped_column(String(64))
    message_id: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    scheduled_for: Mapped[datetime | None]
    """The time of the round's scheduled reminder this row is for (None: a facilitator's
    `remind`, or a notice), so it is found when the close moves, whatever retries did to
    `not_before`."""
    moved_from: Mapped[datetime | None]
    """Set on a notice that the round's close moved: the close the person's reminder named
    (None on a nudge). Such notices do not count against the cap."""


class Lease(Base):
    """A named lease: one holder at a time, renewed while alive, taken over when it lapses.

    "scheduler" says who runs the schedule; "worker:<id>" says that a sending process is alive,
    so the deliveries it claimed are not taken for abandoned.
    """

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class ModelAnswer(Base):
    """A language model's answer for one question, shared by every process: the scheduler
    that drafts a digest and the server that posts it once approved show the same themes and
    the same headlines. Keyed by the kind of answer and a hash of what the model was given."""

    __tablename__ = "model_answers"
    __table_args__ = (Index("ix_model_answers_round_id", "round_id"),)

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    """grouping (group numbers, no words) or headlines (titles, summaries and quotes that
    passed the grounding check: words of the theme's answers)."""
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    """SHA-256, in hex, of what the model was given (grouping: the question and its numbered
    answers; headlines: the round, the question, each theme's answer ids and title, and the
    text sent)."""
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    """The round whose answers the value holds words of (headlines), so that deleting the
    round or forgetting one of its people deletes them; None for groupings."""
    value: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime]


JOBS_TABLE = "apscheduler_jobs"
# APScheduler 3's SQLAlchemyJobStore table, declared here so that Alembic creates and checks it.
apscheduler_jobs = Table(
    JOBS_TABLE,
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)


class RoundChannel(Base):
    """Where a mixed round's digests go on a platform other than its own (the round's own
    digest channel is `Round.digest_channel`)."""

    __tablename__ = "round_channels"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"),
                                          primary_key=True)
    platform: Mapped[str] = mapped_column(String(16), primary_key=True)
    channel_id: Mapped[str] = mapped_column(String(64))


class TeamsConversation(Base):
    """A conversation the Teams bot can post to, stored so that proactive messages work after a
    restart: its reference (conversation id, service URL, tenant) under a short key.

    Teams' conversation ids are long (a 1:1 chat's runs past a hundred characters), so the
    rest of Roundtable names a Teams conversation by `key`, a hash of its id, wherever it
    keeps a channel id (deliveries, question messages, a round's digest channel)."""

    __tablename__ = "teams_conversations"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(Text)
    service_url: Mapped[str] = mapped_column(String(500))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))
    """personal (the bot and one person), channel, or groupChat."""
    aad_object_id: Mapped[str | None] = mapped_column(String(64), index=True)
    """The person of a personal conversation (their Entra object id)."""
    team_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    updated_at: Mapped[datetime]


class TeamsUser(Base):
    """Someone found in a team's roster (or who wrote to the bot): how to open a 1:1 chat with
    them. Participants on Teams are known by their Entra object id."""

    __tablename__ = "teams_users"

    aad_object_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(200))
    """Their id in the Bot Connector (29:…), needed to create a conversation."""
    service_url: Mapped[str] = mapped_column(String(500))
    tenant_id: Mapped[str | None] = mapped_column(String(64))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    timezone: Mapped[str | None] = mapped_column(String(64))
    """From their own activities' `localTimezone`, when one gave it."""
    updated_at: Mapped[datetime]


class TeamsSent(Base):
    """Which activity Teams created for a question or a digest part, written as soon as the
    Bot Connector answers. Teams offers no history to search without Microsoft Graph, so this
    is what recovery reads where Slack's reads the conversation."""

    __tablename__ = "teams_sent"
    __table_args__ = (UniqueConstraint("kind", "ref_id", "part"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    """question (ref_id: the delivery, part: the prompt id) or digest (part: its number)."""
    ref_id: Mapped[int] = mapped_column(Integer)
    part: Mapped[str] = mapped_column(String(100))
    conversation_key: Mapped[str] = mapped_column(String(64))
    activity_id: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
