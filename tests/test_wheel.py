"""A wheel of the project (what `pip install .` installs) ships the prompt packs and the theme
engine's layers, and the code installed from it finds them from any working folder, with no
source tree beside it. Offline: the wheel is built with the virtual environment's own
setuptools and wheel (the dev extra)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.helpers import cli_env

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("pyproject.toml", "README.md", "bot", "storage", "prompts")
"""What the build reads; copied, since the build writes build/ and *.egg-info where it runs."""
PACKS = sorted(p.name for p in (ROOT / "prompts").iterdir() if p.suffix in {".yaml", ".yml"})

PROBE = """\
import json, bot, prompts, bot.demo
from bot.config import Settings
from bot.core.packs import pack_files
from bot.core.digest import minilm
print(json.dumps({
    "layers": [str(minilm.TUNED_LAYERS), len(minilm.read_tuned_layers())],
    "code": [bot.__file__, prompts.__file__],
    "packs": [str(p) for p in pack_files()],
    "default": str(Settings().packs_dir),
    "demo": bot.demo.SEED_PACK.is_file(),
}))
"""


def pip(*args: str, cwd: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "pip", *args, "--no-index", "--disable-pip-version-check", "-q"],
        cwd=cwd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def installed_python(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """This venv's Python (its site-packages give the dependencies) with `site` first on the
    path, so `bot` and `prompts` are the installed copies, not the source tree."""
    return subprocess.run([sys.executable, *args], cwd=cwd, env=cli_env(PYTHONPATH=str(site)),
                          capture_output=True, text=True, timeout=60)


def test_the_wheel_ships_the_packs_and_the_installed_code_finds_them(tmp_path: Path) -> None:
    assert PACKS
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(ROOT / name, source / name)
    pip("wheel", "--no-deps", "--no-build-isolation", "-w", str(tmp_path / "dist"), ".",
        cwd=source)
    (wheel,) = (tmp_path / "dist").glob("roundtable-*.whl")
    with zipfile.ZipFile(wheel) as built:
        assert {f"prompts/{name}" for name in PACKS} <= set(built.namelist())

    site = (tmp_path / "site").resolve()
    pip("install", "--no-deps", "--target", str(site), str(wheel), cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probed = installed_python(site, elsewhere, "-c", PROBE)
    assert probed.returncode == 0, probed.stderr
    found = json.loads(probed.stdout)
    assert all(Path(f).is_relative_to(site) for f in found["code"]), found["code"]
    assert [Path(p).name for p in found["packs"]] == PACKS
    assert all(Path(p).is_relative_to(site) for p in found["packs"]), found["packs"]
    assert Path(found["default"]) == site / "prompts"
    assert found["demo"]
    # the theme engine's own layers, checked as the engine loads them
    assert Path(found["layers"][0]).is_relative_to(site) and found["layers"][1] > 0

    listed = installed_python(site, elsewhere, "-m", "bot.cli", "packs", "list")
    assert listed.returncode == 0, listed.stdout + listed.stderr
    assert "sel-pharmacy-leadership" in listed.stdout
