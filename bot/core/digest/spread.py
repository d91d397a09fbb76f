"""At most so many of a list, evenly spread over it: how the digest reads a bounded number of
a large theme's or a large round's answers."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TypeVar

T = TypeVar("T")


def spread(items: Sequence[T], at_most: int) -> list[T]:
    """Every item when there are at most `at_most`; else every k-th from the first, k the
    smallest step that keeps to `at_most`."""
    return list(items[::max(1, math.ceil(len(items) / at_most))])
