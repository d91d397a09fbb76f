"""What the core needs from the world: a clock, a chat platform (ChatGateway) and its
directory of people. Each platform adapter implements the protocols; nothing here knows one.

The core hands the gateway domain objects (a question, a digest view, a Said); the adapter
decides how they look on its platform.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol

from bot.core.digest.model import DigestView, Draft
from bot.core.errors import Refusal
from bot.core.incoming import Kept
from bot.core.questions import Question, Saved
from bot.core.said import Said

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.core.home import HomeView
    from bot.core.people import Audience, Looked

Clock = Callable[[], datetime]


def utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryError(Exception):
    """Sending failed. `permanent` says that trying again cannot help (user gone, no channel);
    `uncertain` that the message may have arrived all the same (the connection dropped before
    the answer), so it must be looked for before it is sent again."""

    def __init__(self, reason: str, *, permanent: bool = False, uncertain: bool = False,
                 retry_after: float | None = None, hint: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent
        self.uncertain = uncertain
        self.retry_after = retry_after
        """The platform said when to try again (rate limited): no fault of the person's."""
        self.hint = hint
        """What a person can do about it, in the platform's terms ("invite the app")."""

    @property
    def refusal(self) -> Refusal:
        return Refusal(self.reason, self.hint)


@dataclass(frozen=True)
class Sent:
    """Where a message landed: the conversation and the message's id in it."""

    channel_id: str
    message_id: str


@dataclass(frozen=True)
class Posted:
    """Where a digest landed: its top message, and every part by its place (0: the top, then
    one per question), as far as they are known."""

    top: Sent
    parts: dict[int, Sent]

    @property
    def channel_id(self) -> str:
        return self.top.channel_id

    @property
    def message_id(self) -> str:
        return self.top.message_id


@dataclass(frozen=True)
class Attachment:
    """A file the bot sends someone (their data, as JSON)."""

    filename: str
    title: str
    content: bytes


@dataclass(frozen=True)
class Where:
    """A place to answer someone: a conversation, and a thread in it when there is one."""

    channel_id: str
    thread_id: str | None = None


class ChatGateway(Protocol):
    """Sending on one chat platform; every method raises DeliveryError when it cannot."""

    platform: str

    def open_direct(self, user_id: str) -> str:
        """The id of the direct conversation with this user (opened if need be); the same
        each time for a person (recovery opens it again to look for what was sent)."""
        ...

    def send_question(self, channel_id: str, question: Question) -> Sent:
        """Post one question, tagged with its delivery and prompt (see find_sent)."""
        ...

    def say(self, where: Where, said: Said) -> Sent:
        """A short message of the bot's own words (plain parts escaped by the adapter)."""
        ...

    def offer_to_save(self, where: Where, said: Said, kept: Kept) -> Sent:
        """The bot's words about a message it did not take as an answer (a greeting), with a
        "Save as my answer" button that carries the message's words (`kept`)."""
        ...

    def confirm(self, where: Where, saved: Sequence[Saved]) -> Sent:
        """Tell someone which questions their answers were saved to (one message for
        answers that arrived together)."""
        ...

    def update_confirmation(self, sent: Sent, saved: Sequence[Saved]) -> bool:
        """Make a confirmation confirm its answers as they stand now (`saved`: one revised,
        `updated`, and those confirmed with it); False when that message is gone."""
        ...

    def replace_message(self, sent: Sent, said: Said) -> None:
        """Replace the words of one of the bot's own messages (a digest part that quoted
        someone who asked to be forgotten). A message already gone is not an error."""
        ...

    def delete_message(self, sent: Sent) -> None:
        """Delete one of the bot's own messages. A message already gone is not an error."""
        ...

    def replace_form(self, sent: Sent, said: Said) -> None:
        """Make a form of the bot's that is open (an edit form of a draft whose answers were
        deleted) show these words instead, with nothing left to save. A form already closed
        is not an error."""
        ...

    def send_file(self, where: Where, file: Attachment, said: Said) -> list[Sent]:
        """Send someone a file, with a few words; what holds the file on the platform (the
        messages, or the file), each for `delete_file`."""
        ...

    def delete_file(self, sent: Sent) -> None:
        """Take down one of what `send_file` returned. One already gone is not an error."""
        ...

    def publish_home(self, user_id: str, home: HomeView) -> None:
        """Show someone their own view: their open questions (and a facilitator's rounds)."""
        ...

    def post_digest(self, channel_id: str, view: DigestView, digest_id: int | None = None,
                    *, top: Sent | None = None) -> Posted:
        """Post a digest, tagged with its id when given; returns where its messages landed.
        Given the `top` an earlier attempt posted, posts only the parts still missing."""
        ...

    def send_draft(self, channel_id: str, draft: Draft) -> Sent:
        """Show a facilitator a digest waiting for review, with the ways to edit and approve
        it that the platform offers."""
        ...

    def update_draft(self, sent: Sent, draft: Draft) -> None:
        """Bring a draft shown earlier up to date (edited, approved or posted)."""
        ...

    def find_digest(self, channel_id: str, digest_id: int, since: datetime) -> Sent | None:
        """The top message of the digest tagged `digest_id` posted after `since`, if any."""
        ...

    def find_sent(self, channel_id: str, delivery_id: int) -> dict[str | None, Sent]:
        """Messages of this delivery already in the conversation, by prompt id (None: an intro
        sent on its own, as versions before questions were asked one at a time did).

        For recovery only, when an earlier attempt's outcome is unknown: platforms limit how
        often this may be asked.
        """
        ...


Gateways = Mapping[str, ChatGateway]
"""The gateway of each platform this process can send on, by platform name: what is sent is
sent on the platform of the person (or the round) it is for."""


def gateway_for(gateways: Gateways, platform: str) -> ChatGateway:
    gateway = gateways.get(platform)
    if gateway is None:
        raise DeliveryError(f"this process cannot send on {platform}", permanent=False)
    return gateway


class Directory(Protocol):
    """Who an audience is, on one platform: people with their names and time zones."""

    def resolve(self, audience: Audience, now: datetime) -> Looked:
        """The humans the audience names; RoundtableError when it names nobody to ask."""
        ...

    def remember(self, session: Session, looked: Looked, now: datetime) -> None:
        """In the transaction that stores the people: note whose details are fresh."""
        ...

    def cannot_post(self, channel_id: str) -> str | None:
        """Why a digest could not be posted to this channel now (the bot cannot see it, is
        not in it, or it is archived), in a facilitator's words; None when it can, or when the
        platform cannot tell."""
        ...
