"""Prompt packs: the seed pack loads; each broken pack is one line naming file, line, field."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app.health import NO_SENDER
from bot.core.packs import Pack, PackError, check_pack, load_pack, pack_files
from prompts import PROMPTS_DIR
from tests.helpers import run_cli, seed_pack

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


def test_a_pack_whose_aliases_stand_for_billions_of_values_is_refused_at_once(
        tmp_path: Path) -> None:
    """Aliases of aliases (YAML's "billion laughs"): a few lines that stand for 9^9 values
    were read out whole, in minutes and gigabytes; an alias a pack uses to repeat a little
    (a list of options named twice) is still read."""
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 9)]
    bomb = write(tmp_path, "\n".join(lines) + "\n" + GOOD.replace("title: A tiny pack",
                                                                  "title: *a8"))
    with pytest.raises(PackError) as caught:
        load_pack(bomb)
    assert str(caught.value) == (
        f"{bomb}: YAML: the file holds more than 100,000 values once its aliases (*name) are "
        "read out; write the pack out without aliases of aliases")
    repeated = GOOD.replace("options: [Alpha, Beta, Gamma]", "options: &three [A, B, C]") \
        + "  - {id: again, section: Two, kind: rank, question: Again, pick: 2, options: *three}\n"
    assert load_pack(write(tmp_path, repeated)).prompts[2].options == ("A", "B", "C")


def test_a_pack_nested_deeper_than_python_reads_says_so(tmp_path: Path) -> None:
    deep = write(tmp_path, GOOD + "notes: " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(PackError) as caught:
        load_pack(deep)
    assert str(caught.value) == f"{deep}: YAML: lists or mappings nested too deeply"


def test_it_refuses_a_pack_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin.yaml"
    path.write_bytes(GOOD.replace("tiny pack", "caf\xe9 pack").encode("latin-1"))
    with pytest.raises(PackError, match="not UTF-8"):
        load_pack(path)


THREE_PROBLEMS = (GOOD.replace("title: A tiny pack\n", "")
                  .replace("kind: text", "kind: essay")
                  .replace("pick: 2", "pick: 4"))


def test_it_reports_every_problem_of_a_pack_in_the_order_of_its_lines(tmp_path: Path) -> None:
    path = write(tmp_path, THREE_PROBLEMS)
    pack, problems = check_pack(path)
    assert pack is None
    assert [str(p) for p in problems] == [
        f"{path}:1: title: missing field; a pack has id, title, workshop_date, intro and prompts",
        f"{path}:7: prompts[0].kind: unknown value 'essay'; use text, choice or rank",
        f"{path}:13: prompts[1].pick: asks for 4 but lists only 3 options",
    ]


@pytest.mark.parametrize("change, read", [
    (("title: A tiny pack", "title: 2026"), lambda pack: pack.title == "2026"),
    (("title: A tiny pack", "title: 2026-12-01"), lambda pack: pack.title == "2026-12-01"),
    (("title: A tiny pack", "title: 12:30"), lambda pack: pack.title == "12:30"),
    (("title: A tiny pack", "title: 0x10"), lambda pack: pack.title == "0x10"),
    (("id: tiny", "id: 2026"), lambda pack: pack.id == "2026"),
    (("question: What went well?", "question: no"),
     lambda pack: pack.prompts[0].question == "no"),
    (("question: What went well?", "question: 1.50"),
     lambda pack: pack.prompts[0].question == "1.50"),
    (("[Alpha, Beta, Gamma]", "[2026, 2027, yes]"),
     lambda pack: pack.prompts[1].options == ("2026", "2027", "yes")),
    (("pick: 2", "pick: '2'"), lambda pack: pack.prompts[1].pick == 2),
    (("2026-01-15", "'2026-01-15'"), lambda pack: pack.workshop_date.isoformat() == "2026-01-15"),
])
def test_an_unquoted_number_date_or_yes_in_a_text_field_is_the_text_as_written(
        tmp_path: Path, change: tuple[str, str], read: Callable[[Pack], bool]) -> None:
    assert change[0] in GOOD
    assert read(load_pack(write(tmp_path, GOOD.replace(*change, 1))))


@pytest.mark.parametrize("change, line, problem", [
    (("2026-01-15", "86400"), 3, "workshop_date: write the date as YYYY-MM-DD, like 2026-03-10"),
    (("2026-01-15", "2026-1-5"), 3, "workshop_date: write the date as YYYY-MM-DD, like 2026-03-10"),
    (("2026-01-15", "2026-01-15T10:00"), 3,
     "workshop_date: write the date as YYYY-MM-DD, like 2026-03-10"),
    (("pick: 2", "pick: yes"), 14, "prompts[1].pick: should be a whole number, not 'yes'"),
    (("pick: 2", "pick: 4"), 14, "prompts[1].pick: asks for 4 but lists only 3 options"),
    (("title: A tiny pack", "title:"), 2, "title: is empty; it should be text (the pack's title)"),
    (("workshop_date: 2026-01-15", "workshop_date: 2026-01-15\nopens: 2026-12-01"), 4,
     "opens: unknown field; a pack has id, title, workshop_date, intro and prompts"),
])
def test_a_value_that_is_no_date_or_number_where_one_belongs_is_its_fields_problem(
        tmp_path: Path, change: tuple[str, str], line: int, problem: str) -> None:
    assert change[0] in GOOD
    path = write(tmp_path, GOOD.replace(*change, 1))
    assert [str(p) for p in check_pack(path)[1]] == [f"{path}:{line}: {problem}"]


def test_packs_list_shows_a_year_written_as_a_title(tmp_path: Path) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "year.yaml").write_text(GOOD.replace("title: A tiny pack", "title: 2026"),
                                      encoding="utf-8")
    listed = run_cli("packs", "list", env={"ROUNDTABLE_PACKS_DIR": str(folder)})
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.splitlines()[0] == "tiny  2026  [2026-01-15]"


ONLY_PROMPT_BROKEN = GOOD[:GOOD.index("  - id: top")].replace("kind: text", "kind: essay")


def test_a_pack_whose_only_prompt_is_broken_reports_that_prompts_problem_alone(
        tmp_path: Path) -> None:
    path = write(tmp_path, ONLY_PROMPT_BROKEN)
    result = run_cli("packs", "validate", str(path))
    assert result.returncode == 1
    assert result.stderr.splitlines() == [
        f"{path}:8: prompts[0].kind: unknown value 'essay'; use text, choice or rank"]


def test_a_pack_with_no_prompts_still_says_it_needs_one(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD[:GOOD.index("  - id: first")].replace("prompts:", "prompts: []"))
    _, problems = check_pack(path)
    assert [str(p) for p in problems] == [f"{path}:5: prompts: needs at least 1 prompt"]


def test_packs_validate_takes_folders_and_prints_a_line_per_problem(tmp_path: Path) -> None:
    assert run_cli("packs", "validate", str(PROMPTS_DIR) + "/").returncode == 0
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "good.yaml").write_text(GOOD, encoding="utf-8")
    (folder / "broken.yaml").write_text(THREE_PROBLEMS, encoding="utf-8")
    result = run_cli("packs", "validate", str(folder), str(tmp_path / "missing.yaml"))
    assert result.returncode == 1
    assert result.stdout == f"{folder / 'good.yaml'}: ok (tiny, 2 prompts)\n"
    assert [line.split(": ", 1)[0] for line in result.stderr.splitlines()] == [
        f"{folder / 'broken.yaml'}:1", f"{folder / 'broken.yaml'}:7",
        f"{folder / 'broken.yaml'}:13", str(tmp_path / "missing.yaml")]


def test_a_deployers_own_packs_folder_is_used_by_list_validate_and_start(tmp_path: Path) -> None:
    folder = tmp_path / "our-packs"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(GOOD, encoding="utf-8")
    env = {"ROUNDTABLE_PACKS_DIR": str(folder)}
    listed = run_cli("packs", "list", env=env)
    assert listed.stdout.splitlines()[0] == "tiny  A tiny pack  [2026-01-15]"
    assert run_cli("packs", "validate", env=env).stdout.strip() == (
        f"{folder / 'tiny.yaml'}: ok (tiny, 2 prompts)")
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    started = run_cli("round", "start", "tiny", "--to", "U0AMARA", cwd=tmp_path, env=env)
    assert started.stdout.splitlines() == ["Round 1 started for 1 person.", NO_SENDER.plain
                                           ], started.stderr
    unknown = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U0AMARA",
                      cwd=tmp_path, env=env)
    assert unknown.returncode == 1
    assert "no pack 'sel-pharmacy-leadership' (known: tiny)" in unknown.stderr


@pytest.mark.parametrize("date", ["2021-02-30", "2021-13-40"])
def test_an_impossible_workshop_date_is_a_field_problem_and_the_other_packs_still_count(
        tmp_path: Path, date: str) -> None:
    folder = tmp_path / "packs"
    folder.mkdir()
    (folder / "good.yaml").write_text(GOOD, encoding="utf-8")
    feb = folder / "feb.yaml"
    feb.write_text(GOOD.replace("2026-01-15", date).replace("kind: text", "kind: essay"),
                   encoding="utf-8")
    validated = run_cli("packs", "validate", str(folder))
    assert validated.returncode == 1
    assert "unexpected error" not in validated.stderr
    assert [line.split(": ", 2)[:2] for line in validated.stderr.splitlines()] == [
        [f"{feb}:3", "workshop_date"], [f"{feb}:8", "prompts[0].kind"]]
    assert validated.stdout == f"{folder / 'good.yaml'}: ok (tiny, 2 prompts)\n"
    listed = run_cli("packs", "list", env={"ROUNDTABLE_PACKS_DIR": str(folder)})
    assert listed.returncode == 1
    assert listed.stdout.splitlines()[0].startswith(f"feb  (invalid: 2 problems; see "
                                                    f"`roundtable packs validate`) {feb}:3: "
                                                    "workshop_date: ")
    assert "tiny  A tiny pack  [2026-01-15]" in listed.stdout
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    started = run_cli("round", "start", str(feb), "--to", "U0AMARA", cwd=tmp_path)
    assert started.returncode == 1
    assert started.stderr.startswith(f"roundtable: {feb}:3: workshop_date: "), started.stderr
    assert "No open rounds." in run_cli("round", "status", cwd=tmp_path).stdout


PYDANTIC_WORDS = ("Input should", "input should", "Field required", "valid string",
                  "valid tuple", "valid integer", "valid dictionary", "instance of",
                  "should match pattern", "String should", "greater than or equal",
                  "value is not a valid", "http", "pydantic", "None")


@pytest.mark.parametrize("change, line, problem", [
    (("title: A tiny pack", "title: [Draft, two]"), 2,
     "title: should be text (the pack's title), not a list (put text starting with [ in "
     "quotes)"),
    (("title: A tiny pack", "title: ''"), 2, "title: is empty; it should be text (the pack's "
     "title)"),
    (("title: A tiny pack", "title: " + "x" * 301), 2, "title: is 301 characters long; at most "
     "300 fit"),
    (("id: tiny", "id: Tiny Pack"), 1, "id: 'Tiny Pack' cannot be an id; it should be a short "
     "id of lower-case letters, digits and hyphens, like sel-pharmacy-leadership"),
    (("id: first", "id: First!"), 6, "prompts[0].id: 'First!' cannot be an id; it should be a "
     "short id of lower-case letters, digits and hyphens, like done-well"),
    (("id: first", "id:"), 6, "prompts[0].id: is empty; it should be a short id of lower-case "
     "letters, digits and hyphens, like done-well"),
    (("    section: One\n", ""), 6, "prompts[0].section: missing field; a prompt has id, "
     "section, kind and question, and may have context, options and pick"),
    (("section: One", "section: {a: 1}"), 7, "prompts[0].section: should be text (the workshop "
     "section the prompt belongs to), not a mapping (put text with ': ' or starting with { "
     "in quotes)"),
    (("question: What went well?", "question: What: went well?"), 9,
     "YAML: mapping values are not allowed here; put text that holds ': ' in quotes"),
    (("kind: text", "kind:"), 8, "prompts[0].kind: is empty; it should be text, choice or "
     "rank"),
    (("options: [Alpha, Beta, Gamma]", "options: Alpha"), 15, "prompts[1].options: should be "
     "a list of options, like [Alpha, Beta], not 'Alpha'"),
    (("options: [Alpha, Beta, Gamma]", "options: [Alpha, [Beta], Gamma]"), 15,
     "prompts[1].options[1]: should be text (one option), not a list (put text starting with "
     "[ in quotes)"),
    (("options: [Alpha, Beta, Gamma]", "options:"), 15,
     "prompts[1].options: a rank prompt needs at least 2 options"),
    (("options: [Alpha, Beta, Gamma]",
      "options: [" + ", ".join(f"Option {n}" for n in range(101)) + "]"), 15,
     "prompts[1].options: lists 101 options; at most 100 fit in a chat form's list"),
    (("pick: 2", "pick: 0"), 14, "prompts[1].pick: should be 1 or more, not 0"),
    (("pick: 2", "pick: [2]"), 14, "prompts[1].pick: should be a whole number, 1 or more, not "
     "a list"),
    (("2026-01-15", "2021-02-30"), 3, "workshop_date: 2021-02-30 is not a day of the calendar; "
     "write the date as YYYY-MM-DD"),
    (("  - id: first\n", "  - first\n  - id: first\n"), 6, "prompts[0]: should be a prompt, "
     "with id, section, kind and question on lines of their own, not 'first'"),
    (("prompts:\n", "prompts: first\nunused:\n"), 5, "prompts: should be a list of prompts, "
     "each with id, section, kind and question, not 'first'"),
])
def test_a_broken_field_says_plainly_what_it_should_hold(
        tmp_path: Path, change: tuple[str, str], line: int, problem: str) -> None:
    assert change[0] in GOOD
    path = write(tmp_path, GOOD.replace(*change, 1))
    problems = [str(p) for p in check_pack(path)[1]]
    assert problems[0] == f"{path}:{line}: {problem}"
    assert not [p for p in problems for word in PYDANTIC_WORDS if word in p], problems


@pytest.mark.parametrize("options", ["    options:\n", "    options: []\n"])
def test_a_text_prompt_with_its_options_left_empty_has_none(
        tmp_path: Path, options: str) -> None:
    path = write(tmp_path, GOOD.replace("    question: What went well?\n",
                                        "    question: What went well?\n" + options))
    pack, problems = check_pack(path)
    assert problems == [] and pack is not None
    assert pack.prompts[0].options == ()
    validated = run_cli("packs", "validate", str(path))
    assert validated.returncode == 0, validated.stderr
    assert validated.stdout == f"{path}: ok (tiny, 2 prompts)\n"


HUNDRED = "options: [" + ", ".join(f"Option {n}" for n in range(100)) + "]"


@pytest.mark.parametrize("pick, line, problem", [
    ("", 14, "prompts[1].options: ranks all 100 options, one place each; an answer form has "
     "room for 99 places: give pick, 99 or fewer"),
    ("pick: 100", 14, "prompts[1].pick: ranks 100 places; an answer form has room for 99: "
     "give pick, 99 or fewer"),
])
def test_a_rank_prompt_with_more_places_than_a_form_holds_is_refused(
        tmp_path: Path, pick: str, line: int, problem: str) -> None:
    path = write(tmp_path, GOOD.replace("    pick: 2\n", f"    {pick}\n" if pick else "")
                 .replace("options: [Alpha, Beta, Gamma]", HUNDRED))
    assert [str(p) for p in check_pack(path)[1]] == [f"{path}:{line}: {problem}"]

