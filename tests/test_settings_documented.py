"""Every setting Roundtable reads is in `.env.example` and the README's Configuration table, and
everything those two name is a setting it reads: an operator who fills in the example or
follows the table sets nothing that is ignored, and misses nothing that exists."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices

from bot.config import Settings

ROOT = Path(__file__).resolve().parents[1]


def read_by_settings() -> set[str]:
    """The first (documented) name of each environment variable Settings reads."""
    names = set()
    for field in Settings.model_fields.values():
        alias = field.validation_alias
        if isinstance(alias, AliasChoices):
            alias = alias.choices[0]
        assert isinstance(alias, str)
        names.add(alias)
    return names


def in_env_example() -> set[str]:
    """Variables `.env.example` assigns, commented out or not (`# NAME=…` is one left unset)."""
    text = (ROOT / ".env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]*)=", text, re.M))


def in_readme_table() -> set[str]:
    """Variables named in the first column of the README's Configuration table."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Configuration\n")[1]
    section = section.split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(r"`([A-Z][A-Z0-9_]*)`", row.split("|")[1])}


def test_every_setting_is_in_the_env_example_and_it_names_no_other() -> None:
    settings, example = read_by_settings(), in_env_example()
    assert settings - example == set(), "settings .env.example does not list"
    assert example - settings == set(), "variables in .env.example that nothing reads"


def test_every_setting_is_in_the_readme_table_and_it_names_no_other() -> None:
    settings, table = read_by_settings(), in_readme_table()
    assert settings - table == set(), "settings the README's Configuration table leaves out"
    assert table - settings == set(), "variables in the README's table that nothing reads"


def test_the_install_size_table_names_only_packages_the_install_brings() -> None:
    """The README's Install size says where the space goes, package by package; a package
    named there that the install no longer brings means the figures are stale."""
    section = (ROOT / "README.md").read_text(encoding="utf-8").split("\n## Install size\n")[1]
    rows = [line for line in section.split("\n## ")[0].splitlines() if line.startswith("| ")]
    named = {
        name.lower() for row in rows[2:] for name in re.findall(r"`([\w.-]+)`", row.split("|")[2])
    }
    pinned = "".join(
        (ROOT / path).read_text(encoding="utf-8")
        for path in ("requirements.lock", "bot/core/digest/model-requirements.txt")
    )
    installed = {name.lower() for name in re.findall(r"^([\w.-]+)==", pinned, re.M)}
    assert named, "no package named in the README's Install size table"
    assert named - installed - {"pip", "setuptools"} == set()
