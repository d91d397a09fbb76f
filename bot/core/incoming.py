"""What people send the bot, as every platform's adapter translates it: a message written in
a conversation with the bot, an edit of one, or a deletion of one.

Adapters translate (and check) a platform's payload into one of these before it is stored in
the inbox, so the inbox and everything after it are the same for every platform.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from storage.models import MAX_ROW_ID


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
    files: int = 0
    """Files and pictures the edited message carries: never kept, so the writer is told."""
    restored: bool = False
    """A deleted message its writer brought back (an Undo, where the platform has one), with
    its words."""


@dataclass(frozen=True)
class Deleted:
    channel_id: str
    author_id: str | None
    """None when the platform does not say; then only the conversation vouches for it."""
    message_id: str


@dataclass(frozen=True)
class Kept:
    """Words someone wrote that were not taken as an answer (a greeting, a question about the
    bot), kept with the question that waited for one then, so that they can still be saved
    as the answer to it, as if written as one (a button on the bot's reply carries them)."""

    round_id: int
    prompt_id: str
    channel_id: str
    message_id: str
    text: str
    thread_id: str | None = None

    def written_by(self, author_id: str) -> Written:
        return Written(self.channel_id, author_id, self.text, self.message_id, self.thread_id)

    def to_data(self) -> dict[str, Any]:
        """As a button carries it (JSON)."""
        return {"round": self.round_id, "prompt": self.prompt_id, "channel": self.channel_id,
                "message": self.message_id, "text": self.text, "thread": self.thread_id}

    @classmethod
    def from_data(cls, data: Any) -> Kept:
        """As a button carried it; ValueError when it is not what `to_data` makes."""
        if not isinstance(data, dict):
            raise ValueError(UNREADABLE)
        round_id, thread = data.get("round"), data.get("thread")
        fields = [data.get(k) for k in ("prompt", "channel", "message", "text")]
        if (isinstance(round_id, bool) or not isinstance(round_id, int)
                or not 0 < round_id <= MAX_ROW_ID
                or not all(isinstance(f, str) and f and len(f) <= KEPT_CHARS for f in fields)
                or not (thread is None or isinstance(thread, str) and len(thread) <= 200)
                # ids: PostgreSQL refuses a NUL in any query that names one
                or any("\x00" in str(f) for f in [*fields[:3], thread or ""])):
            raise ValueError(UNREADABLE)
        prompt, channel, message, text = (str(f) for f in fields)
        return cls(round_id, prompt, channel, message, text, thread)


KEPT_CHARS = 400
"""The longest field of a Kept a button may carry (greetings are short)."""
UNREADABLE = "that button could not be read; please write your answer instead"

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
