"""How well the theme engines recover the themes a careful reader gave the labelled answers.

Usage: python bench/digest_quality.py [--data CSV] [--engine NAME ...] [--no-loqo]
                                      [--resample N]

For each engine and each question (prompt_id) of the labelled file, the answers go through
``find_themes`` exactly as in a digest, and the result is compared with the labels:

- adjusted Rand index and V-measure (sklearn). Noise is scored as a cluster of its own on both
  sides: the labelled "noise" answers form one class, and every answer the engine left
  unthemed (noise and one-off points) forms one predicted cluster. So an engine is rewarded
  for setting noise aside and penalised for leaving real answers unthemed.
- themes recovered: a labelled theme (noise excluded) is recovered when more than half of its
  answers sit in one digest theme and more than half of that theme's answers are its own.
- noise: the share of labelled noise left unthemed, and of unthemed answers that are noise.

"overall" is the mean ARI and V-measure over questions and the pooled share of themes
recovered. Unless --no-loqo, the default engine's two knobs (the whitened view's ridge, or
no second view, and the consensus cut; the profile view is always added, as in the engine)
are also chosen leave-one-question-out: best mean ARI
on the other four questions, scored on the held-out fifth. Those held-out figures are the
honest estimate of how the engine does on questions it has not seen. --resample N scores the
engines again on N random 85% subsets of the answers, to show how far the figures move with
the sample (differences smaller than that spread are noise).
Runs offline: the models come from installed packages.
"""

from __future__ import annotations

import argparse
import csv
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from sklearn.metrics import adjusted_rand_score, v_measure_score

from bot.core.digest import clustering, embeddings
from bot.core.digest.embeddings import ModelUnavailable
from bot.core.digest.themes import ENGINES, Answer, find_themes, is_noise

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "replies-labeled.csv"
UNTHEMED = "(unthemed)"


def load(path: Path) -> dict[str, list[dict[str, str]]]:
    """Rows of the labelled file grouped by prompt_id, in file order."""
    by_prompt: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as f:
        for row in csv.DictReader(f):
            by_prompt[row["prompt_id"]].append(row)
    return dict(by_prompt)


def predicted_labels(rows: Sequence[dict[str, str]], engine: str) -> list[str]:
    answers = [Answer(r["id"], r["text"], r.get("role") or None) for r in rows]
    result = find_themes(answers, engine=engine)
    label = {rid: f"t{n}" for n, theme in enumerate(result.themes) for rid in theme.reply_ids}
    return [label.get(r["id"], UNTHEMED) for r in rows]


def recovered(truth: Sequence[str], predicted: Sequence[str]) -> tuple[int, int]:
    """(labelled themes recovered, labelled themes), noise excluded."""
    sizes = Counter(predicted)
    hits = total = 0
    for theme in sorted(set(truth) - {"noise"}):
        total += 1
        members = [p for t, p in zip(truth, predicted, strict=True) if t == theme]
        cluster, n = Counter(members).most_common(1)[0]
        if cluster != UNTHEMED and 2 * n > len(members) and 2 * n > sizes[cluster]:
            hits += 1
    return hits, total


def score(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, float]:
    hits, total = recovered(truth, predicted)
    noise = [p == UNTHEMED for t, p in zip(truth, predicted, strict=True) if t == "noise"]
    unthemed = [t == "noise" for t, p in zip(truth, predicted, strict=True) if p == UNTHEMED]
    return {"ari": adjusted_rand_score(truth, predicted),
            "v": v_measure_score(truth, predicted), "hits": hits, "total": total,
            "k": len(set(predicted) - {UNTHEMED}), "k_true": total,
            "noise_recall": float(np.mean(noise)) if noise else 1.0,
            "noise_precision": float(np.mean(unthemed)) if unthemed else 1.0}


def run_engine(engine: str, data: dict[str, list[dict[str, str]]]) -> dict[str, dict[str, float]]:
    rows_out = {}
    for prompt, rows in data.items():
        rows_out[prompt] = score([r["theme"] for r in rows], predicted_labels(rows, engine))
    rows_out["overall"] = {
        "ari": float(np.mean([s["ari"] for s in rows_out.values()])),
        "v": float(np.mean([s["v"] for s in rows_out.values()])),
        "hits": sum(s["hits"] for s in rows_out.values()),
        "total": sum(s["total"] for s in rows_out.values()),
        "k": sum(s["k"] for s in rows_out.values()),
        "k_true": sum(s["k_true"] for s in rows_out.values()),
        "noise_recall": float(np.mean([s["noise_recall"] for s in rows_out.values()])),
        "noise_precision": float(np.mean([s["noise_precision"] for s in rows_out.values()])),
    }
    return rows_out


def print_table(engine: str, results: dict[str, dict[str, float]], seconds: float) -> None:
    print(f"\n## engine: {engine}  ({seconds:.1f} s)")
    print(f"| {'question':<16} | {'ARI':>5} | {'V':>5} | {'recovered':>11} | {'themes':>9} "
          f"| {'noise R/P':>9} |")
    print(f"|{'-' * 18}|{'-' * 7}|{'-' * 7}|{'-' * 13}|{'-' * 11}|{'-' * 11}|")
    for prompt, s in results.items():
        share = s["hits"] / s["total"] if s["total"] else 0.0
        print(f"| {prompt:<16} | {s['ari']:5.2f} | {s['v']:5.2f} | "
              f"{int(s['hits']):>2}/{int(s['total']):<2} {share:4.0%} | "
              f"{int(s['k']):>3} of {int(s['k_true']):<2} | "
              f"{s['noise_recall']:4.0%}/{s['noise_precision']:<4.0%} |")


LOQO_SHRINK: tuple[float | None, ...] = (None, 0.5, 1.0, 2.0, 3.0)  # None: one view only
LOQO_CUT = (0.4, 0.5, 0.6)


def loqo(data: dict[str, list[dict[str, str]]]) -> None:
    """Leave-one-question-out choice of the default engine's two knobs: the whitened view's
    ridge (or no second view) and the consensus cut. Each is chosen by mean ARI on the other
    four questions and scored on the held-out one; these held-out figures are the honest ones.
    The profile view (clustering.profile) is added to every setting, as in the engine.
    """
    try:
        encoder = embeddings.default_encoder()
    except ModelUnavailable as exc:
        print(f"\n(leave-one-question-out skipped: {exc})")
        return
    grid = [(shrink, cut_at) for shrink in LOQO_SHRINK for cut_at in LOQO_CUT]
    result: dict[str, dict[tuple[float | None, float], tuple[float, int, int]]] = {}
    for prompt, rows in data.items():
        keep = [r for r in rows if not is_noise(r["text"])]
        vectors = embeddings.pooled_vectors(encoder, [r["text"] for r in keep])
        plain = clustering.co_association(vectors @ vectors.T)
        truth = [r["theme"] for r in rows]
        result[prompt] = {}
        for shrink in LOQO_SHRINK:
            runs = [plain]
            if shrink is not None:
                view = embeddings.whitened(vectors, shrink)
                runs.append(clustering.co_association(view @ view.T))
            # The profile view, as the default engine adds it (consensus_labels).
            company = clustering.profile(np.mean(runs, axis=0))
            runs.append(clustering.co_association(company @ company.T))
            together = np.mean(runs, axis=0).astype(np.float32)
            for cut_at in LOQO_CUT:
                labels = clustering.cut(1.0 - together, cut_at, "average")
                sizes = Counter(labels.tolist())
                by_id = {r["id"]: (f"t{lab}" if sizes[lab] >= 2 else UNTHEMED)
                         for r, lab in zip(keep, labels.tolist(), strict=True)}
                predicted = [by_id.get(r["id"], UNTHEMED) for r in rows]
                hits, total = recovered(truth, predicted)
                result[prompt][(shrink, cut_at)] = (adjusted_rand_score(truth, predicted),
                                                    hits, total)
    fixed = (embeddings.WHITEN_SHRINK, clustering.MAJORITY)
    print("\n## leave-one-question-out (default engine): whitened view's ridge "
          f"{list(LOQO_SHRINK)} (None = no second view) x consensus cut {list(LOQO_CUT)}")
    print("| held-out question | chosen on the other four | held-out ARI | recovered | "
          "shipped values: ARI | recovered |")
    print("|---|---|---|---|---|---|")
    held: list[tuple[float, int, int]] = []
    for prompt in result:
        others = [p for p in result if p != prompt]
        chosen = max(grid, key=lambda g: (np.mean([result[p][g][0] for p in others]),
                                          g == fixed))
        held.append(result[prompt][chosen])
        a, h, t = result[prompt][chosen]
        fa, fh, ft = result[prompt][fixed]
        print(f"| {prompt} | ridge {chosen[0]}, cut {chosen[1]} | {a:.2f} | {h}/{t} | "
              f"{fa:.2f} | {fh}/{ft} |")
    hits = sum(h for _, h, _ in held)
    total = sum(t for _, _, t in held)
    print(f"| **mean / pooled** | | **{np.mean([a for a, _, _ in held]):.2f}** | "
          f"**{hits}/{total} ({hits / total:.0%})** | "
          f"{np.mean([result[p][fixed][0] for p in result]):.2f} | "
          f"{sum(result[p][fixed][1] for p in result)}/{total} |")


def resample(data: dict[str, list[dict[str, str]]], engines: Sequence[str], times: int,
             share: float = 0.85) -> None:
    """How much the figures move with the answers: each run keeps a random 85% of every
    question's answers (the same subsets for every engine) and scores the engines on them.
    A difference between engines smaller than the spread shown here is not a finding."""
    rng = np.random.default_rng(2026)
    subsets = [{p: [r for r in rows if rng.random() < share] for p, rows in data.items()}
               for _ in range(times)]
    runs: dict[str, list[dict[str, float]]] = {}
    for engine in engines:
        try:
            runs[engine] = [run_engine(engine, subset)["overall"] for subset in subsets]
        except ModelUnavailable:
            continue
    if not runs:
        return
    first = next(iter(runs))
    print(f"\n## {times} random subsets of {share:.0%} of the answers (same subsets for all)")
    print(f"| engine | ARI mean ± sd | themes recovered mean | ARI above {first} in |")
    print("|---|---|---|---|")
    reference = np.array([o["ari"] for o in runs[first]])
    for engine, overall in runs.items():
        ari = np.array([o["ari"] for o in overall])
        rec = np.mean([o["hits"] / o["total"] for o in overall])
        wins = int((ari > reference).sum())
        print(f"| {engine} | {ari.mean():.2f} ± {ari.std():.2f} | {rec:.0%} | "
              f"{wins}/{times} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--engine", action="append", choices=ENGINES)
    parser.add_argument("--no-loqo", action="store_true")
    parser.add_argument("--resample", type=int, default=0, metavar="N",
                        help="also score the engines on N random 85%% subsets of the answers")
    args = parser.parse_args()
    data = load(args.data.resolve())
    summary = []
    chosen = args.engine or [e for e in ENGINES if e != "default"]
    for engine in chosen:
        start = time.perf_counter()
        try:
            results = run_engine(engine, data)
        except ModelUnavailable as exc:
            print(f"\n## engine: {engine}: skipped ({exc})")
            continue
        print_table(engine, results, time.perf_counter() - start)
        summary.append((engine, results["overall"]))
    print("\n## overall, per engine")
    print("| engine | ARI | V-measure | themes recovered |")
    print("|---|---|---|---|")
    for engine, s in summary:
        print(f"| {engine} | {s['ari']:.2f} | {s['v']:.2f} | "
              f"{int(s['hits'])}/{int(s['total'])} ({s['hits'] / s['total']:.0%}) |")
    if not args.no_loqo:
        loqo(data)
    if args.resample:
        resample(data, chosen, args.resample)


if __name__ == "__main__":
    main()
