"""Votes: Borda count for ranked questions, counts and shares for choices."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace


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
    place: int = 0
    """1 for the best; options of equal standing share a place (1, 2, 2, 4)."""
    tied: bool = False
    """True when another option shares this place (shown as "=2")."""

    @property
    def place_label(self) -> str:
        """"2", or "=2" when another option shares the place."""
        return f"={self.place}" if self.tied else str(self.place)


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
    return _rows(options, scores, firsts, named, len(ballots), by_firsts=True)


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
    *,
    by_firsts: bool = False,
) -> list[RankRow]:
    """Rows best first. A ranking's ties are broken by first places; options still equal
    (and a choice's options chosen as often) share a place, listed in pack order."""
    order = {option: i for i, option in enumerate(options)}
    rows = sorted(
        (RankRow(o, scores[o], firsts[o], named[o], named[o] / ballots if ballots else 0.0)
         for o in options),
        key=lambda r: (-r.score, -r.first_places, order[r.option]))

    def standing(row: RankRow) -> tuple[int, ...]:
        return (row.score, row.first_places) if by_firsts else (row.score,)

    rows = sorted(rows, key=lambda r: (tuple(-v for v in standing(r)), order[r.option]))
    shares = Counter(standing(r) for r in rows)
    placed: list[RankRow] = []
    for i, row in enumerate(rows):
        same = placed[-1] if placed and standing(placed[-1]) == standing(row) else None
        placed.append(replace(row, place=same.place if same else i + 1,
                              tied=shares[standing(row)] > 1))
    return placed


def in_top(row: RankRow, picks: int) -> bool:
    """Whether the option is among the top `picks` the question asks for (ties at the edge
    are all in)."""
    return bool(row.score) and row.place <= picks
