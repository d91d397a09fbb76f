"""The `roundtable` command as a user runs it: each run a process of its own (the installed
console script for the demo; forked with the application imported for the rest)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.core import TyperGroup
from typer.main import get_command
from typer.testing import CliRunner

from bot.app.health import NO_SENDER
from bot.cli import app
from prompts import PROMPTS_DIR
from tests.helpers import run_cli, run_script
from tests.test_imports import rows, write_csv


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A folder with a migrated default SQLite database (DATABASE_URL unset)."""
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    return tmp_path


def test_it_runs_the_demo_to_a_digest_with_no_slack_settings(tmp_path: Path) -> None:
    result = run_script("demo", "--dir", str(tmp_path / "demo"), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Participation: 12 of 12 answered at least one question" in result.stdout
    assert "Protected time" in result.stdout
    assert "Most from" not in result.stdout  # a role named as most where it gave half or fewer
    # a quote's attribution is never split across lines, however the quote wraps
    attributions = re.findall(r"” — (.+)$", result.stdout, re.MULTILINE)
    assert attributions and set(attributions) <= {"community pharmacist", "PCN pharmacy lead"}
    for question in (
        "Where have you seen",
        "Who needs to be bought in",
        "best support",
        "as ineffective as possible",
    ):
        assert question in result.stdout
    # The demo's database is there to be explored: its status agrees with its digest (the
    # simulated people were asked before they answered, the first digest was posted).
    demo_db = {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo' / 'roundtable-demo.db'}"}
    status = run_cli("round", "status", "1", cwd=tmp_path, env=demo_db)
    assert status.returncode == 0, status.stderr
    assert ("12 delivered, 0 pending, 0 failed · 12 of 12 answered, 11 answered all · "
            "0 reminders sent, 1 digest posted") in status.stdout, status.stdout


def test_it_upgrades_the_database_twice(tmp_path: Path) -> None:
    first = run_cli("db", "upgrade", cwd=tmp_path)
    second = run_cli("db", "upgrade", cwd=tmp_path)
    assert first.returncode == second.returncode == 0
    assert (tmp_path / "roundtable.db").exists()
    assert first.stdout == second.stdout


def test_it_says_to_upgrade_when_the_database_is_not_set_up(tmp_path: Path) -> None:
    result = run_cli("round", "status", cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "roundtable: the database is not set up or is behind: run `roundtable db upgrade`"
    )


def test_it_names_a_malformed_setting_in_one_line(tmp_path: Path) -> None:
    result = run_cli("round", "status", cwd=tmp_path, env={"DATABASE_URL": "roundtable.db"})
    assert result.returncode == 1
    assert result.stderr.startswith("roundtable: DATABASE_URL: ")
    assert len(result.stderr.strip().splitlines()) == 1
    env_file = run_cli("round", "status", cwd=tmp_path, env={"ROUNDTABLE_TIMEZONE": "Europe/Londn"})
    assert env_file.stderr.strip().startswith("roundtable: ROUNDTABLE_TIMEZONE: ")
    # a name too long for a file's: the zone database's lookup fails in another way
    too_long = run_cli("round", "status", cwd=tmp_path, env={"ROUNDTABLE_TIMEZONE": "x" * 300})
    assert too_long.stderr.startswith("roundtable: ROUNDTABLE_TIMEZONE: unknown time zone")


def test_it_imports_for_a_pack_and_prints_the_round_id_last(workdir: Path) -> None:
    path = write_csv(workdir / "room.csv", rows(25))
    result = run_cli("import-replies", str(path), "--pack", "sel-pharmacy-leadership",
                     "--mode", "named", cwd=workdir)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # no progress shown in a pipe
    round_id = result.stdout.strip().splitlines()[-1]
    assert round_id.isdigit()
    digest = run_cli("digest", "--round", round_id, "--format", "json", cwd=workdir)
    view = json.loads(digest.stdout)
    ids = []
    for prompt in view["prompts"]:
        ids += prompt["unthemed_reply_ids"] + [i for t in prompt["themes"] for i in t["reply_ids"]]
    assert sorted(ids) == sorted(r["id"] for r in rows(25))  # a named round keeps the CSV's ids
    by_role = run_cli("import-replies", str(path), "--pack", "sel-pharmacy-leadership",
                      cwd=workdir)
    other = json.loads(run_cli("digest", "--round", by_role.stdout.strip().splitlines()[-1],
                               "--format", "json", cwd=workdir).stdout)
    opaque = [i for p in other["prompts"]
              for i in p["unthemed_reply_ids"] + [i for t in p["themes"] for i in t["reply_ids"]]]
    assert len(opaque) == 25 and not set(opaque) & set(ids)  # by role (the default): opaque
    assert all(i.startswith("ans-") for i in opaque)


def test_a_corrected_row_imported_again_edits_its_answer_and_says_so(workdir: Path) -> None:
    data = rows(10)
    path = write_csv(workdir / "notes.csv", data)
    first = run_cli("import-replies", str(path), "--pack", "sel-pharmacy-leadership",
                    "--mode", "named", cwd=workdir)
    assert first.stdout.splitlines()[0] == "imported notes.csv: 10 answers added, 0 updated, " \
        "0 unchanged", first.stderr
    round_id = first.stdout.splitlines()[-1]
    data[3]["text"] = "answer number 3, with its typo mended"
    write_csv(path, data)
    again = run_cli("import-replies", str(path), "--round", round_id, cwd=workdir)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "imported notes.csv: 0 answers added, 1 updated, 9 unchanged\n"
    exported = run_cli("participant", "export", f"p3@round{round_id}", "--platform", "import",
                       "--out", str(workdir / "p3.json"), cwd=workdir)
    assert exported.returncode == 0, exported.stderr
    [answer] = json.loads((workdir / "p3.json").read_text())["answers"]
    assert answer["text"] == "answer number 3, with its typo mended"
    assert [v["text"] for v in answer["earlier_versions"]] == ["answer number 3"]
    audit = run_cli("audit", "--round", round_id, cwd=workdir).stdout
    assert "answer.edit  round " + round_id + "  W0003 by line 5 of notes.csv" in audit
    assert "round.import  round " + round_id + "  0 answers added, 1 updated, 9 unchanged " \
        "from notes.csv" in audit
    assert "typo" not in audit


def test_it_imports_nothing_from_a_file_with_a_bad_row(workdir: Path) -> None:
    data = rows(30)
    data[20]["prompt_id"] = "nope"
    path = write_csv(workdir / "bad.csv", data)
    result = run_cli("import-replies", str(path), "--pack", "sel-pharmacy-leadership", cwd=workdir)
    assert result.returncode == 1
    assert f"{path}:22: unknown prompt 'nope'" in result.stderr
    assert "nothing was imported" in result.stderr
    assert "No open rounds." in run_cli("round", "status", cwd=workdir).stdout


def test_a_short_ranking_in_a_file_is_refused_saying_what_the_row_should_list(
        workdir: Path) -> None:
    """A facilitator typing up the room's votes is told which question wants how many
    options and how many the row gives, not a participant's "rank your top 5"."""
    data = rows(3) + [{"id": "V1", "prompt_id": "support-factors", "participant": "p1",
                       "role": "community pharmacist",
                       "text": "Protected time; Leadership development"}]
    path = write_csv(workdir / "votes.csv", data)
    result = run_cli("import-replies", str(path), "--pack", "sel-pharmacy-leadership",
                     cwd=workdir)
    assert result.returncode == 1
    assert result.stderr.splitlines()[0] == (
        f"roundtable: {path}:5: support-factors ranks the top 5 options: list 5 of them in "
        "order, separated by “;” (this row lists 2)"), result.stderr
    assert "No open rounds." in run_cli("round", "status", cwd=workdir).stdout


def test_the_audit_log_says_a_schedule_was_set_back_to_the_default(workdir: Path) -> None:
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U0AAA",
                   cwd=workdir).returncode == 0
    for schedule in ("0 9 * * mon", "default"):
        changed = run_cli("round", "set", "1", "--digest-cron", schedule, cwd=workdir)
        assert changed.returncode == 0, changed.stderr
    log = [line.split("  ")[-1] for line in run_cli("audit", "--round", "1", cwd=workdir)
           .stdout.splitlines() if "round.set" in line]
    assert log == ["schedule 0 9 * * mon", "schedule default"], log


def test_a_review_deadline_set_on_a_round_that_posts_as_built_is_said_to_wait(
        workdir: Path) -> None:
    """Setting the hours to approve in on a round whose digests are not reviewed used to be
    answered only "digests are posted as built", as if the hours were ignored."""
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U0AAA",
                   cwd=workdir).returncode == 0
    hours = run_cli("round", "set", "1", "--review-hours", "48", cwd=workdir)
    assert hours.returncode == 0, hours.stderr
    assert hours.stdout.strip() == (
        "Round 1: digests are posted as built. The 48 hours to approve in, and what becomes "
        "of a digest nobody approves, apply once its digests wait for review.")
    reviewed = run_cli("round", "set", "1", "--review", "review", cwd=workdir)
    assert reviewed.stdout.strip() == (
        "Round 1: each scheduled digest goes to its facilitators first; one nobody approves "
        "within 48 hours is kept waiting.")


def test_a_round_reopened_without_a_digest_channel_is_not_promised_a_final_digest(
        workdir: Path) -> None:
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U0AAA",
                   cwd=workdir).returncode == 0
    assert run_cli("round", "close", "1", cwd=workdir).returncode == 0
    reopened = run_cli("round", "reopen", "1", cwd=workdir)
    assert reopened.returncode == 0, reopened.stderr
    assert reopened.stdout.strip() == (
        "Round 1 is open again; it has no closing date. It has no digest channel, so closing "
        "it again posts no final digest. Set one: `/roundtable set 1 digest #channel` in "
        "chat, or `roundtable round set 1 --digest C0123` on the server.")


def test_it_validates_packs_with_exit_status_one(workdir: Path) -> None:
    assert run_cli("packs", "validate", cwd=workdir).returncode == 0
    bad = workdir / "bad.yaml"
    bad.write_text("id: x\ntitle: t\nworkshop_date: 2021-03-10\nintro: i\nprompts: []\n")
    result = run_cli("packs", "validate", str(bad), cwd=workdir)
    assert result.returncode == 1
    assert result.stderr.strip() == f"{bad}:5: prompts: needs at least 1 prompt"


def test_it_starts_shows_and_closes_a_round(workdir: Path) -> None:
    started = run_cli(
        "round",
        "start",
        "sel-pharmacy-leadership",
        "--to",
        "U1,U2,U3",
        "--closes",
        "14d",
        cwd=workdir,
    )
    assert started.returncode == 0, started.stderr
    first, closing, unsent = started.stdout.strip().splitlines()
    assert first == "Round 1 started for 3 people."
    assert unsent == NO_SENDER.plain  # no `roundtable serve` runs in this folder
    assert re.fullmatch(r"It closes [A-Z][a-z]{2} [1-9]\d? [A-Z][a-z]{2} \d{4} 18:00 (GMT|BST)\.",
                        closing), closing  # 14 days on, at the end of the working day
    status = run_cli("round", "status", "1", cwd=workdir)
    assert "0 delivered, 3 pending, 0 failed · 0 of 3 answered" in status.stdout
    assert "0 reminders sent, 0 digests posted" in status.stdout
    assert run_cli("status", cwd=workdir).stdout == status.stdout  # the short form
    closed = run_cli("round", "close", "1", cwd=workdir).stdout.splitlines()
    assert closed[0] == "Round 1 closed."
    assert closed[1].startswith("No final digest was posted: the round has no digest channel.")
    assert "roundtable round set 1 --digest C0123" in closed[1]
    # setting the channel posts the final digest: posting one as well would post it twice
    assert closed[1].endswith(" on the server; its final digest is posted there as soon as it "
                              "is set.")
    again = run_cli("round", "close", "1", cwd=workdir)
    assert again.returncode == 1 and "already closed" in again.stderr


def test_it_loads_no_heavy_modules_for_help() -> None:
    probe = (
        "import sys; from bot.cli import app; from typer.testing import CliRunner; "
        "CliRunner().invoke(app, ['--help']); "
        "print(','.join(m for m in ('sqlalchemy', 'alembic', 'slack_bolt', 'slack_sdk', "
        "'numpy', 'matplotlib', 'docx', 'apscheduler') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == ""


def test_help_reads_as_sentences_wrapped_to_the_terminal(tmp_path: Path) -> None:
    """A command's help is its docstring wrapped to the terminal, not broken where the source
    breaks its lines; placeholders in an option's help are shown."""
    wide = {"COLUMNS": "200", "TERM": "dumb"}
    top = run_cli("--help", cwd=tmp_path, env=wide).stdout
    assert "exit status 0 when it is, 1 when it is not or nothing answers" in top
    export = run_cli("export", "--help", cwd=tmp_path, env=wide).stdout
    assert "(default: round-ID-synthesis.FORMAT here)" in export


def help_of(*command: str) -> str:
    """A command's --help as one line of words, the panels' borders taken away."""
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="roundtable",
                                env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.output).split())


def test_the_help_says_what_serving_starting_and_posting_do_on_both_platforms() -> None:
    """The help says what a facilitator will see happen, on Slack and Teams alike: serve
    --no-scheduler still serves every platform set up, a started round's questions are sent
    by the running service, and --post posts where the round's digests go."""
    serve = help_of("serve")
    assert "Serve Slack only" not in serve
    assert ("--no-scheduler Run no schedule here (digests, reminders, closing rounds): "
            "run roundtable scheduler elsewhere." in serve), serve
    start = help_of("round", "start")
    assert "adapter" not in start and "sender" not in start
    assert ("Start a round: the running service (roundtable serve) sends each person the "
            "first question in a direct message, in their working hours." in start), start
    assert ("another takes over within ROUNDTABLE_LEASE_SECONDS (30 seconds unless set) if "
            "it dies" in serve), serve
    schedule = help_of("round", "set")
    assert ("When digests are posted: cron, 5 fields or 6 with seconds first, weekday 5 or fri "
            "for Friday; default sets it back to weekly, Fridays 12:00." in schedule), schedule
    digest = help_of("digest")
    assert ("--post Post it to the round's digest channel (in Slack, Teams or both, as the "
            "round has them)." in digest), digest


def test_the_top_help_says_what_each_group_of_commands_is_for() -> None:
    """"Microsoft Teams." said nothing of what `teams` does, and "Prompt packs in prompts/."
    named a folder that ROUNDTABLE_PACKS_DIR may have moved."""
    top = help_of()
    assert ("packs Prompt packs, each a workshop's questions (in ROUNDTABLE_PACKS_DIR, "
            "default prompts/): list them, check them." in top), top
    assert "teams Microsoft Teams: build the app package to upload to a tenant." in top, top
    assert ("status How the open rounds (or one) are going: delivered, pending and failed, who "
            "answered, reminders, the next digest (as roundtable round status)." in top), top
    assert ("db Create, migrate or back up the database." in top), top
    assert ("demo The whole job with no Slack account: a simulated round of the sample "
            "workshop's questions, its digest, and its synthesis in Markdown and Word." in top)


@pytest.mark.parametrize("command, flag, valued", [
    ([], "--debug", None), (["demo"], "--help", "--dir"),
    (["round", "close"], "--help", None), (["participant", "forget"], "--yes", "--platform"),
])
def test_a_flag_in_the_help_shows_no_value_to_give(command: list[str], flag: str,
                                                   valued: str | None) -> None:
    """A flag takes no value, so its row shows none (typer writes `--help <bool>`, which
    reads as an option wanting true or false); an option that takes one still shows it."""
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="roundtable",
                                env={"COLUMNS": "200", "TERM": "dumb"})
    rows = {line.split()[1]: line.split()[2:] for line in result.output.splitlines()
            if len(line.split()) > 1 and line.split()[1].startswith("--")}
    assert flag in rows and not rows[flag][0].startswith("<"), result.output
    if valued:
        assert rows[valued][0].startswith("<"), result.output


def test_a_commands_usage_names_its_arguments_without_placeholder_braces(
        tmp_path: Path) -> None:
    wide = {"COLUMNS": "200", "TERM": "dumb"}
    for command, usage in (
        (["participant", "export"], "roundtable participant export [OPTIONS] USER"),
        (["participant", "stop"], "roundtable participant stop [OPTIONS] USER"),
        (["participant", "forget"], "roundtable participant forget [OPTIONS] USER"),
        (["round", "set"], "roundtable round set [OPTIONS] ROUND_ID"),
        (["packs", "validate"], "roundtable packs validate [OPTIONS] [PATHS]..."),
    ):
        shown = run_cli(*command, "--help", cwd=tmp_path, env=wide).stdout
        assert f"Usage: {usage}" in [line.strip() for line in shown.splitlines()], shown
    missing = run_cli("participant", "stop", cwd=tmp_path, env=wide)
    assert missing.returncode == 2
    assert "Usage: roundtable participant stop [OPTIONS] USER" in missing.stderr


@pytest.mark.parametrize("command, usage, error", [
    (["participant", "forget"], "roundtable participant forget [OPTIONS] USER",
     "Missing argument 'USER'."),
    (["round", "set"], "roundtable round set [OPTIONS] ROUND_ID",
     "Missing argument 'ROUND_ID'."),
    (["import-replies", "no-such.csv", "--round", "1"],
     "roundtable import-replies [OPTIONS] FILE",
     "Invalid value for 'FILE': file 'no-such.csv' does not exist."),
    # a value typer checks is refused in words of ours, not its checker's
    (["round", "set", "abc"], "roundtable round set [OPTIONS] ROUND_ID",
     "Invalid value for 'ROUND_ID': should be a whole number"),
    (["audit", "--limit", "0"], "roundtable audit [OPTIONS]",
     "Invalid value for '--limit': should be 1 or more"),
    (["export", "--round", "1", "--format", "pdf"], "roundtable export [OPTIONS]",
     "Invalid value for '--format': 'pdf' is not one of 'md', 'docx', 'csv', 'html'."),
])
def test_a_usage_error_names_the_argument_as_the_usage_line_does(
        command: list[str], usage: str, error: str) -> None:
    result = CliRunner().invoke(app, command, prog_name="roundtable",
                                env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 2
    shown = [" ".join(re.sub(r"[│╭╮╰╯─]", " ", line).split())
             for line in result.output.splitlines()]
    assert f"Usage: {usage}" in shown and error in shown, result.output



@pytest.mark.parametrize("command, name", [
    (["participant", "export"], "USER"), (["round", "set"], "ROUND_ID"),
    (["packs", "validate"], "PATHS..."), (["import-replies"], "FILE")])
def test_the_help_names_an_argument_as_the_usage_line_does(command: list[str],
                                                            name: str) -> None:
    result = CliRunner().invoke(app, [*command, "--help"], prog_name="roundtable",
                                env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    panel = lines[next(n for n, line in enumerate(lines) if "Arguments" in line):]
    panel = panel[:next(n for n, line in enumerate(panel) if line.startswith("╰"))]
    names = [re.sub(r"[│*]", " ", line).split()[0] for line in panel[1:] if "<" in line]
    assert names == [name], result.output


def test_no_commands_usage_shows_a_placeholder_in_braces() -> None:
    def usages(command: Any, path: str) -> Iterator[tuple[str, str]]:
        if isinstance(command, TyperGroup):
            for name, sub in command.commands.items():
                yield from usages(sub, f"{path} {name}")
        else:
            context = command.make_context(path, [], resilient_parsing=True)
            yield path, command.get_usage(context)

    found = dict(usages(get_command(app), "roundtable"))
    assert len(found) > 25 and "roundtable participant forget" in found
    assert {path: usage for path, usage in found.items() if "{" in usage} == {}


def test_a_csv_cell_over_the_size_limit_is_reported_at_its_own_line(workdir: Path) -> None:
    data = rows(3)
    data[1]["text"] = "x" * 200_000
    path = write_csv(workdir / "huge.csv", data)
    result = run_cli("import-replies", str(path), "--pack", "sel-pharmacy-leadership",
                     cwd=workdir)
    assert result.returncode == 1
    assert result.stderr.startswith(f"roundtable: {path}:3: not valid CSV (field larger than "
                                    "field limit"), result.stderr
    assert "nothing was imported" in result.stderr


def test_an_empty_closing_date_is_refused_not_taken_for_none(workdir: Path) -> None:
    """`--closes ""` (a shell variable left empty) started a round with no closing date, and
    `round set` reported the round unchanged as if it had been set."""
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1", "--closes",
                      "", cwd=workdir)
    assert (started.returncode, started.stderr.strip()) == (1, (
        "roundtable: --closes: give a number of days like 14d or a date like 2026-12-18"))
    assert "No open rounds." in run_cli("round", "status", cwd=workdir).stdout
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1", "--closes", "3d",
                   cwd=workdir).returncode == 0
    changed = run_cli("round", "set", "1", "--closes", "", cwd=workdir)
    assert (changed.returncode, changed.stderr.strip()) == (1, (
        "roundtable: --closes: give a number of days like 14d, a date like 2026-12-18, or "
        "never"))
    assert "Closes " in run_cli("round", "status", "1", cwd=workdir).stdout  # still


def test_a_schedule_chat_would_refuse_as_too_frequent_is_taken_with_a_note(
        workdir: Path) -> None:
    """The operator may schedule digests a second apart (the scheduler's own tests do); a
    minute's slip is still said, on stderr."""
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1",
                      "--digest-cron", "* 9 * * fri", cwd=workdir)
    assert started.returncode == 0, started.stderr
    assert started.stderr.strip() == (
        "roundtable: note: the schedule '* 9 * * fri' posts digests a minute apart (Fri "
        "09:00:00 and 09:01:00); taken, as the command line takes any schedule (chat refuses "
        "one more often than hourly)")
    hourly = run_cli("round", "set", "1", "--digest-cron", "0 * * * *", cwd=workdir)
    assert (hourly.returncode, hourly.stderr) == (0, "")


def test_a_closing_date_too_far_ahead_says_so(workdir: Path) -> None:
    result = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1", "--closes",
                     "100000d", cwd=workdir)
    assert result.returncode == 1
    assert result.stderr.strip() == ("roundtable: the closing date '100000d' is too far ahead: "
                                     "give at most 999d, or a date like 2026-12-18")
    assert "No open rounds." in run_cli("round", "status", cwd=workdir).stdout
    # a date as far: the year 9999 was taken ("closes Fri 31 Dec", said without its year)
    for far in ("9999-12-31", "2062-12-18"):
        result = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1", "--closes",
                         far, cwd=workdir)
        assert result.returncode == 1
        assert result.stderr.strip() == (
            f"roundtable: the closing date {far} is too far ahead: give a date within 999 days, "
            "or a number of days like 14d")
    assert "No open rounds." in run_cli("round", "status", cwd=workdir).stdout


@pytest.mark.parametrize("command, option", [
    (["digest", "review", "1", "--rename", "done-well/1", "First", "--rename", "done-well/2",
      "Second"], "--rename"),
    (["round", "set", "1", "--closes", "3d", "--closes", "4d"], "--closes"),
])
def test_an_option_that_takes_one_value_given_twice_is_refused(command: list[str],
                                                                option: str) -> None:
    """click would keep the last and drop the first unsaid: a rename lost."""
    result = CliRunner().invoke(app, command, prog_name="roundtable",
                                env={"COLUMNS": "200", "TERM": "dumb"})
    assert result.exit_code == 2, result.output
    shown = [" ".join(re.sub(r"[│╭╮╰╯─]", " ", line).split())
             for line in result.output.splitlines()]
    assert (f"Invalid value for '{option}': given 2 times, and it takes one: run the command "
            "again for the next") in shown, result.output


def test_a_repeatable_option_and_a_flag_given_twice_are_taken(workdir: Path) -> None:
    result = run_cli("round", "status", "--who", "--who", cwd=workdir)
    assert result.returncode == 0, result.stderr
    hidden = run_cli("digest", "review", "1", "--hide", "ans-a", "--hide", "ans-b",
                     cwd=workdir)
    assert "given 2 times" not in hidden.stderr


def test_a_digest_schedule_on_cron_weekday_five_falls_on_fridays(workdir: Path) -> None:
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1", "--digest",
                      "C0DIGEST1", "--no-review", cwd=workdir)
    assert started.returncode == 0, started.stderr
    changed = run_cli("round", "set", "1", "--digest-cron", "0 12 * * 5", cwd=workdir)
    assert changed.returncode == 0, changed.stderr
    assert re.search(r"digests go to #C0DIGEST1, the next on Fri [1-9]\d? [A-Z][a-z]{2} 12:00",
                     changed.stdout), changed.stdout


@pytest.mark.parametrize(("options", "said"), [
    (("--owner", "nobody"), "--owner: 'nobody' is not a Slack user id (like U0123ABCD)"),
    (("--mode", "named", "--anonymous"),
     "--anonymous is --mode anonymous: give one of them, not --mode named as well"),
])
def test_a_start_with_a_mistaken_option_is_refused_and_starts_nothing(
        workdir: Path, options: tuple[str, ...], said: str) -> None:
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1", *options,
                      cwd=workdir)
    assert (started.returncode, started.stdout) == (1, ""), started.stdout
    assert started.stderr.strip() == f"roundtable: {said}"
    assert run_cli("round", "list", "--all", cwd=workdir).stdout.strip() == "No rounds."


UNREACHABLE = "postgresql://nobody@127.0.0.1:1/roundtable"  # nothing listens on port 1


@pytest.mark.parametrize(("options", "said"), [
    (("no-such-pack", "--to", "U1"), "no pack 'no-such-pack' (known: sel-pharmacy-leadership)"),
    (("sel-pharmacy-leadership", "--to", "U1", "--owner", "nobody"),
     "--owner: 'nobody' is not a Slack user id (like U0123ABCD)"),
    (("sel-pharmacy-leadership", "--to", " , "), "--to names nobody"),
    (("sel-pharmacy-leadership", "--to", "U1", "--mode", "named", "--anonymous"),
     "--anonymous is --mode anonymous: give one of them, not --mode named as well"),
    (("sel-pharmacy-leadership", "--to", "U1", "--digest", "leads"),
     "--digest: 'leads' is not a Slack channel id (C…): in Slack, open the channel's name → "
     "About; the id is at the bottom"),
    (("sel-pharmacy-leadership", "--to", "U1", "--closes", "soon"),
     "cannot read the closing date 'soon': use a number of days like 14d or a date like "
     "2026-12-18"),
    (("sel-pharmacy-leadership", "--to", "U1", "--digest-cron", "fridays"),
     "cannot read the schedule 'fridays': give 5 cron fields (minute hour day month weekday), "
     "or 6 with seconds first"),
])
@pytest.mark.parametrize("database", ["unreachable", "not created"])
def test_a_start_mistyped_is_refused_before_the_database_is_touched(
        tmp_path: Path, options: tuple[str, ...], said: str, database: str) -> None:
    """The mistake is what the facilitator must fix: it is said, not a database error, and
    no database file is created for a round that was never started."""
    env = {"DATABASE_URL": UNREACHABLE} if database == "unreachable" else {}
    started = run_cli("round", "start", *options, cwd=tmp_path, env=env)
    assert (started.returncode, started.stdout) == (1, ""), started.stdout
    # one line: the pack's names the folder it looked in first
    assert started.stderr.startswith("roundtable: ") and started.stderr.count("\n") == 1
    assert started.stderr.strip().endswith(said), started.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_start_reads_its_pack_file_once(workdir: Path) -> None:
    """A pack read twice could change between the check and the round (a file being saved):
    the round is started from the pack that was checked. A named pipe gives its text once."""
    pipe = workdir / "pack.yaml"
    os.mkfifo(pipe)
    text = Path(PROMPTS_DIR / "sel-pharmacy-leadership.yaml").read_text(encoding="utf-8")

    def give_once() -> None:
        with pipe.open("w", encoding="utf-8") as writing:
            writing.write(text)

    threading.Thread(target=give_once, daemon=True, name="pack-pipe").start()
    try:
        started = run_cli("round", "start", str(pipe), "--to", "U1", cwd=workdir, timeout=30)
    finally:
        with suppress(OSError):  # a second reader still waiting gets an empty file
            os.close(os.open(pipe, os.O_WRONLY | os.O_NONBLOCK))
    assert started.returncode == 0, started.stderr
    assert started.stdout.startswith("Round 1 started for 1 person."), started.stdout
def test_status_of_round_zero_is_refused_not_taken_for_every_round(workdir: Path) -> None:
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1",
                   cwd=workdir).returncode == 0
    for command in (("round", "status"), ("status",)):
        shown = run_cli(*command, "0", cwd=workdir)
        assert (shown.returncode, shown.stdout) == (1, ""), shown.stdout
        assert shown.stderr.strip() == "roundtable: there is no round 0"
def test_the_audit_of_a_round_that_never_was_says_so_and_a_deleted_ones_is_shown(
        workdir: Path) -> None:
    never = run_cli("audit", "--round", "99", cwd=workdir)
    assert (never.returncode, never.stdout) == (1, ""), never.stdout
    assert never.stderr.strip() == "roundtable: there is no round 99"
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1",
                   cwd=workdir).returncode == 0
    deleted = run_cli("round", "delete", "1", "--yes", cwd=workdir)
    assert deleted.returncode == 0, deleted.stderr
    shown = run_cli("audit", "--round", "1", cwd=workdir)
    assert shown.returncode == 0, shown.stderr
    actions = [line.split("  ")[2] for line in shown.stdout.splitlines()]
    assert actions[0] == "round.start" and actions[-1] == "round.delete", shown.stdout


def test_posting_a_digest_says_what_is_wrong_with_the_round_before_asking_for_a_token(
        workdir: Path) -> None:
    """What can be checked without the platform is checked first: fixing the token would
    only lead to the next refusal."""
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1",
                   cwd=workdir).returncode == 0
    no_channel = run_cli("digest", "--round", "1", "--post", cwd=workdir)
    assert no_channel.returncode == 1
    assert no_channel.stderr.startswith(
        "roundtable: round 1 has no digest channel, so its digest was not posted anywhere."
    ), no_channel.stderr
    never = run_cli("digest", "--round", "99", "--post", cwd=workdir)
    assert never.returncode == 1
    assert never.stderr.strip() == "roundtable: there is no round 99"


def test_a_round_that_closes_before_its_next_scheduled_digest_says_the_final_one_is_next(
        workdir: Path) -> None:
    """The schedule's next digest falls after the close, when the round is closed: status and
    set say the next digest is the final one, at the close, not a date it will never have."""
    later = datetime.now(ZoneInfo("Europe/London")) + timedelta(days=5)
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U1", "--digest",
                      "C0DIGEST1", "--closes", "2d", "--digest-cron", f"0 12 {later.day} * *",
                      cwd=workdir)
    assert started.returncode == 0, started.stderr
    moment = r"[A-Z][a-z]{2} [1-9]\d? [A-Z][a-z]{2}( \d{4})? 18:00 [A-Z]{3,4}"
    status = run_cli("round", "status", "1", cwd=workdir)
    assert status.returncode == 0, status.stderr
    assert re.fullmatch(f"Next digest \\(the final one\\) when it closes {moment}",
                        status.stdout.splitlines()[2]), status.stdout
    changed = run_cli("round", "set", "1", "--closes", "3d", cwd=workdir)
    assert changed.returncode == 0, changed.stderr
    assert re.fullmatch(f"Round 1: digests go to #C0DIGEST1, the next \\(the final one\\) "
                        f"when it closes {moment}\\.", changed.stdout.strip()), changed.stdout


def test_start_says_a_pack_that_is_not_there_before_anything_else_it_was_given(
        workdir: Path) -> None:
    """As in chat, the pack is checked first: the operator hears it is not there, not that
    --to names nobody."""
    started = run_cli("round", "start", "nosuchpack", "--to", ",", cwd=workdir)
    assert started.returncode == 1
    assert "no pack 'nosuchpack' (known: sel-pharmacy-leadership)" in started.stderr, \
        started.stderr
    assert "No open rounds." in run_cli("round", "status", cwd=workdir).stdout


def test_status_with_only_closed_rounds_names_the_commands_that_show_them(
        workdir: Path) -> None:
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U0AAA",
                   cwd=workdir).returncode == 0
    assert run_cli("round", "close", "1", cwd=workdir).returncode == 0
    shown = run_cli("round", "status", cwd=workdir).stdout.strip()
    assert re.fullmatch(r"No open rounds\. Round 1 closed on .+: `roundtable round status 1` "
                        r"shows it; `roundtable round list --all` lists every round\.",
                        shown), shown
