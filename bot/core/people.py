"""Participants and facilitators: who may be asked, and who may run rounds."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from bot.core import audit
from storage.models import (
    Facilitator,
    Participant,
    Round,
    RoundFacilitator,
    Suppressed,
)
from storage.queries import in_a_round


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
    session: Session, person: Person, now: datetime, platform: str
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
        if value and field in ("role", "organisation"):
            value = known_spelling(session, field, value)
        if value:
            setattr(participant, field, value)
    session.flush()
    return participant


def known_spelling(session: Session, field: str, value: str) -> str:
    """`value` as a role or organisation is already written ("community pharmacist" for
    "Community  Pharmacist"): people are grouped by these, and one role typed two ways
    would be two groups in every digest, each perhaps too small to be shown."""
    value = _spaced(value)
    column = getattr(Participant, field)
    known = session.scalar(select(column).where(func.lower(column) == value.lower())
                           .order_by(Participant.id).limit(1))
    return str(known) if known else value


def written_alike(one: str, other: str) -> bool:
    """Whether two roles (or organisations) are one as `known_spelling` reads them."""
    return _spaced(one).lower() == _spaced(other).lower()


def _spaced(value: str) -> str:
    return " ".join(value.split())


def find_participant(
    session: Session, platform_user_id: str, platform: str
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


def stop_asking(session: Session, platform: str, user_id: str, now: datetime, by: str
                ) -> Literal["stopped", "already"] | None:
    """`stop` for someone, audited as done `by` (the log's name of who asked): stopped, or
    already (nothing changes); None when Roundtable knows nothing of them."""
    participant = find_participant(session, user_id, platform)
    if participant is None:
        return None
    if participant.opted_out:
        return "already"
    opt_out(session, participant, now)
    subject = audit.person(platform, user_id)
    audit.record(session, now, by, "participant.stop", subject=None if by == subject else subject)
    return "stopped"


def forget_roundless(session: Session, among: Collection[int] | None = None) -> int:
    """Delete the people no round names any more (of `among` only, when given), except those
    who said stop: of them only the platform id and the stop are kept, so that no new round
    asks them. How many were deleted. Retention and a round's deletion both end with it."""
    roundless = [~in_a_round()]
    if among is not None:
        roundless.append(Participant.id.in_(list(among)))
    gone = session.execute(delete(Participant).where(
        *roundless, Participant.opted_out.is_(False)).execution_options(synchronize_session=False))
    session.execute(update(Participant).where(*roundless, Participant.opted_out.is_(True)).values(
        display_name=None, role=None, organisation=None, timezone=None,
        details_fetched_at=None).execution_options(synchronize_session=False))
    return int(getattr(gone, "rowcount", 0) or 0)


def said_stop(session: Session, people: Iterable[Person], platform: str) -> list[str]:
    """Those of these people who said stop (to be messaged no more), by name or else id."""
    ids = [p.platform_user_id for p in people]
    found = session.execute(select(Participant.platform_user_id, Participant.display_name).where(
        Participant.platform == platform, Participant.platform_user_id.in_(ids),
        Participant.opted_out.is_(True))).all()
    return [name or user_id for user_id, name in sorted(found)]


def is_facilitator(
    session: Session, platform_user_id: str, configured: tuple[str, ...], platform: str
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
    session: Session, platform_user_id: str, added_by: str, now: datetime, platform: str
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


def remove_facilitator(session: Session, platform_user_id: str, platform: str) -> int:
    """Someone is no longer a facilitator, of any round; how many of their rights went (their
    place on the list, and on each round they co-facilitated)."""
    listed = session.execute(delete(Facilitator).where(
        Facilitator.platform == platform, Facilitator.platform_user_id == platform_user_id))
    teams = session.execute(delete(RoundFacilitator).where(
        RoundFacilitator.platform_user_id == platform_user_id,
        RoundFacilitator.round_id.in_(select(Round.id).where(Round.platform == platform))))
    return int(getattr(listed, "rowcount", 0) or 0) + int(getattr(teams, "rowcount", 0) or 0)


NOT_PEOPLE = frozenset({"cli", "import"})
"""Who starts a round without being someone to message (the command line, an import)."""


def round_team(session: Session, round_: Round) -> set[str]:
    """Who facilitates a round, on its platform: whoever started it and those they added."""
    team = set(session.scalars(select(RoundFacilitator.platform_user_id).where(
        RoundFacilitator.round_id == round_.id)))
    if round_.started_by:
        team.add(round_.started_by)
    return team


def team_to_reach(session: Session, round_: Round) -> list[str]:
    """The round's team that can be messaged (not the command line or an import that
    started it), in order."""
    return sorted(round_team(session, round_) - NOT_PEOPLE)


def add_to_team(session: Session, round_: Round, platform_user_id: str, added_by: str,
                now: datetime) -> bool:
    """Make someone a co-facilitator of one round; False when they already facilitate it."""
    if platform_user_id in round_team(session, round_):
        return False
    session.add(RoundFacilitator(round_id=round_.id, platform_user_id=platform_user_id,
                                 added_by=added_by, added_at=now))
    session.flush()
    return True


def remove_from_team(session: Session, round_: Round, platform_user_id: str) -> bool:
    """Someone no longer co-facilitates the round; False when they did not."""
    result = session.execute(delete(RoundFacilitator).where(
        RoundFacilitator.round_id == round_.id,
        RoundFacilitator.platform_user_id == platform_user_id))
    return bool(getattr(result, "rowcount", 0))


def rounds_of(session: Session, platform: str, platform_user_id: str) -> set[int]:
    """The rounds someone facilitates (started, or was added to)."""
    started = session.scalars(select(Round.id).where(
        Round.platform == platform, Round.started_by == platform_user_id))
    added = session.scalars(select(RoundFacilitator.round_id).join(
        Round, Round.id == RoundFacilitator.round_id).where(
        Round.platform == platform, RoundFacilitator.platform_user_id == platform_user_id))
    return set(started) | set(added)


def acts_on(session: Session, round_: Round, platform: str, platform_user_id: str,
            configured: tuple[str, ...]) -> bool:
    """Whether someone who is no admin may act on the round: its co-facilitators, and
    whoever started it while they are still a facilitator (`configured`: the platform's)."""
    if round_.platform != platform:
        return False
    if round_.started_by == platform_user_id:
        return is_facilitator(session, platform_user_id, configured, platform)
    return platform_user_id in round_team(session, round_)


def rounds_acted_on(session: Session, platform: str, platform_user_id: str,
                    configured: tuple[str, ...], *, admin: bool, open_only: bool = True
                    ) -> list[Round]:
    """The rounds someone may act on (every round, for an admin), oldest first."""
    query = select(Round).order_by(Round.id)
    if open_only:
        query = query.where(Round.status == "open")
    if admin:
        return list(session.scalars(query))
    query = query.where(Round.id.in_(rounds_of(session, platform, platform_user_id)))
    return [r for r in session.scalars(query)
            if acts_on(session, r, platform, platform_user_id, configured)]


def facilitates(session: Session, platform: str, platform_user_id: str,
                configured: tuple[str, ...], *, admin: bool) -> bool:
    """An admin, a facilitator, or on the team of some round: may use the facilitators'
    commands."""
    return (admin or is_facilitator(session, platform_user_id, configured, platform)
            or bool(rounds_of(session, platform, platform_user_id)))


def fingerprint(platform: str, platform_user_id: str) -> str:
    """A one-way fingerprint of someone's platform id: what the suppression list keeps of
    people who asked to be forgotten, so that a new round never asks them again."""
    return hashlib.sha256(f"roundtable-forgotten:{platform}:{platform_user_id}".encode()
                          ).hexdigest()


def suppress(session: Session, platform: str, platform_user_id: str, now: datetime) -> None:
    """Never ask this person again (they asked to be forgotten)."""
    keep_out(session, [fingerprint(platform, platform_user_id)], now)


def suppressed(session: Session, platform_user_ids: Iterable[str], platform: str) -> set[str]:
    """Those of these people who asked to be forgotten."""
    marks = {fingerprint(platform, u): u for u in platform_user_ids}
    return {marks[m] for m in kept_out(session, marks)}


def keep_out(session: Session, marks: Iterable[str], now: datetime) -> None:
    """Put these one-way fingerprints on the suppression list."""
    for mark in set(marks):
        if session.get(Suppressed, mark) is None:
            session.add(Suppressed(fingerprint=mark, created_at=now))


def kept_out(session: Session, marks: Iterable[str]) -> set[str]:
    """Those of these fingerprints that are on the suppression list."""
    wanted = sorted(set(marks))
    return {found for start in range(0, len(wanted), LOOKED_UP_AT_ONCE)
            for found in session.scalars(select(Suppressed.fingerprint).where(
                Suppressed.fingerprint.in_(wanted[start:start + LOOKED_UP_AT_ONCE])))}


LOOKED_UP_AT_ONCE = 500
"""Fingerprints asked for in one query (a large file's rows: SQLite bounds a query's values)."""
