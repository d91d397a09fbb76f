"""At most so many of a list, evenly spread over it, or sampled: how the digest reads a
bounded number of a large theme's or a large round's answers."""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import TypeVar

import numpy as np

T = TypeVar("T")

SAMPLE = 100
"""Answers of a question the theme engine embeds and clusters; the rest are assigned.
Embedding is the cost. 100 keeps a theme of 3% of the answers in the sample at least twice
with probability ~0.8."""


def spread(items: Sequence[T], at_most: int) -> list[T]:
    """Every item when there are at most `at_most`; else every k-th from the first, k the
    smallest step that keeps to `at_most`."""
    return list(items[::max(1, math.ceil(len(items) / at_most))])


def model_sample(n: int) -> list[int]:
    """Indices of the answers the theme engine reads with the model among `n`: all when few;
    otherwise a fixed pseudo-random SAMPLE of them, in input order."""
    if n <= SAMPLE:
        return list(range(n))
    rng = np.random.default_rng(0)
    return sorted(rng.choice(n, size=SAMPLE, replace=False).tolist())


def read_first(items: Sequence[T], read: Collection[T], at_most: int) -> list[T]:
    """At most `at_most` of `items`, in their order: evenly spread over those in `read` (the
    answers the model has read already, so reading them again costs no model run), topped
    up from the others, spread. `spread` itself when every item is in `read`."""
    first = [i for i in items if i in read]
    if len(first) >= at_most:
        return spread(first, at_most)
    chosen = {*first, *spread([i for i in items if i not in read], at_most - len(first))}
    return [i for i in items if i in chosen]


def clustering_sample(out: Sequence[bool]) -> list[int]:
    """Indices, among the replies not `out` (set aside or doubtful), of those the theme engine
    clusters: at most SAMPLE, first those the non-answer check read with the model
    (`model_sample` of all the replies, `out` ones included), whose token states the model
    still holds, topped up, spread, from the others. All of them when few."""
    read = set(model_sample(len(out)))
    kept = [i for i, left_out in enumerate(out) if not left_out]
    position = {i: n for n, i in enumerate(kept)}
    return [position[i] for i in read_first(kept, read, SAMPLE)]
