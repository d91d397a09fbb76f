"""How an edit form names a theme so that it finds the same theme after other edits.

A theme has no id (bot.core.digest.edits): the draft numbers a question's themes by size, and
any edit, or an answer coming in, can change the numbers. A form opened before another edit
names each theme it offers by a mark of the answers the theme held as shown: how many, and a
sample of them small enough for a choice's value (a chat platform may take no more than 150
characters). A theme of the draft now is the one the form showed while it holds more than half
of the answers it held then and those are more than half of its own: it gained or lost a few
answers, it was not merged into a larger theme or split up. Stored edits find their themes
much the same way, by most of their answers (edits.matching).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.core.digest.model import ThemeView

SAMPLED = 12
"""Answers a mark samples (every answer of a smaller theme)."""
HASH_CHARS = 5
"""Characters of an answer's hash in a mark: 25 bits, so that two answers of one question
share one about once in a million pairs."""
_TEXT = re.compile(rf"(\d+)\.((?:[a-z2-7]{{{HASH_CHARS}}})+)")


@dataclass(frozen=True)
class ThemeMark:
    """What a theme held when it was shown: how many answers, and the hashes of a sample of
    them (those that sort first: the same sample whoever takes it)."""

    size: int
    sample: tuple[str, ...]

    @property
    def text(self) -> str:
        """The mark in a form's choice: `14.` and the sample's hashes, at most 65 characters."""
        return f"{self.size}." + "".join(self.sample)

    @classmethod
    def parse(cls, text: str) -> ThemeMark | None:
        """The mark `text` holds, or None when it is not one."""
        found = _TEXT.fullmatch(text)
        if found is None:
            return None
        hashes = found.group(2)
        sample = tuple(hashes[i:i + HASH_CHARS] for i in range(0, len(hashes), HASH_CHARS))
        size = int(found.group(1))
        return cls(size, sample) if len(sample) <= min(size, SAMPLED) else None


def mark_of(reply_ids: Iterable[str]) -> ThemeMark:
    """The mark of a theme that holds these answers."""
    ids = set(reply_ids)
    return ThemeMark(len(ids), tuple(sorted({_hashed(r) for r in ids})[:SAMPLED]))


def marked(themes: Sequence[ThemeView], mark: ThemeMark) -> int | None:
    """The index of the theme that is the one `mark` was taken of, or None when none is (at
    most one can hold most of its sample)."""
    for index, theme in enumerate(themes):
        if _same(theme.reply_ids, mark):
            return index
    return None


def _same(reply_ids: Sequence[str], mark: ThemeMark) -> bool:
    if not mark.sample or not reply_ids:
        return False
    held = {_hashed(r) for r in reply_ids}
    shared = sum(1 for h in mark.sample if h in held)
    # shared / sampled estimates the share of the marked answers still here; times its size,
    # how many of them are: more than half of each theme
    return (shared * 2 > len(mark.sample)
            and shared * mark.size * 2 > len(set(reply_ids)) * len(mark.sample))


def _hashed(reply_id: str) -> str:
    digest = hashlib.sha256(reply_id.encode()).digest()
    return base64.b32encode(digest[:5]).decode().lower()[:HASH_CHARS]
