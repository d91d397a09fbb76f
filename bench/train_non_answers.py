"""Fit the small classifier that keeps remarks about the process out of themes.

Usage: python bench/train_non_answers.py [--check] [--quantile Q] | --folds DIR

A reply such as a question to the organisers or a remark about the survey often names
something specific (a date, "slides", "the bot"), so the word-level views of ``noise.py``
cannot tell it from a short real answer. What such replies share is a *direction* in the
sentence model's space: they talk about the exchange, not the question's subject. This fits
a logistic regression on each reply's plain MiniLM sentence vector, centred on its own
question's replies (what it says beyond what every reply to that question says), to the
labelled non-answers of every set ``bench/digest_quality.py`` scores by default: the sample
file ``../shared/data/replies-labeled.csv`` and every set under ``bench/data`` but those kept
unseen (``digest_quality.STATUS``) or kept to score what is trained
(``digest_quality.NEVER_TRAINED``). Until 5 Dec (sixth session) it was fitted on the sample
file and the twelve sets of 4 Dec and the morning of 5 Dec alone.

Each set written to be scored unseen was kept out until it had been scored once with the
engine fitted on the sets before it (docs/theme-engine.md); the training batches (2026-12-05i,
j and k) were written to be trained on. The leave-one-set-out figures below are the estimate
for unseen answers.

A reply is kept out only when both hold: its score is above the threshold and its relevance is
under its question's lower quartile (``noise.doubtful``). The threshold is a high quantile of
the scores *real* answers get in the training data: QUANTILES are tried leave-one-set-out
(fit on all sets but one, judge that one) and the one that keeps out the most non-answers the
other views miss, less the real answers it keeps out, is shipped (the higher one on a tie).
A real answer kept out is not lost: it is listed with the other answers, only not themed or
quoted; a non-answer in a theme may be quoted as what people said. Until 5 Dec the threshold
was the highest score of any real answer (leave-one-set-out over thirteen sets: 13 of the 37
non-answers the other views miss, 1 real answer); the 0.995 quantile keeps out 25 of the 37
for 8 real answers in about 800. The weights are written to
``bot/core/digest/non_answer_model.py``.

Since the layers are fine-tuned on the same sets' answers and non-answers (seventh session),
the leave-one-set-out table reads those sets through a model that learned them: the word views
look stronger there than on unseen answers, and the choice leans towards the highest quantile.
``--folds DIR`` judges each set through a fold model that never trained on it; the quantile
shipped is the one the same rule picks there, given with ``--quantile``
(bench/results/2026-12-05n-non-answers-in-training.txt).

It prints, leave-one-set-out, for each quantile and then per set at the chosen one, how many
non-answers the classifier would keep out of themes that the other views miss, and how many
real answers it would wrongly keep out. ``--check`` refits at the shipped quantile
(``QUANTILE`` in that file) and fails if the shipped weights differ.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import digest_quality as dq  # noqa: E402

from bot.core.digest import embeddings, noise  # noqa: E402
from bot.core.digest import non_answer_model as shipped  # noqa: E402

TRAINING = {dq.set_name(path): path for path in dq.training_files()}
C = 1.0  # inverse L2 strength; the features are unit-scale
CHECK_TOLERANCE = 1e-4
QUANTILES = (1.0, 0.995, 0.99, 0.98, 0.97, 0.95)
"""Quantiles of the real answers' scores tried as the threshold (1.0: the highest)."""
OUT = ROOT / "bot" / "core" / "digest" / "non_answer_model.py"


def features(path: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[bool]]]:
    """Per question: centred plain vectors, noise labels, relevance below q1, old flags."""
    questions = dq.questions()
    encoder = embeddings.default_encoder()
    out = []
    for prompt, rows in dq.load(path).items():
        rows = [r for r in rows if not noise.says_nothing(r["text"])]
        texts = [r["text"] for r in rows]
        question = questions.get(prompt, "")
        plain = embeddings.pool(encoder, [*texts, question]).plain
        scores = noise.relevance(plain[:-1], np.ones(len(texts), dtype=bool), plain[-1])
        low = np.quantile(scores, 0.25)
        flags = noise.not_answers(texts, scores, noise.relevance_floors(scores))
        out.append((noise.centred_rows(plain[:-1]), np.array([r["theme"] == "noise" for r in rows]),
                    scores < low, np.array(flags), texts))
    return out


def fit(data: list, quantile: float) -> tuple[np.ndarray, float, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([d[0] for d in data])
    y = np.concatenate([d[1] for d in data])
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(x, y)
    weights = model.coef_[0].astype(np.float64)
    bias = float(model.intercept_[0])
    logits = x @ weights + bias
    return weights, bias, float(np.quantile(logits[~y], quantile))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    parser.add_argument("--quantile", type=float, choices=QUANTILES,
                        help="ship this quantile instead of the one chosen leave-one-set-out "
                             "(for a choice made out of fold, with --folds)")
    parser.add_argument("--folds", type=Path, metavar="DIR",
                        help="judge out of fold instead: for each model folder DIR/fold-N of "
                             "bench/finetune_folds.py --keep, fit on its training sets' "
                             "features and judge the sets it held out")
    args = parser.parse_args()
    if args.folds:
        out_of_fold(args.folds)
        return
    sets = {name: features(path) for name, path in TRAINING.items()}
    tallies = {q: held_out(sets, q) for q in QUANTILES}
    print("| quantile of real answers' scores | non-answers the other views miss | kept out by "
          "the classifier | real answers kept out |")
    print("|---|---|---|---|")
    for q, per_set in tallies.items():
        missed, new, wrong = (sum(t[i] for t in per_set.values()) for i in (1, 2, 3))
        print(f"| {q} | {missed} | {new} | {wrong} |")
    given = shipped.QUANTILE if args.check and args.quantile is None else args.quantile
    chosen = given if given is not None else max(
        QUANTILES, key=lambda q: (sum(t[2] - t[3] for t in tallies[q].values()), q))
    print(f"\nchosen: {chosen}{' (given)' if given is not None else ''}\n")
    print("| held-out set | non-answers | kept out by the other views | kept out by the "
          "classifier as well | real answers kept out |")
    print("|---|---|---|---|---|")
    for held, (n, missed, new, wrong, _) in tallies[chosen].items():
        print(f"| {held} | {n} | {n - missed} | {new} | {wrong} |")
    weights, bias, threshold = fit([q for s in sets.values() for q in s], chosen)
    text = render(weights, bias, threshold, chosen)
    if args.check:
        fresh = np.array([*weights, bias, threshold])
        kept = np.array([*shipped.WEIGHTS, shipped.BIAS, shipped.THRESHOLD])
        # A refit on another machine's arithmetic differs in the sixth decimal.
        if fresh.shape != kept.shape or not np.allclose(fresh, kept, atol=CHECK_TOLERANCE):
            sys.exit(f"{OUT} differs from a fresh fit")
        print("shipped weights match a fresh fit")
        return
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} (threshold {threshold:.4f})")


def judged(questions: list, weights: np.ndarray, bias: float,
           threshold: float) -> tuple[int, int, int, int, int]:
    """One set's questions judged by a fitted classifier: (non-answers, those the other views
    miss, those the classifier keeps out as well, real answers it keeps out, real answers the
    other views set aside)."""
    n = missed = new = wrong = refused = 0
    for x, y, below, flags, _ in questions:
        doubtful = (x @ weights + bias > threshold) & below
        n += int(y.sum())
        missed += int((y & ~flags).sum())
        new += int((y & doubtful & ~flags).sum())
        wrong += int((~y & doubtful & ~flags).sum())
        refused += int((~y & flags).sum())
    return n, missed, new, wrong, refused


def held_out(sets: dict[str, list], quantile: float) -> dict[str, tuple[int, int, int, int, int]]:
    """Per set, fitted on the others: what `judged` counts."""
    return {held: judged(sets[held], *fit([q for n, s in sets.items() if n != held for q in s],
                                          quantile))
            for held in sets}


def out_of_fold(folder: Path) -> None:
    """Each set judged by a classifier fitted on features of a sentence model that never
    trained on it (the fold's model), for every quantile: the figure for answers the shipped
    layers never saw."""
    import json

    totals = {q: np.zeros(5, dtype=int) for q in QUANTILES}
    for fold in sorted(folder.glob("fold-*")):
        held = set(json.loads((fold / "held-out.json").read_text(encoding="utf-8")))
        embeddings.use_model(fold)
        sets = {name: features(path) for name, path in TRAINING.items()}
        embeddings.use_model(None)
        for q in QUANTILES:
            fitted = fit([x for n, s in sets.items() if n not in held for x in s], q)
            for name in held & sets.keys():
                totals[q] += judged(sets[name], *fitted)
    print("| quantile | non-answers | missed by the other views | kept out by the classifier "
          "| real answers kept out by it | real answers set aside by the other views |")
    print("|---|---|---|---|---|---|")
    for q, counts in totals.items():
        print(f"| {q} | " + " | ".join(str(c) for c in counts) + " |")


def render(weights: np.ndarray, bias: float, threshold: float, quantile: float) -> str:
    rows = [", ".join(f"{w:+.6f}" for w in weights[i : i + 6])
            for i in range(0, len(weights), 6)]
    body = "".join(f"    {row},\n" for row in rows)
    return (
        '"""Weights of the classifier that keeps remarks about the process out of themes.\n\n'
        "Written by ``bench/train_non_answers.py`` (logistic regression, C = "
        f"{C};\nthreshold: the {quantile} quantile of the real answers' scores) from the "
        "labelled non-answers\nof every labelled set the benches train on "
        f"({len(TRAINING)} sets:\n{_wrapped(sorted(TRAINING))}).\n"
        "Do not edit: refit.\n"
        "``noise.doubtful`` says how they are used.\n"
        '"""\n\n'
        f"QUANTILE = {quantile}\n"
        f"BIAS = {bias:+.6f}\n"
        f"THRESHOLD = {threshold:+.6f}\n"
        "WEIGHTS = (\n" + body + ")\n"
    )


def _wrapped(names: list[str]) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(", ".join(names), width=88, break_on_hyphens=False))


if __name__ == "__main__":
    main()
