"""What a chat platform's adapter gives the application: its gateway (sending), its directory
(who an audience is), and its translation of stored payloads (its ways in, for a serving
process, are in bot.app.processes). The application looks each up by the platform's name, as
healthchecks picks a transport by a channel's kind: what is sent goes out on the platform of
the person or round it is for, and one sender serves every platform.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from bot.core.errors import RoundtableError
from bot.core.incoming import Incoming
from bot.core.people import Audience, Looked, Person
from bot.core.ports import ChatGateway, Directory

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class Platform(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def gateway(self) -> ChatGateway: ...

    @property
    def directory(self) -> Directory: ...

    @property
    def facilitators(self) -> tuple[str, ...]:
        """User ids on this platform configured as facilitators (others are added in the
        app)."""
        ...

    def is_user_id(self, user_id: str) -> bool:
        """Whether `user_id` has the form of a person's id on this platform (a Slack member
        id, an Entra object id): ids configured for every platform (ROUNDTABLE_ADMINS) are
        each used on their own."""
        ...

    @property
    def signed_in(self) -> bool:
        """Whether this process holds the platform's credentials: a command line with no
        token (the demo, an operator's machine) has a platform it cannot call."""
        ...

    def translate(self, payload: dict[str, Any]) -> Incoming | None:
        """An event stored in the platform's own form (by an earlier version)."""
        ...

    def close(self) -> None:
        """Finish the work in hand (listeners still running)."""
        ...


class BareDirectory:
    """People named by their user ids alone, when the platform cannot be asked (no token):
    no names, and messages in the default time zone's working hours."""

    def __init__(self, token_setting: str, user_id: re.Pattern[str] | None = None,
                 example: str = "") -> None:
        self.token_setting = token_setting
        self.user_id, self.example = user_id, example

    def resolve(self, audience: Audience, now: datetime) -> Looked:
        if audience.channels or audience.groups:
            raise RoundtableError(f"channels and user groups need {self.token_setting} to be "
                                  "looked up; without it, give user ids")
        users = [u.lstrip("@") for u in audience.users]
        if self.user_id is not None:
            wrong = [u for u in users if not self.user_id.fullmatch(u)]
            if wrong:
                raise RoundtableError(
                    f"{', '.join(repr(w) for w in wrong[:5])} "
                    f"{'is not a user id' if len(wrong) == 1 else 'are not user ids'}"
                    f"{f' (like {self.example})' if self.example else ''}: without "
                    f"{self.token_setting} nobody can be looked up, so give user ids, or set "
                    f"{self.token_setting} to name channels, groups and people")
        return Looked([Person(u) for u in users], [])

    def remember(self, session: Session, looked: Looked, now: datetime) -> None:
        return None

    def cannot_post(self, channel_id: str) -> str | None:
        return None  # nothing can be asked without the token
