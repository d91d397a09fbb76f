"""CSV files as spreadsheets save them, on the command line: Excel's blank rows and capitalised
column names are read; a row or header that would lose what someone wrote (a text split by an
unquoted comma, a column named twice, two roles for one person) is refused in one line, and
nothing is imported."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.helpers import run_cli

PACK = "sel-pharmacy-leadership"
HEADER = "id,prompt_id,participant,role,text"


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    assert run_cli("round", "start", PACK, "--to", "U1", cwd=tmp_path).returncode == 0
    return tmp_path


def exported_texts(workdir: Path) -> list[str]:
    written = run_cli("export", "--round", "1", "--format", "csv", "--out",
                      str(workdir / "all.csv"), cwd=workdir)
    assert written.returncode == 0, written.stderr
    with (workdir / "all.csv").open(encoding="utf-8-sig", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def test_it_imports_a_file_saved_by_excel(workdir: Path) -> None:
    path = workdir / "notes.csv"
    path.write_bytes(
        "\ufeffID,Prompt_ID,Participant,Role,Text\r\n"
        '"e1","best-support","p4","practice pharmacist","Mentoring,\r\nand time for it."\r\n'
        ",,,,\r\n"
        '"","","","",""\r\n'
        "\r\n"
        "e2,best-support,p5,practice pharmacist,Peer networks\r\n"
        ",,,,\r\n".encode())
    result = run_cli("import-replies", str(path), "--round", "1", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ("imported notes.csv: 2 answers added, 0 updated, "
                                     "0 unchanged")
    assert sorted(exported_texts(workdir)) == ["Mentoring,\r\nand time for it.",
                                              "Peer networks"]


@pytest.mark.parametrize("content, problem", [
    (f"{HEADER}\nq1,future-leaders,p1,community pharmacist,Technicians, and trainees\n",
     "notes.csv:2: 6 cells where the first line names 5 columns (a comma in a text not put in "
     "double quotes?)"),
    (f"{HEADER},text\nq1,future-leaders,p1,community pharmacist,Technicians,Trainees\n",
     "notes.csv:1: column 'text' appears twice (columns 5 and 6): keep one"),
    (f"{HEADER}\nq1,done-well,p1,community pharmacist,Covid\n"
     "q2,bought-in,p1,PCN pharmacist,The LPC\n",
     "notes.csv:3: participant 'p1' has the role 'PCN pharmacist' here but 'community "
     "pharmacist' on line 2: give one role a person"),
    (f"{HEADER.replace(',', ';')}\nq1;done-well;p1;x;Covid\n",
     "notes.csv:1: the columns are separated by ';', not commas (save the file as CSV UTF-8)"),
    ("", "notes.csv: the file is empty"),
])
def test_a_file_that_would_lose_words_is_refused_in_one_line(
        workdir: Path, content: str, problem: str) -> None:
    path = workdir / "notes.csv"
    path.write_text(content, encoding="utf-8")
    result = run_cli("import-replies", "notes.csv", "--round", "1", cwd=workdir)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"roundtable: {problem}", "nothing was imported"]
    assert exported_texts(workdir) == []


def test_the_same_role_written_otherwise_is_one_role(workdir: Path) -> None:
    path = workdir / "notes.csv"
    path.write_text(f"{HEADER}\nq1,done-well,p1,Community Pharmacist,Covid\n"
                    "q2,bought-in,p1,community pharmacist,The LPC\n"
                    "q3,best-support,p1,,Peers\n", encoding="utf-8")
    result = run_cli("import-replies", "notes.csv", "--round", "1", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert "3 answers added" in result.stdout
