"""Votes: Borda scores, first places and ties, checked by hand."""

from __future__ import annotations

from bot.core.digest.ranking import borda, tally


def test_it_scores_top_three_rankings_by_borda_with_first_places() -> None:
    # picks = 3: first 3 points, second 2, third 1.
    # A: 3+2+3+1 = 9 (2 firsts); B: 2+3+1+2 = 8 (1); D: 0+1+0+3 = 4 (1); C: 1+0+2+0 = 3 (0)
    rows = borda(
        [["A", "B", "C"], ["B", "A", "D"], ["A", "C", "B"], ["D", "B", "A"]],
        ["A", "B", "C", "D"],
        3,
    )
    assert [(r.option, r.score, r.first_places, r.votes) for r in rows] == [
        ("A", 9, 2, 4),
        ("B", 8, 1, 4),
        ("D", 4, 1, 2),
        ("C", 3, 0, 2),
    ]
    assert [r.share for r in rows] == [1.0, 1.0, 0.5, 0.5]


def test_it_breaks_a_tie_by_first_places_then_by_the_packs_order() -> None:
    # A: 2+1+0+1 = 4 (1 first); B: 0+2+2+0 = 4 (2 firsts); C: 1+0+1+2 = 4 (1 first)
    rows = borda([["A", "C"], ["B", "A"], ["B", "C"], ["C", "A"]], ["A", "B", "C"], 2)
    assert [(r.option, r.score, r.first_places) for r in rows] == [
        ("B", 4, 2),
        ("A", 4, 1),
        ("C", 4, 1),
    ]


def test_it_keeps_the_packs_order_when_everything_ties() -> None:
    rows = borda([["A", "B"], ["B", "C"], ["C", "A"]], ["A", "B", "C"], 2)
    assert [(r.option, r.score) for r in rows] == [("A", 3), ("B", 3), ("C", 3)]


def test_it_gives_zero_to_everything_with_no_ballots() -> None:
    rows = borda([], ["A", "B"], 2)
    assert [(r.option, r.score, r.share) for r in rows] == [("A", 0, 0.0), ("B", 0, 0.0)]


def test_it_counts_choices_with_shares() -> None:
    rows = tally([["X"], ["X", "Y"], ["Y"], ["Z", "X"]], ["X", "Y", "Z"])
    assert [(r.option, r.score, r.share) for r in rows] == [
        ("X", 3, 0.75),
        ("Y", 2, 0.5),
        ("Z", 1, 0.25),
    ]
