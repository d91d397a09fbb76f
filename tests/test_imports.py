"""CSV import: all rows or none, the bad line named, 1,000 rows in one transaction (both DBs)."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from bot.core.imports import ImportError_, import_replies
from bot.core.replies import ROOM_SOURCE
from storage.database import Database
from storage.db import transaction
from storage.models import Reply, Round
from tests.helpers import seed_pack, started_round

TEXT_PROMPTS = ["done-well", "bought-in", "future-leaders", "best-support", "anti-governance"]


def write_csv(path: Path, rows: list[dict[str, str]], fields: list[str] | None = None) -> Path:
    fields = fields or ["id", "prompt_id", "participant", "role", "text", "theme"]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def rows(n: int) -> list[dict[str, str]]:
    return [
        {
            "id": f"W{i:04d}",
            "prompt_id": TEXT_PROMPTS[i % 5],
            "participant": f"p{i % 40}",
            "role": "community pharmacist",
            "text": f"answer number {i}",
            "theme": "x",
        }
        for i in range(n)
    ]


def count(database: Database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(Reply)) or 0


def test_it_imports_a_thousand_rows_in_one_transaction(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "good.csv", rows(1000))
    commits: list[int] = []
    event.listen(database.engine, "commit", lambda conn: commits.append(1))
    with transaction(database.sessions) as session:
        result = import_replies(session, path, now, pack=seed_pack())
    assert (result.imported, result.already_present) == (1000, 0)
    assert len(commits) == 1
    with database.sessions() as session:
        assert session.scalars(select(Reply.source).distinct()).all() == [ROOM_SOURCE]
        assert session.scalar(select(func.count()).select_from(Round)) == 1
    assert count(database) == 1000


@pytest.mark.parametrize(
    "bad, line, problem",
    [
        ({"prompt_id": "favourite-colour"}, 502, "unknown prompt 'favourite-colour'"),
        ({"text": "   "}, 502, "empty text"),
        ({"id": "W0003"}, 502, "repeats line 5"),
    ],
)
def test_it_imports_nothing_when_one_row_is_bad(
    database: Database, now: datetime, tmp_path: Path, bad: dict[str, str], line: int, problem: str
) -> None:
    data = rows(1000)
    data[500].update(bad)
    path = write_csv(tmp_path / "bad.csv", data)
    with transaction(database.sessions) as session:
        round_id = started_round(session, now).id
    with pytest.raises(ImportError_) as caught, transaction(database.sessions) as session:
        import_replies(session, path, now, round_id=round_id)
    assert str(caught.value).startswith(f"{path}:{line}: ")
    assert problem in str(caught.value)
    assert count(database) == 0


def test_it_names_the_line_with_bad_encoding(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "enc.csv", rows(3))
    path.write_bytes(path.read_bytes() + "W9,done-well,p1,x,caf\xe9\n".encode("latin-1"))
    with (
        pytest.raises(ImportError_, match=r"enc.csv:5: not UTF-8"),
        transaction(database.sessions) as session,
    ):
        import_replies(session, path, now, pack=seed_pack())
    assert count(database) == 0


def test_it_does_not_import_the_same_file_twice(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "notes.csv", rows(10))
    with transaction(database.sessions) as session:
        round_id = started_round(session, now).id
    for _ in range(2):
        with transaction(database.sessions) as session:
            result = import_replies(session, path, now, round_id=round_id)
    assert (result.imported, result.already_present) == (0, 10)
    assert count(database) == 10


def test_it_imports_rankings_and_files_without_ids(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    ranking = (
        "Protected time; Leadership development; Information and analytics; "
        "Insights from elsewhere; Clear purpose and motivation"
    )
    path = write_csv(
        tmp_path / "room.csv",
        [
            {"prompt_id": "support-factors", "participant": "Ann", "text": ranking},
            {"prompt_id": "done-well", "participant": "Ann", "text": "The vaccine hubs"},
        ],
        fields=["prompt_id", "participant", "text"],
    )
    with transaction(database.sessions) as session:
        result = import_replies(session, path, now, pack=seed_pack())
    assert result.imported == 2
    with database.sessions() as session:
        vote = session.scalars(select(Reply).where(Reply.prompt_id == "support-factors")).one()
        assert vote.choices is not None and vote.choices[0] == "Protected time"
