"""Which replies the engine hides as "not answers": the word views alone against the word views
with the learned view agreeing (noise.set_aside), on every labelled set.

A reply set aside is never shown, so a real answer set aside is lost to the digest's readers;
a reply the views disagree on is listed with the other answers instead (never themed or
quoted). Only the non-answer verdicts are computed here, no theme: a set kept unseen for the
theme engine (`--data` names it) can be read here without its themes being looked at.

    python bench/set_aside.py [--data FILE ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import digest_quality as dq  # noqa: E402

from bot.core.digest import embeddings, noise  # noqa: E402

COLUMNS = ("real answers hidden, word views alone", "non-answers hidden, word views alone",
           "real answers hidden, learned view agreeing", "non-answers hidden, learned view "
           "agreeing", "non-answers")


def counts(path: Path) -> np.ndarray:
    """COLUMNS for one labelled file, summed over its questions (every reply judged, as the
    engine judges a question of up to 100 replies)."""
    encoder = embeddings.default_encoder()
    out = np.zeros(len(COLUMNS), dtype=int)
    for prompt, rows in dq.load(path).items():
        rows = [r for r in rows if not noise.says_nothing(r["text"])]
        texts = [r["text"] for r in rows]
        plain = embeddings.pool(encoder, [*texts, dq.QUESTIONS.get(prompt, "")]).plain
        scores = noise.relevance(plain[:-1], np.ones(len(texts), dtype=bool), plain[-1])
        alone = np.array(noise.not_answers(texts, scores, noise.relevance_floors(scores)))
        agreed = np.array(noise.set_aside(texts, plain[:-1], scores)[0])
        real = np.array([r["theme"] != "noise" for r in rows])
        out += [int((alone & real).sum()), int((alone & ~real).sum()),
                int((agreed & real).sum()), int((agreed & ~real).sum()), int((~real).sum())]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append",
                        help="a labelled CSV (repeatable); default: the sample and bench/data")
    args = parser.parse_args()
    files = args.data or dq.data_files()
    trained = {p.resolve() for p in dq.training_files()}
    print("| set | classifier trained on it | " + " | ".join(COLUMNS) + " |")
    print("|---|---|" + "---|" * len(COLUMNS))
    totals = {True: np.zeros(len(COLUMNS), dtype=int), False: np.zeros(len(COLUMNS), dtype=int)}
    for path in files:
        row = counts(path)
        seen = path.resolve() in trained
        totals[seen] += row
        print(f"| {dq.set_name(path)} | {'yes' if seen else 'no'} | "
              + " | ".join(map(str, row)) + " |")
    for seen, row in totals.items():
        print(f"| all sets the classifier {'trained on' if seen else 'never trained on'} | "
              f"{'yes' if seen else 'no'} | " + " | ".join(map(str, row)) + " |")


if __name__ == "__main__":
    main()
