"""The theme engine's model: the publisher's files, verified, with the engine's own fine-tuned
layers laid over them, also verified; a deployer's own model is used as it is."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from bot.core.digest import embeddings, minilm

pytestmark = pytest.mark.skipif(minilm.packaged_zip() is None,
                                reason="the model package is not installed")
TEXTS = ["Protected time away from the dispensary", "A mentor from another sector"]


@pytest.fixture
def deployers_folder(tmp_path: Path) -> Iterator[Path]:
    """The publisher's three files in a folder, as a deployer who fetched them would have."""
    zipped = minilm.packaged_zip()
    assert zipped is not None
    with zipfile.ZipFile(zipped) as archive:
        for entry in archive.namelist():
            if entry.rsplit("/", 1)[-1] in minilm.UPSTREAM_SHA256 and entry.count("/") <= 1:
                (tmp_path / entry.rsplit("/", 1)[-1]).write_bytes(archive.read(entry))
    yield tmp_path
    embeddings.use_model(None)


def test_the_packaged_model_carries_the_engines_layers_and_a_deployers_model_does_not(
        deployers_folder: Path) -> None:
    tuned = embeddings.default_encoder().encode(TEXTS)
    embeddings.use_model(deployers_folder)
    publishers = embeddings.default_encoder().encode(TEXTS)
    assert not np.allclose(tuned, publishers, atol=1e-3)
    # the deployer's copy of the publisher's files is exactly the publisher's model
    plain = minilm.MiniLM(minilm.read_files(minilm.packaged_zip() or Path(), verify=True))
    assert np.allclose(publishers, plain.encode(TEXTS), atol=1e-6)


def test_layers_that_are_not_the_shipped_file_are_refused(tmp_path: Path) -> None:
    assert minilm.read_tuned_layers()  # the shipped file passes its check
    changed = bytearray(minilm.TUNED_LAYERS.read_bytes())
    changed[-1] ^= 1
    (tmp_path / "layers.safetensors").write_bytes(bytes(changed))
    with pytest.raises(minilm.ModelFilesRefused, match="not the file"):
        minilm.read_tuned_layers(tmp_path / "layers.safetensors")
    with pytest.raises(minilm.ModelFilesRefused, match="missing"):
        minilm.read_tuned_layers(tmp_path / "absent.safetensors")


def test_a_layer_of_the_wrong_shape_is_refused() -> None:
    files = minilm.read_files(minilm.packaged_zip() or Path(), verify=True)
    wrong = {"encoder.layer.5.output.dense.weight": np.zeros((3, 3), np.float16)}
    with pytest.raises(minilm.ModelFilesRefused, match="no tensor of that shape"):
        minilm.MiniLM(files, wrong)
