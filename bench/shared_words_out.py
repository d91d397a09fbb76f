"""Does leaving out the words most answers to a question share help the model see what each
answer says about them? (issue 11: themes that are kinds of remedy over the same things)

Usage: python bench/shared_words_out.py [--data CSV ...] [--share 0.25]

An experiment, not an engine: for each question, the content words found in at least
``--share`` of its answers (the things the question is about: letters, patients, pharmacies)
are removed from every answer before the sentence model reads it (an answer left with fewer
than two words keeps its words); then the default engine's pooling and consensus clustering,
through ``find_themes`` as a digest runs it. The share is fixed before looking (a quarter of
the answers), not tuned. Prints mean ARI and themes recovered per set, default against the
variant, for every labelled set given (all by default).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import digest_quality  # noqa: E402

from bot.core.digest import clustering, embeddings, engines, themes  # noqa: E402
from bot.core.digest.lexicon import content_words, words  # noqa: E402

VARIANT = "shared-words-out"
SHARE = 0.25


def without_shared_words(texts: Sequence[str], share: float) -> list[str]:
    """Each text less the content words at least `share` of the texts use."""
    seen = Counter(w for text in texts for w in set(content_words(text)))
    shared = {w for w, n in seen.items() if n >= share * len(texts)}
    out = []
    for text in texts:
        kept = [token for token in re.findall(r"\S+", text)
                if not (set(words(token)) & shared)]
        out.append(" ".join(kept) if len(kept) >= 2 else text)
    return out


def shared_words_out(texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    shown = without_shared_words(texts, SHARE)
    vectors = embeddings.pooled_vectors(embeddings.default_encoder(), shown)
    return vectors, clustering.consensus_labels(vectors, embeddings.whitened(vectors),
                                                profile_view=True)


def main() -> None:
    global SHARE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, action="append")
    parser.add_argument("--share", type=float, default=SHARE)
    args = parser.parse_args()
    SHARE = args.share
    engines.REGISTRY[VARIANT] = shared_words_out
    themes.ENGINES = (*themes.ENGINES, VARIANT)
    digest_quality.QUESTIONS.update(digest_quality.questions())
    print(f"# shared words out (share {SHARE}): mean ARI and themes recovered, default -> "
          "variant")
    print("| set | ARI default | ARI variant | recovered default | recovered variant |")
    print("|---|---|---|---|---|")
    gains = []
    for path in args.data or digest_quality.data_files():
        data = digest_quality.load(path)
        name = digest_quality.set_name(path)
        base = digest_quality.run_engine("default", data)["overall"]
        variant = digest_quality.run_engine(VARIANT, data)["overall"]
        gains.append(variant["ari"] - base["ari"])
        print(f"| {name} | {base['ari']:.2f} | {variant['ari']:.2f} | "
              f"{int(base['hits'])}/{int(base['total'])} | "
              f"{int(variant['hits'])}/{int(variant['total'])} |", flush=True)
    print(f"\nmean ARI change over {len(gains)} sets: {np.mean(gains):+.3f} "
          f"(better in {sum(g > 0.005 for g in gains)}, worse in "
          f"{sum(g < -0.005 for g in gains)})")


if __name__ == "__main__":
    main()
