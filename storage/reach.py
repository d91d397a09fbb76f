"""What a chat adapter keeps to reach a person, beside their participant row: for Teams, the
record of them from a roster or their own activities (name, email, time zone, Teams user id)
and the link from their 1:1 chat to their id. Forgetting someone deletes it and their data
shows it, whichever adapters the process doing so runs (a command line with no Teams set-up
forgets a Teams person all the same). Also which Teams activity carried each question, digest
part and message the bot may change (`teams_sent`): deleted with the deliveries, digests and
bot messages they belong to."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, exists, or_, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from storage.models import (
    BotMessage,
    Delivery,
    Digest,
    Facilitator,
    Participant,
    Round,
    RoundFacilitator,
    TeamsConversation,
    TeamsSent,
    TeamsUser,
)
from storage.queries import in_a_round

QUESTION, DIGEST, MESSAGE = "question", "digest", "message"
"""What teams_sent records: question and digest parts (for recovery), and other messages the
bot may have to change later (a confirmation that quotes someone who asks to be forgotten)."""
FORM, FORM_TOLD, FORM_CLOSING = "form", "form-told", "form-closing"
"""Draft cards of a digest (ref_id) with a facilitator's edit form open, which another's edit
leaves as they are; those whose facilitator was told so; and those whose form is to close
(answers it lists were deleted) but Teams refused to change the card: the next refresh
closes it."""
FORM_NOTES = (FORM, FORM_TOLD, FORM_CLOSING)
"""All that is noted of a card's open form: forgotten together once it no longer shows."""
OF_DIGESTS = (DIGEST, *FORM_NOTES)


def note_sent(session: Session, kind: str, ref_id: int, part: str, key: str,
              activity_id: str, now: datetime) -> None:
    """What Teams created (or a draft card's form open: FORM), noted in the caller's
    transaction; a second note of the same part is a no-op."""
    try:
        with session.begin_nested():
            session.add(TeamsSent(kind=kind, ref_id=ref_id, part=part, conversation_key=key,
                                  activity_id=activity_id, created_at=now))
    except IntegrityError:
        pass  # noted by an earlier attempt


def unnote_sent(session: Session, kinds: Collection[str], ref_id: int, part: str) -> None:
    """Forget what `note_sent` noted of one part, in the caller's transaction."""
    session.execute(delete(TeamsSent).where(
        TeamsSent.kind.in_(kinds), TeamsSent.ref_id == ref_id, TeamsSent.part == part))


def forget_sent(session: Session, *, deliveries: Select[Any], messages: Select[Any],
                digests: Select[Any] | None = None) -> None:
    """Delete what teams_sent holds of these deliveries, bot messages (by their message id)
    and digests (ids each): call it before deleting them."""
    kept_for = [(TeamsSent.kind == QUESTION) & TeamsSent.ref_id.in_(deliveries),
                (TeamsSent.kind == MESSAGE) & TeamsSent.part.in_(messages)]
    if digests is not None:
        kept_for.append(TeamsSent.kind.in_(OF_DIGESTS) & TeamsSent.ref_id.in_(digests))
    session.execute(delete(TeamsSent).where(or_(*kept_for))
                    .execution_options(synchronize_session=False))


def forget_unkept(session: Session, before: datetime) -> int:
    """Delete notes written before `before` of what is kept no more: a delivery, a digest or
    a bot message deleted without its notes (by a version that noted every message it sent,
    or while a send to the person being forgotten was under way). How many went."""
    gone = session.execute(delete(TeamsSent).where(TeamsSent.created_at < before, or_(
        (TeamsSent.kind == QUESTION) & ~exists().where(Delivery.id == TeamsSent.ref_id),
        TeamsSent.kind.in_(OF_DIGESTS) & ~exists().where(Digest.id == TeamsSent.ref_id),
        (TeamsSent.kind == MESSAGE) & ~exists().where(BotMessage.message_id == TeamsSent.part),
    )).execution_options(synchronize_session=False))
    return int(getattr(gone, "rowcount", 0) or 0)


def forget(session: Session, user_id: str) -> bool:
    """Delete the record kept to reach `user_id`, and their chat's link to them; whether
    there was a record. The chat's reference stays, nameless, so that the answer to
    forget-me, and to anything they write later, still reaches them. Entra object ids never
    equal another platform's ids, so nobody else's rows match."""
    gone = session.execute(delete(TeamsUser).where(TeamsUser.aad_object_id == user_id))
    session.execute(update(TeamsConversation).where(TeamsConversation.aad_object_id == user_id)
                    .values(aad_object_id=None))
    return bool(getattr(gone, "rowcount", 0))


def forget_unneeded(session: Session, *, among: Collection[str] | None = None,
                    unseen_since: datetime | None = None) -> int:
    """Delete the records kept to reach people no round needs any more (in none as a
    participant, facilitating none, no facilitator): of `among` only (the people of a deleted
    round), or those not refreshed from a roster or the person's own activity since
    `unseen_since` (retention: someone named again is looked up again); how many went. Their
    chat keeps its link to their id (as a `stop` keeps the id), so what they write later is
    answered and a new round can still reach them there."""
    gone: list[ColumnElement[bool]] = [TeamsUser.aad_object_id.not_in(_needed())]
    if among is not None:
        gone.append(TeamsUser.aad_object_id.in_(list(among)))
    if unseen_since is not None:
        gone.append(TeamsUser.updated_at < unseen_since)
    result = session.execute(delete(TeamsUser).where(*gone)
                             .execution_options(synchronize_session=False))
    return int(getattr(result, "rowcount", 0) or 0)


def _needed() -> Select[Any]:
    """The platform ids of the people a round still needs to reach: its participants, its
    co-facilitators and whoever started it; and the facilitators."""
    return select(union(
        select(Participant.platform_user_id).where(in_a_round()),
        select(RoundFacilitator.platform_user_id),
        select(Facilitator.platform_user_id),
        select(Round.started_by).where(Round.started_by.is_not(None))).subquery().c[0])


def held(session: Session, user_id: str) -> dict[str, Any] | None:
    """The record kept to reach `user_id` (None: none)."""
    row = session.get(TeamsUser, user_id)
    if row is None:
        return None
    return {"teams_user_id": row.user_id, "name": row.name, "email": row.email,
            "time_zone": row.timezone, "tenant": row.tenant_id, "service_url": row.service_url,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}
