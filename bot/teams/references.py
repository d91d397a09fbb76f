"""Conversation references, kept in the database so proactive messages work after a restart.

Every activity Teams sends the bot names its conversation, its service URL and its tenant;
the bot stores them the first time it hears from a conversation (and after any change), under
a short key: the rest of Roundtable names a Teams conversation by that key. People found in a
team's roster are kept too, with what it takes to open a 1:1 chat with them; and the activity
Teams created for each question and digest part, as soon as Teams says it, for recovery.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.dates import zone_named
from bot.core.people import suppressed
from bot.core.ports import Clock
from storage.db import transaction
from storage.models import Participant, TeamsConversation, TeamsSent, TeamsUser
from storage.reach import note_sent, unnote_sent

PLATFORM = "teams"
KEY_PREFIX = "t-"
KNOWN = 20_000


def conversation_key(conversation_id: str) -> str:
    """The short, stable name of a Teams conversation (a channel's thread replies included in
    their channel: `;messageid=` is dropped)."""
    base = conversation_id.split(";messageid=")[0]
    digest = hashlib.sha256(base.encode()).digest()[:20]
    return KEY_PREFIX + base64.b32encode(digest).decode().rstrip("=").lower()


def message_key(activity_id: str) -> str:
    """An activity id as the core keeps it (64 characters at most)."""
    if len(activity_id) <= 64:
        return activity_id
    return "h-" + hashlib.sha256(activity_id.encode()).hexdigest()[:40]


@dataclass(frozen=True)
class Reference:
    """Where to post: a conversation on a Bot Connector service."""

    key: str
    conversation_id: str
    service_url: str
    tenant_id: str | None
    kind: str
    name: str | None = None
    team_id: str | None = None
    aad_object_id: str | None = None


@dataclass(frozen=True)
class Member:
    """Someone in a team's roster, or who wrote to the bot."""

    aad_object_id: str
    user_id: str
    service_url: str
    tenant_id: str | None
    name: str | None = None
    email: str | None = None
    timezone: str | None = None

    def __post_init__(self) -> None:
        # Entra allows 256 characters in a display name; Roundtable keeps NAME_CHARS of it
        if self.name is not None and len(self.name) > NAME_CHARS:
            object.__setattr__(self, "name", self.name[: NAME_CHARS - 1].rstrip() + "…")


NAME_CHARS = 200
"""The longest name kept of someone (teams_users.name, participants.display_name)."""


def known_zone(zone: str | None) -> str | None:
    return zone if zone_named(zone) is not None else None


class Conversations:
    """The references the bot keeps, read and written in short transactions of their own."""

    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions, self.clock = sessions, clock
        self._known: dict[str, tuple[Reference, Member | None, str | None]] = {}
        """What this process last stored for each conversation: an answer whose conversation,
        person and time zone are unchanged costs no write."""
        self._lock = threading.Lock()

    def remember(self, reference: Reference, member: Member | None = None,
                 timezone: str | None = None) -> None:
        """Store (or refresh) a conversation, the person who wrote in it, and their time zone
        where the activity gave one."""
        seen = (reference, member, timezone)
        with self._lock:
            if self._known.get(reference.key) == seen:
                return
        try:
            self._remember(reference, member, timezone)
        except IntegrityError:  # two first activities of one conversation at once
            self._remember(reference, member, timezone)
        with self._lock:
            if len(self._known) > KNOWN:
                self._known.clear()
            self._known[reference.key] = seen

    def _remember(self, reference: Reference, member: Member | None,
                  timezone: str | None) -> None:
        now = self.clock()
        with transaction(self.sessions) as session:
            if member is not None and _forgotten(session, [member.aad_object_id]):
                member = None  # forgotten: their chat is answered, nothing kept of them
                reference = dataclasses.replace(reference, aad_object_id=None)
            row = session.get(TeamsConversation, reference.key)
            fields = {"conversation_id": reference.conversation_id,
                      "service_url": reference.service_url, "tenant_id": reference.tenant_id,
                      "kind": reference.kind, "team_id": reference.team_id,
                      "aad_object_id": reference.aad_object_id}
            if row is None:
                session.add(TeamsConversation(key=reference.key, name=reference.name,
                                              updated_at=now, **fields))
            elif any(getattr(row, k) != v for k, v in fields.items()) or (
                    reference.name and row.name != reference.name):
                for name, value in fields.items():
                    setattr(row, name, value)
                row.name = reference.name or row.name
                row.updated_at = now
            zone = known_zone(timezone)
            if member is not None:
                _remember_member(session, member, now, zone)
            if zone is not None and member is not None:
                session.execute(update(Participant).where(
                    Participant.platform == PLATFORM,
                    Participant.platform_user_id == member.aad_object_id,
                    Participant.timezone.is_distinct_from(zone)).values(timezone=zone))

    def remember_members(self, members: Iterable[Member]) -> None:
        """Keep how to reach these people, except those who asked to be forgotten."""
        now = self.clock()
        members = list(members)
        with transaction(self.sessions) as session:
            forgotten = _forgotten(session, [m.aad_object_id for m in members])
            for member in members:
                if member.aad_object_id not in forgotten:
                    _remember_member(session, member, now)

    def get(self, key: str) -> Reference | None:
        with self.sessions() as session:
            row = session.get(TeamsConversation, key)
            return None if row is None else _reference(row)

    def personal(self, aad_object_id: str) -> Reference | None:
        """The 1:1 chat of the bot with this person, if there is one."""
        with self.sessions() as session:
            row = session.scalar(select(TeamsConversation).where(
                TeamsConversation.kind == "personal",
                TeamsConversation.aad_object_id == aad_object_id)
                .order_by(TeamsConversation.updated_at.desc()).limit(1))
            return None if row is None else _reference(row)

    def channels(self) -> list[Reference]:
        """Team channels the bot has heard from (where digests can go), newest first."""
        with self.sessions() as session:
            return [_reference(r) for r in session.scalars(
                select(TeamsConversation).where(TeamsConversation.kind == "channel")
                .order_by(TeamsConversation.updated_at.desc()))]

    def names(self, keys: Iterable[str]) -> dict[str, str]:
        wanted = list(set(keys))
        if not wanted:
            return {}
        with self.sessions() as session:
            return {k: n for k, n in session.execute(
                select(TeamsConversation.key, TeamsConversation.name).where(
                    TeamsConversation.key.in_(wanted))) if n}

    def member(self, who: str) -> Member | None:
        """Someone known by Entra object id or email."""
        with self.sessions() as session:
            row = session.get(TeamsUser, who) or session.scalar(
                select(TeamsUser).where(TeamsUser.email == who.lower()).limit(1))
            return None if row is None else _member(row)

    def record_sent(self, kind: str, ref_id: int, part: str, key: str, activity_id: str) -> None:
        """What Teams created, written the moment it says so (a second write is a no-op)."""
        with transaction(self.sessions) as session:
            note_sent(session, kind, ref_id, part, key, activity_id, self.clock())

    def unrecord_sent(self, kinds: tuple[str, ...], ref_id: int, part: str) -> None:
        with transaction(self.sessions) as session:
            unnote_sent(session, kinds, ref_id, part)

    def sent(self, kind: str, ref_id: int) -> dict[str, tuple[str, str]]:
        """The parts of a question delivery or a digest Teams took: part → (key, activity)."""
        with self.sessions() as session:
            return {part: (key, activity) for part, key, activity in session.execute(
                select(TeamsSent.part, TeamsSent.conversation_key, TeamsSent.activity_id)
                .where(TeamsSent.kind == kind, TeamsSent.ref_id == ref_id))}


def _forgotten(session: Session, aad_object_ids: list[str]) -> set[str]:
    """Those of these people who asked Roundtable to forget them (bot.core.forgetting)."""
    return suppressed(session, aad_object_ids, PLATFORM)


def _remember_member(session: Session, member: Member, now: datetime,
                     zone: str | None = None) -> None:
    row = session.get(TeamsUser, member.aad_object_id)
    email = member.email.lower() if member.email else None
    if row is None:
        try:
            # another request may be keeping them this moment (they write to the bot as a
            # round starts for their team): then theirs is the row to bring up to date
            with session.begin_nested():
                session.add(TeamsUser(aad_object_id=member.aad_object_id,
                                      user_id=member.user_id, service_url=member.service_url,
                                      tenant_id=member.tenant_id, name=member.name,
                                      email=email, timezone=zone, updated_at=now))
            return
        except IntegrityError:
            row = session.get_one(TeamsUser, member.aad_object_id)
    row.timezone = zone or row.timezone
    row.user_id, row.service_url = member.user_id, member.service_url
    row.tenant_id = member.tenant_id or row.tenant_id
    row.name, row.email = member.name or row.name, email or row.email
    row.updated_at = now


def _reference(row: TeamsConversation) -> Reference:
    return Reference(row.key, row.conversation_id, row.service_url, row.tenant_id, row.kind,
                     row.name, row.team_id, row.aad_object_id)


def _member(row: TeamsUser) -> Member:
    return Member(row.aad_object_id, row.user_id, row.service_url, row.tenant_id, row.name,
                  row.email, row.timezone)
