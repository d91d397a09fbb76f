"""Managing rounds from the command line, on SQLite and PostgreSQL: list them, see who has not
answered, change a round's digest channel, schedule and closing date, reopen one, delete one
with nothing left behind (issue 15, acceptance 3)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, insert, select, update

from bot.app import facilitation
from bot.app.actors import OPERATOR
from bot.app.health import NO_SENDER
from bot.app.roundtable import assemble
from bot.config import load_settings
from bot.core import reminders, sending
from bot.core.digest.changes import claim_digest
from bot.core.people import opt_out
from bot.core.replies import edit_reply, record_reply
from bot.core.round_changes import delete_round
from bot.core.rounds import close_round
from storage.database import Database
from storage.db import transaction
from storage.leases import acquire, worker_lease
from storage.models import Base, Delivery, Digest, Participant, Reply, Round, apscheduler_jobs
from tests.fakes import Transcript
from tests.helpers import ROUNDTABLE, cli_env, participant, run_cli, started_round
from tests.slack_api_stub import SlackStub

LONDON = "Europe/London"


def cli(database_url: str, *args: str, tmp_path: Path, input: str | None = None,
        **settings: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=tmp_path, env={"DATABASE_URL": database_url, **settings},
                   input=input)


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    for user, name in (("UAMARA", "Amara"), ("UBEN", "Ben"), ("UCHIDI", "Chidi")):
        slack.add_user(user, name)
    slack.add_channel("CDIGEST", [])
    yield slack
    slack.stop()


def slack_settings(stub: SlackStub) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
            "SLACK_API_URL": stub.base_url}


def test_it_lists_open_rounds_and_with_all_the_closed_ones(
        database: Database, database_url: str, now: datetime, tmp_path: Path) -> None:
    with transaction(database.sessions) as session:
        first = started_round(session, now, 3, digest_channel="CLEADS", started_by="UFOLA",
                              closes_at=now + timedelta(days=14), anonymity="named").id
        closed = started_round(session, now, 2, started_by="UFOLA").id
        anonymous = started_round(session, now, 1, anonymity="anonymous").id
        record_reply(session, first, "done-well", participant(session, "U0001"), "Huddles",
                     now)
        close_round(session, closed, now + timedelta(days=1))
    listed = cli(database_url, "round", "list", tmp_path=tmp_path)
    assert listed.returncode == 0, listed.stderr
    rows = [line.split() for line in listed.stdout.splitlines()]
    assert rows[0] == ["round", "pack", "state", "answered", "replies", "owner", "digest",
                       "closes"]
    assert rows[1] == [str(anonymous), "sel-pharmacy-leadership", "open", "(anonymous)", "0/1",
                       "0", "-", "-", "-"]
    assert rows[2] == [str(first), "sel-pharmacy-leadership", "open", "1/3", "1", "UFOLA",
                       "CLEADS", "2026-12-07", "10:00", "GMT"]  # the zone, as chat says it
    assert len(rows) == 3
    everything = cli(database_url, "round", "list", "--all", tmp_path=tmp_path)
    assert [line.split()[:3] for line in everything.stdout.splitlines()[1:]] == [
        [str(anonymous), "sel-pharmacy-leadership", "open"],
        [str(closed), "sel-pharmacy-leadership", "closed"],
        [str(first), "sel-pharmacy-leadership", "open"]]
    # a round by role is shown with the word a facilitator types for it, not the stored one
    assert everything.stdout.splitlines()[2].split()[3] == "(by-role)", everything.stdout
    assert "2026-11-24 10:00 GMT (closed)" in everything.stdout


def test_it_lists_replies_as_replies_where_the_digest_counts_answers_and_votes(
        database: Database, database_url: str, now: datetime, tmp_path: Path) -> None:
    """A comment written to a vote question is a reply the digest does not count as an
    answer or vote: the list says "replies" for what it counts, so its figure and the
    digest's are not read as one count that disagrees."""
    with transaction(database.sessions) as session:
        round_id = started_round(session, now, 2, anonymity="named").id
        person = participant(session, "U0001")
        record_reply(session, round_id, "done-well", person, "Huddles", now)
        # words typed on a vote question that name no option are kept as a comment on it
        session.add(Reply(round_id=round_id, prompt_id="support-factors",
                          participant_id=person.id, text="Time matters most", source="chat",
                          created_at=now))
    listed = cli(database_url, "round", "list", tmp_path=tmp_path)
    header, row = (line.split() for line in listed.stdout.splitlines())
    assert dict(zip(header, row[:len(header)], strict=True))["replies"] == "2"
    synthesis = tmp_path / "synthesis.md"
    cli(database_url, "export", "--round", str(round_id), "--format", "md", "--out",
        str(synthesis), tmp_path=tmp_path)
    assert "1 answer or vote in all" in synthesis.read_text()
    app = assemble(load_settings(DATABASE_URL=database_url, ROUNDTABLE_DATA_DIR=str(tmp_path)),
                   database, [])
    chat = facilitation.list_rounds(app, OPERATOR).plain
    assert "1 of 2 answered, 2 replies ·" in chat, chat


def test_status_who_names_people_only_in_a_named_round(
        database: Database, database_url: str, now: datetime, tmp_path: Path) -> None:
    with transaction(database.sessions) as session:
        named = started_round(session, now, 3, anonymity="named").id
        anonymous = started_round(session, now, 3, anonymity="anonymous").id
        for round_id in (named, anonymous):
            record_reply(session, round_id, "done-well", participant(session, "U0002"),
                         "Huddles", now)
    shown = cli(database_url, "round", "status", str(named), "--who", tmp_path=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.splitlines()[-3:] == [
        "Not answered yet: 2 people — Person 1, Person 3",
        "Answered some: 1 person — Person 2",
        "Answered all: nobody",
    ]
    counted = cli(database_url, "round", "status", str(anonymous), "--who", tmp_path=tmp_path)
    assert counted.stdout.splitlines()[-1] == (
        "Not answered yet: 2 people · answered some: 1 person · answered all: nobody (names are "
        "shown only in named rounds)")
    assert "Person" not in counted.stdout
    # in Slack, a message holds a few dozen names; the rest are counted
    app = assemble(load_settings(DATABASE_URL=database_url, ROUNDTABLE_DATA_DIR=str(tmp_path)),
                   database, [])
    shown = facilitation.status(app, OPERATOR, named, who=True, names_shown=1).plain
    assert "Not answered yet: 2 people — Person 1 and 1 more" in shown.splitlines()


def test_the_command_line_says_when_the_bot_cannot_post_to_the_digest_channel(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    stub.add_channel("CQUIET", [], name="quiet")
    stub.outside.add("CQUIET")
    started = cli(database_url, "round", "start", "sel-pharmacy-leadership", "--to", "UAMARA",
                  "--digest", "CQUIET", tmp_path=tmp_path, **slack_settings(stub))
    assert started.returncode == 0, started.stderr
    assert started.stdout.splitlines() == [
        "Round 1 started for 1 person.",
        "I am not in that channel yet, so no digest can be posted there: invite @Roundtable to "
        "it (type /invite @Roundtable there).",
        NO_SENDER.plain]


def test_the_command_line_says_nothing_sends_the_questions_until_a_service_runs(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    slack = slack_settings(stub)
    alone = cli(database_url, "round", "start", "sel-pharmacy-leadership", "--to", "UAMARA",
                tmp_path=tmp_path, **slack)
    assert alone.stdout.splitlines() == [
        "Round 1 started for 1 person.",
        "No Roundtable service is running here: the questions go out when `roundtable serve` "
        "starts."], alone.stderr
    # a serving process elsewhere holds its worker lease: it sends the next round's questions
    assert acquire(database.sessions, "web-1", datetime.now(UTC), timedelta(hours=1),
                   name=worker_lease("web-1"))
    served = cli(database_url, "round", "start", "sel-pharmacy-leadership", "--to", "UBEN",
                 tmp_path=tmp_path, **slack)
    assert served.stdout.splitlines() == ["Round 2 started for 1 person."], served.stderr


def test_a_round_started_without_a_digest_channel_is_given_one_and_then_posts(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    slack = slack_settings(stub)
    started = cli(database_url, "round", "start", "sel-pharmacy-leadership", "--to",
                  "UAMARA,UBEN", tmp_path=tmp_path, **slack)
    assert started.stdout.splitlines() == ["Round 1 started for 2 people.",
                                           NO_SENDER.plain], started.stderr
    status = cli(database_url, "round", "status", "1", tmp_path=tmp_path)
    assert "No digest channel: no digest is posted until one is set" in status.stdout
    assert status.stdout.count("No digest channel") == 1  # said once, with how to set one

    changed = cli(database_url, "round", "set", "1", "--digest", "#CDIGEST", "--digest-cron",
                  "*/3 * * * * *", "--closes", "14d", tmp_path=tmp_path)
    assert changed.returncode == 0, changed.stderr
    assert changed.stdout.startswith("Round 1: digests go to #CDIGEST, the next on ")
    assert "; closes " in changed.stdout
    # the schedule, as `roundtable scheduler` runs it, posts the digest to the new channel
    scheduler = subprocess.Popen([ROUNDTABLE, "scheduler"], cwd=tmp_path, text=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                 env=cli_env(DATABASE_URL=database_url, **slack))
    try:
        stub.wait_for(lambda: stub.posted("CDIGEST"), timeout=60,
                      what="the scheduled digest in the channel set after the start")
    finally:
        scheduler.terminate()
        scheduler.communicate(timeout=60)
    assert stub.posted("CDIGEST")[0].params["metadata"]["event_type"] == "roundtable_digest"


def test_a_closed_round_given_a_digest_channel_posts_its_final_digest_there(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    slack = slack_settings(stub)
    cli(database_url, "round", "start", "sel-pharmacy-leadership", "--to", "UAMARA",
        tmp_path=tmp_path, **slack)
    closed = cli(database_url, "round", "close", "1", tmp_path=tmp_path, **slack).stdout
    assert closed.splitlines()[0] == "Round 1 closed."
    assert "no digest channel" in closed  # and how to set one
    assert stub.posted() == []  # nowhere to post it
    refused = cli(database_url, "round", "set", "1", "--closes", "7d", tmp_path=tmp_path)
    assert refused.returncode == 1
    assert refused.stderr.strip() == ("roundtable: round 1 is closed: reopen it to give it a "
                                      "closing date (`reopen` takes one)")
    changed = cli(database_url, "round", "set", "1", "--digest", "CDIGEST", tmp_path=tmp_path,
                  **slack)
    assert changed.stdout.strip() == (
        "Round 1: digests go to #CDIGEST. Posted its final digest in #CDIGEST.")
    assert len(stub.posted("CDIGEST")) >= 1
    with database.sessions() as session:
        assert session.scalars(select(Digest.period)).all() == ["final"]


def test_set_refuses_what_it_cannot_do_and_changes_nothing(tmp_path: Path) -> None:
    # input checks, the same on any database: SQLite
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    assert run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U0001",
                   cwd=tmp_path).returncode == 0
    for args, problem in [
        (["--closes", "2020-01-01"], "the closing date 2020-01-01 is already past"),
        (["--digest-cron", "every friday"], "cannot read the schedule 'every friday'"),
        (["--digest-cron", "0 12 30 2 *"], "the schedule '0 12 30 2 *' never falls due"),
        (["--digest", "leaders"], "--digest: 'leaders' is not a Slack channel id (C…)"),
        ([], "nothing to change"),
    ]:
        result = run_cli("round", "set", "1", *args, cwd=tmp_path)
        assert result.returncode == 1
        assert problem in result.stderr, result.stderr
    listed = run_cli("round", "list", cwd=tmp_path).stdout.splitlines()[1].split()
    assert listed[-2:] == ["-", "-"]  # no digest channel, no closing date


def test_a_reopened_round_sends_what_its_closing_held_back_and_closes_again_with_a_new_final(
        database: Database, database_url: str, now: datetime, stub: SlackStub,
        tmp_path: Path) -> None:
    with transaction(database.sessions) as session:
        round_id = started_round(session, now, 2, digest_channel="CDIGEST",
                                 closes_at=now + timedelta(days=3)).id
    with transaction(database.sessions) as session:
        close_round(session, round_id, now + timedelta(hours=1))
        claim_digest(session, round_id, "final", now, channel_id="CDIGEST")
    # the questions due after the close are not sent: the round is closed
    sending.send_due(database.sessions, Transcript().gateways, lambda: now + timedelta(hours=2),
                     LONDON)
    with database.sessions() as session:
        assert set(session.scalars(select(Delivery.last_error))) == {"closed"}

    # a date over a year ahead (within the 999 days a close may be), said with its year
    later = datetime.combine(datetime.now(UTC).date() + timedelta(days=400), time(18),
                             ZoneInfo("Europe/London"))
    reopened = cli(database_url, "round", "reopen", str(round_id), "--closes",
                   later.date().isoformat(), tmp_path=tmp_path)
    assert reopened.returncode == 0, reopened.stderr
    assert reopened.stdout.strip() == (
        f"Round {round_id} is open again; it closes {later:%a} {later.day} {later:%b %Y %H:%M} "
        f"{later.tzname()}. Closing it again posts a new final digest.")
    again = cli(database_url, "round", "reopen", str(round_id), tmp_path=tmp_path)
    assert again.stderr.strip() == f"roundtable: round {round_id} is open already"
    with database.sessions() as session:
        assert set(session.scalars(select(Delivery.state))) == {"pending"}
        assert [p.startswith("final-") for p in session.scalars(select(Digest.period))] == [True]

    closed = cli(database_url, "round", "close", str(round_id), tmp_path=tmp_path,
                 **slack_settings(stub))
    assert "Posted its final digest in #CDIGEST." in closed.stdout, closed.stderr
    with database.sessions() as session:
        assert sorted(p[:6] for p in session.scalars(select(Digest.period))) == [
            "final", "final-"]


def row_counts(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        return {table.name: session.scalar(select(func.count()).select_from(table)) or 0
                for table in Base.metadata.sorted_tables}


def test_delete_asks_first_then_leaves_nothing_of_the_round_behind(
        database: Database, database_url: str, now: datetime, tmp_path: Path) -> None:
    with transaction(database.sessions) as session:
        kept = started_round(session, now, 1).id  # U0001 is in another round: kept
    chat = Transcript()
    sending.send_due(database.sessions, chat.gateways, lambda: now, LONDON)
    before = row_counts(database)
    with transaction(database.sessions) as session:
        doomed = started_round(session, now, 4, digest_channel="CDIGEST").id
        session.execute(update(Participant).where(Participant.platform_user_id == "U0004")
                        .values(opted_out=True))  # said stop: that wish outlives the round
    sending.send_due(database.sessions, chat.gateways, lambda: now, LONDON)
    with transaction(database.sessions) as session:
        for user in ("U0001", "U0002"):
            record_reply(session, doomed, "done-well", participant(session, user),
                         f"First thoughts of {user}", now, external_id=f"D{user}:1.0")
        edit_reply(session, "DU0001:1.0", "Second thoughts", now)
        reminders.plan_now(session, doomed, now, LONDON)
        claim_digest(session, doomed, "2026-11-27T12:00:00+00:00", now, channel_id="CDIGEST")
        session.execute(insert(apscheduler_jobs).values(
            id=f"digest-{doomed}", next_run_time=0.0, job_state=b"stored job"))
    during = row_counts(database)
    assert all(during[t] > before[t] for t in ("deliveries", "question_messages", "replies",
                                               "reply_versions", "reminders", "digests",
                                               "apscheduler_jobs"))

    declined = cli(database_url, "round", "delete", str(doomed), tmp_path=tmp_path, input="n\n")
    assert declined.returncode == 0
    assert [line.strip() for line in declined.stdout.splitlines()] == [
        f"Round {doomed} (SEL pharmacy system leadership: what works, who to involve, what "
        "support, open) has 4 people, 2 replies and 1 digest. Deleting it removes all of them "
        "from Roundtable for good (someone also in another round stays there; messages "
        "already in chat stay there, except my messages that hold someone's words: those in "
        "their conversation with me are deleted, and the drafts of its digests sent for "
        "review say they were removed).",
        "Nothing was deleted."]
    assert row_counts(database) == during

    deleted = cli(database_url, "round", "delete", str(doomed), tmp_path=tmp_path, input="y\n")
    assert deleted.returncode == 0, deleted.stderr
    assert deleted.stdout.splitlines()[-1].strip() == (
        f"Round {doomed} is deleted, with its 2 answers and 1 digest.")
    after = row_counts(database)
    # the deletion's own audit line stays: who deleted what, and when; and the Homes of the
    # three asked (not the one who said stop) wait for the serving process to publish them
    assert after == {**before, "participants": before["participants"] + 1,
                     "audit_log": before["audit_log"] + 1, "homes_owed": 3}
    with database.sessions() as session:
        assert session.scalars(select(Participant.platform_user_id).order_by(
            Participant.platform_user_id)).all() == ["U0001", "U0004"]
        assert session.scalars(select(Round.id)).all() == [kept]
    gone = cli(database_url, "round", "delete", str(doomed), "--yes", tmp_path=tmp_path)
    assert gone.returncode == 1 and gone.stderr.strip() == f"roundtable: there is no round {doomed}"


def test_deleting_a_round_keeps_of_someone_who_said_stop_only_their_id_and_the_stop(
        database: Database, now: datetime) -> None:
    """As retention does: someone the round leaves in no other round, who said stop, keeps
    their id and their stop, and nothing else; someone in another round keeps it all."""
    with transaction(database.sessions) as session:
        started_round(session, now, 1)  # U0001 is in another round
        doomed = started_round(session, now, 2).id
        for user in ("U0001", "U0002"):
            person = participant(session, user)
            person.timezone = "Europe/London"
            opt_out(session, person, now)
        record_reply(session, doomed, "done-well", participant(session, "U0002"),
                     "Before I said stop", now, external_id="DU0002:1.0")
    with transaction(database.sessions) as session:
        delete_round(session, doomed)
    with database.sessions() as session:
        held = {p.platform_user_id: (p.display_name, p.role, p.organisation, p.timezone,
                                     p.opted_out) for p in session.scalars(select(Participant))}
    assert held == {
        "U0001": ("Person 1", "community pharmacist", "Pharmacy 1", "Europe/London", True),
        "U0002": (None, None, None, None, True)}


def test_without_a_token_only_user_ids_are_taken_and_nothing_is_stored_otherwise(
        tmp_path: Path) -> None:
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    result = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "bob,alice",
                     cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "roundtable: 'bob', 'alice' are not user ids (like U0123ABCD): without SLACK_BOT_TOKEN "
        "nobody can be looked up, so give user ids, or set SLACK_BOT_TOKEN to name channels, "
        "groups and people")
    assert run_cli("round", "list", "--all", cwd=tmp_path).stdout.strip() == "No rounds."
    assert run_cli("round", "list", cwd=tmp_path).stdout.strip() == (
        "No open rounds (--all shows closed ones).")
    one = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U0AMARA", cwd=tmp_path)
    assert one.stdout.splitlines() == ["Round 1 started for 1 person.", NO_SENDER.plain]


def test_with_a_token_every_id_is_checked_in_slack_before_anything_is_stored(
        stub: SlackStub, tmp_path: Path) -> None:
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    result = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "UAMARA,bob",
                     cwd=tmp_path, env=slack_settings(stub))
    assert result.returncode == 1
    assert result.stderr.strip() == "roundtable: Slack would not look up user bob: user_not_found"
    assert [c.params["user"] for c in stub.calls_to("users.info", ok_only=False)] == [
        "UAMARA", "bob"]
    assert run_cli("round", "list", "--all", cwd=tmp_path).stdout.strip() == "No rounds."
