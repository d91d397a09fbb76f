"""Can a linear projection of the engine's sentence vectors, learned across questions, make the
themes of an unseen question separable? Leave-one-set-out experiment (not shipped).

Usage: python bench/projection_loso.py [--cache DIR] [--skip-nca] [--skip-engine]

Sets: the sample file (one set) and every labelled set under bench/data whose name starts with
``2026-12-04``, ``2026-12-05-``, ``2026-12-05b`` or ``2026-12-05c``; nothing else is read.
Vectors are the engine's own (``embeddings.pool(...).weighted``: rarity-weighted MiniLM
pooling, centred on the question and normalised), of each question's labelled real answers
(``non-answer`` rows left out of training and of the representation ARI).

Projections, each fitted on all sets but the held-out one:

- **LDA**: within-theme and between-theme scatter, both measured inside each question (theme
  means relative to their question's mean), pooled over the training questions; the within
  scatter shrunk toward the identity (share ``a`` of its mean variance); the top ``d``
  generalised eigenvectors. Used alone (``proj``: projected, re-centred, normalised) or beside
  the original vector (``concat``: the two unit vectors side by side, normalised).
  Grid a in SHRINKS x d in DIMS x {proj, concat}; the setting for each held-out set is chosen
  by an inner leave-one-set-out over the other sets (nested), by true-k Ward + spectral ARI.
- **NCA** (one fixed setting, no choice): a square linear map from 3 x identity, 40 gradient
  steps on the neighbourhood-components objective with neighbourhoods inside each question,
  a ridge pulling it back toward its start.

Measured per held-out set: (i) told the true number of themes, Ward and one spectral run
(the engine's own k-NN graph, 6 neighbours, pivoted-QR assignment), ARI over real answers,
mean over questions; (ii) the full engine (``find_themes`` as ``bench/digest_quality.py``
scores it) with the projection wired into the default engine's clustering: ``view`` (one more
view beside the pooled and whitened ones), ``concat`` (the side-by-side vectors replace the
pooled view, whitened as before) or ``replace`` (the projected vectors replace it).
Figures of 5 Dec: bench/results/2026-12-05-projection-loso.txt.
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from scipy.linalg import eigh

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import digest_quality as dq  # noqa: E402

from bot.core.digest import clustering, embeddings, engines  # noqa: E402

PREFIXES = ("2026-12-04", "2026-12-05-", "2026-12-05b", "2026-12-05c")
SHRINKS = (0.1, 0.3, 0.6)
DIMS = (16, 32, 64, 128)
FORMS = ("proj", "concat")
Question = tuple[str, list[str], np.ndarray]  # prompt, theme labels, vectors
Setting = tuple[float, int, str]


def sets() -> dict[str, Path]:
    """The sample file and the allowed sets, by name (nothing else under bench/data)."""
    found = {"sample file": dq.SAMPLE_DATA}
    for path in sorted(dq.SETS.glob("*.csv")):
        if path.stem.startswith(PREFIXES) and not path.stem.endswith(("-themes", "-questions")):
            found[path.stem] = path
    return found


def vectors(files: dict[str, Path], cache: Path) -> dict[str, list[Question]]:
    if cache.exists():
        loaded: dict[str, list[Question]] = pickle.loads(cache.read_bytes())
        return loaded
    encoder = embeddings.default_encoder()
    out: dict[str, list[Question]] = {}
    for name, path in files.items():
        out[name] = []
        for prompt, rows in dq.load(path).items():
            real = [r for r in rows if r["theme"] != "noise"]
            pooled = embeddings.pool(encoder, [r["text"] for r in real]).weighted
            out[name].append((prompt, [r["theme"] for r in real], pooled))
    cache.write_bytes(pickle.dumps(out))
    return out


def unit(z: np.ndarray) -> np.ndarray:
    return z / np.maximum(np.linalg.norm(z, axis=1, keepdims=True), 1e-12)


class Lda:
    """Shrinkage LDA pooled over questions; eigenvectors cached per training set and shrink."""

    def __init__(self, data: dict[str, list[Question]]) -> None:
        self.data = data
        self.scatter: dict[str, tuple[np.ndarray, np.ndarray, int]] = {}
        for name, questions in data.items():
            dim = questions[0][2].shape[1]
            within, between, n = np.zeros((dim, dim)), np.zeros((dim, dim)), 0
            for _, labels, x in questions:
                x = x.astype(np.float64) - x.mean(axis=0)
                theme = np.array(labels)
                for t in np.unique(theme):
                    members = x[theme == t]
                    mean = members.mean(axis=0)
                    within += (members - mean).T @ (members - mean)
                    between += len(members) * np.outer(mean, mean)
                n += len(x)
            self.scatter[name] = (within, between, n)
        self.eig: dict[tuple[frozenset[str], float], np.ndarray] = {}

    def fit(self, train: Sequence[str], shrink: float, dims: int) -> np.ndarray:
        key = (frozenset(train), shrink)
        if key not in self.eig:
            n = sum(self.scatter[s][2] for s in train)
            within = sum(self.scatter[s][0] for s in train) / n
            between = sum(self.scatter[s][1] for s in train) / n
            ridge = shrink * np.trace(within) / len(within)
            _, vecs = eigh(between, (1 - shrink) * within + ridge * np.eye(len(within)))
            self.eig[key] = vecs[:, ::-1][:, : max(DIMS)].astype(np.float32)
        return self.eig[key][:, :dims]


def view(x: np.ndarray, w: np.ndarray | None, form: str) -> np.ndarray:
    if w is None:
        return x
    z = x.astype(np.float64) @ w
    z = unit(z - z.mean(axis=0))
    out = z if form == "proj" else unit(np.hstack([x, z]))
    return out.astype(np.float32)


def true_k(v: np.ndarray, labels: list[str]) -> tuple[float, float]:
    """(Ward, spectral) ARI told the true number of themes."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.metrics import adjusted_rand_score

    k = len(set(labels))
    ward = AgglomerativeClustering(n_clusters=k).fit_predict(v)
    graph = clustering.knn_affinity((v @ v.T).astype(np.float32), 6)
    spectral = clustering._cluster_qr(clustering._spectral_embedding(graph, k)[:, :k])
    return adjusted_rand_score(labels, ward), adjusted_rand_score(labels, spectral)


def nca(questions: list[Question], steps: int = 40, rate: float = 0.5, ridge: float = 0.01,
        scale: float = 3.0) -> np.ndarray:
    """Linear NCA, neighbourhoods inside each question; returns W (x @ W)."""
    batch = []
    for _, labels, x in questions:
        theme = np.array(labels)
        same = (theme[:, None] == theme[None, :]) & ~np.eye(len(theme), dtype=bool)
        batch.append((x.astype(np.float64) - x.mean(axis=0), same))
    start = np.eye(batch[0][0].shape[1]) * scale
    a = start.copy()
    for _ in range(steps):
        grad = np.zeros_like(a)
        total = 0
        for x, same in batch:
            z = x @ a.T
            sq = (z * z).sum(axis=1)
            d2 = sq[:, None] + sq[None, :] - 2 * z @ z.T
            np.fill_diagonal(d2, np.inf)
            p = np.exp(-(d2 - d2.min(axis=1, keepdims=True)))
            p /= p.sum(axis=1, keepdims=True)
            hit = (p * same).sum(axis=1)
            ok = hit > 1e-12
            q = np.where(same, p / np.maximum(hit, 1e-12)[:, None], 0.0)
            m = (p - q) * ok[:, None]  # d(sum log hit) / d(squared distance)
            s = m + m.T
            grad += 2 * a @ (x.T @ (np.diag(s.sum(axis=1)) - s) @ x)
            total += len(x)
        a += rate * (grad / total - ridge * (a - start))
    return a.T


def representation(data: dict[str, list[Question]], lda: Lda, run_nca: bool
                   ) -> tuple[dict[str, Setting], dict[str, np.ndarray]]:
    names = list(data)
    grid: list[Setting] = list(itertools.product(SHRINKS, DIMS, FORMS))

    def held_out(held: str, train: Sequence[str], setting: Setting) -> list[tuple[float, float]]:
        shrink, dims, form = setting
        w = lda.fit(train, shrink, dims)
        return [true_k(view(x, w, form), labels) for _, labels, x in data[held]]

    base = {s: [true_k(x, labels) for _, labels, x in data[s]] for s in names}
    plain = {g: {s: held_out(s, [o for o in names if o != s], g) for s in names} for g in grid}
    print("\n## true k, leave-one-set-out, every LDA setting (mean over questions)")
    print("| setting (shrink, d, form) | Ward ARI | spectral ARI |\n|---|---|---|")
    print(f"| unprojected | {_mean(base, 0):.3f} | {_mean(base, 1):.3f} |")
    for g in grid:
        print(f"| {g} | {_mean(plain[g], 0):.3f} | {_mean(plain[g], 1):.3f} |")
    chosen: dict[str, Setting] = {}
    for outer in names:
        rest = [o for o in names if o != outer]

        def inner(g: Setting, rest: list[str] = rest) -> float:
            return float(np.mean([np.mean(r) for i in rest
                                  for r in held_out(i, [o for o in rest if o != i], g)]))

        chosen[outer] = max(grid, key=inner)
    nested = {s: plain[chosen[s]][s] for s in names}
    nca_w: dict[str, np.ndarray] = {}
    found: dict[str, list[tuple[float, float]]] = {}
    if run_nca:
        for s in names:
            nca_w[s] = nca([q for o in names if o != s for q in data[o]])
            found[s] = [true_k(view(x, nca_w[s], "proj"), labels) for _, labels, x in data[s]]
    print("\n## true k, leave-one-set-out: unprojected / LDA (setting chosen nested)"
          + (" / NCA" if run_nca else ""))
    print("| held-out set | LDA setting | Ward | spectral |\n|---|---|---|---|")
    for s in names:
        cells = [base[s], nested[s], *([found[s]] if run_nca else [])]
        ward = " / ".join(f"{np.mean([r[0] for r in c]):.2f}" for c in cells)
        spectral = " / ".join(f"{np.mean([r[1] for r in c]):.2f}" for c in cells)
        print(f"| {s} | {chosen[s]} | {ward} | {spectral} |")
    rows = [base, nested, *([found] if run_nca else [])]
    print(f"| **mean over questions** | | {' / '.join(f'{_mean(r, 0):.3f}' for r in rows)} | "
          f"{' / '.join(f'{_mean(r, 1):.3f}' for r in rows)} |")
    return chosen, nca_w


def _mean(per_set: dict[str, list[tuple[float, float]]], which: int) -> float:
    return float(np.mean([r[which] for rs in per_set.values() for r in rs]))


class Wired:
    """The default engine with a projection in its clustering (the experiment's switch)."""

    def __init__(self) -> None:
        self.w: np.ndarray | None = None
        self.form = "base"

    def __call__(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        pooled = embeddings.pooled_vectors(embeddings.default_encoder(), texts)
        views = [pooled, embeddings.whitened(pooled)]
        if self.w is not None and len(pooled) >= 3:
            projected = view(pooled, self.w, "proj")
            if self.form == "view":
                views.append(projected)
            elif self.form == "concat":
                side = unit(np.hstack([pooled, projected])).astype(np.float32)
                views = [side, embeddings.whitened(side)]
            elif self.form == "replace":
                views = [projected, embeddings.whitened(projected)]
        return pooled, clustering.consensus_labels(*views, profile_view=True)


def remember_token_states() -> None:
    """Each text's token states computed once for all arms (embedding is the cost)."""
    encoder = embeddings.default_encoder()
    compute = encoder.token_states
    memo: dict[tuple[int, ...], np.ndarray] = {}

    def token_states(ids: Sequence[list[int]]) -> list[np.ndarray]:
        missing = list({tuple(s) for s in ids} - memo.keys())
        if missing:
            memo.update(zip(missing, compute([list(m) for m in missing]), strict=True))
        return [memo[tuple(s)] for s in ids]

    encoder.token_states = token_states  # type: ignore[method-assign]


def full_engine(files: dict[str, Path], lda: Lda, chosen: dict[str, Setting],
                nca_w: dict[str, np.ndarray]) -> None:
    remember_token_states()
    wired = Wired()
    engines.REGISTRY["consensus"] = wired
    dq.QUESTIONS.update(dq.questions())
    arms = [("base", None), ("view", "lda"), ("concat", "lda"), ("replace", "lda")]
    if nca_w:
        arms += [("view", "nca"), ("concat", "nca"), ("replace", "nca")]
    results: dict[str, list[dict[str, float]]] = {}
    for name, path in files.items():
        data = dq.load(path)
        results[name] = []
        for form, fitted in arms:
            shrink, dims, _ = chosen[name]
            train = [s for s in files if s != name]
            wired.form = form
            wired.w = (None if fitted is None else nca_w[name] if fitted == "nca"
                       else lda.fit(train, shrink, dims))
            results[name].append(dq.run_engine("default", data)["overall"])
    heads = [f"{f} ({m})" if m else f for f, m in arms]
    print("\n## full engine, leave-one-set-out: ARI, themes recovered")
    print("| held-out set | " + " | ".join(heads) + " |\n|---|" + "---|" * len(arms))
    for name, row in results.items():
        print(f"| {name} | " + " | ".join(
            f"{o['ari']:.2f}, {int(o['hits'])}/{int(o['total'])}" for o in row) + " |")
    means = [np.mean([results[s][i]["ari"] for s in results]) for i in range(len(arms))]
    hits = [sum(int(results[s][i]["hits"]) for s in results) for i in range(len(arms))]
    total = sum(int(results[s][0]["total"]) for s in results)
    print("| **mean over sets** | " + " | ".join(
        f"**{m:.3f}**, {h}/{total}" for m, h in zip(means, hits, strict=True)) + " |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("/tmp/projection-loso"))
    parser.add_argument("--skip-nca", action="store_true")
    parser.add_argument("--skip-engine", action="store_true")
    args = parser.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    from threadpoolctl import threadpool_limits

    files = sets()
    data = vectors(files, args.cache / "vectors.pkl")
    lda = Lda(data)
    with threadpool_limits(1):
        chosen, nca_w = representation(data, lda, not args.skip_nca)
        if not args.skip_engine:
            full_engine(files, lda, chosen, nca_w)


if __name__ == "__main__":
    main()
