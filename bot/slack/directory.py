"""Who an audience is: channel and user-group members, with names and time zones from Slack.

Details come from Slack once (`users.info`, or `users.list` for a large audience) and are
cached in the participants table for a week, so a second round for the same people costs no
lookups. Bots, apps and deactivated users are left out. The names of user groups and channels
(for mentions in what people write) are kept by bot.slack.mentions.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.core.errors import RoundtableError
from bot.core.people import Audience, Looked, Person
from bot.core.ports import DeliveryError
from bot.core.said import Place, said
from bot.slack.gateway import calling
from storage.models import Participant

CACHE_FOR = timedelta(days=7)
SLACKBOT = "USLACKBOT"
LIST_ABOVE = 50
"""Past this many unknown people, page through users.list (T2) instead of users.info (T4)."""


def members(client: WebClient, audience: Audience) -> list[str]:
    """The user ids the audience names, in order, once each."""
    ids: list[str] = []
    for channel in audience.channels:
        ids += _channel_members(client, channel)
    for group in audience.groups:
        ids += _call(f"the members of user group {group}", client.usergroups_users_list,
                     usergroup=group)["users"]
    ids += audience.users
    return list(dict.fromkeys(ids))


def _channel_members(client: WebClient, channel: str) -> list[str]:
    """A channel's members; one the bot cannot see (private, and it is not in it) is
    refused naming the channel and how to let the bot in."""
    try:
        return _paged(f"the members of channel {channel}", client.conversations_members,
                      "members", channel=channel, limit=200)
    except RoundtableError as exc:
        if not isinstance(exc.__cause__, DeliveryError) or exc.__cause__.reason not in {
                "not_in_channel", "channel_not_found"}:
            raise
        raise RoundtableError(said=said(
            "I cannot see ", Place(channel), f", so I cannot ask its members: {INVITE}, "
            "then start the round again")) from exc


def people(client: WebClient, sessions: sessionmaker[Session], user_ids: Iterable[str],
           now: datetime) -> Looked:
    """Each user as a Person (name, time zone), from the cache or Slack; humans only.

    Runs outside any transaction: Slack may make us wait (rate limits), and a write lock must
    not be held meanwhile. Call `remember` in the transaction that stores the people.
    """
    ids = [u for u in dict.fromkeys(user_ids) if u != SLACKBOT]
    cached = _cached(sessions, ids, now)
    missing = [u for u in ids if u not in cached]
    listed = _whole_workspace(client) if len(missing) > LIST_ABOVE else {}
    fetched: dict[str, Person | None] = {}
    for user_id in missing:
        user = listed.get(user_id) or _call(f"user {user_id}", client.users_info,
                                            user=user_id)["user"]
        fetched[user_id] = _person(user)
    found = [cached.get(u) or fetched.get(u) for u in ids]
    return Looked([p for p in found if p is not None],
                  [u for u, p in fetched.items() if p is not None])


def shown_names(client: WebClient, sessions: sessionmaker[Session], user_ids: Iterable[str],
                now: datetime) -> dict[str, str]:
    """The name each user shows in Slack, by id, for mentions of them: people from the cache
    or users.info, and bots and deactivated accounts too (their name is still what a mention
    of them showed). Users with no name at all are left out."""
    ids = list(dict.fromkeys(user_ids))
    names = {uid: p.display_name for uid, p in _cached(sessions, ids, now).items()
             if p.display_name}
    for user_id in ids:
        if user_id not in names:
            name = _name(_call(f"user {user_id}", client.users_info, user=user_id)["user"])
            if name:
                names[user_id] = name
    return names


def _cached(sessions: sessionmaker[Session], ids: list[str], now: datetime
            ) -> dict[str, Person]:
    """The participants among these users whose details are fresh (CACHE_FOR)."""
    with sessions() as session:
        known = {p.platform_user_id: p for p in session.scalars(select(Participant).where(
            Participant.platform == "slack", Participant.platform_user_id.in_(ids)))}
    return {uid: Person(uid, p.display_name, timezone=p.timezone) for uid, p in known.items()
            if p.timezone and p.details_fetched_at and p.details_fetched_at > now - CACHE_FOR}


def resolve(client: WebClient, sessions: sessionmaker[Session], audience: Audience,
            now: datetime) -> Looked:
    """The humans an audience names (channels, user groups, users), with their details."""
    looked = people(client, sessions, members(client, audience), now)
    if not looked.people:
        raise RoundtableError("that audience has nobody I can ask (bots are left out)")
    return looked


def group_handles(client: WebClient) -> dict[str, str]:
    """Each user group's handle by its id ("S0123" → "pcn"); Slack looks up no single one."""
    groups = _call("the user groups", client.usergroups_list)["usergroups"]
    return {str(g["id"]): str(g.get("handle") or g.get("name")) for g in groups}


def channel_name(client: WebClient, channel_id: str) -> str:
    """A channel's name ("leaders"), if the bot may see it."""
    channel = _call(f"channel {channel_id}", client.conversations_info, channel=channel_id)
    return str(channel["channel"]["name"])


def audience_of(ids: Iterable[str]) -> Audience:
    """Bare Slack ids sorted by kind: C…/G… channels, S… user groups, anything else a user."""
    ids = [i.strip().lstrip("#@") for i in ids if i.strip()]
    return Audience(channels=tuple(i for i in ids if i[:1] in {"C", "G"}),
                    groups=tuple(i for i in ids if i[:1] == "S"),
                    users=tuple(i for i in ids if i[:1] not in {"C", "G", "S"}))


class SlackDirectory:
    """The core's Directory on Slack: members through the Web API, details cached."""

    def __init__(self, client: WebClient, sessions: sessionmaker[Session]) -> None:
        self.client, self.sessions = client, sessions

    def resolve(self, audience: Audience, now: datetime) -> Looked:
        return resolve(self.client, self.sessions, audience, now)

    def remember(self, session: Session, looked: Looked, now: datetime) -> None:
        remember(session, looked.fetched, now)

    def cannot_post(self, channel_id: str) -> str | None:
        return cannot_post(self.client, channel_id)


INVITE = "invite @Roundtable to it (type /invite @Roundtable there)"


def cannot_post(client: WebClient, channel_id: str) -> str | None:
    """Why the bot could not post to the channel: Slack lets a bot post only where it is a
    member (the app does not ask for chat:write.public), and hides private channels it is not
    in. Said when the channel is chosen, not a week later when the first digest fails."""
    try:
        channel = calling(client.conversations_info, channel=channel_id)["channel"]
    except DeliveryError as exc:
        if exc.reason == "channel_not_found":
            return f"I cannot see that channel, so no digest can be posted there: {INVITE}."
        return None  # out of reach or refused for another reason: the first digest says
    if channel.get("is_archived"):
        return "That channel is archived, so no digest can be posted there: choose another."
    if channel.get("is_member") is False:
        return f"I am not in that channel yet, so no digest can be posted there: {INVITE}."
    return None


def remember(session: Session, user_ids: Iterable[str], now: datetime) -> None:
    """Mark these participants' details as fresh from Slack (the cache lasts CACHE_FOR)."""
    session.execute(update(Participant).where(
        Participant.platform == "slack", Participant.platform_user_id.in_(list(user_ids))
    ).values(details_fetched_at=now))


def _person(user: dict[str, Any]) -> Person | None:
    if user.get("is_bot") or user.get("deleted") or user.get("is_app_user"):
        return None
    return Person(str(user["id"]), _name(user), timezone=user.get("tz"))


def _name(user: dict[str, Any]) -> str | None:
    """What Slack shows for a user: the display name they chose, else their full name."""
    profile = user.get("profile") or {}
    name = (profile.get("display_name") or profile.get("real_name") or user.get("real_name")
            or user.get("name"))
    return str(name) if name else None


def _whole_workspace(client: WebClient) -> dict[str, dict[str, Any]]:
    """Every user of the workspace, a page at a time: far fewer calls than users.info each."""
    return {u["id"]: u for u in _paged("the people of the workspace", client.users_list, "members",
                                       limit=1000)}


def _paged(what: str, method: Callable[..., Any], key: str, **kwargs: Any) -> list[Any]:
    """Every item of a cursor-paginated Web API list."""
    items: list[Any] = []
    cursor: str | None = None
    while True:
        page = _call(what, method, cursor=cursor, **kwargs)
        items += page[key]
        cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
        if not cursor:
            return items


def _call(what: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return calling(method, **kwargs)
    except DeliveryError as exc:
        hint = " (invite me to the channel first)" if exc.reason in {
            "not_in_channel", "channel_not_found"} else ""
        raise RoundtableError(f"Slack would not look up {what}: {exc.reason}{hint}") from exc
