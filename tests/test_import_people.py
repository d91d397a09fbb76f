"""Imported people as a user meets them on the command line: a CSV's participant label names
someone within one workshop's file only, so a later import never changes an earlier round's
people, and forget/export of a label name its round; rows without an id are imported once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.test_imports import write_csv

PACK = "sel-pharmacy-leadership"
FIELDS = ["prompt_id", "participant", "role", "text"]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    return tmp_path


def _import(workdir: Path, path: Path, *where: str) -> list[str]:
    result = run_cli("import-replies", str(path), *where, cwd=workdir)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip().splitlines()


def _digest(workdir: Path, round_id: str, fmt: str = "text") -> str:
    result = run_cli("digest", "--round", round_id, "--format", fmt, cwd=workdir)
    assert result.returncode == 0, result.stderr
    return result.stdout


def _answer_ids(workdir: Path, round_id: str) -> list[str]:
    view = json.loads(_digest(workdir, round_id, "json"))
    return [i for p in view["prompts"]
            for i in p["unthemed_reply_ids"] + [i for t in p["themes"] for i in t["reply_ids"]]]


def _pharmacists(workdir: Path, name: str, said: str) -> Path:
    return write_csv(workdir / name, [
        {"prompt_id": "done-well", "participant": f"p{n}", "role": "community pharmacist",
         "text": f"{said} {n}"} for n in range(4, 15)], FIELDS)


def test_a_later_import_leaves_an_earlier_rounds_people_alone(workdir: Path) -> None:
    first = _import(workdir, _pharmacists(workdir, "replies.csv", "Vaccine hubs in"),
                    "--pack", PACK)[-1]
    before = _digest(workdir, first)
    assert "community pharmacist" in before and "Other roles" not in before
    other = write_csv(workdir / "other.csv", [
        {"prompt_id": "done-well", "participant": "p14", "role": "chief executive",
         "text": "The board listened"},
        {"prompt_id": "done-well", "participant": "p15", "role": "chief executive",
         "text": "The estates work"}], FIELDS)
    second = _import(workdir, other, "--pack", PACK)[-1]
    assert _digest(workdir, first) == before  # p14 of round 1 is still a community pharmacist

    # the label alone names two people: the operator is asked which, and nothing is deleted
    both = run_cli("participant", "forget", "p14", "--platform", "import", "--yes",
                   cwd=workdir)
    assert both.returncode == 1
    assert both.stderr.strip() == (
        f"roundtable: 'p14' was imported into rounds {first}, {second}, and a label names "
        "someone within one workshop's file only: say which, as "
        f"p14@round{first} or p14@round{second}")
    assert len(_answer_ids(workdir, first)) == 11 and len(_answer_ids(workdir, second)) == 2

    exported = run_cli("participant", "export", f"p14@round{first}", "--platform", "import",
                       cwd=workdir)
    assert exported.returncode == 0, exported.stderr
    data = json.loads(Path(exported.stdout.strip()).read_text())
    assert [a["text"] for a in data["answers"]] == ["Vaccine hubs in 14"]

    forgot = run_cli("participant", "forget", f"p14@round{second}", "--platform", "import",
                     "--yes", cwd=workdir)
    assert forgot.returncode == 0, forgot.stderr
    assert forgot.stdout.startswith(f"Forgetting p14 (imported into round {second}).\n"
                                    "Done. Roundtable deleted 1 answer")
    assert f"withdrew from round {second}" in forgot.stdout
    assert "Slack" not in forgot.stdout
    assert len(_answer_ids(workdir, first)) == 11 and len(_answer_ids(workdir, second)) == 1

    # now the label names one person: theirs is the round said
    alone = run_cli("participant", "forget", "p14", "--platform", "import", "--yes",
                    cwd=workdir)
    assert alone.returncode == 0, alone.stderr
    assert alone.stdout.startswith(f"Forgetting p14 (imported into round {first}).\n")
    assert f"withdrew from round {first}" in alone.stdout
    assert len(_answer_ids(workdir, first)) == 10


def test_it_imports_rows_without_ids_once(workdir: Path) -> None:
    rows = [{"prompt_id": "done-well", "participant": "p1", "text": "The vaccine hubs"},
            {"prompt_id": "done-well", "participant": "p2", "text": "Care homes work"}]
    noid = write_csv(workdir / "noid.csv", rows, ["prompt_id", "participant", "text"])
    round_id = _import(workdir, noid, "--pack", PACK)[-1]
    again = _import(workdir, noid, "--round", round_id)
    assert again == ["imported noid.csv: 0 answers added, 0 updated, 2 unchanged"]
    assert len(_answer_ids(workdir, round_id)) == 2
    assert _digest(workdir, round_id).count("The vaccine hubs") == 1
    # a row whose text changed is another answer (without an id, nothing ties it to the first)
    rows[1]["text"] = "Care homes work, because we met weekly"
    changed = write_csv(workdir / "changed.csv", rows, ["prompt_id", "participant", "text"])
    assert _import(workdir, changed, "--round", round_id) == [
        "imported changed.csv: 1 answer added, 0 updated, 1 unchanged"]
    assert len(_answer_ids(workdir, round_id)) == 3


def test_a_forgotten_person_stays_forgotten_when_their_file_is_imported_again(
        tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    path = _pharmacists(tmp_path, "replies.csv", "Vaccine hubs in")
    imported = run_cli("import-replies", str(path), "--pack", PACK, cwd=tmp_path, env=env)
    assert imported.returncode == 0, imported.stderr
    round_id = imported.stdout.strip().splitlines()[-1]
    forgot = run_cli("participant", "forget", "p14", "--platform", "import", "--yes",
                     cwd=tmp_path, env=env)
    assert forgot.returncode == 0, forgot.stderr
    assert "importing the file again, into any round, skips their rows" in forgot.stdout

    again = run_cli("import-replies", str(path), "--round", round_id, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "imported replies.csv: 0 answers added, 0 updated, 10 unchanged, "
        "1 skipped: their writer asked to be forgotten"]
    assert "p14" not in again.stdout + again.stderr
    digest = run_cli("digest", "--round", round_id, "--format", "json", cwd=tmp_path, env=env)
    assert digest.returncode == 0, digest.stderr
    assert "Vaccine hubs in 14" not in digest.stdout and "Vaccine hubs in 13" in digest.stdout
    log = run_cli("audit", "--round", round_id, cwd=tmp_path, env=env).stdout
    assert "1 skipped: their writer asked to be forgotten" in log and "p14" not in log


def test_a_forgotten_person_stays_forgotten_when_their_file_starts_a_new_round(
        tmp_path: Path, database_url: str) -> None:
    """A label names someone within one round only, so the new round's `p14` is matched by
    their rows' words; another file's `p14`, who wrote something else, is imported."""
    env = {"DATABASE_URL": database_url}
    path = _pharmacists(tmp_path, "replies.csv", "Vaccine hubs in")
    first = run_cli("import-replies", str(path), "--pack", PACK, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    forgot = run_cli("participant", "forget", "p14", "--platform", "import", "--yes",
                     cwd=tmp_path, env=env)
    assert forgot.returncode == 0, forgot.stderr

    again = run_cli("import-replies", str(path), "--pack", PACK, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines()[0] == (
        "imported replies.csv: 10 answers added, 0 updated, 0 unchanged, "
        "1 skipped: their writer asked to be forgotten")
    round_id = again.stdout.strip().splitlines()[-1]
    digest = run_cli("digest", "--round", round_id, "--format", "json", cwd=tmp_path, env=env)
    assert "Vaccine hubs in 14" not in digest.stdout and "Vaccine hubs in 13" in digest.stdout

    other = _pharmacists(tmp_path, "other.csv", "Care homes in")
    theirs = run_cli("import-replies", str(other), "--pack", PACK, cwd=tmp_path, env=env)
    assert theirs.returncode == 0, theirs.stderr
    assert theirs.stdout.splitlines()[0] == (
        "imported other.csv: 11 answers added, 0 updated, 0 unchanged")


def test_an_older_file_does_not_put_back_an_answer_corrected_since(
        tmp_path: Path, database_url: str) -> None:
    env = {"DATABASE_URL": database_url}
    rows = [{"id": f"W{n}", "prompt_id": "done-well", "participant": f"p{n}",
             "text": f"Vaccine hubs in {n}"} for n in range(3)]
    monday = write_csv(tmp_path / "monday.csv", rows, ["id", *FIELDS])
    first = run_cli("import-replies", str(monday), "--pack", PACK, cwd=tmp_path, env=env)
    assert first.returncode == 0, first.stderr
    round_id = first.stdout.strip().splitlines()[-1]
    rows[1]["text"] = "Vaccine hubs in Lewisham, run by PCN pharmacists"
    tuesday = write_csv(tmp_path / "tuesday.csv", rows, ["id", *FIELDS])
    assert run_cli("import-replies", str(tuesday), "--round", round_id, cwd=tmp_path,
                   env=env).stdout.splitlines() == [
        "imported tuesday.csv: 0 answers added, 1 updated, 2 unchanged"]

    again = run_cli("import-replies", str(monday), "--round", round_id, cwd=tmp_path, env=env)
    assert again.returncode == 0, again.stderr
    assert again.stdout.splitlines() == [
        "imported monday.csv: 0 answers added, 0 updated, 2 unchanged, "
        "1 kept: changed since (the file has an earlier version)"]
    digest = run_cli("digest", "--round", round_id, cwd=tmp_path, env=env).stdout
    assert "run by PCN pharmacists" in digest and "Vaccine hubs in 1\n" not in digest
