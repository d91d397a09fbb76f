"""Import answers from a CSV (notes from the live workshop): all rows or none."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from bot.core.errors import InvalidAnswer, RoundtableError
from bot.core.packs import Pack
from bot.core.people import Person, upsert_participant
from bot.core.replies import ROOM_SOURCE, record_reply, record_vote
from bot.core.rounds import (
    DEFAULT_MODE,
    Anonymity,
    RoundRequest,
    get_round,
    round_pack,
    start_round,
)
from storage.models import Participant

REQUIRED = ("prompt_id", "participant", "text")
IMPORT_PLATFORM = "import"
CHOICE_SEPARATOR = ";"
PROGRESS_EVERY = 100


class ImportError_(RoundtableError):
    """A file that cannot be imported; names the line. Nothing was stored."""

    def __init__(self, path: str, line: int | None, problem: str) -> None:
        super().__init__(f"{path}:{line}: {problem}" if line else f"{path}: {problem}")


@dataclass(frozen=True)
class Row:
    line: int
    id: str | None
    prompt_id: str
    participant: str
    role: str | None
    text: str


@dataclass(frozen=True)
class ImportResult:
    round_id: int
    imported: int
    already_present: int


def read_rows(path: Path, pack: Pack) -> list[Row]:
    """Parse and check every row against the pack; the first problem raises with its line."""
    name = str(path)
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportError_(name, line, "not UTF-8 text (save the file as CSV UTF-8)") from None
    reader = csv.DictReader(io.StringIO(content, newline=""))
    missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportError_(
            name,
            1,
            f"missing column(s) {', '.join(missing)}; expected id,prompt_id,participant,role,text",
        )
    rows: list[Row] = []
    seen_ids: dict[str, int] = {}
    try:
        for record in reader:
            line = reader.line_num
            row = Row(
                line,
                (record.get("id") or "").strip() or None,
                (record.get("prompt_id") or "").strip(),
                (record.get("participant") or "").strip(),
                (record.get("role") or "").strip() or None,
                record.get("text") or "",
            )
            _check(name, row, pack, seen_ids)
            rows.append(row)
    except csv.Error as exc:
        raise ImportError_(name, reader.line_num, f"not valid CSV ({exc})") from None
    if not rows:
        raise ImportError_(name, None, "no rows to import")
    return rows


def _check(name: str, row: Row, pack: Pack, seen_ids: dict[str, int]) -> None:
    prompt = pack.prompt(row.prompt_id)
    if prompt is None:
        known = ", ".join(p.id for p in pack.prompts)
        raise ImportError_(name, row.line, f"unknown prompt {row.prompt_id!r} (known: {known})")
    if not row.participant:
        raise ImportError_(name, row.line, "empty participant")
    if not row.text.strip():
        raise ImportError_(name, row.line, "empty text")
    if row.id is not None:
        if row.id in seen_ids:
            raise ImportError_(name, row.line, f"id {row.id!r} repeats line {seen_ids[row.id]}")
        seen_ids[row.id] = row.line
    if prompt.kind != "text":
        choices = [c.strip() for c in row.text.split(CHOICE_SEPARATOR) if c.strip()]
        unknown = [c for c in choices if c not in prompt.options]
        if unknown:
            raise ImportError_(
                name,
                row.line,
                f"{unknown[0]!r} is not an option of {prompt.id!r} (separate choices with ';')",
            )


def import_replies(
    session: Session,
    path: Path,
    now: datetime,
    *,
    round_id: int | None = None,
    pack: Pack | None = None,
    started_by: str | None = None,
    anonymity: Anonymity = DEFAULT_MODE,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import every row into a round (new, for a pack, of the mode given; or existing) in the
    caller's transaction;
    `progress(done, total)` hears how far it is, every hundred rows."""
    if round_id is not None:
        round_ = get_round(session, round_id)
        pack = round_pack(round_)
    elif pack is None:
        raise RoundtableError("give a round or a pack")
    rows = read_rows(path, pack)
    if round_id is None:
        round_ = start_round(
            session,
            RoundRequest(
                pack,
                [],
                started_by=started_by,
                audience={"import": str(path.name)},
                platform=IMPORT_PLATFORM,
                anonymity=anonymity,
            ),
            now,
        )
    people: dict[str, Participant] = {}
    imported = present = 0
    for done, row in enumerate(rows):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, len(rows))
        participant = people.get(row.participant)
        if participant is None:
            participant = upsert_participant(
                session, Person(row.participant, row.participant, row.role), now, IMPORT_PLATFORM
            )
            people[row.participant] = participant
        prompt = pack.prompt(row.prompt_id)
        assert prompt is not None
        try:
            if prompt.kind == "text":
                result = record_reply(
                    session,
                    round_.id,
                    row.prompt_id,
                    participant,
                    row.text,
                    now,
                    source=ROOM_SOURCE,
                    external_id=row.id,
                )
            else:
                choices = [c.strip() for c in row.text.split(CHOICE_SEPARATOR) if c.strip()]
                result = record_vote(
                    session,
                    round_.id,
                    row.prompt_id,
                    participant,
                    choices,
                    now,
                    source=ROOM_SOURCE,
                    external_id=row.id,
                )
        except InvalidAnswer as exc:
            raise ImportError_(str(path), row.line, str(exc)) from None
        imported += result.created
        present += not result.created
    if progress is not None:
        progress(len(rows), len(rows))
    return ImportResult(round_.id, imported, present)
