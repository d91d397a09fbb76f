"""Import answers from a CSV (notes from the live workshop): all rows or none."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

from sqlalchemy import ColumnElement, String, select
from sqlalchemy.orm import Session

from bot.core.audit import OPERATOR, record
from bot.core.errors import InvalidAnswer, NotFound, RoundClosed, RoundtableError
from bot.core.packs import Pack, Prompt
from bot.core.people import (
    Person,
    find_participant,
    keep_out,
    kept_out,
    suppressed,
    upsert_participant,
    written_alike,
)
from bot.core.public_ids import DERIVED, public_reply_id
from bot.core.replies import ROOM_SOURCE, record_reply, record_vote, revise_reply
from bot.core.rounds import (
    DEFAULT_MODE,
    Anonymity,
    RoundRequest,
    get_round,
    round_pack,
    start_round,
)
from bot.core.wording import counted
from storage.models import Participant, Reply
from storage.queries import reply_by_external_id

REQUIRED = ("prompt_id", "participant", "text")
READ = ("id", *REQUIRED, "role")
"""The columns Roundtable reads; any other is left alone."""
IMPORT_PLATFORM = "import"
CHOICE_SEPARATOR = ";"
PROGRESS_EVERY = 100
ROUND_MARK = "@round"
LABEL_LIMIT = 48
"""Characters of a participant label: with its round (`@round123456`) it fits the stored id."""
_SCOPED = re.compile(rf"^(?P<label>.+){re.escape(ROUND_MARK)}(?P<round>\d+)$", re.DOTALL)


def _stored_length(column: ColumnElement[str | None]) -> int:
    """How many characters a text column stores."""
    assert isinstance(column.type, String) and column.type.length is not None
    return column.type.length


ID_LIMIT = _stored_length(Reply.__table__.c.external_id)
ROLE_LIMIT = _stored_length(Participant.__table__.c.role)
"""Characters of a row's id and role: what their stored columns hold (longer fails to store
on PostgreSQL)."""


def imported_id(round_id: int, label: str) -> str:
    """The stored platform id of a CSV's participant label: a label names someone within one
    workshop's file only, so the same label in another round is another person."""
    return f"{label}{ROUND_MARK}{round_id}"


def imported_round(user_id: str) -> int | None:
    """The round an imported person's stored id names (None: imported before ids named one)."""
    found = _SCOPED.match(user_id)
    return int(found["round"]) if found else None


def imported_people(session: Session, given: str) -> list[Participant]:
    """Who a name given for an imported person is: their stored id (`p14@round3`, or a label
    imported before ids named the round), else every round's person of that label."""
    exact = session.scalar(select(Participant).where(
        Participant.platform == IMPORT_PLATFORM, Participant.platform_user_id == given))
    if exact is not None:
        return [exact]
    return sorted((p for p in session.scalars(select(Participant).where(
        Participant.platform == IMPORT_PLATFORM,
        Participant.platform_user_id.startswith(given + ROUND_MARK, autoescape=True)))
        if (found := _SCOPED.match(p.platform_user_id)) and found["label"] == given),
        key=lambda p: imported_round(p.platform_user_id) or 0)


def one_imported_person(session: Session, given: str) -> str | None:
    """The stored id of the one imported person `given` names; None when nobody is stored
    under it. A label imported into several rounds is refused, naming the ids to choose from."""
    people = imported_people(session, given)
    if len(people) > 1:
        rounds = [str(imported_round(p.platform_user_id)) for p in people]
        raise NotFound(
            f"{given!r} was imported into rounds {', '.join(rounds)}, and a label names someone "
            "within one workshop's file only: say which, as "
            + " or ".join(p.platform_user_id for p in people))
    return people[0].platform_user_id if people else None


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
    """What became of the file's rows: each one added, updated, unchanged, kept or skipped."""

    round_id: int
    added: int
    updated: int
    """Answers stored before that the file now words (or ranks) otherwise: edited, as an
    edit in chat is, the earlier version kept."""
    unchanged: int
    kept: int = 0
    """Rows that say what an answer said before it was changed (the file is older than the
    change): the answer keeps what it says now."""
    forgotten: int = 0
    """Rows of someone who asked to be forgotten from the round: not stored again."""
    roles_changed: int = 0
    """People the round knew under another role, now given the file's: every answer of theirs
    is attributed to it from now on, the earlier ones included."""

    def summary(self) -> str:
        """The counts, in words that never name a person nor repeat what they said."""
        said = (f"{counted(self.added, 'answer')} added, {self.updated} updated, "
                f"{self.unchanged} unchanged")
        if self.kept:
            said += f", {self.kept} kept: changed since (the file has an earlier version)"
        if self.forgotten:
            said += f", {self.forgotten} skipped: their writer asked to be forgotten"
        if self.roles_changed == 1:
            said += "; 1 person's role changed to the one this file gives (for all their answers)"
        elif self.roles_changed:
            said += (f"; {self.roles_changed} people's roles changed to those this file gives "
                     "(for all their answers)")
        return said


Outcome = Literal["added", "updated", "unchanged", "kept", "forgotten", "role changed"]


def read_rows(path: Path, pack: Pack) -> list[Row]:
    """Parse and check every row against the pack; the first problem raises with its line.
    Column names are read whatever their case (a spreadsheet's `Prompt_ID`); a row with no
    cell filled (a spreadsheet's blank row, `,,,,`) is no answer and is passed over."""
    name = str(path)
    raw = path.read_bytes()
    try:
        content = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ImportError_(name, line, "not UTF-8 text (save the file as CSV UTF-8)") from None
    if not content.strip():
        raise ImportError_(name, None, "the file is empty")
    reader = csv.reader(io.StringIO(content, newline=""))
    rows: list[Row] = []
    seen_ids: dict[str, int] = {}
    roles: dict[str, tuple[str, int]] = {}
    read_whole = 0  # the lines of the records read whole: a bad one starts after them
    try:
        columns = _columns(name, next(reader, []))
        read_whole = reader.line_num
        for record in reader:
            line = read_whole = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            if any(cell.strip() for cell in record[len(columns.names):]):
                # an unquoted comma in a text splits it: its end would be lost unread
                raise ImportError_(name, line, f"{len(record)} cells where the first line names "
                                   f"{len(columns.names)} columns (a comma in a text not put in "
                                   "double quotes?)")
            cell = columns.reader(record)
            row = Row(line, cell("id").strip() or None, cell("prompt_id").strip(),
                      cell("participant").strip(), cell("role").strip() or None, cell("text"))
            _check(name, row, pack, seen_ids)
            _check_role(name, row, roles)
            rows.append(row)
    except csv.Error as exc:
        raise ImportError_(name, read_whole + 1, f"not valid CSV ({exc})") from None
    if not rows:
        raise ImportError_(name, None, "no rows to import")
    return rows


@dataclass(frozen=True)
class _Columns:
    names: list[str]
    index: dict[str, int]
    """Where each column Roundtable reads is, by its name in lower case."""

    def reader(self, record: list[str]) -> Callable[[str], str]:
        """A record's cell by column name ("" where the row stops short)."""
        def cell(column: str) -> str:
            index = self.index.get(column)
            return record[index] if index is not None and index < len(record) else ""
        return cell


def _columns(name: str, header: list[str]) -> _Columns:
    expected = "expected id,prompt_id,participant,role,text"
    if not any(cell.strip() for cell in header):
        raise ImportError_(name, 1, f"the first line names no columns; {expected}")
    names = [cell.strip().lower() for cell in header]
    index: dict[str, int] = {}
    for position, column in enumerate(names):
        if column in READ and column in index:
            raise ImportError_(name, 1, f"column {column!r} appears twice (columns "
                               f"{index[column] + 1} and {position + 1}): keep one")
        index.setdefault(column, position)
    missing = [c for c in REQUIRED if c not in index]
    if missing:
        found = header[0] if len(header) == 1 else ""
        separator = next((s for s in (";", "\t") if s in found), None)
        if separator is not None:
            shown = "tabs" if separator == "\t" else f"{separator!r}"
            raise ImportError_(name, 1, f"the columns are separated by {shown}, not commas "
                               "(save the file as CSV UTF-8)")
        raise ImportError_(name, 1, f"missing column(s) {', '.join(missing)}; {expected}")
    return _Columns(names, index)


def _check_role(name: str, row: Row, roles: dict[str, tuple[str, int]]) -> None:
    """One person has one role in a file: a second one would be dropped unsaid."""
    if row.role is None:
        return
    first = roles.setdefault(row.participant, (row.role, row.line))
    if first[0].casefold() != row.role.casefold():
        raise ImportError_(name, row.line, f"participant {row.participant!r} has the role "
                           f"{row.role!r} here but {first[0]!r} on line {first[1]}: give one "
                           "role a person")


def _check(name: str, row: Row, pack: Pack, seen_ids: dict[str, int]) -> None:
    prompt = pack.prompt(row.prompt_id)
    if prompt is None:
        known = ", ".join(p.id for p in pack.prompts)
        raise ImportError_(name, row.line, f"unknown prompt {row.prompt_id!r} (known: {known})")
    if not row.participant:
        raise ImportError_(name, row.line, "empty participant")
    for column, value in (("id", row.id), ("participant", row.participant), ("role", row.role)):
        if value and "\x00" in value:
            # PostgreSQL refuses a NUL in any text; in a text it is dropped (as written in
            # chat), but a label with one would name someone other than the file means
            raise ImportError_(name, row.line, f"the {column} holds a NUL character (a file "
                                               "exported by another program? save it as CSV)")
    if len(row.participant) > LABEL_LIMIT:
        raise ImportError_(name, row.line, f"participant label longer than {LABEL_LIMIT} "
                           "characters (a short label such as p14 is enough)")
    if row.role is not None and len(row.role) > ROLE_LIMIT:
        raise ImportError_(name, row.line, f"role longer than {ROLE_LIMIT} characters "
                           "(shorten it)")
    if not row.text.strip():
        raise ImportError_(name, row.line, "empty text")
    if row.id is not None and len(row.id) > ID_LIMIT:
        raise ImportError_(name, row.line, f"id longer than {ID_LIMIT} characters (give the "
                           "row a shorter id, or none)")
    if row.id is not None:
        if row.id in seen_ids:
            raise ImportError_(name, row.line, f"id {row.id!r} repeats line {seen_ids[row.id]}")
        seen_ids[row.id] = row.line
    choices = _choices(row, prompt)
    if choices is not None:
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
    actor: str = OPERATOR,
) -> ImportResult:
    """Import every row into a round (new, for a pack, of the mode given; or existing) in the
    caller's transaction: a row whose id was imported before and whose text changed edits that
    answer (audited as done by `actor`); the rows of someone forgotten from the round are
    skipped. `progress(done, total)` hears how far it is, every hundred rows."""
    if round_id is not None:
        round_ = get_round(session, round_id)
        if round_.status != "open":
            raise RoundClosed(f"round {round_.id} is closed; answers are no longer taken")
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
    # a new round has nobody forgotten yet (and on SQLite may reuse a deleted round's id)
    forgotten = _forgotten(session, round_.id, rows) if round_id is not None else set()
    forgotten_rows = _forgotten_rows(session, rows, pack)
    people: dict[str, Participant] = {}
    row_ids = _row_ids(rows)
    last_ballots = _last_ballots(rows, pack)
    outcomes: Counter[Outcome] = Counter()
    for done, row in enumerate(rows):
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done, len(rows))
        if row.participant in forgotten or row.line in forgotten_rows:
            outcomes["forgotten"] += 1
            continue
        participant = people.get(row.participant)
        if participant is None:
            known = find_participant(session, imported_id(round_.id, row.participant),
                                     IMPORT_PLATFORM)
            if known is not None and known.role and row.role and not written_alike(
                    known.role, row.role):
                outcomes["role changed"] += 1
            participant = upsert_participant(
                session,
                Person(imported_id(round_.id, row.participant), row.participant, row.role),
                now,
                IMPORT_PLATFORM,
            )
            people[row.participant] = participant
        prompt = pack.prompt(row.prompt_id)
        assert prompt is not None
        superseded = prompt.kind != "text" and done not in last_ballots
        try:
            outcome, reply = _store(session, round_.id, prompt, row, participant, row_ids[done],
                                    now, superseded=superseded)
        except InvalidAnswer as exc:
            raise ImportError_(str(path), row.line, str(exc)) from None
        if outcome == "updated":
            answer = public_reply_id(round_.secret, round_.anonymity, reply.id,
                                     reply.external_id, reply.source)
            record(session, now, actor, "answer.edit", round_id=round_.id,
                   detail=f"{answer} by line {row.line} of {path.name}; the earlier version "
                          "is kept")
        outcomes[outcome] += 1
    if progress is not None:
        progress(len(rows), len(rows))
    return ImportResult(round_.id, outcomes["added"], outcomes["updated"],
                        outcomes["unchanged"], outcomes["kept"], outcomes["forgotten"],
                        outcomes["role changed"])


def _row_fingerprint(label: str, prompt_id: str, answer: str | Sequence[str]) -> str:
    """A one-way fingerprint of one imported row: its writer's label, question and words (or
    choices). Forgetting an imported person keeps these for their answers (`keep_rows_out`),
    so that importing their file again, into any round, skips their rows; without the file
    they tell nothing."""
    said = " ".join(answer.split()) if isinstance(answer, str) else "\x1f".join(answer)
    return hashlib.sha256(f"roundtable-forgotten-row:{label}\x1f{prompt_id}\x1f{said}".encode()
                          ).hexdigest()


def keep_rows_out(session: Session, participant: Participant, now: datetime) -> None:
    """Before an imported person's answers are deleted: keep a fingerprint of each (and of
    each earlier version), so that no later import brings them back, into any round. A label
    names someone only within one round, so the label alone cannot do this."""
    found = _SCOPED.match(participant.platform_user_id)
    label = found["label"] if found else participant.platform_user_id
    replies = session.scalars(select(Reply).where(Reply.participant_id == participant.id))
    keep_out(session, [_row_fingerprint(label, reply.prompt_id, said)
                       for reply in replies
                       for said in [_said(reply.text, reply.choices),
                                    *(_said(v.text, v.choices) for v in reply.versions)]], now)


def _said(text: str | None, choices: Sequence[str] | None) -> str | Sequence[str]:
    return list(choices) if choices is not None else text or ""


def _forgotten_rows(session: Session, rows: list[Row], pack: Pack) -> set[int]:
    """The lines of the file whose row an imported person who was forgotten wrote."""
    marks = {row.line: _row_fingerprint(row.participant, row.prompt_id, _row_said(row, pack))
             for row in rows}
    gone = kept_out(session, marks.values())
    return {line for line, mark in marks.items() if mark in gone}


def _row_said(row: Row, pack: Pack) -> str | list[str]:
    prompt = pack.prompt(row.prompt_id)
    choices = _choices(row, prompt) if prompt is not None else None
    return row.text if choices is None else choices


def _choices(row: Row, prompt: Prompt) -> list[str] | None:
    """The options a row on a rank or choice question names, in order; None for a text one."""
    if prompt.kind == "text":
        return None
    return [c.strip() for c in row.text.split(CHOICE_SEPARATOR) if c.strip()]


def _forgotten(session: Session, round_id: int, rows: list[Row]) -> set[str]:
    """The labels of the file's people who asked to be forgotten from this round: forgetting
    keeps a one-way fingerprint of their stored id (bot.core.people.suppress), never the
    label itself."""
    ids = {imported_id(round_id, label): label for label in {row.participant for row in rows}}
    return {ids[user_id] for user_id in suppressed(session, ids, IMPORT_PLATFORM)}


def _store(session: Session, round_id: int, prompt: Prompt, row: Row, participant: Participant,
           external_id: str, now: datetime, *, superseded: bool) -> tuple[Outcome, Reply]:
    """Store one row as a new answer, or as an edit of the answer its id was stored as
    (keeping the earlier words); a deleted answer stays deleted, and a row that says what the
    answer said before a later change does not put it back. A `superseded` row is a ballot
    that a later row of the file replaces: once stored, it is not applied again."""
    choices = _choices(row, prompt)
    _check_ranking_length(prompt, choices)
    stored = reply_by_external_id(session, round_id, external_id)
    if stored is not None:
        _check_same_answer(stored, row, participant)
        if stored.deleted_at is not None or superseded:
            return "unchanged", stored
        text = row.text if choices is None else None
        if _changed_since(stored, text, choices):
            return "kept", stored
        changed = revise_reply(session, stored, now, text=text, choices=choices)
        return ("updated" if changed else "unchanged"), stored
    if choices is None:
        recorded = record_reply(session, round_id, row.prompt_id, participant, row.text, now,
                                source=ROOM_SOURCE, external_id=external_id)
    else:
        recorded = record_vote(session, round_id, row.prompt_id, participant, choices, now,
                               source=ROOM_SOURCE, external_id=external_id)
    if recorded.created:
        return "added", recorded.reply
    return ("updated" if recorded.replaced else "unchanged"), recorded.reply


def _check_ranking_length(prompt: Prompt, choices: list[str] | None) -> None:
    """A ranking row of known options listing too few or too many is refused in the words of
    someone typing up the room's votes (how many, how to list them), not a participant's."""
    if (prompt.kind != "rank" or not choices or len(choices) == prompt.places
            or not set(choices) <= set(prompt.options) or len(set(choices)) != len(choices)):
        return
    raise InvalidAnswer(
        f"{prompt.id} ranks the top {prompt.places} options: list {prompt.places} of them in "
        f"order, separated by “{CHOICE_SEPARATOR}” (this row lists {len(choices)})")


def _changed_since(stored: Reply, text: str | None, choices: list[str] | None) -> bool:
    """Whether the row says what the answer said before a change made after it (the row is
    one of its earlier versions): an older file, which must not revert the change."""
    if (stored.text, stored.choices) == (text, choices):
        return False
    return any((v.text, v.choices) == (text, choices) for v in stored.versions)


def _check_same_answer(stored: Reply, row: Row, participant: Participant) -> None:
    """An id names one answer, of one person to one question: a row that gives it to another
    is refused rather than taken as a move."""
    what = f"id {row.id!r}" if row.id else "this row"
    if stored.prompt_id != row.prompt_id:
        raise InvalidAnswer(
            f"{what} was imported as an answer to {stored.prompt_id!r}, not {row.prompt_id!r}: "
            "an answer keeps its question (give the row an id of its own)")
    if stored.participant_id != participant.id:
        scoped = (_SCOPED.match(stored.participant.platform_user_id)
                  if stored.participant.platform == IMPORT_PLATFORM else None)
        whose = f"{scoped['label']}'s" if scoped else "another person's"
        raise InvalidAnswer(
            f"{what} was imported as {whose} answer, not {row.participant}'s: an answer keeps "
            "its person (give the row an id of its own)")


def _last_ballots(rows: list[Row], pack: Pack) -> set[int]:
    """The index of each person's last ballot row on each rank or choice question: a person
    has one ballot a question, so their earlier rows there are replaced by it."""
    last: dict[tuple[str, str], int] = {}
    for index, row in enumerate(rows):
        prompt = pack.prompt(row.prompt_id)
        if prompt is not None and prompt.kind != "text":
            last[(row.participant, row.prompt_id)] = index
    return set(last.values())


def _row_ids(rows: list[Row]) -> list[str]:
    """Each row's id: the file's own, or one made of what the row says (its participant,
    question and text, and which repeat of the same row it is), so that importing the same
    rows again stores nothing new, and a row whose text changed is another answer."""
    seen: dict[tuple[str, str, str], int] = {}
    out: list[str] = []
    for row in rows:
        if row.id is not None:
            out.append(row.id)
            continue
        key = (row.participant, row.prompt_id, row.text)
        seen[key] = seen.get(key, 0) + 1
        digest = hashlib.sha256(
            "\x1f".join((*key, str(seen[key]))).encode()).hexdigest()[:32]
        out.append(DERIVED + digest)
    return out
