"""Errors the core raises; each message is fit to show the person who caused it."""

from __future__ import annotations

from bot.core.said import Said, said


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
    if not words.plain.rstrip().endswith((".", "!", "?")):
        parts.append(".")
    return said(*parts)
