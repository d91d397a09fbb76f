"""Rules for "a new theme since the last digest", on labelled sets the fine-tuned layers never
trained on.

Usage: python bench/new_theme_rules.py [--data CSV ...] [--seed N] [--all]

The runs are bench/new_themes.py's: per question and per labelled theme H held out, (a) 40
more answers of the other themes after a first digest of 40% of them (any new theme is false),
then (b) H's first five answers, and all of them, after (a) (exactly one new theme, mostly H's,
is right). Errors are counted as there: false new themes plus (b) runs that are not right.

The shipped rule (novelty.judge) reads three views. Two since the thirteenth session
(novelty.judge_vectors): the answer vectors, and the engine's consensus (how often its
clustering runs over the new and the earlier answers put two answers together). A new answer
is within an earlier theme's reach in a view when it is at least as close to it as a quantile
of the theme's own members (the vectors' quantile COVER_QUANTILE, the consensus'
TOGETHER_COVER); the answers beyond every theme's reach in the consensus are grouped (average
link on the shares, while at least GROUPED_TOGETHER); a group of three or more is new when it
agrees with itself more than with its nearest theme in both views and most of it is beyond
every theme's reach by its vectors too, or the runs put it together nearly always
(ALWAYS_TOGETHER). The third since the fourteenth (novelty.new_words): three or more new
answers sharing a word that so many of them would hold by chance less often than
WORDS_BY_CHANCE over the number of words tested are a new theme, merged with any group above
they overlap. Printed: the thirteenth session's rule, then with the words at several levels,
then the words alone; with --all, first the thirteenth session's grid (a vectors cover of 1.0
leaves the consensus alone to decide: the covers and the grouping without ALWAYS_TOGETHER, then
it at the covers chosen so) and the earlier rules below. Each knob was chosen on the decide
sets below, in turn: fewest errors among the rules that make no more false new themes than the
vectors-only rule before them.

The vectors-only rule (shipped until the twelfth session): an answer is covered by an earlier
theme when it is at least as close to the theme's centroid as the cover quantile of its own
members; uncovered answers are grouped (average link) while their mean cosine is at least the
link; a group of three or more that agrees with itself more than with its nearest theme is
new. On sets the layers never trained on, H's answers mostly stay uncovered but never reach
the link: their mean cosine is about 0.1. The twelfth session's three rules that do not depend
on a fixed cosine are printed with --all:

- *relative link*: the link is a quantile of the pairwise cosines inside the earlier themes
  (the question's own scale) instead of a fixed value;
- *as tight as the question's themes*: uncovered answers are grouped at, and a group must be
  at least as tight as, a quantile of the earlier themes' own mean pairwise cosines;
- *group coverage*: every new answer is grouped, and a group is new when its centroid is
  farther from each earlier theme's centroid than the given quantile (a significance level) of
  the centroids of random subsets of that theme's members of the group's size: the group's
  average is judged, not each answer.

The decide sets are the never-trained batches h, l, m, n, r and s to y. Each shipped choice
was checked, after it was made, on the nine unseen sets (batches z, 06a and 06b, given with
--data), the words also on the seventeenth batch (06c); bench/results/2026-12-06c- and
2026-12-06d-new-theme-rules.txt.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
import digest_quality as dq  # noqa: E402
import new_themes as nt  # noqa: E402

from bot.core.digest import novelty  # noqa: E402
from bot.core.digest.model import DigestView  # noqa: E402
from storage.models import Digest  # noqa: E402

NEVER = 2.0
"""An ALWAYS_TOGETHER no group reaches."""
NO_WORDS = 0.0
"""A WORDS_BY_CHANCE no word passes: the words view off."""
ALONE = 1.01
"""A WORD_FAMILY no two words reach: each word is its own family."""
VECTORS_ONLY_COVER, VECTORS_ONLY_LINK = 0.25, 0.25
"""The vectors-only rule's knobs when it was shipped."""
Matrix = NDArray[np.float32]
VectorRule = Callable[[Matrix, list[Matrix]], list[list[int]]]


@dataclass
class Judged:
    """What the rule sees of one later digest: the new answers' ids, texts and vectors, and
    the earlier themes' texts and vectors (as changes.compare reads them)."""

    fresh: list[str]
    texts: tuple[str, ...]
    new: Matrix
    earlier_texts: tuple[tuple[str, ...], ...]
    earlier: list[Matrix]


Rule = Callable[[Judged], list[list[int]]]


@dataclass
class Run:
    held: set[str]
    grown: Judged
    five: Judged
    every: Judged


def judged(later: DigestView, before: Digest) -> Judged:
    fresh, new, earlier = nt.judged_texts(later, before)
    vectors = novelty._vectors([*new, *(t for group in earlier for t in group)])
    assert vectors is not None
    return Judged(fresh, new, vectors[:len(fresh)], earlier,
                  novelty._split(vectors[len(fresh):], earlier))


def runs(path: Path, seed: int) -> list[Run]:
    return [Run(run.held_ids, judged(run.grown, run.before_a),
                judged(run.later["five"], run.before_b), judged(run.later["all"], run.before_b))
            for rows in dq.load(path).values() for run in nt.held_out(rows, seed)]


def shipped(cover: float, together_cover: float, together: float, always: float,
            words: float = NO_WORDS, family: float = ALONE, least: int = 3) -> Rule:
    """novelty.judge with these knobs (vectors' cover, consensus' cover, grouping,
    ALWAYS_TOGETHER: above 1, never; WORDS_BY_CHANCE: 0, the words not read; WORD_FAMILY:
    above 1, each word alone; GROUPED_AT_LEAST)."""
    def rule(judged: Judged) -> list[list[int]]:
        with nt.knobs(COVER_QUANTILE=cover, TOGETHER_COVER=together_cover,
                      GROUPED_TOGETHER=together, ALWAYS_TOGETHER=always,
                      WORDS_BY_CHANCE=words, WORD_FAMILY=family, GROUPED_AT_LEAST=least):
            return novelty.with_new_words(novelty.judge_vectors(judged.new, judged.earlier),
                                          judged.texts, judged.earlier_texts, judged.new).groups
    return rule


def words_only(words: float, family: float = ALONE) -> Rule:
    """The words view alone (novelty.new_words at this WORDS_BY_CHANCE and WORD_FAMILY)."""
    def rule(judged: Judged) -> list[list[int]]:
        with nt.knobs(WORDS_BY_CHANCE=words, WORD_FAMILY=family):
            return [sorted(g) for g in novelty.new_words(
                judged.texts, [t for theme in judged.earlier_texts for t in theme])]
    return rule


def on_vectors(rule: VectorRule) -> Rule:
    return lambda judged: rule(judged.new, judged.earlier)


def _groups(vectors: NDArray[np.float64], link: float) -> list[list[int]]:
    """Average-link groups of three or more rows, merged while their mean cosine is >= link."""
    if len(vectors) < 3:
        return []
    from scipy.cluster.hierarchy import fcluster, linkage

    labels = fcluster(linkage(vectors, method="average", metric="cosine"), t=1.0 - link,
                      criterion="distance")
    return [g for label in set(labels.tolist())
            if len(g := [i for i, x in enumerate(labels) if x == label]) >= 3]


def vectors_only(cover: float, link: float, relative: bool) -> VectorRule:
    """The rule shipped until the twelfth session, with these knobs; with `relative`, `link`
    is the quantile of the earlier themes' pairwise cosines used as the link."""
    def rule(new: Matrix, earlier: list[Matrix]) -> list[list[int]]:
        themes = [e for e in earlier if len(e)]
        with nt.knobs(COVER_QUANTILE=cover):
            close, over = novelty._reach(new, themes)
        rest = [i for i in range(len(new)) if over[i].max() < 0]
        level = _pairwise_quantile(themes, link) if relative else link
        out = []
        for group in _groups(new[rest].astype(np.float64), level):
            members = [rest[i] for i in group]
            vectors = new[members].astype(np.float64)
            total = vectors.sum(axis=0)
            cohesion = float(np.mean([np.dot(v, novelty._unit(total - v)) for v in vectors]))
            if cohesion > float(close[members].mean(axis=0).max()):
                out.append(members)
        return out
    return rule


def as_tight(cover: float, quantile: float) -> VectorRule:
    """Uncovered answers (cover as in the vectors-only rule) grouped while their mean cosine
    is at least the given quantile of the earlier themes' own mean pairwise cosines (at most
    VECTORS_ONLY_LINK); a group is new when it is at least that tight and agrees with itself
    more than with its nearest theme: as tight as a theme of this question, whatever the
    question's scale."""
    def rule(new: Matrix, earlier: list[Matrix]) -> list[list[int]]:
        themes = [e for e in earlier if len(e)]
        tight = [_mean_pairwise(e.astype(np.float64)) for e in themes if len(e) >= 3]
        if not tight:
            return []
        level = min(float(np.quantile(tight, quantile)), VECTORS_ONLY_LINK)
        return [g for g in vectors_only(cover, level, False)(new, earlier)
                if _mean_pairwise(new[g].astype(np.float64)) >= level]
    return rule


def _mean_pairwise(rows: NDArray[np.float64]) -> float:
    products = rows @ rows.T
    return float((products.sum() - np.trace(products)) / (len(rows) * (len(rows) - 1)))


def _pairwise_quantile(themes: Sequence[Matrix], quantile: float) -> float:
    values = [float(v) for e in themes if len(e) > 1
              for v in (e @ e.T)[np.triu_indices(len(e), 1)]]
    return float(np.quantile(values, quantile)) if values else VECTORS_ONLY_LINK


def group_coverage(level: float, link: float, draws: int = 200) -> VectorRule:
    rng = np.random.default_rng(0)

    def bar(theme: NDArray[np.float64], size: int) -> float:
        inside = (rng.random((draws, len(theme))).argsort(axis=1) < size).astype(np.float64)
        total = theme.sum(axis=0)
        picked = inside @ theme
        rest = total - picked
        close = (picked * rest).sum(axis=1) / np.maximum(
            np.linalg.norm(picked, axis=1) * np.linalg.norm(rest, axis=1), 1e-12)
        return float(np.quantile(close, level))

    def rule(new: Matrix, earlier: list[Matrix]) -> list[list[int]]:
        themes = [e.astype(np.float64) for e in earlier if len(e) > 3]
        vectors = new.astype(np.float64)
        out = []
        for group in _groups(vectors, link):
            centre = novelty._unit(vectors[group].sum(axis=0))
            if not any(float(np.dot(centre, novelty._unit(t.sum(axis=0))))
                       >= bar(t, min(len(group), len(t) - 1)) for t in themes):
                out.append(group)
        return out
    return rule


def _family(family: float) -> str:
    return ", each word alone" if family == ALONE else f", by family at {family}"


def score(rule: Rule, all_runs: Sequence[Run]) -> tuple[int, int, int, int]:
    """False new themes in (a), right in (b) five and (b) all, and errors."""
    false, right = 0, [0, 0]
    for run in all_runs:
        false += len(rule(run.grown))
        for kind, later in enumerate((run.five, run.every)):
            found = rule(later)
            ids = {later.fresh[i] for i in found[0]} if len(found) == 1 else set()
            right[kind] += bool(ids) and 2 * len(ids & run.held) > len(ids)
    five, every = right
    return false, five, every, false + 2 * len(all_runs) - five - every


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append",
                        help="a labelled CSV (repeatable); default: the decide sets")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--all", action="store_true",
                        help="also the earlier sessions' grids (the consensus' covers and "
                             "grouping, the vectors-only rules); slow")
    args = parser.parse_args()
    dq.QUESTIONS.update(dq.questions())
    files = args.data or [p for p in dq.data_files() if p.stem.startswith(dq.NEVER_TRAINED_DECIDE)]
    all_runs = [run for path in files for run in runs(path, args.seed)]
    print(f"{len(files)} sets, {len(all_runs)} runs of (a) and (b)\n")
    print("| rule | (a) false new themes | (b) five: right | (b) all: right | errors |")
    print("|---|---|---|---|---|")
    now = (novelty.COVER_QUANTILE, novelty.TOGETHER_COVER, novelty.GROUPED_TOGETHER,
           novelty.ALWAYS_TOGETHER, novelty.WORDS_BY_CHANCE, novelty.WORD_FAMILY,
           novelty.GROUPED_AT_LEAST)
    # With --all, the thirteenth session's grid without the words (first without
    # ALWAYS_TOGETHER, then with it at the covers chosen so), the words' levels and families.
    # Then always: that choice; the words at its knobs, each word alone (fourteenth session,
    # first step); by family at the level chosen next; and the vectors' and consensus' groups
    # of at least 3, 4 or 5 new answers (the last step).
    earlier = [*((c, t, 0.3, NEVER, NO_WORDS, ALONE, 3) for t in (0.05, 0.1, 0.15, 0.25)
                 for c in (0.1, 0.25, 0.5, 1.0)),
               (0.1, 0.1, 0.5, NEVER, NO_WORDS, ALONE, 3),
               *((0.1, 0.1, 0.3, a, NO_WORDS, ALONE, 3) for a in (0.95, 0.8)),
               *((0.1, 0.1, 0.3, 0.9, w, ALONE, 3) for w in (0.01, 0.05, 0.2)),
               *((0.1, 0.1, 0.3, 0.9, 0.1, f, 3) for f in (0.7, 0.6, 0.5))]
    grid = [*(earlier if args.all else []), (0.1, 0.1, 0.3, 0.9, NO_WORDS, ALONE, 3),
            (0.1, 0.1, 0.3, 0.9, 0.1, ALONE, 3),
            *((0.1, 0.1, 0.3, 0.9, 0.1, 0.55, n) for n in (3, 4, 5))]
    rules: list[tuple[str, Rule]] = [
        *((f"shipped rule, vectors cover {c}, consensus cover {t}, grouped at {g}, "
           f"{'never always together' if a == NEVER else f'always together at {a}'}, "
           f"{'words off' if w == NO_WORDS else f'words at {w}'}"
           f"{_family(f) if w != NO_WORDS else ''}, groups of at least {n}"
           f"{' (shipped)' if (c, t, g, a, w, f, n) == now else ''}",
           shipped(c, t, g, a, w, f, n))
          for c, t, g, a, w, f, n in grid),
        *((f"words only, at 0.1{_family(f)}", words_only(0.1, f)) for f in (ALONE, 0.6, 0.55)),
    ]
    if args.all:
        rules += [
            *((f"vectors only, cover {c}, link {g}"
               f"{' (before)' if (c, g) == (VECTORS_ONLY_COVER, VECTORS_ONLY_LINK) else ''}",
               on_vectors(vectors_only(c, g, False)))
              for c in (0.1, 0.25, 0.4) for g in (0.05, 0.1, 0.15, 0.25)),
            *((f"relative link, cover {c}, link at quantile {q}",
               on_vectors(vectors_only(c, q, True)))
              for c in (0.1, 0.25, 0.4) for q in (0.25, 0.5, 0.75)),
            *((f"as tight as the question's themes, cover {c}, at their quantile {q}",
               on_vectors(as_tight(c, q))) for c in (0.1, 0.25) for q in (0.5, 0.75)),
            *((f"group coverage, level {a}, link {g}", on_vectors(group_coverage(a, g)))
              for g in (0.05, 0.1, 0.15, 0.25) for a in (0.01, 0.05, 0.1)),
        ]
    for name, rule in rules:
        print(f"| {name} | " + " | ".join(str(v) for v in score(rule, all_runs)) + " |",
              flush=True)

if __name__ == "__main__":
    main()
