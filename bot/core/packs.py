"""Prompt packs: YAML files in prompts/, validated with pydantic, errors named by file and line."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from bot.core.wording import counted
from prompts import PROMPTS_DIR

SLUG = r"^[a-z0-9][a-z0-9-]*$"
MOST_OPTIONS = 100
"""Options a prompt may list: a chat form offers them in one list, and Slack's holds 100."""
MOST_PLACES = 99
"""Places a rank prompt may ask for: an answer form has a list for each, below the question,
and a Slack form holds 100 blocks."""

Kind = Literal["text", "choice", "rank"]
PACK_DATE = "pack_date"
"""The type of our own error for a workshop date not written YYYY-MM-DD."""


class Prompt(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SLUG, max_length=100)
    section: str = Field(min_length=1, max_length=150)
    kind: Kind
    question: str = Field(min_length=1, max_length=2000)
    context: str | None = Field(None, max_length=2000)
    options: tuple[str, ...] = ()
    pick: int | None = Field(None, ge=1)
    """rank: how many to pick and order; choice: the most that may be chosen (1 = one only)."""

    @field_validator("options", mode="before")
    @classmethod
    def _none_as_no_options(cls, value: object) -> object:
        """`options:` left empty lists none (fine on a text prompt; a choice or rank prompt
        is told it needs at least two)."""
        return () if value is None else value

    @property
    def picks(self) -> int:
        """How many options a vote holds at most."""
        if self.kind == "rank":
            return self.pick or len(self.options)
        return self.pick or 1

    @property
    def places(self) -> int:
        """How many places a ranking ballot fills (its picks, or every option when fewer)."""
        return min(self.picks, len(self.options))


class Pack(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=SLUG, max_length=100)
    title: str = Field(min_length=1, max_length=300)
    workshop_date: dt.date
    intro: str = Field(min_length=1, max_length=1000)
    prompts: tuple[Prompt, ...] = Field(min_length=1)

    @field_validator("workshop_date", mode="before")
    @classmethod
    def _written_as_a_date(cls, value: object) -> object:
        """Only YYYY-MM-DD: pydantic would also take a number as seconds since 1970."""
        if not isinstance(value, dt.date) and not (
                isinstance(value, str) and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value)):
            raise PydanticCustomError(PACK_DATE, "write the date as YYYY-MM-DD, like 2026-03-10")
        return value

    def prompt(self, prompt_id: str) -> Prompt | None:
        return next((p for p in self.prompts if p.id == prompt_id), None)


class PackError(Exception):
    """A pack that cannot be used; str() is one line: file:line: field: problem."""

    def __init__(self, path: Path | str, line: int | None, field: str, problem: str) -> None:
        self.path, self.line, self.field, self.problem = str(path), line, field, problem
        where = f"{self.path}:{line}" if line else self.path
        super().__init__(f"{where}: {field}: {problem}" if field else f"{where}: {problem}")


def load_pack(path: Path | str) -> Pack:
    """Read and validate one pack file, raising PackError at the first problem."""
    pack, problems = check_pack(path)
    if pack is None:
        raise problems[0]
    return pack


def check_pack(path: Path | str) -> tuple[Pack | None, list[PackError]]:
    """Read and validate one pack file: the pack (None if it has any problem) and every
    problem found, in the order of the file's lines."""
    path = Path(path)
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        return None, [PackError(path, None, "", f"not UTF-8 text ({exc.reason})")]
    except OSError as exc:
        return None, [PackError(path, None, "", exc.strerror or "cannot be read")]
    return _checked(source, path)


def parse_pack(source: str, path: Path | str = "<pack>") -> Pack:
    pack, problems = _checked(source, path)
    if pack is None:
        raise problems[0]
    return pack


class _ScalarsAsWritten(yaml.SafeLoader):
    """YAML's safe loader, less its guesses at types: every unquoted value is the text as
    written (bar an empty one, and the merge key `<<`), and the schema reads a number or a date
    where a field holds one. So `title: 2026` is the title "2026" and `question: 12:30` stays
    "12:30" (YAML 1.1 would make them 2026 and 750), `pick: yes` is a problem rather than 1, and
    an impossible date (2021-02-30) is a problem of its field beside the file's other problems,
    not a ValueError out of the YAML parser."""

    yaml_implicit_resolvers = {
        first: [(tag, regexp) for tag, regexp in resolvers
                if tag in ("tag:yaml.org,2002:null", "tag:yaml.org,2002:merge")]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()}


MOST_VALUES = 100_000
"""The most values (mappings, lists, texts) a pack file may hold once YAML's aliases are
read out: a pack of a thousand questions holds some tens of thousands. An alias repeats
what it names, so a few lines of aliases of aliases can stand for billions of values."""


def _checked(source: str, path: Path | str) -> tuple[Pack | None, list[PackError]]:
    try:
        node = yaml.compose(source, Loader=_ScalarsAsWritten)
        if node is not None and _values_in(node, {}) > MOST_VALUES:
            return None, [PackError(path, None, "YAML", (
                f"the file holds more than {MOST_VALUES:,} values once its aliases (*name) "
                "are read out; write the pack out without aliases of aliases"))]
        data = yaml.load(source, Loader=_ScalarsAsWritten)  # noqa: S506 - a safe loader
    except RecursionError:
        return None, [PackError(path, None, "YAML", "lists or mappings nested too deeply")]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        if problem == "mapping values are not allowed here":
            problem += "; put text that holds ': ' in quotes"
        return None, [PackError(path, mark.line + 1 if mark else None, "YAML", problem)]
    if not isinstance(data, dict) or node is None:
        return None, [PackError(
            path, 1, "", "a pack is a mapping with id, title, workshop_date, intro, prompts")]
    lines = dict(_node_lines(node, ()))
    found: list[tuple[tuple[Any, ...], str]] = []
    pack: Pack | None = None
    try:
        pack = Pack.model_validate(data)
    except ValidationError as exc:
        found += [(tuple(error["loc"]), _message(error)) for error in exc.errors()
                  if not _short_only_of_invalid_items(error)]
    found += list(_semantic_problems(data))
    problems = [PackError(path, _line_for(loc, lines), _field(loc), problem)
                for loc, problem in found]
    problems.sort(key=lambda p: p.line or 0)  # stable: at one line, in the order found
    return (pack if not problems else None), problems


def _semantic_problems(data: dict[str, Any]) -> Iterator[tuple[tuple[Any, ...], str]]:
    """What the schema cannot say, read from the raw data so that it is reported beside the
    schema's own problems (a field of the wrong type is the schema's to report)."""
    prompts = data.get("prompts")
    seen: set[str] = set()
    for i, prompt in enumerate(prompts if isinstance(prompts, list) else []):
        if not isinstance(prompt, dict):
            continue
        here = ("prompts", i)
        if isinstance(prompt_id := prompt.get("id"), str):
            if prompt_id in seen:
                yield (*here, "id"), f"duplicate prompt id {prompt_id!r}"
            seen.add(prompt_id)
        options = prompt.get("options") or []
        if not isinstance(options, list) or not all(isinstance(o, str) for o in options):
            continue
        kind, pick = prompt.get("kind"), _whole_number(prompt.get("pick"))
        if len(set(options)) != len(options):
            yield (*here, "options"), "options must differ from each other"
        if kind == "text":
            if options or pick:
                yield (*here, "options"), "a text prompt takes no options or pick"
        elif kind in ("choice", "rank"):
            if len(options) < 2:
                yield (*here, "options"), f"a {kind} prompt needs at least 2 options"
            elif isinstance(pick, int) and pick > len(options):
                yield (*here, "pick"), (f"asks for {pick} but lists only {len(options)} "
                                        "options")
            elif kind == "rank" and (places := pick or len(options)) > MOST_PLACES:
                fewer = f"give pick, {MOST_PLACES} or fewer"
                if pick:
                    yield (*here, "pick"), (f"ranks {places} places; an answer form has room "
                                            f"for {MOST_PLACES}: {fewer}")
                else:
                    yield (*here, "options"), (f"ranks all {places} options, one place each; an "
                                               f"answer form has room for {MOST_PLACES} places: "
                                               f"{fewer}")
        if len(options) > MOST_OPTIONS:
            yield (*here, "options"), (f"lists {len(options)} options; at most {MOST_OPTIONS} "
                                       "fit in a chat form's list")
        if any(not option.strip() or len(option) > 75 for option in options):
            yield (*here, "options"), "each option needs 1 to 75 characters"


def _whole_number(value: object) -> int | None:
    """A number as written in the file (its text), or None when it is not one."""
    if isinstance(value, int):
        return value
    return int(value) if isinstance(value, str) and value.strip().isdecimal() else None


def _values_in(node: yaml.Node, counted: dict[int, int]) -> int:
    """How many values `node` stands for with every alias read out (each node counted once
    however many aliases name it: `counted` by node)."""
    if id(node) in counted:
        return counted[id(node)]
    total = 1
    if isinstance(node, yaml.MappingNode):
        total += sum(_values_in(k, counted) + _values_in(v, counted) for k, v in node.value)
    elif isinstance(node, yaml.SequenceNode):
        total += sum(_values_in(item, counted) for item in node.value)
    counted[id(node)] = total
    return total


def _node_lines(node: yaml.Node, loc: tuple[Any, ...]) -> Iterator[tuple[tuple[Any, ...], int]]:
    yield loc, node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield (*loc, key.value), key.start_mark.line + 1
            yield from (
                (k, v) for k, v in _node_lines(value, (*loc, key.value)) if k != (*loc, key.value)
            )
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            yield from _node_lines(item, (*loc, i))


def _line_for(loc: tuple[Any, ...], lines: dict[tuple[Any, ...], int]) -> int | None:
    while loc not in lines and loc:
        loc = loc[:-1]
    return lines.get(loc)


def _field(loc: Sequence[Any]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _short_only_of_invalid_items(error: Any) -> bool:
    """A list counted short only because its invalid items were left out (pydantic counts what
    validated): each of those items is reported already, and the list was long enough."""
    given = error.get("input")
    return (error["type"] == "too_short" and isinstance(given, list | tuple)
            and len(given) >= error["ctx"]["min_length"])


PACK_FIELDS = "a pack has id, title, workshop_date, intro and prompts"
PROMPT_FIELDS = ("a prompt has id, section, kind and question, and may have context, options "
                 "and pick")
_EXPECTED = {
    "title": "text (the pack's title)",
    "intro": "text (a few lines on why the workshop matters)",
    "section": "text (the workshop section the prompt belongs to)",
    "question": "text (the question people are asked)",
    "context": "text (shown before the question), or nothing",
    "workshop_date": "a date written YYYY-MM-DD, like 2026-03-10",
    "kind": "text, choice or rank",
    "options": "a list of options, like [Alpha, Beta]",
    "pick": "a whole number, 1 or more",
    "prompts": "a list of prompts, each with id, section, kind and question",
}
_ITEMS = {"options": "text (one option)",
          "prompts": "a prompt, with id, section, kind and question on lines of their own"}
_ID = "a short id of lower-case letters, digits and hyphens, like "
_DATE_ERRORS = ("date_parsing", "date_from_datetime_parsing", "date_from_datetime_inexact",
                "date_type")


def _message(error: Any) -> str:
    """A problem as a facilitator reads it: what is wrong and what the field should hold, in
    words of our own (pydantic's own messages speak of types and patterns)."""
    kind, loc, given = error["type"], tuple(error["loc"]), error.get("input")
    expected = _expected(loc)
    if kind == "missing":
        return f"missing field; {PACK_FIELDS if len(loc) == 1 else PROMPT_FIELDS}"
    if kind == "extra_forbidden":
        return f"unknown field; {PACK_FIELDS if len(loc) == 1 else PROMPT_FIELDS}"
    if given is None or kind == "string_too_short":
        return f"is empty; it should be {expected}"
    if kind == "int_parsing":
        return f"should be a whole number, not {given!r}"
    if kind == "greater_than_equal":
        return f"should be {error['ctx']['ge']} or more, not {given}"
    if kind == "too_short" and isinstance(given, list | tuple):
        return f"needs at least {counted(error['ctx']['min_length'], 'prompt')}"
    if kind == "string_too_long":
        return f"is {len(given)} characters long; at most {error['ctx']['max_length']} fit"
    if kind == "string_pattern_mismatch":
        return f"{given!r} cannot be an id; it should be {expected}"
    if kind == "literal_error":
        return f"unknown value {given!r}; use text, choice or rank"
    if kind in _DATE_ERRORS:
        return f"{given} is not a day of the calendar; write the date as YYYY-MM-DD"
    if kind == PACK_DATE:
        return str(error["msg"])  # our own words
    return f"should be {expected}, not {_what_is(given, expected)}"


def _expected(loc: tuple[Any, ...]) -> str:
    """What the field at `loc` should hold, in words."""
    if not loc:
        return "a mapping with id, title, workshop_date, intro and prompts"
    if isinstance(loc[-1], int):
        return _ITEMS.get(str(loc[-2]) if len(loc) > 1 else "", "text")
    if loc[-1] == "id":
        return _ID + ("sel-pharmacy-leadership" if len(loc) == 1 else "done-well")
    return _EXPECTED.get(str(loc[-1]), "text")


def _what_is(value: object, expected: str) -> str:
    """What a value read from YAML is, in words; where text was expected, how to write it
    (YAML reads `[...]`, `{...}` and `a: b` as a list or a mapping unless quoted)."""
    quote = expected.startswith("text")
    if isinstance(value, dict):
        return "a mapping" + (" (put text with ': ' or starting with { in quotes)"
                              if quote else "")
    if isinstance(value, list | tuple):
        return "a list" + (" (put text starting with [ in quotes)" if quote else "")
    return f"{value!r}"


def pack_files(directory: Path = PROMPTS_DIR) -> list[Path]:
    """The pack files of a folder (*.yaml, *.yml), by name."""
    return sorted(p for p in directory.glob("*.y*ml") if p.suffix in {".yaml", ".yml"})


def pack_paths(paths: Sequence[Path]) -> Iterator[Path | PackError]:
    """The pack files that `paths` name (files, or folders of them), or a problem for a path
    that names none."""
    for path in paths:
        if path.is_dir():
            files = pack_files(path)
            if not files:
                yield PackError(path, None, "", "no pack files (*.yaml, *.yml) in this folder")
            yield from files
        elif path.exists():
            yield path
        else:
            yield PackError(path, None, "", "no such file or folder")


def find_pack(pack_id: str, directory: Path = PROMPTS_DIR) -> Pack:
    """The pack with this id among the pack files (or at this path)."""
    if pack_id.endswith((".yaml", ".yml")) or "/" in pack_id:
        return load_pack(pack_id)
    for path in pack_files(directory):
        if path.stem == pack_id:
            return load_pack(path)
    for path in pack_files(directory):
        pack = load_pack(path)
        if pack.id == pack_id:
            return pack
    known = ", ".join(p.stem for p in pack_files(directory)) or "none"
    raise PackError(directory, None, "", f"no pack {pack_id!r} (known: {known})")


def pack_from_snapshot(snapshot: dict[str, Any]) -> Pack:
    """The pack a round stored when it started."""
    return Pack.model_validate(snapshot)
