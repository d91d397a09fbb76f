"""The theme engine with its fine-tuned layers mixed with the publisher's, weight by weight.

Usage: python bench/weight_mix.py [--alpha A ...] [--data CSV ...]

Each tensor the engine's layers replace becomes alpha * fine-tuned + (1 - alpha) * publisher's
(alpha 1 is the shipped engine, 0 the publisher's model; above 1 goes further along the
fine-tuning). Mixing a fine-tuned model with the one it started from is known to hold up better
on data unlike the training data; this measures it on labelled sets the layers never trained
on (by default batches h, l, m, n, r and s to y). The non-answer classifier stays the shipped
one, fitted on the vectors of alpha 1. Each mix is written as a model folder (what
ROUNDTABLE_EMBEDDING_MODEL takes) in a temporary folder, and the full engine runs as a digest
does.
"""

from __future__ import annotations

import argparse
import json
import struct
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

sys.path.insert(0, str(Path(__file__).resolve().parent))
import digest_quality as dq  # noqa: E402

from bot.core.digest import embeddings, minilm  # noqa: E402

DTYPES = {np.dtype(np.float32): "F32", np.dtype(np.float16): "F16", np.dtype(np.int64): "I64"}


def write_safetensors(path: Path, tensors: dict[str, NDArray[Any]]) -> None:
    header: dict[str, Any] = {}
    blobs, offset = [], 0
    for name, tensor in tensors.items():
        data = np.ascontiguousarray(tensor).tobytes()
        header[name] = {"dtype": DTYPES[tensor.dtype], "shape": list(tensor.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header).encode()
    head += b" " * (-len(head) % 8)
    path.write_bytes(struct.pack("<Q", len(head)) + head + b"".join(blobs))


def mixed_model(alpha: float, into: Path) -> Path:
    packaged = minilm.packaged_zip()
    assert packaged is not None, "the model package is not installed"
    files = minilm.read_files(packaged, verify=True)
    weights = dict(minilm.read_safetensors(files.weights))
    prefix = "bert." if any(k.startswith("bert.") for k in weights) else ""
    for name, tuned in minilm.read_tuned_layers().items():
        base = weights[prefix + name].astype(np.float32)
        weights[prefix + name] = alpha * tuned.astype(np.float32) + (1 - alpha) * base
    folder = into / f"alpha-{alpha:g}"
    folder.mkdir()
    write_safetensors(folder / "model.safetensors", weights)
    (folder / "tokenizer.json").write_bytes(files.tokenizer)
    (folder / "config.json").write_bytes(files.config)
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alpha", type=float, action="append",
                        help="repeatable; default 0, 0.25, 0.5, 0.75, 1, 1.25, 1.5")
    parser.add_argument("--data", type=Path, action="append",
                        help="a labelled CSV (repeatable); default: the never-trained sets "
                             "of batches h, l, m, n, r and s to y")
    args = parser.parse_args()
    dq.QUESTIONS.update(dq.questions())
    files = args.data or [p for p in dq.data_files() if p.stem.startswith(dq.NEVER_TRAINED_DECIDE)]
    print(f"{len(files)} sets; the full engine, each mix\n")
    print("| alpha | mean ARI | mean V | themes recovered | non-answers quoted | "
          "real answers set aside |")
    print("|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as temp:
        for alpha in args.alpha or [0, 0.25, 0.5, 0.75, 1, 1.25, 1.5]:
            embeddings.use_model(mixed_model(alpha, Path(temp)))
            scores = [dq.run_engine("default", dq.load(path))["overall"] for path in files]
            total = {k: sum(s[k] for s in scores) for k in ("hits", "total", "quoted",
                                                           "set_aside")}
            print(f"| {alpha:g}{' (shipped)' if alpha == 1 else ''} | "
                  f"{np.mean([s['ari'] for s in scores]):.3f} | "
                  f"{np.mean([s['v'] for s in scores]):.3f} | "
                  f"{int(total['hits'])}/{int(total['total'])} | {int(total['quoted'])} | "
                  f"{int(total['set_aside'])} |", flush=True)
    embeddings.use_model(None)


if __name__ == "__main__":
    main()
