"""The names that mentions in people's messages show, looked up before their words are stored.

Slack sends a mention as `<@U0123ABC>`, with no name, where its writer saw "@Amara Okafor"
(and `<!subteam^S0123>` for "@pcn", `<#C0123>` for "#leaders"). `MessageReader.read` is the
one way a direct message, new or edited, is read: it looks up the names of the mentions that
came without one, then translates the event (bot.slack.payloads) with them, so the core only
ever holds the words as they were seen. Users come from the directory
(bot.slack.directory.shown_names: its cache of participants, else users.info; bots and
deactivated accounts by the name Slack still shows for them), user groups by
their handle (usergroups.list), channels by their name (conversations.info, with the
channels:read and groups:read the manifest already asks for; a private channel the bot is not
in stays unnamed).

This happens before Slack is told the message arrived, which it wants within 3 seconds, so
the look-ups have LOOKUP_SECONDS. What is not known by then (Slack refused, did not answer in
time, or asked us to wait) shows as a neutral word (bot.slack.mrkdwn.SOMEONE), and the
message is stored all the same.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from bot.core.errors import RoundtableError
from bot.core.incoming import Incoming
from bot.core.ports import DeliveryError
from bot.slack import directory, payloads
from bot.slack.mrkdwn import Unnamed

log = logging.getLogger(__name__)

LOOKUP_SECONDS = 1.0
"""How long a message waits for the names in it. Slack counts an answer slower than 3 s as
failed, and storing the message takes up to 2.5 s more when the database is slow
(bot.app.inbox.CAPTURE_TIMEOUT); users.info answers in a fraction of a second."""
NAMES_KEPT_SECONDS = 600.0
"""How long the names of user groups and channels are kept once looked up: usergroups.list
answers about 20 calls a minute (Tier 2), and a busy hour of answers that mention @pcn would
spend them all. People are kept by the directory (the participants table)."""
LOOKUP_THREADS = 4
"""Look-ups in flight at once: the mentions of one message side by side, and a look-up left
waiting on Slack (a 429's Retry-After) does not hold up the next message's."""


class MessageReader:
    """Reads Slack's message events for the application, the mentions in them named."""

    def __init__(self, client: WebClient, sessions: sessionmaker[Session],
                 clock: Callable[[], datetime], *, seconds: float = LOOKUP_SECONDS) -> None:
        self.client, self.sessions, self.clock, self.seconds = client, sessions, clock, seconds
        self._lookups = ThreadPoolExecutor(LOOKUP_THREADS,
                                           thread_name_prefix="roundtable-slack-names")
        self._kept: dict[str, tuple[float, str]] = {}
        """Groups' and channels' names by id, each with when it is to be looked up again."""
        self._kept_lock = threading.Lock()

    def read(self, event: dict[str, Any]) -> Incoming | None:
        """A message event as the application handles it (bot.slack.payloads.translate), with
        the name each mention showed its writer."""
        incoming = payloads.translate(event)
        wanted = payloads.mentioned(event, incoming)
        return payloads.translate(event, self.names(wanted)) if wanted else incoming

    def names(self, wanted: Unnamed) -> dict[str, str]:
        """What these mentions show ("U0123ABC" → "@Amara Okafor"): those found within
        `seconds`; the rest are left out, for the neutral word."""
        deadline = time.monotonic() + self.seconds
        known = self._known([*wanted.groups, *wanted.channels])
        lookups: list[Future[dict[str, str]]] = [
            self._lookups.submit(self._person, user, deadline) for user in wanted.users]
        if any(group not in known for group in wanted.groups):
            lookups.append(self._lookups.submit(self._groups, deadline))
        lookups += [self._lookups.submit(self._channel, channel, deadline)
                    for channel in wanted.channels if channel not in known]
        done, late = wait(lookups, timeout=self.seconds)
        if late:
            log.warning("%d of %d mentions not named in time", len(late), len(lookups))
        names: dict[str, str] = {}
        for lookup in done:
            try:
                names |= lookup.result()
            except Exception:  # noqa: BLE001 - a name is not worth the message it is in
                log.exception("could not look up the name of a mention")
        self._keep({i: name for i, name in names.items() if i not in wanted.users})
        return known | names

    def _known(self, ids: Sequence[str]) -> dict[str, str]:
        now = time.monotonic()
        with self._kept_lock:
            return {i: kept[1] for i in ids if (kept := self._kept.get(i)) and kept[0] > now}

    def _keep(self, names: dict[str, str]) -> None:
        until = time.monotonic() + NAMES_KEPT_SECONDS
        with self._kept_lock:
            self._kept.update({i: (until, name) for i, name in names.items()})

    def close(self) -> None:
        """Stop looking up (a look-up in flight is left to end by itself)."""
        self._lookups.shutdown(wait=False, cancel_futures=True)

    def _person(self, user_id: str, deadline: float) -> dict[str, str]:
        if time.monotonic() >= deadline:
            return {}  # waited behind others for too long: nobody reads this any more
        try:
            names = directory.shown_names(self.client, self.sessions, [user_id], self.clock())
        except (RoundtableError, SQLAlchemyError) as exc:
            log.warning("could not name a mentioned person: %s", _reason(exc))
            return {}
        return {user: f"@{name}" for user, name in names.items()}

    def _groups(self, deadline: float) -> dict[str, str]:
        """Every user group's name: one call lists them all, and all are kept."""
        if time.monotonic() >= deadline:
            return {}
        try:
            handles = directory.group_handles(self.client)
        except RoundtableError as exc:
            log.warning("could not name a mentioned user group: %s", _reason(exc))
            return {}
        return {g: f"@{handle}" for g, handle in handles.items() if handle}

    def _channel(self, channel_id: str, deadline: float) -> dict[str, str]:
        if time.monotonic() >= deadline:
            return {}
        try:
            return {channel_id: f"#{directory.channel_name(self.client, channel_id)}"}
        except RoundtableError as exc:
            log.warning("could not name a mentioned channel: %s", _reason(exc))
            return {}


def _reason(exc: Exception) -> str:
    """Why, without the ids or SQL parameters the error's own text holds (logs name nobody:
    bot.app.logs)."""
    cause = exc.__cause__
    return cause.reason if isinstance(cause, DeliveryError) else type(exc).__name__
