"""What people send the bot, as every platform's adapter translates it: a message written in
a conversation with the bot, an edit of one, or a deletion of one.

Adapters translate (and check) a platform's payload into one of these before it is stored in
the inbox, so the inbox and everything after it are the same for every platform.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class Written:
    """A message someone wrote to the bot: an answer, unless no question waits for one."""

    channel_id: str
    author_id: str
    text: str
    message_id: str
    thread_id: str | None = None
    files: int = 0
    """Files and pictures sent with it: never kept (only words are answers), so the writer is
    told."""


@dataclass(frozen=True)
class Edited:
    channel_id: str
    author_id: str
    message_id: str
    text: str
    thread_id: str | None = None
    """The thread the edited message is in, if any (where its confirmation went)."""


@dataclass(frozen=True)
class Deleted:
    channel_id: str
    author_id: str | None
    """None when the platform does not say; then only the conversation vouches for it."""
    message_id: str


Incoming = Written | Edited | Deleted
KINDS: dict[str, type[Written] | type[Edited] | type[Deleted]] = {
    "written": Written, "edited": Edited, "deleted": Deleted}


def to_payload(incoming: Incoming) -> dict[str, Any]:
    """As stored in the inbox (JSON)."""
    kind = next(k for k, v in KINDS.items() if isinstance(incoming, v))
    return {"kind": kind, **asdict(incoming)}


def from_payload(payload: dict[str, Any]) -> Incoming | None:
    """An incoming event as stored; None for a payload stored in another form (a platform's
    own, by an earlier version), which its adapter translates."""
    kind = KINDS.get(str(payload.get("kind")))
    if kind is None:
        return None
    fields = {k: v for k, v in payload.items() if k != "kind"}
    return kind(**fields)


def external_id(channel_id: str, message_id: str) -> str:
    """An answer's id on its platform: unique per conversation and message."""
    return f"{channel_id}:{message_id}"
