"""What the core needs from a chat platform: a Protocol each adapter implements.

The core hands the gateway domain objects (a pack's intro, a prompt, a digest view); the adapter
decides how they look on its platform. Nothing here knows Slack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.digest.model import DigestView
from bot.core.packs import Pack, Prompt


class DeliveryError(Exception):
    """Sending failed. `permanent` says that trying again cannot help (user gone, no channel);
    `uncertain` that the message may have arrived all the same (the connection dropped before
    the answer), so it must be looked for before it is sent again."""

    def __init__(self, reason: str, *, permanent: bool = False, uncertain: bool = False,
                 retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.uncertain = uncertain
        self.retry_after = retry_after
        """The platform said when to try again (rate limited): no fault of the person's."""


@dataclass(frozen=True)
class Sent:
    """Where a message landed: the conversation and the message's id in it."""

    channel_id: str
    message_ts: str


@dataclass(frozen=True)
class Question:
    """One question of a round, numbered as the person sees it. The first comes with the
    pack's intro (`intro`): the few lines that tell someone why they are asked."""

    round_id: int
    delivery_id: int
    prompt: Prompt
    number: int
    total: int
    intro: Pack | None = None


class ChatGateway(Protocol):
    """Sending on a chat platform; every method raises DeliveryError when it cannot."""

    def open_direct(self, user_id: str) -> str:
        """The id of the direct conversation with this user (opened if need be)."""
        ...

    def send_question(self, channel_id: str, question: Question) -> Sent:
        """Post one question, tagged with its delivery and prompt (see find_sent)."""
        ...

    def post_digest(self, channel_id: str, view: DigestView, digest_id: int | None = None,
                    *, top: Sent | None = None) -> Sent:
        """Post a digest, tagged with its id when given; returns the first (top) message.
        Given the `top` an earlier attempt posted, posts only the parts still missing."""
        ...

    def find_digest(self, channel_id: str, digest_id: int, since: datetime) -> Sent | None:
        """The top message of the digest tagged `digest_id` posted after `since`, if any."""
        ...

    def post_text(self, channel_id: str, text: str) -> Sent:
        """A short message of the bot's own words (never people's words unescaped)."""
        ...

    def find_sent(self, channel_id: str, delivery_id: int) -> dict[str | None, Sent]:
        """Messages of this delivery already in the conversation, by prompt id (None: an intro
        sent on its own, as versions before questions were asked one at a time did).

        For recovery only, when an earlier attempt's outcome is unknown: platforms limit how
        often this may be asked.
        """
        ...
