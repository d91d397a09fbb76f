"""Participants and facilitators: who may be asked, and who may run rounds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Facilitator, Participant


@dataclass(frozen=True)
class Audience:
    """Who a round is for, as a facilitator named them on their platform: the members of
    channels (or teams), of user groups, and people one by one."""

    channels: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()
    users: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, list[str]]:
        return {k: list(v) for k, v in vars(self).items() if v}


@dataclass(frozen=True)
class Person:
    """What a chat platform (or an import) tells us about someone."""

    platform_user_id: str
    display_name: str | None = None
    role: str | None = None
    organisation: str | None = None
    timezone: str | None = None


@dataclass(frozen=True)
class Looked:
    """The humans of an audience, and which of them the platform was just asked about."""

    people: list[Person]
    fetched: list[str]


def upsert_participant(
    session: Session, person: Person, now: datetime, platform: str = "slack"
) -> Participant:
    """The participant for this platform id, created or refreshed with any details given."""
    participant = session.scalar(
        select(Participant).where(
            Participant.platform == platform,
            Participant.platform_user_id == person.platform_user_id,
        )
    )
    if participant is None:
        participant = Participant(
            platform=platform,
            platform_user_id=person.platform_user_id,
            created_at=now,
            opted_out=False,
        )
        session.add(participant)
    for field in ("display_name", "role", "organisation", "timezone"):
        value = getattr(person, field)
        if value:
            setattr(participant, field, value)
    session.flush()
    return participant


def find_participant(
    session: Session, platform_user_id: str, platform: str = "slack"
) -> Participant | None:
    return session.scalar(
        select(Participant).where(
            Participant.platform == platform, Participant.platform_user_id == platform_user_id
        )
    )


def opt_out(session: Session, participant: Participant, now: datetime) -> None:
    """Stop every further message to this person (`stop`)."""
    participant.opted_out = True
    participant.opted_out_at = now


def is_facilitator(
    session: Session, platform_user_id: str, configured: tuple[str, ...], platform: str = "slack"
) -> bool:
    if platform_user_id in configured:
        return True
    return (
        session.scalar(
            select(Facilitator.id).where(
                Facilitator.platform == platform, Facilitator.platform_user_id == platform_user_id
            )
        )
        is not None
    )


def add_facilitator(
    session: Session, platform_user_id: str, added_by: str, now: datetime, platform: str = "slack"
) -> bool:
    """Make someone a facilitator; False when they already were one."""
    if is_facilitator(session, platform_user_id, (), platform):
        return False
    session.add(
        Facilitator(
            platform=platform, platform_user_id=platform_user_id, added_by=added_by, added_at=now
        )
    )
    session.flush()
    return True
