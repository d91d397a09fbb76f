"""Votes: Borda count for ranked questions, counts and shares for choices."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class RankRow:
    option: str
    score: int
    """rank: Borda points (first of N picks gets N, last gets 1); choice: times chosen."""
    first_places: int
    votes: int
    """How many ballots named this option at all."""
    share: float
    """votes / ballots."""


def borda(ballots: Sequence[Sequence[str]], options: Sequence[str], picks: int) -> list[RankRow]:
    """Score top-N rankings: position i (0-based) earns picks - i points. Ties keep pack order."""
    scores: Counter[str] = Counter()
    firsts: Counter[str] = Counter()
    named: Counter[str] = Counter()
    for ballot in ballots:
        for position, option in enumerate(ballot[:picks]):
            scores[option] += picks - position
            named[option] += 1
        if ballot:
            firsts[ballot[0]] += 1
    return _rows(options, scores, firsts, named, len(ballots))


def tally(ballots: Sequence[Sequence[str]], options: Sequence[str]) -> list[RankRow]:
    """Count choices: score is the number of ballots that chose the option."""
    named: Counter[str] = Counter(o for ballot in ballots for o in set(ballot))
    firsts: Counter[str] = Counter(b[0] for b in ballots if len(b) == 1)
    return _rows(options, named, firsts, named, len(ballots))


def _rows(
    options: Sequence[str],
    scores: Counter[str],
    firsts: Counter[str],
    named: Counter[str],
    ballots: int,
) -> list[RankRow]:
    order = {option: i for i, option in enumerate(options)}
    rows = [
        RankRow(o, scores[o], firsts[o], named[o], named[o] / ballots if ballots else 0.0)
        for o in options
    ]
    return sorted(rows, key=lambda r: (-r.score, -r.first_places, order[r.option]))
