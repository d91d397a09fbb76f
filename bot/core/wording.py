"""Small pieces of English shared by everything that writes sentences for people."""

from __future__ import annotations

from collections.abc import Sequence


def listed(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def counted(n: int, one: str, many: str | None = None) -> str:
    """"1 answer", "3 answers", "1 person", "2 people"."""
    return f"{n} {one if n == 1 else many or one + 's'}"
