"""Prompt packs: the seed pack loads; each broken pack is one line naming file, line, field."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.packs import PackError, load_pack, pack_files
from tests.helpers import seed_pack

GOOD = """\
id: tiny
title: A tiny pack
workshop_date: 2026-01-15
intro: Three lines of why.
prompts:
  - id: first
    section: One
    kind: text
    question: What went well?
  - id: top
    section: Two
    kind: rank
    question: Rank them
    pick: 2
    options: [Alpha, Beta, Gamma]
"""


def write(tmp_path: Path, source: str) -> Path:
    path = tmp_path / "pack.yaml"
    path.write_text(source, encoding="utf-8")
    return path


def test_it_loads_the_seed_pack_with_the_contract_prompt_ids() -> None:
    pack = seed_pack()
    assert [(p.id, p.kind) for p in pack.prompts] == [
        ("done-well", "text"),
        ("bought-in", "text"),
        ("future-leaders", "text"),
        ("best-support", "text"),
        ("anti-governance", "text"),
        ("support-factors", "rank"),
    ]
    ranking = pack.prompt("support-factors")
    assert ranking is not None and ranking.pick == 5
    for named in (
        "Protected time",
        "Insights from elsewhere",
        "Clear purpose and motivation",
        "Leadership development",
    ):
        assert named in ranking.options
    assert len(ranking.options) > 5


def test_it_validates_every_shipped_pack() -> None:
    assert pack_files()
    for path in pack_files():
        load_pack(path)


def test_it_loads_a_good_pack(tmp_path: Path) -> None:
    pack = load_pack(write(tmp_path, GOOD))
    assert pack.id == "tiny" and pack.prompts[1].picks == 2


@pytest.mark.parametrize(
    "change, line, field, problem",
    [
        (("kind: text", "kind: essay"), 8, "prompts[0].kind", "unknown value 'essay'"),
        (("pick: 2", "pick: 4"), 14, "prompts[1].pick", "asks for 4 but lists only 3 options"),
        (("id: top", "id: first"), 10, "prompts[1].id", "duplicate prompt id 'first'"),
        (("    question: What went well?\n", ""), 6, "prompts[0].question", "missing field"),
        (("title: A tiny pack\n", ""), 1, "title", "missing field"),
        (("options: [Alpha, Beta, Gamma]", "options: [Alpha, Beta"), 16, "YAML", "expected"),
        (("workshop_date: 2026-01-15", "workshop_date: someday"), 3, "workshop_date", "date"),
        (
            ("    pick: 2\n", "    pick: 2\n    colour: red\n"),
            15,
            "prompts[1].colour",
            "unknown field",
        ),
    ],
)
def test_it_names_file_line_and_field_of_a_broken_pack(
    tmp_path: Path, change: tuple[str, str], line: int, field: str, problem: str
) -> None:
    assert change[0] in GOOD
    path = write(tmp_path, GOOD.replace(*change))
    with pytest.raises(PackError) as caught:
        load_pack(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{path}:{line}: {field}: "), message
    assert problem in message


def test_it_refuses_a_pack_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(GOOD.replace("tiny pack", "caf\xe9 pack").encode("latin-1"))
    with pytest.raises(PackError, match="not UTF-8"):
        load_pack(path)
