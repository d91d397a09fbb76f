"""Fit the small classifier that keeps remarks about the process out of themes.

Usage: python bench/train_non_answers.py [--check]

A reply such as a question to the organisers or a remark about the survey often names
something specific (a date, "slides", "the bot"), so the word-level views of ``noise.py``
cannot tell it from a short real answer. What such replies share is a *direction* in the
sentence model's space: they talk about the exchange, not the question's subject. This fits
a logistic regression on each reply's plain MiniLM sentence vector, centred on its own
question's replies (what it says beyond what every reply to that question says), to the
labelled non-answers of the sets that were looked at while choosing the engine:

- the sample file ``../shared/data/replies-labeled.csv`` (five questions),
- ``bench/data/2026-12-04-pharmacy-first``, ``-keep-staff``, ``-shortages``,
  ``-inequalities``, ``-discharge``, ``-prescribers``, ``-near-misses``, ``-blood-pressure``
  and ``-medicines-waste``;
- ``bench/data/2026-12-05-technician-skills``, ``-shared-records`` and ``-mental-health``,
  added after they were scored once unseen (5 Dec).

Each set was kept out until it had been scored once with the engine fitted on the sets before
it (docs/theme-engine.md); the sets under ``bench/data/2026-12-05b-*`` stay out, unseen, until
scored once with this fit. The leave-one-set-out figures below are the estimate for unseen
answers.

The decision threshold is the highest score any *real* answer below its question's lower
relevance quartile gets in that training data (so no training answer would be kept out of a
theme), and a reply is kept out only when both hold: its score is above the threshold and its
relevance is under the lower quartile (``noise.doubtful``). The weights are written to
``bot/core/digest/non_answer_model.py``.

It prints, leave-one-set-out (fit on three sets, judge the fourth), how many non-answers the
classifier would keep out of themes that the other views miss, and how many real answers
it would wrongly keep out (leave-one-set-out over the thirteen sets: 13 of the 37 non-answers
the other views miss, 1 real answer). ``--check`` refits and fails if the shipped weights differ.
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

TRAINING = {
    "sample file": dq.SAMPLE_DATA,
    "pharmacy-first": dq.SETS / "2026-12-04-pharmacy-first.csv",
    "keep-staff": dq.SETS / "2026-12-04-keep-staff.csv",
    "shortages": dq.SETS / "2026-12-04-shortages.csv",
    "inequalities": dq.SETS / "2026-12-04-inequalities.csv",
    "discharge": dq.SETS / "2026-12-04-discharge.csv",
    "prescribers": dq.SETS / "2026-12-04-prescribers.csv",
    "near-misses": dq.SETS / "2026-12-04-near-misses.csv",
    "blood-pressure": dq.SETS / "2026-12-04-blood-pressure.csv",
    "medicines-waste": dq.SETS / "2026-12-04-medicines-waste.csv",
    "technician-skills": dq.SETS / "2026-12-05-technician-skills.csv",
    "shared-records": dq.SETS / "2026-12-05-shared-records.csv",
    "mental-health": dq.SETS / "2026-12-05-mental-health.csv",
}
C = 1.0  # inverse L2 strength; the features are unit-scale
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


def fit(data: list) -> tuple[np.ndarray, float, float]:
    from sklearn.linear_model import LogisticRegression

    x = np.vstack([d[0] for d in data])
    y = np.concatenate([d[1] for d in data])
    below = np.concatenate([d[2] for d in data])
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(x, y)
    weights = model.coef_[0].astype(np.float64)
    bias = float(model.intercept_[0])
    logits = x @ weights + bias
    return weights, bias, float(logits[~y & below].max())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    sets = {name: features(path) for name, path in TRAINING.items()}
    print("| held-out set | non-answers | kept out by the other views | kept out by the "
          "classifier as well | real answers kept out |")
    print("|---|---|---|---|---|")
    for held in sets:
        weights, bias, threshold = fit([q for n, s in sets.items() if n != held for q in s])
        n = old = new = wrong = 0
        for x, y, below, flags, _ in sets[held]:
            doubtful = (x @ weights + bias > threshold) & below
            n += int(y.sum())
            old += int((y & flags).sum())
            new += int((y & doubtful & ~flags).sum())
            wrong += int((~y & doubtful).sum())
        print(f"| {held} | {n} | {old} | {new} | {wrong} |")
    weights, bias, threshold = fit([q for s in sets.values() for q in s])
    text = render(weights, bias, threshold)
    if args.check:
        if OUT.read_text(encoding="utf-8") != text:
            sys.exit(f"{OUT} differs from a fresh fit")
        print("shipped weights match a fresh fit")
        return
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} (threshold {threshold:.4f})")


def render(weights: np.ndarray, bias: float, threshold: float) -> str:
    rows = [", ".join(f"{w:+.6f}" for w in weights[i : i + 6])
            for i in range(0, len(weights), 6)]
    body = "".join(f"    {row},\n" for row in rows)
    return (
        '"""Weights of the classifier that keeps remarks about the process out of themes.\n\n'
        "Written by ``bench/train_non_answers.py`` (logistic regression, C = "
        f"{C}) from the labelled\nnon-answers of every labelled set: "
        "the sample file, pharmacy-first,\nkeep-staff, shortages, inequalities, discharge, "
        "prescribers, near-misses, blood-pressure,\nmedicines-waste, technician-skills, "
        "shared-records and mental-health. Do not edit: refit.\n"
        "``noise.doubtful`` says how they are used.\n"
        '"""\n\n'
        f"BIAS = {bias:+.6f}\n"
        f"THRESHOLD = {threshold:+.6f}\n"
        "WEIGHTS = (\n" + body + ")\n"
    )


if __name__ == "__main__":
    main()
