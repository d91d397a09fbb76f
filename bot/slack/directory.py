"""Who an audience is: channel and user-group members, with names and time zones from Slack.

Details come from `users.info` once and are cached in the participants table for a week, so a
second round for the same people costs no lookups. Bots, apps and deactivated users are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.core.errors import RoundtableError
from bot.core.people import Person, find_participant, upsert_participant
from bot.core.ports import DeliveryError
from bot.slack.command_text import Audience
from bot.slack.gateway import calling

CACHE_FOR = timedelta(days=7)
SLACKBOT = "USLACKBOT"


def members(client: WebClient, audience: Audience) -> list[str]:
    """The user ids the audience names, in order, once each."""
    ids: list[str] = []
    for channel in audience.channels:
        cursor: str | None = None
        while True:
            page = _call(f"channel <#{channel}>", client.conversations_members,
                         channel=channel, limit=200, cursor=cursor)
            ids += page["members"]
            cursor = (page.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                break
    for group in audience.groups:
        ids += _call("that user group", client.usergroups_users_list, usergroup=group)["users"]
    ids += audience.users
    return list(dict.fromkeys(ids))


def people(client: WebClient, session: Session, user_ids: Iterable[str],
           now: datetime) -> list[Person]:
    """Each user as a Person (name, time zone), from the cache or `users.info`; humans only."""
    out: list[Person] = []
    for user_id in user_ids:
        if user_id == SLACKBOT:
            continue
        cached = find_participant(session, user_id)
        if (cached is not None and cached.timezone and cached.details_fetched_at
                and cached.details_fetched_at > now - CACHE_FOR):
            out.append(Person(user_id, cached.display_name, timezone=cached.timezone))
            continue
        user: dict[str, Any] = _call(f"user {user_id}", client.users_info, user=user_id)["user"]
        if user.get("is_bot") or user.get("deleted") or user.get("is_app_user"):
            continue
        profile = user.get("profile") or {}
        name = profile.get("display_name") or profile.get("real_name") or user.get("real_name") \
            or user.get("name")
        person = Person(user_id, name, timezone=user.get("tz"))
        upsert_participant(session, person, now).details_fetched_at = now
        out.append(person)
    return out


def _call(what: str, method: Callable[..., Any], **kwargs: Any) -> Any:
    try:
        return calling(method, **kwargs)
    except DeliveryError as exc:
        hint = " (invite me to the channel first)" if exc.reason in {
            "not_in_channel", "channel_not_found"} else ""
        raise RoundtableError(f"Slack would not tell me who is in {what}: {exc.reason}{hint}"
                              ) from exc
