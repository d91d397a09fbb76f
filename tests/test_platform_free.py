"""Acceptance 5 of issue 14: the core and the application layer import nothing from Slack's or
Teams' packages; ruff's banned-api rule (TID251) keeps each SDK in its adapter's folder."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLATFORM_PACKAGES = ("slack_bolt", "slack_sdk", "microsoft_teams")
PLATFORM_FREE = ("bot/core", "bot/app", "bot/scheduling", "storage")


def third_party_imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def test_the_core_and_the_application_layer_import_no_platform_package() -> None:
    reaching = [f"{path.relative_to(ROOT)} imports {name}"
                for folder in PLATFORM_FREE for path in (ROOT / folder).rglob("*.py")
                for name in third_party_imports(path) if name in PLATFORM_PACKAGES]
    assert reaching == []


def test_ruff_bans_each_platform_sdk_outside_its_adapter() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["ruff"]["lint"]
    banned = config["flake8-tidy-imports"]["banned-api"]
    assert {"slack_bolt", "slack_sdk", "microsoft_teams"} <= set(banned)
    allowed = {folder for folder, rules in config["per-file-ignores"].items()
               if "TID251" in rules}
    assert {"bot/slack/**", "bot/teams/**"} <= allowed
    assert not any(f.startswith(("bot/core", "bot/app")) for f in allowed)


def test_ruff_flags_a_teams_import_in_the_core() -> None:
    """The rule works: the same import is refused in bot/core and allowed in bot/teams (the
    source is given on standard input, as if it were a file there)."""
    line = "from __future__ import annotations\n\nimport microsoft_teams.apps  # noqa: F401\n"
    results = {folder: subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "--select", "TID251",
         "--stdin-filename", f"{folder}/probe.py", "-"], input=line, cwd=ROOT,
        capture_output=True, text=True) for folder in ("bot/core", "bot/teams")}
    assert results["bot/core"].returncode == 1 and "Teams belongs in bot/teams/" in (
        results["bot/core"].stdout)
    assert results["bot/teams"].returncode == 0
