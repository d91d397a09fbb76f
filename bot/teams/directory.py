"""Who an audience is in Teams: the members of a team (from its roster), and people named by
email or Entra object id (found in the rosters of the teams Roundtable is in, or because they
wrote to it). Participants on Teams are known by their Entra object id.
"""

from __future__ import annotations

import re
from collections.abc import Coroutine
from datetime import datetime
from typing import Any

from microsoft_teams.api import ApiClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.core.errors import RoundtableError
from bot.core.people import Audience, Looked, Person
from bot.core.ports import DeliveryError
from bot.teams.connector import Connector
from bot.teams.references import PLATFORM, Conversations, Member, Reference
from storage.models import Participant

PAGE = 500
LOOKED_UP = re.compile(r"[^\s/\\?#%]{1,320}")
"""What can be an email (at most 320 characters) or an Entra object id, asked of Teams."""


class TeamsDirectory:
    """The core's Directory on Teams."""

    def __init__(self, connector: Connector, conversations: Conversations) -> None:
        self.connector, self.conversations = connector, conversations

    def resolve(self, audience: Audience, now: datetime) -> Looked:
        found: dict[str, Member] = {}
        for key in audience.channels:
            for member in self.roster(self._team(key)):
                found.setdefault(member.aad_object_id, member)
        missing: list[str] = []
        for who in audience.users:
            person = self.conversations.member(who) or self._look_up(who)
            if person is None:
                missing.append(who)
            else:
                found.setdefault(person.aad_object_id, person)
        if missing:
            raise RoundtableError(
                f"I can't find {', '.join(m[:80] for m in missing[:5])} in the teams I am in: "
                "add Roundtable to a team they belong to, or check the address")
        if not found:
            raise RoundtableError("that audience has nobody I can ask")
        self.conversations.remember_members(found.values())
        known = {m.aad_object_id: m for m in map(self.conversations.member, found) if m}
        return Looked([Person(m.aad_object_id, m.name, timezone=(
            known[m.aad_object_id].timezone if m.aad_object_id in known else None))
            for m in found.values()], [])

    def remember(self, session: Session, looked: Looked, now: datetime) -> None:
        """Keep a time zone a person's own activities gave over the round's default."""
        ids = [p.platform_user_id for p in looked.people]
        if not ids:
            return
        for participant in session.scalars(select(Participant).where(
                Participant.platform == PLATFORM, Participant.platform_user_id.in_(ids))):
            participant.details_fetched_at = now

    def cannot_post(self, channel_id: str) -> str | None:
        return None  # a channel is chosen among those the bot was added to (commands.py)

    def roster(self, team: Reference) -> list[Member]:
        """Everyone in a team (people only), a page at a time."""
        team_id = team.team_id or team.conversation_id
        api = self.connector.at(team.service_url)
        members: list[Member] = []
        token: str | None = None
        while True:
            def one_page(after: str | None = token) -> Coroutine[Any, Any, Any]:
                return api.conversations.get_paged_members(team_id, PAGE, after)
            try:
                page: Any = self.connector.call(one_page, method="GET")
            except DeliveryError as exc:
                name = team.name or "that team"
                raise RoundtableError(f"Teams would not tell me who is in {name}: "
                                      f"{exc.reason}") from exc
            for account in page.members or []:
                member = _member(account, team)
                if member is not None:
                    members.append(member)
            token = page.continuation_token
            if not token:
                return members

    def _team(self, key: str) -> Reference:
        reference = self.conversations.get(key)
        if reference is None or reference.kind != "channel":
            raise RoundtableError("I don't know that team: mention me in one of its channels")
        return reference

    def _look_up(self, who: str) -> Member | None:
        """Someone by email or object id, asked of each team Roundtable is in."""
        if not LOOKED_UP.fullmatch(who):
            # the SDK puts it in the URL's path as it is: a slash or a ? would ask the
            # Connector for something else, and 100 KB of it fails before it is sent
            return None
        seen: set[str] = set()
        for channel in self.conversations.channels():
            team_id = channel.team_id or channel.conversation_id
            if team_id in seen:
                continue
            seen.add(team_id)
            api = self.connector.at(channel.service_url)

            def get(a: ApiClient = api, t: str = team_id) -> Coroutine[Any, Any, Any]:
                return a.conversations.get_member_by_id(t, who)
            try:
                account = self.connector.call(get, method="GET")
            except DeliveryError as exc:
                if exc.permanent:
                    continue  # not in this team
                raise RoundtableError(f"Teams would not look {who[:80]} up: {exc.reason}"
                                      ) from exc
            member = _member(account, channel)
            if member is not None:
                return member
        return None


def _member(account: Any, team: Reference) -> Member | None:
    aad = getattr(account, "aad_object_id", None)
    if not aad:
        return None  # bots have none
    email = getattr(account, "email", None) or getattr(account, "user_principal_name", None)
    return Member(str(aad), str(account.id), team.service_url,
                  getattr(account, "tenant_id", None) or team.tenant_id,
                  getattr(account, "name", None), email)
