"""CSV import: all rows or none, the bad line named, 1,000 rows in one transaction (both DBs)."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import event, func, select

from bot.core.audit import entries
from bot.core.errors import RoundClosed
from bot.core.forgetting import erase
from bot.core.imports import ImportError_, import_replies
from bot.core.replies import ROOM_SOURCE, delete_reply
from bot.core.rounds import participation
from storage.database import Database
from storage.db import transaction
from storage.models import Participant, Reply, Round
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
    assert (result.added, result.updated, result.unchanged) == (1000, 0, 0)
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
        ({"id": "W" * 201}, 502, "id longer than 200 characters"),
        ({"participant": "p99", "role": "community pharmacist " * 6}, 502,
         "role longer than 100 characters"),
        # PostgreSQL refused these with "unexpected error: DataError"
        ({"id": "W\x000500"}, 502, "the id holds a NUL character"),
        ({"participant": "p\x0099"}, 502, "the participant holds a NUL character"),
        ({"participant": "p98", "role": "locum\x00"}, 502, "the role holds a NUL character"),
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


def test_a_nul_character_in_a_text_is_dropped_and_the_rest_imported(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    data = rows(3)
    data[1]["text"] = "answer with a stray\x00 NUL"
    with transaction(database.sessions) as session:
        import_replies(session, write_csv(tmp_path / "nul.csv", data), now, pack=seed_pack())
    with database.sessions() as session:
        assert "answer with a stray NUL" in session.scalars(select(Reply.text)).all()


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
    assert (result.added, result.updated, result.unchanged) == (0, 0, 10)
    assert count(database) == 10


def test_a_later_file_giving_someone_another_role_says_so(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    """A role changes how every answer of its holder is attributed, the earlier ones too: a
    second file that gives a person another role is taken (it may be a correction) and the
    summary says so, where it used to change their attribution without a word."""
    first = write_csv(tmp_path / "morning.csv", rows(10))
    with transaction(database.sessions) as session:
        round_id = started_round(session, now).id
        import_replies(session, first, now, round_id=round_id)
    later = [dict(r, id=f"L{i}", text=f"later {i}") for i, r in enumerate(rows(3))]
    later[0]["role"] = "PCN pharmacist"
    later[1]["role"] = "COMMUNITY PHARMACIST"  # the same role, typed otherwise
    later[2]["role"] = ""  # none given: the one known stays
    with transaction(database.sessions) as session:
        result = import_replies(session, write_csv(tmp_path / "afternoon.csv", later), now,
                                round_id=round_id)
    assert result.summary() == ("3 answers added, 0 updated, 0 unchanged; 1 person's role "
                                "changed to the one this file gives (for all their answers)")
    with database.sessions() as session:
        roles = dict(session.execute(select(Participant.display_name, Participant.role)).all())
    assert roles["p0"] == "PCN pharmacist"
    assert roles["p1"] == roles["p2"] == "community pharmacist"


def test_one_role_typed_several_ways_is_one_group_in_the_digest(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    """Roles group people in every digest ("community pharmacist: 3 of 3"): the same role
    written in another case or with extra spaces is the one already known, not a group of
    its own (three groups of one would each be too small to be shown)."""
    typed = ["Community Pharmacist", "community pharmacist ", "COMMUNITY  pharmacist"]
    given = [dict(r, participant=f"p{i}", role=typed[i]) for i, r in enumerate(rows(3))]
    with transaction(database.sessions) as session:
        round_ = started_round(session, now)
        import_replies(session, write_csv(tmp_path / "notes.csv", given), now,
                       round_id=round_.id)
        turnout = participation(session, round_)
        assert {role: t.answered_any for role, t in turnout.by_role.items()
                if t.answered_any} == {"community pharmacist": 3}  # as the round knew it


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
    assert (result.added, result.updated, result.unchanged) == (2, 0, 0)
    with database.sessions() as session:
        vote = session.scalars(select(Reply).where(Reply.prompt_id == "support-factors")).one()
        assert vote.choices is not None and vote.choices[0] == "Protected time"


def _import(database: Database, path: Path, now: datetime,
            round_id: int | None = None) -> tuple[int, int, int, int]:
    """(round id, added, updated, unchanged)."""
    with transaction(database.sessions) as session:
        result = (import_replies(session, path, now, round_id=round_id) if round_id
                  else import_replies(session, path, now, pack=seed_pack()))
    return result.round_id, result.added, result.updated, result.unchanged


def _reply(database: Database, external_id: str) -> tuple[str | None, list[str] | None,
                                                            list[tuple[str | None,
                                                                       list[str] | None]]]:
    """An answer's text, ballot and earlier versions."""
    with database.sessions() as session:
        reply = session.scalars(select(Reply).where(Reply.external_id == external_id)).one()
        return reply.text, reply.choices, [(v.text, v.choices) for v in reply.versions]


def test_a_corrected_row_edits_its_answer_keeping_the_earlier_text_and_is_audited(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    data = rows(10)
    round_id = _import(database, write_csv(tmp_path / "notes.csv", data), now)[0]
    data[3]["text"] = "answer number 3, corrected; don't quote me"
    later = now + timedelta(hours=2)
    path = write_csv(tmp_path / "notes.csv", data)
    assert _import(database, path, later, round_id) == (round_id, 0, 1, 9)
    assert _reply(database, "W0003") == (data[3]["text"], None, [("answer number 3", None)])
    with database.sessions() as session:
        reply = session.scalars(select(Reply).where(Reply.external_id == "W0003")).one()
        assert reply.edited_at == later and reply.quotable is False
        edits = [entry for entry in entries(session, round_id)
                 if entry.action == "answer.edit"]
    assert len(edits) == 1 and edits[0].actor == "cli" and edits[0].at == later
    assert edits[0].detail.startswith("ans-") and "line 5 of notes.csv" in edits[0].detail
    assert "corrected" not in edits[0].detail  # the audit log never holds what was said
    assert _import(database, path, later, round_id) == (round_id, 0, 0, 10)
    assert count(database) == 10


RANKING = ["Protected time", "Leadership development", "Information and analytics",
           "Insights from elsewhere", "Clear purpose and motivation"]


def test_a_corrected_ranking_replaces_the_ballot_keeping_the_earlier_one(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    ballot = {"id": "R1", "prompt_id": "support-factors", "participant": "p1",
              "text": "; ".join(RANKING)}
    round_id = _import(database, write_csv(tmp_path / "votes.csv", [ballot]), now)[0]
    ballot["text"] = "; ".join(reversed(RANKING))
    assert _import(database, write_csv(tmp_path / "votes.csv", [ballot]), now,
                   round_id) == (round_id, 0, 1, 0)
    assert _reply(database, "R1") == (None, RANKING[::-1], [(None, RANKING)])


@pytest.mark.parametrize("with_ids", [True, False])
def test_two_ballots_of_one_person_in_a_file_import_again_unchanged(
    database: Database, now: datetime, tmp_path: Path, with_ids: bool
) -> None:
    first, second = ("; ".join(RANKING), "; ".join(reversed(RANKING)))
    data = [{"id": f"V{n}" if with_ids else "", "prompt_id": "support-factors",
             "participant": "p1", "text": text} for n, text in enumerate((first, second))]
    path = write_csv(tmp_path / "votes.csv", data)
    round_id = _import(database, path, now)[0]  # the later ballot replaces the earlier one
    assert _import(database, path, now, round_id) == (round_id, 0, 0, 2)
    with database.sessions() as session:
        stored = session.scalars(select(Reply)).one()
        assert stored.choices == RANKING[::-1]
        assert [v.choices for v in stored.versions] == [RANKING]
    data[1]["text"] = "; ".join(RANKING[1:] + RANKING[:1])  # a changed ballot, without an id
    assert _import(database, write_csv(tmp_path / "votes.csv", data), now,
                   round_id) == (round_id, 0, 1, 1)


@pytest.mark.parametrize("change, problem", [
    ({"prompt_id": "bought-in"},
     "id 'W0003' was imported as an answer to 'best-support', not 'bought-in': an answer "
     "keeps its question (give the row an id of its own)"),
    ({"participant": "p9"},
     "id 'W0003' was imported as p3's answer, not p9's: an answer keeps its person (give the "
     "row an id of its own)"),
])
def test_an_id_given_to_another_question_or_person_is_refused_and_nothing_changes(
    database: Database, now: datetime, tmp_path: Path, change: dict[str, str], problem: str
) -> None:
    data = rows(10)
    round_id = _import(database, write_csv(tmp_path / "notes.csv", data), now)[0]
    data[1]["text"] = "answer number 1, corrected"
    data[3].update(change)
    path = write_csv(tmp_path / "notes.csv", data)
    with pytest.raises(ImportError_) as caught, transaction(database.sessions) as session:
        import_replies(session, path, now, round_id=round_id)
    assert str(caught.value) == f"{path}:5: {problem}"
    assert _reply(database, "W0001") == ("answer number 1", None, [])
    assert count(database) == 10


def test_a_deleted_answer_stays_deleted_when_its_row_is_imported_again(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    data = rows(4)
    round_id = _import(database, write_csv(tmp_path / "notes.csv", data), now)[0]
    with transaction(database.sessions) as session:
        delete_reply(session, "W0002", now)
    data[2]["text"] = "answer number 2, corrected"
    assert _import(database, write_csv(tmp_path / "notes.csv", data), now,
                   round_id) == (round_id, 0, 0, 4)
    assert _reply(database, "W0002") == (None, None, [])


def test_a_closed_round_takes_no_import(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "notes.csv", rows(3))
    round_id = _import(database, path, now)[0]
    with transaction(database.sessions) as session:
        session.get_one(Round, round_id).status = "closed"
    with pytest.raises(RoundClosed, match=f"round {round_id} is closed"), \
            transaction(database.sessions) as session:
        import_replies(session, path, now, round_id=round_id)


def test_a_forgotten_persons_rows_are_skipped_when_the_file_is_imported_again(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    path = write_csv(tmp_path / "notes.csv", rows(80))  # p3 wrote rows 3, 43
    round_id = _import(database, path, now)[0]
    with transaction(database.sessions) as session:
        erase(session, "import", f"p3@round{round_id}", now)
    assert count(database) == 78
    with transaction(database.sessions) as session:
        result = import_replies(session, path, now, round_id=round_id)
    assert (result.added, result.updated, result.unchanged, result.forgotten) == (0, 0, 78, 2)
    assert result.summary() == ("0 answers added, 0 updated, 78 unchanged, "
                                "2 skipped: their writer asked to be forgotten")
    assert count(database) == 78
    with database.sessions() as session:
        labels = set(session.scalars(select(Participant.platform_user_id)))
    assert f"p3@round{round_id}" not in labels and f"p4@round{round_id}" in labels


def test_an_older_file_imported_again_keeps_the_answers_changed_since(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    older = rows(4) + [{"prompt_id": "support-factors", "participant": "p1",
                        "text": "; ".join(RANKING)}]  # a ballot without an id
    round_id = _import(database, write_csv(tmp_path / "monday.csv", older), now)[0]
    newer = [dict(row) for row in older]
    newer[3]["text"] = "answer number 3, corrected"
    newer[4]["text"] = "; ".join(reversed(RANKING))
    later = now + timedelta(hours=2)
    assert _import(database, write_csv(tmp_path / "tuesday.csv", newer), later,
                   round_id) == (round_id, 0, 2, 3)  # the new ballot replaces p1's, too

    with transaction(database.sessions) as session:
        result = import_replies(session, write_csv(tmp_path / "monday.csv", older),
                                later + timedelta(hours=1), round_id=round_id)
    assert (result.added, result.updated, result.unchanged, result.kept) == (0, 0, 3, 2)
    assert result.summary() == ("0 answers added, 0 updated, 3 unchanged, "
                                "2 kept: changed since (the file has an earlier version)")
    assert _reply(database, "W0003") == ("answer number 3, corrected", None,
                                         [("answer number 3", None)])
    with database.sessions() as session:
        ballot = session.scalars(select(Reply).where(Reply.choices.is_not(None))).one()
        assert ballot.choices == RANKING[::-1] and ballot.edited_at == later
        edits = [e for e in entries(session, round_id) if e.action == "answer.edit"]
    assert [e.at for e in edits] == [later, later]  # none by the older file
    assert count(database) == 5
