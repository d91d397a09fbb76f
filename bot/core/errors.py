"""Errors the core raises; each message is fit to show the person who caused it."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.said import Part, Said, said


class RoundtableError(Exception):
    """A request the core refuses; nothing was changed. `said` is the message with its
    places named the platform's way (str() is plain text)."""

    def __init__(self, message: str = "", said: Said | None = None) -> None:
        super().__init__(message or (said.plain if said is not None else ""))
        self.said = said if said is not None else Said((message,))


class NotFound(RoundtableError):
    pass


class RoundClosed(RoundtableError):
    pass


class InvalidAnswer(RoundtableError):
    pass


class NotAllowed(RoundtableError):
    """The person may not do this (not a facilitator; not the author of that answer)."""


def as_sentence(words: Said) -> Said:
    """A refusal's words read on their own in chat: a capital first and a full stop last."""
    parts = list(words.parts)
    if parts and isinstance(parts[0], str) and parts[0]:
        parts[0] = parts[0][0].upper() + parts[0][1:]
    if not words.plain.rstrip().endswith((".", "!", "?", "…")):
        parts.append(".")
    return said(*parts)


@dataclass(frozen=True)
class Refusal:
    """Why a platform refused something for good, in its words, and what a person can do
    about it in its terms (a DeliveryError's reason and hint)."""

    reason: str
    hint: str | None = None

    def then(self, *next_step: Part | Said) -> Said:
        """The refusal as one instruction: why, what to fix, and `next_step` once it is
        fixed ("not_in_channel. Invite @Roundtable to the channel (…). Then approve it.")."""
        if self.hint:
            return said(f"{self.reason}. {self.hint.rstrip('.')}. Then ", *next_step, ".")
        return said(f"{self.reason}. Once that is fixed, ", *next_step, ".")
