"""Rules for "a new theme since the last digest", on labelled sets the fine-tuned layers never
trained on.

Usage: python bench/new_theme_rules.py [--data CSV ...] [--seed N] [--two] [--mixed]
       [--growth-first | --wide | --words-read] [--all]

The runs are bench/new_themes.py's: per question and per labelled theme H held out, (a) 40
more answers of the other themes after a first digest of 40% of them (any new theme is false),
then (b) H's first five answers, and all of them, after (a) (exactly one new theme, mostly H's,
is right). Errors are counted as there: false new themes plus (b) runs that are not right.
With --two, also (c): five answers of each of two held-out themes at once (two_subjects);
with --mixed, (d): H's five answers in the same period as the 40 others (Run.among), and how
well the views of growth tell H's answers from the others there (`separation`), and how many
of H's answers are read and within an earlier theme's reach (`reached`). With
--growth-first, only the shipped rule and the rules tried for (d) in the seventeenth session
(`growth_first`) are printed. With --wide, the shipped rule, the rule before it and the
rules of the eighteenth session, which read the words of every new answer and every earlier
answer of the question (`Wide`, `wide_words`); with --words-read, the shipped rule and the rule
before it alone.

The shipped rule (novelty.new_themes, since the fifteenth session) reads the words: three or
more new answers sharing a word, or words of one family (WORD_FAMILY: the model's vectors of
each word read alone at least that close), that so many of them would hold by chance less
often than WORDS_BY_CHANCE over the number of words tested, are a new theme (the earlier
answers read counting for their themes' sizes; the answers of two such words one theme when
one answer holds both). Since the sixteenth session words exactly two new answers share are
tested too, in a family of tests of their own at the same level (novelty.PAIRED), and the
answers they tie count towards the three. Since the eighteenth session the words of every new
answer are read (changes.WORDS_READ_AT_MOST), not only of those judged one by one. Printed:
that rule over a grid of both knobs, and the fifteenth session's rule (no pairs) beside it.
From the thirteenth session to the fourteenth, the answer vectors and the engine's consensus
could announce a group as well (grouped by the consensus, new when beyond the earlier themes'
reach); on the decide sets they added almost no new subject found and most of the false new
themes, and were dropped (that rule is at commit 8ad93f1, its figures in
bench/results/2026-12-06f-new-theme-rules.txt). The knobs were chosen on the decide sets
below, at seeds 2026 and 2027: fewest errors among the rules that make no more false new
themes than the rule before them (45 in the 396 runs of both seeds).

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
was checked, after it was made, on the twelve sets kept unseen for themes (batches z, 06a, 06b
and 06c, given with --data); bench/results/2026-12-06c- to 2026-12-06h-new-theme-rules.txt.
"""

from __future__ import annotations

import argparse
import random
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
from bot.core.digest.changes import not_judged  # noqa: E402
from bot.core.digest.model import DigestView  # noqa: E402
from bot.core.digest.spread import spread  # noqa: E402
from storage.models import Digest  # noqa: E402

ALONE = 1.01
"""A WORD_FAMILY no two words reach: each word is its own family."""
LEVELS = (0.1, 0.3, 0.5, 0.7, 1.0)
"""WORDS_BY_CHANCE values tried."""
FAMILIES = (0.55, 0.575, 0.6, 0.65)
"""WORD_FAMILY values tried."""
VECTORS_ONLY_COVER, VECTORS_ONLY_LINK = 0.25, 0.25
"""The vectors-only rule's knobs when it was shipped."""
Matrix = NDArray[np.float32]
VectorRule = Callable[[Matrix, list[Matrix]], list[list[int]]]


@dataclass
class Judged:
    """What the rule sees of one later digest: the new answers' ids, texts and vectors, and
    the earlier themes' texts, sizes and vectors (as changes.compare reads them)."""

    fresh: list[str]
    texts: tuple[str, ...]
    new: Matrix
    earlier_texts: tuple[tuple[str, ...], ...]
    sizes: tuple[int, ...]
    earlier: list[Matrix]
    worded_ids: list[str]
    worded: tuple[str, ...]
    """The other new answers whose words alone the shipped rule reads (changes.reading)."""
    wide: Wide | None = None
    """With --wide: what the words could read of the same digest (eighteenth session)."""


@dataclass
class Wide:
    """Every new answer judged (up to WIDE_AT_MOST, spread) and every earlier answer of the
    question still there, each earlier theme's whole and the earlier unthemed answers that
    are answers: what a words test could read, words costing no model run. With the
    answers' vectors, taken over all of them together."""

    fresh: list[str]
    texts: tuple[str, ...]
    earlier_texts: tuple[tuple[str, ...], ...]
    unthemed: tuple[str, ...]
    new: Matrix
    earlier: list[Matrix]


IndexRule = Callable[[Judged], list[list[int]]]
"""A rule giving groups by index in `Judged.fresh`, then `Judged.worded_ids`."""
Rule = Callable[[Judged], list[set[str]]]
"""A rule giving the groups of new answers it announces as new themes, by reply id."""


@dataclass
class Run:
    held: set[str]
    grown: Judged
    five: Judged
    every: Judged
    among: Judged | None = None
    """(d), with --mixed: H's five answers and the 40 others judged against the first
    digest."""


def judged(later: DigestView, before: Digest, wide: bool = False) -> Judged:
    fresh, new, earlier, sizes, worded_ids, worded = nt.judged_texts(later, before)
    vectors = novelty._vectors([*new, *(t for group in earlier for t in group)])
    assert vectors is not None
    return Judged(fresh, new, vectors[:len(fresh)], earlier, sizes,
                  novelty._split(vectors[len(fresh):], earlier), worded_ids, worded,
                  wide_reading(later, before) if wide else None)


WIDE_AT_MOST = 400
"""New answers the wide reading takes at most (spread): in these runs, all of them."""


def wide_reading(later: DigestView, before: Digest) -> Wide:
    """`Wide` of `later` against `before`: the answers changes.compare judges, uncapped."""
    assert before.content is not None
    prompt = later.prompts[0]
    content = before.content["prompts"][0]
    old = [set(t["reply_ids"]) for t in content["themes"]]
    old_unthemed = set(content.get("unthemed_reply_ids", []))
    seen = old_unthemed.union(*old)
    current = [*prompt.unthemed_reply_ids, *(r for t in prompt.themes for r in t.reply_ids)]
    out = not_judged(prompt)
    texts = {a.reply_id: a.text for a in prompt.answers}
    fresh = spread([r for r in current if r not in seen and r not in out and r in texts],
                   WIDE_AT_MOST)
    present = {r for r in current if r in texts}
    holding = [sorted(o & present) for o in old if o & present]
    unthemed = [r for r in current if r in old_unthemed and r not in out and r in texts]
    earlier_texts = tuple(tuple(texts[r] for r in ids) for ids in holding)
    vectors = novelty._vectors([*(texts[r] for r in fresh),
                                *(t for group in earlier_texts for t in group)])
    assert vectors is not None
    return Wide(fresh, tuple(texts[r] for r in fresh), earlier_texts,
                tuple(texts[r] for r in unthemed), vectors[:len(fresh)],
                novelty._split(vectors[len(fresh):], earlier_texts))


def runs(path: Path, seed: int, mixed: bool = False, wide: bool = False) -> list[Run]:
    """(a) and (b) of each held-out run; with `mixed`, (d) from the same digests; with
    `wide`, each with its wide reading."""
    return [Run(run.held_ids, judged(run.grown, run.before_a, wide),
                judged(run.later["five"], run.before_b, wide),
                judged(run.later["all"], run.before_b, wide),
                judged(run.later["five"], run.before_a, wide) if mixed else None)
            for rows in dq.load(path).values() for run in nt.held_out(rows, seed)]


def by_id(rule: IndexRule) -> Rule:
    """`rule`'s groups by reply id."""
    return lambda judged: [{[*judged.fresh, *judged.worded_ids][i] for i in g}
                           for g in rule(judged)]


def wide_words(level: float, joint: bool = False) -> Rule:
    """The shipped words test (novelty.new_words, WORD_FAMILY and PAIRED as shipped) at
    WORDS_BY_CHANCE = `level`, on every new answer (`Wide`) against every earlier answer of
    the question (each counting as one). With `joint`, a group is new only when its answers'
    vectors are also closer to each other than to the earlier themes (`closer_together`).
    Tried in the eighteenth session; not shipped."""
    def rule(judged: Judged) -> list[set[str]]:
        wide = judged.wide
        assert wide is not None
        earlier = [*(t for group in wide.earlier_texts for t in group), *wide.unthemed]
        with nt.knobs(WORDS_BY_CHANCE=level):
            found = novelty.new_words(wide.texts, earlier)
        if joint:
            found = [g for g in found if closer_together(sorted(g), wide.new, wide.earlier)]
        return [{wide.fresh[i] for i in g} for g in found]
    return rule


def closer_together(members: list[int], new: Matrix, earlier: list[Matrix]) -> bool:
    """Whether a group's answers are closer to each other (each to the centroid of the rest)
    than to the nearest earlier theme (the group's mean cosine to its centroid): the
    vectors-only rule's test of a group."""
    themes = [e for e in earlier if len(e)]
    if not themes:
        return True
    vectors = new[members].astype(np.float64)
    total = vectors.sum(axis=0)
    cohesion = float(np.mean([np.dot(v, novelty._unit(total - v)) for v in vectors]))
    centroids = np.array([novelty._unit(e.astype(np.float64).mean(axis=0)) for e in themes])
    return cohesion > float((vectors @ centroids.T).mean(axis=0).max())


def words(level: float, family: float, paired: int = novelty.PAIRED,
          every: bool = True) -> IndexRule:
    """The shipped rule (novelty.new_themes) at this WORDS_BY_CHANCE and WORD_FAMILY (and
    PAIRED: 0 tests no word two answers share). Without `every`, on the new answers judged
    one by one only, as until the eighteenth session (their words alone)."""
    def rule(judged: Judged) -> list[list[int]]:
        texts = [*judged.texts, *judged.worded] if every else judged.texts
        with nt.knobs(WORDS_BY_CHANCE=level, WORD_FAMILY=family, PAIRED=paired):
            return novelty.new_themes(texts, judged.earlier_texts, judged.new, judged.sizes)
    return rule


def growth_first(view: str, with_shipped: bool) -> IndexRule:
    """Words tested among the new answers that no earlier theme's reach holds (`view`: "both"
    as novelty.covering reads it, or "vectors" alone), the new answers it holds counting as
    earlier answers (each as one answer read); with `with_shipped`, the shipped rule's groups
    too (the answers of both one group when they share one). Tried in the seventeenth session
    for (d); not shipped."""
    def rule(judged: Judged) -> list[list[int]]:
        themes = [e for e in judged.earlier if len(e)]
        if view == "both":
            free = [i for i, c in enumerate(novelty.covering(judged.new, judged.earlier))
                    if c is None]
        else:
            over = novelty._reach(judged.new, themes) if themes else None
            free = [i for i in range(len(judged.texts)) if over is None or over[i].max() < 0]
        taken = [i for i in range(len(judged.texts)) if i not in set(free)]
        earlier = [t for group in judged.earlier_texts for t in group]
        weights = [size / len(group) for group, size in
                   zip(judged.earlier_texts, judged.sizes, strict=True) for _ in group]
        each = sum(weights) / len(weights) if weights else 1.0
        found = [{free[i] for i in g} for g in novelty.new_words(
            [judged.texts[i] for i in free], [*earlier, *(judged.texts[i] for i in taken)],
            [*weights, *([each] * len(taken))])]
        if with_shipped:
            found += [set(g) for g in words(novelty.WORDS_BY_CHANCE, novelty.WORD_FAMILY)(judged)]
        return [sorted(g) for g in novelty._merged(found) if len(g) >= novelty.NEW_GROUP_AT_LEAST]
    return rule


def on_vectors(rule: VectorRule) -> IndexRule:
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
            over = novelty._reach(new, themes)
        close = new.astype(np.float64) @ np.array(
            [novelty._unit(e.astype(np.float64).mean(axis=0)) for e in themes]).T
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


@dataclass
class TwoRun:
    """(c): five answers of each of two held-out themes at once, after (a)."""

    held: tuple[set[str], set[str]]
    later: Judged


def two_subjects(path: Path, seed: int) -> list[TwoRun]:
    """Per question, each labelled theme H1 with the next, H2, held out together: a first
    digest of 40% of the other themes' answers, 40 more of them recorded, then five of H1's
    and five of H2's added (exactly two new themes, one mostly H1's and one mostly H2's, is
    right)."""
    out = []
    for rows in dq.load(path).values():
        prompt_id = rows[0]["prompt_id"]
        themes = sorted({r["theme"] for r in rows} - {"noise"})
        for first, second in zip(themes, [*themes[1:], *themes[:1]], strict=True):
            rng = random.Random(f"{seed}-{prompt_id}-{first}-{second}")
            others = [r for r in rows if r["theme"] not in (first, second)]
            held = [[r for r in rows if r["theme"] == h] for h in (first, second)]
            for part in (others, *held):
                rng.shuffle(part)
            grown_rows = others[:round(len(others) * nt.FIRST_SHARE) + nt.LATER_AT_MOST]
            grown = nt.view(prompt_id, grown_rows, "2026-12-08T10:00:00+00:00")
            later = nt.view(prompt_id, grown_rows + held[0][:nt.FEW] + held[1][:nt.FEW],
                            "2026-12-15T10:00:00+00:00")
            out.append(TwoRun(({r["id"] for r in held[0]}, {r["id"] for r in held[1]}),
                              judged(later, nt.recorded(grown, "week-2"))))
    return out


def score_mixed(rule: Rule, all_runs: Sequence[Run]) -> tuple[int, int]:
    """(d) runs right (H's five answers among the 40 others, judged against the first
    digest: exactly one new theme, mostly H's), and new themes that are not mostly H's."""
    right = other = 0
    for run in all_runs:
        assert run.among is not None
        found = rule(run.among)
        mostly = [g for g in found if 2 * len(g & run.held) > len(g)]
        right += len(found) == 1 and len(mostly) == 1
        other += len(found) - len(mostly)
    return right, other


def separation(all_runs: Sequence[Run]) -> tuple[float, float]:
    """(d): how well each view of the earlier themes tells the new subject's answers from the
    40 others, as the mean AUC over the runs of "a subject answer is farther from every
    earlier theme than another answer" (0.5 is chance): by the vectors' reach, and by the
    consensus (novelty._reach, novelty._together; the farther, the lower an answer's best)."""
    by_view: tuple[list[float], list[float]] = ([], [])
    for run in all_runs:
        assert run.among is not None
        themes = [e for e in run.among.earlier if len(e)]
        held = np.array([f in run.held for f in run.among.fresh])
        if not themes or held.all() or not held.any():
            continue
        for values, over in zip(by_view, (novelty._reach(run.among.new, themes),
                                          novelty._together(run.among.new, themes)),
                                strict=True):
            best = over.max(axis=1)
            lower = best[held][:, None] < best[~held][None, :]
            ties = best[held][:, None] == best[~held][None, :]
            values.append(float((lower + 0.5 * ties).mean()))
    return float(np.mean(by_view[0])), float(np.mean(by_view[1]))


def reached(all_runs: Sequence[Run]) -> str:
    """(d): how many of the subject's answers are read (changes.reading reads at most
    JUDGED_AT_MOST new answers), and how many of them, and of the others read, are within
    an earlier theme's reach (novelty.covering; by the vectors alone in brackets): the
    growth step's view of them, per run on average."""
    read = held = held_vectors = others = others_vectors = 0.0
    fewer = 0
    for run in all_runs:
        assert run.among is not None
        themes = [e for e in run.among.earlier if len(e)]
        mine = [f in run.held for f in run.among.fresh]
        covered = [c is not None for c in novelty.covering(run.among.new, run.among.earlier)]
        by_vectors = ([bool(row.max() >= 0) for row in novelty._reach(run.among.new, themes)]
                      if themes else [False] * len(mine))
        read += sum(mine)
        fewer += sum(mine) < novelty.NEW_GROUP_AT_LEAST
        held += sum(m and c for m, c in zip(mine, covered, strict=True))
        held_vectors += sum(m and c for m, c in zip(mine, by_vectors, strict=True))
        others += sum(not m and c for m, c in zip(mine, covered, strict=True))
        others_vectors += sum(not m and c for m, c in zip(mine, by_vectors, strict=True))
    n = len(all_runs)
    new = sum(len(run.among.fresh) for run in all_runs if run.among is not None) / n
    return (f"(d) per run: {new:.1f} new answers read, {read / n:.2f} of them the subject's "
            f"(fewer than {novelty.NEW_GROUP_AT_LEAST} in {fewer} runs); within an earlier "
            f"theme's reach: {held / n:.2f} of the subject's ({held_vectors / n:.2f} by the "
            f"vectors alone), {others / n:.1f} of the {new - read / n:.1f} others "
            f"({others_vectors / n:.1f})")


def score_two(rule: Rule, all_runs: Sequence[TwoRun]) -> tuple[int, int]:
    """(c) runs right, and runs with a new theme of two or more answers of each subject."""
    right = mixed = 0
    for run in all_runs:
        found = rule(run.later)
        mostly = [[g for g in found if 2 * len(g & h) > len(g)] for h in run.held]
        right += len(found) == 2 and all(len(m) == 1 for m in mostly)
        mixed += any(all(len(g & h) >= 2 for h in run.held) for g in found)
    return right, mixed


def score(rule: Rule, all_runs: Sequence[Run]) -> tuple[int, int, int, int]:
    """False new themes in (a), right in (b) five and (b) all, and errors."""
    false, right = 0, [0, 0]
    for run in all_runs:
        false += len(rule(run.grown))
        for kind, later in enumerate((run.five, run.every)):
            found = rule(later)
            ids = found[0] if len(found) == 1 else set()
            right[kind] += bool(ids) and 2 * len(ids & run.held) > len(ids)
    five, every = right
    return false, five, every, false + 2 * len(all_runs) - five - every


WIDE_LEVELS = (0.7, 1.0, 2.0, 5.0)
"""WORDS_BY_CHANCE values tried with the wide reading."""


def read_widely(all_runs: Sequence[Run]) -> str:
    """How many new and earlier answers the shipped rule reads, and the wide reading, per
    judgement on average, by kind of run."""
    parts = []
    for kind, field in (("(a)", "grown"), ("(b) five", "five"), ("(d)", "among")):
        judgements: list[Judged] = [j for r in all_runs
                                    if (j := getattr(r, field)) is not None and j.wide]
        if not judgements:
            continue
        n = len(judgements)
        new = sum(len(j.fresh) for j in judgements) / n
        worded = sum(len(j.worded) for j in judgements) / n
        earlier = sum(sum(len(g) for g in j.earlier_texts) for j in judgements) / n
        wide_new = sum(len(j.wide.fresh) for j in judgements if j.wide) / n
        wide_earlier = sum(sum(len(g) for g in j.wide.earlier_texts) + len(j.wide.unthemed)
                           for j in judgements if j.wide) / n
        parts.append(f"{kind}: {new:.1f} new judged one by one and {worded:.1f} more by "
                     f"their words, against {earlier:.1f} earlier read; widely {wide_new:.1f} "
                     f"against {wide_earlier:.1f}")
    return "answers per judgement, " + "; ".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append",
                        help="a labelled CSV (repeatable); default: the decide sets")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--two", action="store_true",
                        help="also (c): two new subjects at once, five answers each")
    parser.add_argument("--mixed", action="store_true",
                        help="also (d): a new subject's five answers among 40 others")
    parser.add_argument("--growth-first", action="store_true",
                        help="only the shipped rule and the rules that test words among the "
                             "new answers no earlier theme's reach holds (seventeenth session)")
    parser.add_argument("--wide", action="store_true",
                        help="only the shipped rule and the words tested on every new and "
                             "earlier answer (eighteenth session)")
    parser.add_argument("--words-read", action="store_true",
                        help="only the shipped rule and the rule before it, which read the "
                             "words of the new answers judged one by one only")
    parser.add_argument("--all", action="store_true",
                        help="also the rules of the vectors alone shipped until the twelfth "
                             "session and tried then; slow")
    args = parser.parse_args()
    dq.QUESTIONS.update(dq.questions())
    files = args.data or [p for p in dq.data_files() if p.stem.startswith(dq.NEVER_TRAINED_DECIDE)]
    all_runs = [run for path in files for run in runs(path, args.seed, args.mixed, args.wide)]
    print(f"{len(files)} sets, {len(all_runs)} runs of (a) and (b)\n")
    if args.wide:
        print(read_widely(all_runs) + "\n")
    now = (novelty.WORDS_BY_CHANCE, novelty.WORD_FAMILY)
    rules: list[tuple[str, Rule]] = [
        (f"words at {level}, by family at {family}{' (shipped)' if (level, family) == now else ''}",
         by_id(words(level, family))) for family in FAMILIES for level in LEVELS]
    rules.append(("words at 0.1, each word alone (fourteenth session, first step)",
                  by_id(words(0.1, ALONE))))
    rules.append(("words at 0.7, by family at 0.6, no word two answers share (fifteenth "
                  "session)", by_id(words(0.7, 0.6, paired=0))))
    if args.growth_first:
        rules = [("words at 0.7, by family at 0.6 (shipped)", by_id(words(*now))),
                 *((f"words among the new answers beyond {label} reach"
                    f"{', and the shipped rule' if both else ''}",
                    by_id(growth_first(view, both)))
                   for label, view in (("both views'", "both"), ("the vectors'", "vectors"))
                   for both in (False, True))]
    if args.wide or args.words_read:
        rules = [("words at 0.7, by family at 0.6, of every new answer (shipped)",
                  by_id(words(*now))),
                 ("words at 0.7, by family at 0.6, of the new answers judged one by one only "
                  "(shipped until the eighteenth session)", by_id(words(*now, every=False)))]
    if args.wide:
        rules += [*((f"words on every new answer against every earlier answer, at {level}",
                     wide_words(level)) for level in WIDE_LEVELS),
                  *((f"words on every new answer against every earlier answer, at {level}, "
                     f"and the group's vectors closer together than to the earlier themes",
                     wide_words(level, joint=True)) for level in WIDE_LEVELS)]
    if args.all:
        rules += [
            *((f"vectors only, cover {c}, link {g}"
               f"{' (before)' if (c, g) == (VECTORS_ONLY_COVER, VECTORS_ONLY_LINK) else ''}",
               by_id(on_vectors(vectors_only(c, g, False))))
              for c in (0.1, 0.25, 0.4) for g in (0.05, 0.1, 0.15, 0.25)),
            *((f"relative link, cover {c}, link at quantile {q}",
               by_id(on_vectors(vectors_only(c, q, True))))
              for c in (0.1, 0.25, 0.4) for q in (0.25, 0.5, 0.75)),
            *((f"as tight as the question's themes, cover {c}, at their quantile {q}",
               by_id(on_vectors(as_tight(c, q)))) for c in (0.1, 0.25) for q in (0.5, 0.75)),
            *((f"group coverage, level {a}, link {g}",
               by_id(on_vectors(group_coverage(a, g))))
              for g in (0.05, 0.1, 0.15, 0.25) for a in (0.01, 0.05, 0.1)),
        ]
    table(rules, lambda rule: score(rule, all_runs), "(a) false new themes",
          "(b) five: right", "(b) all: right", "errors")
    if args.mixed:
        print(f"\n(d) {len(all_runs)} runs: five answers of a new subject among 40 others\n")
        table(rules, lambda rule: score_mixed(rule, all_runs),
              "(d) right: one new theme, mostly the subject's", "other new themes")
        vectors, consensus = separation(all_runs)
        print(f"\n(d) how far the subject's answers stand from the earlier themes, against "
              f"the 40 others (mean AUC, 0.5 is chance): by the vectors {vectors:.3f}, by the "
              f"consensus {consensus:.3f}")
        print(reached(all_runs))
    if args.two:
        two = [run for path in files for run in two_subjects(path, args.seed)]
        print(f"\n(c) {len(two)} runs: two new subjects at once\n")
        table(rules, lambda rule: score_two(rule, two),
              "(c) right: two new themes, one of each", "a new theme mixing both")


def table(rules: Sequence[tuple[str, Rule]], scored: Callable[[Rule], tuple[int, ...]],
          *columns: str) -> None:
    """A Markdown table: a row per rule, its figures under `columns`."""
    print("| rule | " + " | ".join(columns) + " |")
    print("|---" * (len(columns) + 1) + "|")
    for name, rule in rules:
        print(f"| {name} | " + " | ".join(str(v) for v in scored(rule)) + " |", flush=True)


if __name__ == "__main__":
    main()
