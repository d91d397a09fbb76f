"""What a confirmation says of a vote read from someone's words, on every platform alike:
that it was read from their message, the options in the order understood, that their reason
was kept, and how to put it right. Adapters only format these words (and make them inert).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot.core.questions import Saved
from bot.core.said import Said, WhereAsked, said

NOT_WHAT_YOU_MEANT = said("Not what you meant? Answer the question again ", WhereAsked(), ".")
"""How to correct a vote read wrongly; once per message is enough."""


@dataclass(frozen=True)
class ReadBack:
    """A typed vote as the bot understood it."""

    number: int
    vote: str
    """"ranking" or "choice"."""
    options: tuple[str, ...]
    reason_kept: bool
    updated: bool = False
    """It replaced the vote stored before (the message was edited)."""
    quotable: bool = True
    """False once the person asked that it is never quoted: the digest does not show the
    reason."""

    @property
    def saved(self) -> str:
        """The start of its own confirmation (the question's words follow)."""
        verb = "Updated" if self.updated else "Saved"
        return f"{verb} your {self.vote} for question {self.number}, as I read your message: "

    @property
    def heading(self) -> str:
        """Its line under the question in a confirmation of several answers."""
        return f"Your {self.vote}, as I read your message:"

    @property
    def lines(self) -> list[str]:
        """The options in the order understood, numbered."""
        return [f"{n}. {option}" for n, option in enumerate(self.options, start=1)]

    @property
    def note(self) -> str | None:
        if not self.reason_kept:
            return None
        return Saved.REASON_KEPT if self.quotable else Saved.REASON_NOT_QUOTED


def read_back(saved: Saved) -> ReadBack | None:
    """How a vote typed in a message was understood; None for words, or a vote given in a
    form (the person chose those options themselves: there is nothing to read back)."""
    if not saved.typed or isinstance(saved.answer, str):
        return None
    vote = "ranking" if saved.asked.prompt.kind == "rank" else "choice"
    return ReadBack(saved.asked.number, vote, tuple(saved.answer), bool(saved.reason),
                    saved.updated, saved.quotable)


def correction(saved: Sequence[Saved]) -> Said | None:
    """How to correct what was read, when any of these answers was read from words."""
    return NOT_WHAT_YOU_MEANT if any(read_back(s) for s in saved) else None
