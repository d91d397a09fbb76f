"""How often "new since the last digest" announces a theme that is not new, or misses one that is.

Usage: python bench/new_themes.py [--data CSV ...] [--seed N] [--decide-only] [--folds DIR]

Issue 12 asks that answers falling into existing themes give no "new theme" line, and that a
few answers of a new subject give exactly one. Whether a regrouped theme counts as new ends in
``subjects.same_subject`` (cosine of mean MiniLM vectors against each earlier theme, from
``SAME_SUBJECT`` up taken for the same subject); this measures that decision on the labelled
sets (those of bench/digest_quality.py: the sample file and each set under bench/data).

For each question and each labelled theme H in turn (held out):

1. a first digest of a random part (40%) of the other themes' answers (non-answers included);
2. (a) the rest of those answers (up to 40) added: every "new theme" is a false one;
3. (b) H's answers added to (a): its first five, and all of them, each compared with (a);
   exactly one new theme is a hit (it is "right" when most of its answers are H's).

Digests go through the functions ``build_digest`` uses: ``theme_views`` with the theme engine
(``engine_grouping``), then ``changes.snapshot`` of the earlier digest and
``changes.with_changes`` with ``subjects.same_subject``, for each threshold tried (the
constant is set for the call and put back). No database: a recorded digest is its snapshot.

Also printed: the largest similarity of every theme that reached the subject test, split into
those made mostly of H's answers (really new: should be below the threshold) and the others
(the engine regrouping earlier subjects: should be at or above it).

Also measured: the direct decision build_digest now uses (``novelty.judge`` through
``changes.compare``): the answers added since the earlier digest, judged against that
digest's themes; a new theme is a group of them sharing a new subject's words
(``novelty.new_themes``), row "direct (shipped)". Its knobs are chosen by
bench/new_theme_rules.py. (Until the fourteenth session the groups came from the vectors and
the engine's consensus as well, and this bench printed a grid of their knobs, (cover,
GROUPED_TOGETHER, SHRINK): the figures of that time in docs name them.)

The threshold is chosen on the round-1 sets (sample file, pharmacy-first, keep-staff,
shortages, inequalities: fewest errors, the shipped value on a tie) and checked on the
round-2 sets (discharge, prescribers, near-misses, blood-pressure, medicines-waste).
--decide-only runs the round-1 sets alone, for choosing without looking at the others.

With --folds DIR (the fold models of ``bench/finetune_folds.py --keep DIR``) each set is read
by the fine-tuned model of the fold that held it out, so no set is judged by vectors trained on
it, and every set is in the decide half: the parameters are chosen over all of them.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from digest_quality import (  # noqa: E402
    QUESTIONS,
    SAMPLE_DATA,
    data_files,
    fold_models,
    load,
    questions,
    set_name,
)

from bot.core.digest import embeddings, novelty, subjects  # noqa: E402
from bot.core.digest.changes import (  # noqa: E402
    EARLIER_SHARE,
    not_judged,
    reading,
    snapshot,
    with_changes,
)
from bot.core.digest.lexicon import says_nothing  # noqa: E402
from bot.core.digest.model import AnswerView, DigestView, PromptDigest, RoundInfo  # noqa: E402
from bot.core.digest.theme_views import engine_grouping, theme_views  # noqa: E402
from storage.models import Digest  # noqa: E402

THRESHOLDS = (0.6, 0.65, 0.7, 0.75, 0.8)
DIRECT = "direct"
"""The key of the direct decision's row."""
FIRST_SHARE = 0.4
LATER_AT_MOST = 40
FEW = 5
DECIDE = ("sample file", "2026-12-04-pharmacy-first", "2026-12-04-keep-staff",
          "2026-12-04-shortages", "2026-12-04-inequalities")
"""Sets the threshold is chosen on (round 1); every other set checks it (round 2)."""

Row = dict[str, str]


@dataclass
class Tally:
    """Per set and threshold."""

    runs: int = 0
    false_new: int = 0
    runs_with_false: int = 0
    hits: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    none: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    extra: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    formed: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    """(b) runs where the engine made a theme of three or more answers, mostly H's."""

    def errors(self) -> int:
        """False new themes in (a), and (b) runs that are not exactly one right theme."""
        return self.false_new + sum(self.runs - self.right[k] for k in ("five", "all"))


def view(prompt_id: str, rows: Sequence[Row], when: str) -> DigestView:
    """The digest of one question's answers, grouped as build_digest groups them."""
    question = QUESTIONS.get(prompt_id, "")
    answers = [AnswerView(r["id"], r["text"], None, r.get("role") or None, False,
                          noise=says_nothing(r["text"])) for r in rows]
    built = theme_views(answers, "anonymous", engine_grouping, question)
    themes, unthemed, answers = built.themes, built.unthemed, built.marked(answers)
    prompt = PromptDigest(prompt_id, "", "text", question, len(answers), themes=themes,
                          unthemed_reply_ids=unthemed, answers=answers)
    info = RoundInfo(1, "bench", "bench", "", "2026-12-04", "open", "anonymous",
                     "2026-12-01T09:00:00+00:00", None, when)
    return DigestView(info, {"answered_any": len(rows)}, [prompt])


def recorded(digest: DigestView, period: str) -> Digest:
    """What record_digest stores for a digest: its snapshot."""
    return Digest(round_id=1, period=period, content=snapshot(digest))


SEEN: dict[tuple[str, ...], float] = {}
"""Largest similarity per candidate theme (its answers), filled by the cached similarities."""


def cached_similarities() -> Callable[[Sequence[str], Sequence[Sequence[str]]], list[float]]:
    plain = subjects.similarities

    @lru_cache(maxsize=4096)
    def cached(answers: tuple[str, ...], earlier: tuple[tuple[str, ...], ...]) -> list[float]:
        return plain(answers, earlier)

    def similarities(answers: Sequence[str], earlier: Sequence[Sequence[str]]) -> list[float]:
        out = cached(tuple(answers), tuple(tuple(e) for e in earlier))
        SEEN[tuple(answers)] = max(out, default=0.0)
        return out

    return similarities


def new_themes(later: DigestView, before: Digest, threshold: float) -> list[set[str]]:
    """The reply ids of each theme `later` announces as new, with SAME_SUBJECT = threshold."""
    shipped = subjects.SAME_SUBJECT
    subjects.SAME_SUBJECT = threshold
    try:
        changes = with_changes(later, before, subjects.same_subject).since_last
    finally:
        subjects.SAME_SUBJECT = shipped
    assert changes is not None
    themes = later.prompts[0].themes
    out = []
    for change in changes.new_themes:
        theme = next(t for t in themes if t.title == change.title
                     and len(t.reply_ids) == change.total)
        out.append(set(theme.reply_ids))
    return out


@lru_cache(maxsize=64)
def _direct_vectors(new: tuple[str, ...], earlier: tuple[tuple[str, ...], ...]) -> object:
    texts = [*new, *(t for group in earlier for t in group)]
    return novelty._vectors(texts)


def judged_texts(later: DigestView, before: Digest
                 ) -> tuple[list[str], tuple[str, ...], tuple[tuple[str, ...], ...],
                            tuple[int, ...], list[str], tuple[str, ...]]:
    """What changes.compare judges of `later` against `before`: the ids and texts of the new
    answers judged one by one, the texts of each earlier theme's answers it reads, how many
    each holds, and the ids and texts of the other new answers whose words are read."""
    assert before.content is not None
    prompt = later.prompts[0]
    old = [set(t["reply_ids"]) for t in before.content["prompts"][0]["themes"]]
    seen = set(before.content["prompts"][0].get("unthemed_reply_ids", [])).union(*old)
    current = [*prompt.unthemed_reply_ids, *(r for t in prompt.themes for r in t.reply_ids)]
    judged_out = not_judged(prompt)
    everyone = [r for r in current if r not in seen and r not in judged_out]
    texts = {a.reply_id: a.text for a in prompt.answers}
    present = set(current)
    holding = [o & present for o in old if o & present]
    fresh, worded, references = reading(prompt, everyone, holding)
    return (fresh, tuple(texts[r] for r in fresh),
            tuple(tuple(texts[r] for r in ids) for ids in references),
            tuple(len(ids) for ids in holding), worded, tuple(texts[r] for r in worded))


@contextmanager
def knobs(**values: float) -> Iterator[None]:
    """novelty's constants set to `values` for the block, then put back."""
    saved = {name: getattr(novelty, name) for name in values}
    for name, value in values.items():
        setattr(novelty, name, value)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(novelty, name, value)


def direct_new_themes(later: DigestView, before: Digest) -> list[set[str]]:
    """The reply ids of each group of new answers the direct decision (novelty.judge: the
    new answers against the earlier digest's themes) makes a new theme."""
    fresh, new, earlier, sizes, worded, worded_texts = judged_texts(later, before)
    if not fresh:
        return []
    vectors = _direct_vectors(new, earlier)
    rows = None if vectors is None else np.asarray(vectors)[:len(fresh)]
    listed = [*fresh, *worded]
    return [{listed[i] for i in group}
            for group in novelty.new_themes([*new, *worded_texts], earlier, rows, sizes)]


def gate(digest: DigestView, before: Digest, held: set[str]) -> str:
    """Where H's answers went, for reading the figures (the decision itself is compare's):
    no theme of three or more mostly H's; or H's theme continues an earlier one; or one in
    EARLIER_SHARE or more of it sat in earlier themes; or it reached the subject test."""
    assert before.content is not None
    old = [set(t["reply_ids"]) for t in before.content["prompts"][0]["themes"]]
    for theme in digest.prompts[0].themes:
        ids = set(theme.reply_ids)
        if len(ids & held) >= 3 and 2 * len(ids & held) > len(ids):
            if any(o and len(ids & o) * 2 > len(o) for o in old):
                return "continues an earlier theme"
            if len(ids & set().union(*old)) * EARLIER_SHARE >= len(ids):
                return "too many from earlier themes"
            return "reached the subject test"
    return "no theme of its own"


Key = float | str
"""A SAME_SUBJECT threshold (the matching decision), or DIRECT."""


def decided(key: Key, digest: DigestView, before: Digest) -> list[set[str]]:
    if isinstance(key, str):
        return direct_new_themes(digest, before)
    return new_themes(digest, before, key)


def label(key: Key) -> str:
    if isinstance(key, str):
        return "direct (shipped)"
    return f"{key}{' (shipped)' if key == subjects.SAME_SUBJECT else ''}"


@dataclass
class HeldOut:
    """One run: a question's digests with labelled theme H held out. `grown` is (a), judged
    against `before_a`; `later` holds (b) "five" and "all", judged against `before_b`."""

    held_ids: set[str]
    grown: DigestView
    before_a: Digest
    before_b: Digest
    later: dict[str, DigestView]


def held_out(rows: list[Row], seed: int) -> Iterator[HeldOut]:
    """The runs of one question, one per labelled theme held out (the module's steps 1-3)."""
    prompt_id = rows[0]["prompt_id"]
    for held in sorted({r["theme"] for r in rows} - {"noise"}):
        rng = random.Random(f"{seed}-{prompt_id}-{held}")
        others = [r for r in rows if r["theme"] != held]
        mine = [r for r in rows if r["theme"] == held]
        rng.shuffle(others)
        rng.shuffle(mine)
        cut = round(len(others) * FIRST_SHARE)
        first_rows = others[:cut]
        a_rows = first_rows + others[cut:cut + LATER_AT_MOST]
        first = view(prompt_id, first_rows, "2026-12-01T10:00:00+00:00")
        grown = view(prompt_id, a_rows, "2026-12-08T10:00:00+00:00")
        later = {"five": view(prompt_id, a_rows + mine[:FEW], "2026-12-15T10:00:00+00:00"),
                 "all": view(prompt_id, a_rows + mine, "2026-12-15T10:00:00+00:00")}
        yield HeldOut({r["id"] for r in mine}, grown, recorded(first, "week-1"),
                      recorded(grown, "week-2"), later)


def run_question(rows: list[Row], seed: int, tallies: dict[Key, Tally],
                 sims: dict[str, list[float]], why: Counter[str]) -> None:
    for run in held_out(rows, seed):
        held_ids, grown, later = run.held_ids, run.grown, run.later
        before_a, before_b = run.before_a, run.before_b
        SEEN.clear()
        for key, tally in tallies.items():
            tally.runs += 1
            false = decided(key, grown, before_a)
            tally.false_new += len(false)
            tally.runs_with_false += bool(false)
            for kind, digest in later.items():
                found = decided(key, digest, before_b)
                tally.hits[kind] += len(found) == 1
                tally.right[kind] += len(found) == 1 and 2 * len(found[0] & held_ids) > len(
                    found[0])
                tally.none[kind] += not found
                tally.extra[kind] += len(found) > 1
                tally.formed[kind] += any(
                    len(ids & held_ids) >= 3 and 2 * len(ids & held_ids) > len(ids)
                    for ids in (set(t.reply_ids) for t in digest.prompts[0].themes))
        for kind, digest in later.items():
            why[f"{kind}: {gate(digest, before_b, held_ids)}"] += 1
        texts = {r["text"]: r["id"] for r in rows}
        for answers, best in SEEN.items():
            ids = {texts[t] for t in answers if t in texts}
            sims["new" if 2 * len(ids & held_ids) > len(ids) else "regrouped"].append(best)


def spread(values: Sequence[float]) -> str:
    if not values:
        return "none"
    q = np.quantile(values, [0, 0.25, 0.5, 0.75, 1])
    return f"n={len(values)}: " + " / ".join(f"{v:.2f}" for v in q)


def below(values: Sequence[float]) -> str:
    return " ".join(f"{sum(v < t for v in values)}" for t in THRESHOLDS)


def report(name: str, tallies: dict[Key, Tally], sims: dict[str, list[float]],
           why: Counter[str]) -> None:
    print(f"\n## {name}")
    print("| threshold | runs | (a) false new themes (runs with any) | (b) five: exactly one "
          "(right) / none / more | (b) all: exactly one (right) / none / more | errors | "
          "H's own theme formed (five, all) |")
    print("|---|---|---|---|---|---|---|")
    for t, s in tallies.items():
        b = [f"{s.hits[k]} ({s.right[k]}) / {s.none[k]} / {s.extra[k]}" for k in ("five", "all")]
        print(f"| {label(t)} | {s.runs} | {s.false_new} ({s.runs_with_false}) | {b[0]} | "
              f"{b[1]} | {s.errors()} | {s.formed['five']}, {s.formed['all']} |")
    print("largest similarity to an earlier theme, of themes that reached the subject test "
          "(min / quartiles / max):")
    for kind in ("new", "regrouped"):
        print(f"- {kind}: {spread(sims[kind])}; below {list(THRESHOLDS)}: "
              f"{below(sims[kind])}")
    print("where H's answers went in (b): " + "; ".join(f"{k} {n}" for k, n in sorted(why.items())))


def add(total: dict[Key, Tally], part: dict[Key, Tally]) -> None:
    for t, s in part.items():
        into = total[t]
        into.runs += s.runs
        into.false_new += s.false_new
        into.runs_with_false += s.runs_with_false
        for k in ("five", "all"):
            into.hits[k] += s.hits[k]
            into.right[k] += s.right[k]
            into.none[k] += s.none[k]
            into.extra[k] += s.extra[k]
            into.formed[k] += s.formed[k]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append",
                        help="a labelled CSV (repeatable); default: the sample and bench/data")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--decide-only", action="store_true",
                        help="only the round-1 sets (for choosing parameters)")
    parser.add_argument("--folds", type=Path, metavar="DIR",
                        help="the fold models of bench/finetune_folds.py --keep DIR: each set "
                             "is read by the model that never trained on it, and every set is "
                             "in the decide half")
    args = parser.parse_args()
    QUESTIONS.update(questions())
    subjects.similarities = cached_similarities()  # type: ignore[assignment]
    files = [f.resolve() for f in args.data] if args.data else data_files()
    keys: list[Key] = [*THRESHOLDS, DIRECT]
    if args.decide_only:
        files = [f for f in files if f.stem in DECIDE or f == SAMPLE_DATA.resolve()]
    halves: dict[str, dict[Key, Tally]] = {h: {t: Tally() for t in keys}
                                           for h in ("decide", "check")}
    half_sims: dict[str, dict[str, list[float]]] = {h: defaultdict(list) for h in halves}
    half_why: dict[str, Counter[str]] = {h: Counter() for h in halves}
    model_of = fold_models(args.folds) if args.folds else {}
    if args.folds:
        files = [f for f in files if set_name(f) in model_of]
    for path in files:
        name = set_name(path)
        if args.folds:
            embeddings.use_model(model_of[name])
            _direct_vectors.cache_clear()
        start = time.perf_counter()
        tallies: dict[Key, Tally] = {t: Tally() for t in keys}
        sims: dict[str, list[float]] = defaultdict(list)
        why: Counter[str] = Counter()
        for rows in load(path).values():
            run_question(rows, args.seed, tallies, sims, why)
        half = "decide" if name in DECIDE or args.folds else "check"
        report(f"{name} ({half} half, {time.perf_counter() - start:.0f} s)", tallies, sims, why)
        add(halves[half], tallies)
        half_why[half] += why
        for kind, values in sims.items():
            half_sims[half][kind] += values
    for half in halves:
        report(f"all sets of the {half} half", halves[half], half_sims[half], half_why[half])
    shipped = subjects.SAME_SUBJECT
    chosen = min(THRESHOLDS, key=lambda t: (halves["decide"][t].errors(), t != shipped))
    print(f"\nchosen on the decide half: {chosen} (shipped {shipped}); errors on the check "
          f"half: {halves['check'][chosen].errors()} at {chosen}, "
          f"{halves['check'][shipped].errors()} at {shipped}")
    print(f"direct decision: errors on the decide half {halves['decide'][DIRECT].errors()}, "
          f"on the check half {halves['check'][DIRECT].errors()}")


if __name__ == "__main__":
    main()
