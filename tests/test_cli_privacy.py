"""The operator's side of people's data, as a user runs the command line: a person's data on
their written request (export, stop, forget), the audit log, a purge now, the SBOM."""

from __future__ import annotations

import json
import re
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app.health import NO_SENDER
from bot.core.people import Person
from bot.core.replies import record_reply
from bot.core.rounds import RoundRequest, close_round, start_round
from storage.database import connect
from storage.db import make_engine, transaction
from tests.helpers import run_cli, seed_pack


def unboxed(text: str) -> str:
    """A usage error as words, without the box drawn around it and its line breaks."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A migrated database with a round two people answered (U1 twice, U2 once)."""
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    engine = make_engine(f"sqlite:///{tmp_path / 'roundtable.db'}")
    now = datetime.now(UTC)
    with transaction(connect(engine).sessions) as session:
        round_ = start_round(session, RoundRequest(
            seed_pack(), [Person("U1", "Una Ferreira"), Person("U2", "Tomasz Nowak")],
            digest_channel="CLEADS", platform="slack"), now - timedelta(days=2))
        one, two = (d.participant for d in round_.deliveries)
        record_reply(session, round_.id, "done-well", one, "Una's first answer", now)
        record_reply(session, round_.id, "bought-in", one, "Una's second answer", now)
        record_reply(session, round_.id, "done-well", two, "Tomasz's answer", now)
    engine.dispose()
    return tmp_path


def test_a_persons_data_written_into_a_folder_not_there_yet_says_it_made_it(
        workdir: Path) -> None:
    result = run_cli("participant", "export", "U1", "--out", "requests/una.json", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert (result.stdout, result.stderr) == ("requests/una.json\n",
                                              "Created the folder requests\n")
    assert json.loads((workdir / "requests/una.json").read_text(encoding="utf-8"))


def test_it_exports_a_persons_data_as_a_private_json_file(workdir: Path) -> None:
    result = run_cli("participant", "export", "U1", cwd=workdir)
    assert result.returncode == 0, result.stderr
    path = Path(result.stdout.strip())
    assert path == workdir / "roundtable-data-U1.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert [a["text"] for a in data["answers"]] == ["Una's first answer", "Una's second answer"]
    assert "Tomasz" not in path.read_text()
    nobody = run_cli("participant", "export", "UNOBODY", cwd=workdir)
    assert nobody.returncode == 1
    assert nobody.stderr.strip() == "roundtable: Roundtable holds nothing about UNOBODY on slack"


def test_forgetting_someone_only_the_audit_log_names_claims_no_name_or_answers(
        workdir: Path) -> None:
    """A request for someone's data (nothing held, but logged) and then to forget them: the
    log's entry is what there is to delete, not "0 answers and their name, role, …"."""
    assert run_cli("participant", "export", "UNOBODY", cwd=workdir).returncode == 1
    forgot = run_cli("participant", "forget", "UNOBODY", "--yes", cwd=workdir)
    assert forgot.returncode == 0, forgot.stderr
    assert forgot.stdout.strip() == (
        "Done. Roundtable held no answers, name or role of theirs. The audit log no longer "
        "names them (1 entry). Kept: a one-way fingerprint of their Slack id (not the id), so "
        "that Roundtable never messages them again.")


def test_it_stops_and_forgets_a_person_on_request_and_logs_who_did(workdir: Path) -> None:
    assert run_cli("participant", "stop", "U2", cwd=workdir).stdout.strip() == \
        "U2 will not be messaged again."
    again_stop = run_cli("participant", "stop", "U2", cwd=workdir)
    assert again_stop.returncode == 0
    assert again_stop.stdout.strip() == "U2 had already stopped: they are not messaged."
    refused = run_cli("participant", "forget", "U1", cwd=workdir)
    assert refused.returncode == 1  # asked to confirm, and no answer came
    assert "nothing was deleted" in refused.stderr
    forgot = run_cli("participant", "forget", "U1", "--yes", cwd=workdir)
    assert forgot.returncode == 0, forgot.stderr
    said = forgot.stdout
    assert said.startswith("Done. Roundtable deleted 2 answers, their invitation to 1 round")
    assert "their name, role, time zone and Slack id" in said
    assert "withdrew from round 1" in said
    again = run_cli("participant", "forget", "U1", "--yes", cwd=workdir)
    assert again.stdout.strip() == ("Roundtable held nothing about them; it will not ask them "
                                    "in any future round.")
    log = run_cli("audit", cwd=workdir).stdout.splitlines()
    assert [line.split("  ")[1:3] for line in log] == [
        ["cli", "participant.stop"], ["cli", "participant.forget"],
        ["cli", "participant.forget"]]
    assert "slack:U2" in log[0] and "U1" not in "\n".join(log)
    status = run_cli("round", "status", "1", cwd=workdir).stdout
    assert "1 of 1 answered" in status and "1 person asked to be forgotten" in status


def test_it_purges_what_the_retention_period_no_longer_keeps(workdir: Path) -> None:
    engine = make_engine(f"sqlite:///{workdir / 'roundtable.db'}")
    with transaction(connect(engine).sessions) as session:
        close_round(session, 1, datetime.now(UTC) - timedelta(days=400))
    engine.dispose()
    kept = run_cli("purge", cwd=workdir, env={"ROUNDTABLE_RETENTION_DAYS": "500"})
    assert kept.stdout.strip() == (
        "Nothing was due for deletion: no round closed more than 500 days ago still holds "
        "answers, and no incoming message set aside after failing is that old.")
    purged = run_cli("purge", cwd=workdir)  # 365 days by default
    assert purged.stdout.strip() == (
        "Deleted what is kept for 365 days after a round closes: round 1's 3 answers and 0 "
        "digests, 2 people in no other round, and 0 incoming messages set aside after failing.")
    assert "retention.purge" in run_cli("audit", "--round", "1", cwd=workdir).stdout or \
        "retention.purge" in run_cli("audit", cwd=workdir).stdout
    status = run_cli("round", "status", "1", cwd=workdir).stdout
    assert "Answers and digests deleted" in status and "2 of 2 answered" in status
    refused = run_cli("digest", "--round", "1", cwd=workdir)
    assert refused.returncode == 1 and "(retention): nothing is left" in refused.stderr
    reopened, today = run_cli("round", "reopen", "1", cwd=workdir), datetime.now(UTC)
    assert reopened.returncode == 1
    assert reopened.stderr.strip() == (
        f"roundtable: round 1 cannot be reopened: its answers and digests were deleted on "
        f"{today.day} {today:%b %Y} under the retention period; start a new round instead")
    assert "closed" in run_cli("round", "list", "--all", cwd=workdir).stdout


@pytest.mark.parametrize("command", [["export", "U1"], ["forget", "U1", "--yes"],
                                     ["stop", "U1"]])
def test_it_refuses_a_platform_it_does_not_know(workdir: Path, command: list[str]) -> None:
    refused = run_cli("participant", *command, "--platform", "fax", cwd=workdir)
    assert refused.returncode == 2
    assert "'fax' is not one of 'slack', 'teams'" in unboxed(refused.stderr)
    assert "participant." not in run_cli("audit", cwd=workdir).stdout
    assert run_cli("participant", "export", "U1", cwd=workdir).returncode == 0  # all still held


def test_it_starts_no_round_for_people_who_all_said_stop_and_names_those_left_out(
        workdir: Path) -> None:
    assert run_cli("participant", "stop", "U2", cwd=workdir).returncode == 0
    refused = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U2", cwd=workdir)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("roundtable: nobody to ask, so no round was started: "
                                      "Tomasz Nowak said stop")
    assert "round 2" not in run_cli("round", "list", "--all", cwd=workdir).stdout
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1,U2",
                      cwd=workdir)
    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines() == ["Round 2 started for 1 person.",
                                           "Left out, as they said stop: Tomasz Nowak.",
                                           NO_SENDER.plain]


def test_closing_a_round_with_a_digest_channel_needs_the_slack_token(workdir: Path) -> None:
    refused = run_cli("round", "close", "1", cwd=workdir)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        "roundtable: SLACK_BOT_TOKEN is not set (see .env.example); round 1 is still open, as "
        "its final digest could not be posted")
    assert " open" in run_cli("round", "list", cwd=workdir).stdout.splitlines()[1]
    assert "round.close" not in run_cli("audit", cwd=workdir).stdout


def test_an_export_that_cannot_be_written_is_not_in_the_audit_log(workdir: Path) -> None:
    folder = workdir / "exports"
    folder.mkdir()
    refused = run_cli("export", "--round", "1", "--format", "md", "--out", str(folder),
                      cwd=workdir)
    assert refused.returncode == 1 and "Is a directory" in refused.stderr
    assert "round.export" not in run_cli("audit", cwd=workdir).stdout
    written = run_cli("export", "--round", "1", "--format", "md", "--out",
                      str(folder / "r1.md"), cwd=workdir)
    assert written.returncode == 0, written.stderr
    assert "round.export (md)  round 1" in run_cli("audit", cwd=workdir).stdout


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_the_audit_log_takes_a_limit_of_one_or_more(workdir: Path, limit: str) -> None:
    assert run_cli("participant", "stop", "U2", cwd=workdir).returncode == 0
    refused = run_cli("audit", "--limit", limit, cwd=workdir)
    assert refused.returncode == 2
    assert "The audit log is empty." not in refused.stdout
    assert "Invalid value for '--limit': should be 1 or more" in unboxed(refused.stderr)


def test_it_writes_a_cyclonedx_bill_of_materials(tmp_path: Path) -> None:
    result = run_cli("sbom", "--out", str(tmp_path / "sbom.json"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    bom = json.loads((tmp_path / "sbom.json").read_text())
    assert (bom["bomFormat"], bom["specVersion"]) == ("CycloneDX", "1.5")
    assert bom["metadata"]["component"]["name"] == "roundtable"
    names = {c["name"].lower().replace("_", "-"): c for c in bom["components"]}
    for needed in ("slack-bolt", "sqlalchemy", "alembic", "pydantic"):
        assert needed in names, needed
        assert names[needed]["purl"].startswith(f"pkg:pypi/{needed}@")
    refs = {c["bom-ref"] for c in bom["components"]} | {bom["metadata"]["component"]["bom-ref"]}
    assert all(set(d["dependsOn"]) <= refs for d in bom["dependencies"])
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator
    except ImportError:
        pytest.skip("cyclonedx-python-lib[json-validation] is not installed: shape checked only")
    errors = JsonStrictValidator(SchemaVersion.V1_5).validate_str(json.dumps(bom))
    assert errors is None, errors
