"""`roundtable digest review ROUND`: the draft of a digest waiting for review, edited and
approved from the command line; it posts once, with the edits, and a bad edit changes
nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.app import review
from bot.app.actors import OPERATOR, Actor
from bot.app.roundtable import assemble
from bot.config import load_settings
from bot.core.errors import RoundtableError
from bot.core.people import find_participant
from bot.core.replies import record_reply
from bot.scheduling import jobs
from bot.slack.app import SlackPlatform
from bot.slack.gateway import SlackGateway, make_client
from storage.database import Database
from storage.db import transaction
from storage.models import AuditEntry, Digest, DigestEdit, Reply
from tests.helpers import PLATFORM, run_cli
from tests.review_round import PROMPT, current, question, review_round, text_of, unquoted_in
from tests.slack_api_stub import SlackStub
from tests.slack_reading import as_read

MEMBERS = ["UAMARA", "UBEN", "UCHIDI", "UDEV", "UELIF"]
FACILITATOR = "UFAC"


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    stub = SlackStub().start()
    stub.add_user(FACILITATOR, "Fola")
    stub.add_channel("CDIGEST", [FACILITATOR])
    yield stub
    stub.stop()


def test_a_digest_is_reviewed_and_approved_at_the_command_line(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now - timedelta(days=1), MEMBERS, starter=FACILITATOR,
                            digest_cron="0 * * * *")  # hourly
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: now, "UTC"))
    jobs.post_round_digest(round_id)
    assert stub.posted("DUFAC") and not stub.posted("CDIGEST")
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": stub.base_url}

    shown = run_cli("digest", "review", str(round_id), env=env)
    assert shown.returncode == 0, shown.stderr
    waits = next(line for line in shown.stdout.splitlines() if "waits for approval" in line)
    moment = r"[A-Z][a-z]{2} [1-9]\d? [A-Z][a-z]{2} \d\d:\d\d [A-Z]{3,4}"  # Fri 11 Dec 12:00 GMT
    assert re.fullmatch(f"Digest of {moment} waits for approval. Nothing is posted until a "
                        f"facilitator approves it. If nobody has approved it by {moment}, it "
                        "keeps waiting for approval.", waits), waits
    before = question(current(database, round_id, now))
    for number, theme in enumerate(before.themes, start=1):
        assert f"{PROMPT}/{number}  {theme.title}" in shown.stdout
    hidden, moved = before.themes[0].quotes[0].reply_id, unquoted_in(before, 2)
    assert hidden in shown.stdout and moved in shown.stdout
    view = current(database, round_id, now)
    hidden_text, moved_text = text_of(view, hidden), text_of(view, moved)

    refused = run_cli("digest", "review", str(round_id), "--rename", f"{PROMPT}/1", "Fine",
                      "--merge", f"{PROMPT}/9", f"{PROMPT}/1", env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (f"roundtable: question {PROMPT} has 4 themes: give a "
                                      "number from 1 to 4")
    bad_ref = run_cli("digest", "review", str(round_id), "--rename", "1", "x", env=env)
    assert "is not a theme" in bad_ref.stderr and bad_ref.returncode == 1
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DigestEdit)) == 0

    edited = run_cli("digest", "review", str(round_id),
                     "--rename", f"{PROMPT}/1", "Time away from the dispensary",
                     "--merge", f"{PROMPT}/4", f"{PROMPT}/3", "--move", moved, "other",
                     "--hide", hidden, "--lead", PROMPT, "Time, a mentor and peers", env=env)
    assert edited.returncode == 0, edited.stderr
    assert f"Theme {PROMPT}/1 is now “Time away from the dispensary”." in edited.stdout
    assert f"{PROMPT}/1  Time away from the dispensary" in edited.stdout
    assert "Lead: Time, a mentor and peers" in edited.stdout
    assert (f"  Hidden in review (each may be quoted again):\n      {hidden}  “{hidden_text}”\n"
            in edited.stdout)  # its words for the facilitator, who may quote it again

    # The command prints what these return, as its runs above and below show; asked of the
    # application directly, they need no process each.
    app = assemble(load_settings(DATABASE_URL=database_url, ROUNDTABLE_DATA_DIR=str(tmp_path)),
                   database, [])
    grouped = [r for r in before.themes[1].reply_ids if r != moved][:2]
    made = review.edit(app, OPERATOR, round_id, [
        review.Change("group", reply_ids=tuple(grouped), text="Mentors named by people")])
    assert (f"Answers {grouped[0]} and {grouped[1]} of {PROMPT} are now a new theme, "
            "“Mentors named by people”.") in made.plain
    with pytest.raises(RoundtableError, match=f"answer {hidden} is hidden already"):
        review.edit(app, OPERATOR, round_id, [review.Change("hide", reply_id=hidden)])
    with database.sessions() as session:  # nothing changes: neither the digest nor the log
        assert session.scalar(select(func.count()).select_from(DigestEdit).where(
            DigestEdit.action == "hide")) == 1
    with pytest.raises(RoundtableError, match=f"answer {grouped[0]} is not hidden"):
        review.edit(app, OPERATOR, round_id, [review.Change("show", reply_id=grouped[0])])
    with pytest.raises(RoundtableError, match="no written answer 'ans-nobody'"):
        review.edit(app, OPERATOR, round_id, [
            review.Change("group", reply_ids=("ans-nobody",), text="X")])

    approved = run_cli("digest", "review", str(round_id), "--approve", env=env)
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.strip() == (f"Approved: the digest of round {round_id} is posted "
                                       "in #CDIGEST.")
    again = run_cli("digest", "review", str(round_id), "--approve", env=env)
    assert again.stdout.strip() == (f"The digest of round {round_id} was already approved at "
                                    "the command line and posted; nothing more was posted.")
    late_rename = run_cli("digest", "review", str(round_id), "--rename", f"{PROMPT}/1",
                          "Too late", "--approve", env=env)
    assert late_rename.returncode == 1
    assert late_rename.stdout == ""
    assert late_rename.stderr.splitlines() == [
        f"roundtable: that draft of round {round_id} was already approved and posted, so "
        "nothing was changed",
        "The edits given were not kept; to keep them for the round's next digests, run the "
        "command again without --approve."]
    with database.sessions() as session:
        assert "Too late" not in {e.text for e in session.scalars(select(DigestEdit))}
    quoted_again = run_cli("digest", "review", str(round_id), "--show", hidden, env=env)
    assert quoted_again.returncode == 0, quoted_again.stderr
    assert "Mentors named by people (2 answers, all quoted)" in quoted_again.stdout
    audit_log = run_cli("audit", "--round", str(round_id), env=env).stdout
    assert f"cli  digest.unhide  round {round_id}  quote {hidden} of {PROMPT} shown again" \
        in audit_log
    assert "digest.show  " not in audit_log  # that action is a digest viewed
    tops = [c for c in stub.posted("CDIGEST") if not c.params.get("thread_ts")]
    assert len(tops) == 1
    posted = as_read([c.params for c in stub.posted("CDIGEST")])
    assert "*Time away from the dispensary*  ·" in posted
    assert "_Time, a mentor and peers_" in posted
    assert "*Mentors named by people*  ·" in posted, posted
    assert f"*{before.themes[3].title}*  ·" not in posted
    assert moved_text in posted and hidden_text not in posted
    with database.sessions() as session:
        assert session.scalar(select(Digest.approved_by)) == "cli"
        logged = {(e.actor, e.action) for e in session.scalars(select(AuditEntry))}
    assert {("cli", "digest.rename"), ("cli", "digest.merge"), ("cli", "digest.move"),
            ("cli", "digest.group"), ("cli", "digest.hide"), ("cli", "digest.lead"),
            ("cli", "digest.approve")} <= logged


def test_the_confirmations_name_a_renamed_theme_by_its_new_title_and_end_once(
        database: Database, database_url: str) -> None:
    """A merge into a theme renamed in the same command names it by its new title, and a lead
    or a new theme's title that ends its own sentence ends the confirmation, its full stop
    never inside quotation marks mid-sentence nor given a second one."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now, MEMBERS, starter=FACILITATOR)
    before = question(current(database, round_id, now))
    moved, *grouped = before.themes[2].reply_ids[:3]
    edited = run_cli("digest", "review", str(round_id),
                     "--new-theme", ",".join(grouped), "Time to think.",
                     "--rename", f"{PROMPT}/1", "Protected time",
                     "--merge", f"{PROMPT}/2", f"{PROMPT}/1", "--move", moved, f"{PROMPT}/1",
                     "--lead", PROMPT, "Most of you asked for time first.",
                     env={"DATABASE_URL": database_url})
    assert edited.returncode == 0, edited.stderr
    said = edited.stdout.splitlines()
    assert said[:5] == [
        f"Theme {PROMPT}/1 is now “Protected time”.",
        f"Theme {PROMPT}/2 is merged into theme {PROMPT}/1, “Protected time”.",
        f"Answer {moved} is now in theme {PROMPT}/1, “Protected time”.",
        f"Answers {grouped[0]} and {grouped[1]} of {PROMPT} are now a new theme, "
        "“Time to think.”",
        f"The lead of {PROMPT} is “Most of you asked for time first.”"]
    assert before.themes[0].title not in "\n".join(said[:5])


def test_the_audit_names_each_review_change_as_the_facilitator_types_it(
        database: Database, database_url: str) -> None:
    """`roundtable audit` names a theme as review shows it and edits take it (best-support/1),
    for every kind of change."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now, MEMBERS, starter=FACILITATOR)
    before = question(current(database, round_id, now))
    hidden, moved = before.themes[0].quotes[0].reply_id, unquoted_in(before, 2)
    size = len(before.themes[0].reply_ids)
    env = {"DATABASE_URL": database_url}
    edited = run_cli("digest", "review", str(round_id),
                     "--rename", f"{PROMPT}/1", "Protected time",
                     "--merge", f"{PROMPT}/4", f"{PROMPT}/3", "--move", moved, f"{PROMPT}/1",
                     "--hide", hidden, "--lead", PROMPT, "Time first", env=env)
    assert edited.returncode == 0, edited.stderr

    logged = run_cli("audit", "--round", str(round_id), env=env)
    assert logged.returncode == 0, logged.stderr
    details = [line.split("  ", 4)[-1] for line in logged.stdout.splitlines()
               if "  digest." in line]
    assert details == [
        f"theme {PROMPT}/1 ({size} answers) renamed “Protected time”",
        f"theme {PROMPT}/4 merged into theme {PROMPT}/3",
        f"answer {moved} of {PROMPT} moved to theme {PROMPT}/1",
        f"quote {hidden} of {PROMPT} hidden",
        f"lead of {PROMPT} written"]


def test_a_draft_approved_in_slack_and_refused_says_at_the_command_line_where_it_was_approved(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    """The operator is on no platform: a draft a facilitator approved in Slack, then refused
    by Slack for good, names the platform it was approved in, never the facilitator's id."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now - timedelta(days=1), MEMBERS, starter=FACILITATOR,
                            digest_cron="0 * * * *")
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: now, "UTC"))
    jobs.post_round_digest(round_id)
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": stub.base_url,
           "ROUNDTABLE_FACILITATORS": FACILITATOR, "ROUNDTABLE_DATA_DIR": str(tmp_path)}
    settings = load_settings(**env)
    app = assemble(settings, database, [SlackPlatform(settings, database)])
    stub.refuse("chat.postMessage", lambda p: p.get("channel") == "CDIGEST", times=20,
                status=200, error="not_in_channel")
    with pytest.raises(RoundtableError, match="could not be posted: not_in_channel"):
        review.approve(app, Actor(PLATFORM, FACILITATOR), round_id, None)

    shown = run_cli("digest", "review", str(round_id), env=env)
    assert shown.returncode == 0, shown.stderr
    assert ("was approved by a facilitator in Slack but not posted: the digest channel refused "
            "it: not_in_channel.") in shown.stdout, shown.stdout
    assert FACILITATOR not in shown.stdout


def test_edits_refused_with_approve_when_no_draft_waits_are_said_to_be_lost_and_how_to_keep(
        database: Database, database_url: str) -> None:
    """--approve with edits and no draft waiting changes nothing; after the refusal the
    facilitator is told the edits were not kept, and that without --approve they are kept
    for the round's next digests, which is what that does."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now, MEMBERS, starter=FACILITATOR)
    env = {"DATABASE_URL": database_url}
    refused = run_cli("digest", "review", str(round_id), "--rename", f"{PROMPT}/1",
                      "Protected time", "--approve", env=env)
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.splitlines() == [
        f"roundtable: round {round_id} has no digest waiting for review, so nothing was changed",
        "The edits given were not kept; to keep them for the round's next digests, run the "
        "command again without --approve."]
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DigestEdit)) == 0
    kept = run_cli("digest", "review", str(round_id), "--rename", f"{PROMPT}/1",
                   "Protected time", env=env)
    assert kept.returncode == 0, kept.stderr
    assert f"{PROMPT}/1  Protected time" in kept.stdout
    assert "Edits made here apply to the round's next digests." in kept.stdout


def test_the_draft_shows_the_facilitator_the_export_the_group_is_pointed_to(
        database: Database, database_url: str) -> None:
    """The group's digest names the full synthesis, not the command that makes it: the
    facilitator reviewing the digest is shown that command."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now, MEMBERS, starter=FACILITATOR)
    shown = run_cli("digest", "review", str(round_id), env={"DATABASE_URL": database_url})
    assert shown.returncode == 0, shown.stderr
    assert (f"roundtable export --round {round_id} --format docx (or md, html, csv)"
            in shown.stdout)


def test_a_reply_set_aside_of_a_question_with_no_themes_is_listed_and_can_be_brought_back(
        database: Database, database_url: str) -> None:
    """A question too small for themes still lists the replies set aside as not answers, so
    that a facilitator can take one for an answer."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now, MEMBERS, starter=FACILITATOR)
    with transaction(database.sessions) as session:
        person = find_participant(session, MEMBERS[0], PLATFORM)
        assert person is not None
        record_reply(session, round_id, "done-well", person, "Weekly huddles", now,
                     external_id="lone")
        record_reply(session, round_id, "done-well", person, "👍", now,
                     external_id="aside")
    env = {"DATABASE_URL": database_url}
    shown = run_cli("digest", "review", str(round_id), env=env).stdout
    part = shown[shown.index("[done-well]"):shown.index("[bought-in]")].splitlines()
    assert part[1] == "  Answers (the question has no themes yet: the digest lists them all):"
    assert part[3] == ("  Set aside as not answers (one you move to other answers counts as an "
                       "answer):")
    aside = part[4].split()[0]
    assert part[4] == f"      {aside}  “👍”"

    moved = run_cli("digest", "review", str(round_id), "--move", aside, "other", env=env)
    assert moved.returncode == 0, moved.stderr
    assert f"Answer {aside} is now in Other answers, taken for an answer." in moved.stdout
    part = moved.stdout[moved.stdout.index("[done-well]"):moved.stdout.index("[bought-in]")]
    assert f"      {aside}  “👍”" in part and "Set aside" not in part


def test_the_draft_counts_each_themes_answers_not_quoted_and_attributes_each_quote(
        database: Database, database_url: str) -> None:
    """Approving, a facilitator sees how many of a theme's answers the digest does not quote
    (and reads them), and each quote with the attribution the group will read beside it."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now, MEMBERS, starter=FACILITATOR,
                            role="community pharmacist")
    prompt = question(current(database, round_id, now))
    shown = run_cli("digest", "review", str(round_id), env={"DATABASE_URL": database_url})
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert ("Quotes are posted with the writer's role (and organisation) where at least 3 "
            "who answered share it, and unattributed otherwise.") in lines
    for number, theme in enumerate(prompt.themes, start=1):
        left = len(theme.reply_ids) - len(theme.quotes)
        assert (f"  {PROMPT}/{number}  {theme.title} ({len(theme.reply_ids)} answers, "
                + (f"{left} not quoted)" if left else "all quoted)")) in lines
        for quote in theme.quotes:
            assert any(line.startswith(f"      {quote.reply_id}  “")
                       and line.endswith("” — community pharmacist") for line in lines)
    unquoted = unquoted_in(prompt, 1)
    assert any(line.startswith(f"      {unquoted}  [{PROMPT}/1]  ") for line in lines)


def test_the_draft_says_which_questions_have_no_answers_yet(tmp_path: Path) -> None:
    """A question nobody has answered is said to have no answers (no votes, for a vote), not
    left as a bare heading the facilitator must guess about."""
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    started = run_cli("round", "start", "sel-pharmacy-leadership", "--to", "U0AAA",
                      cwd=tmp_path)
    assert started.returncode == 0, started.stderr
    shown = run_cli("digest", "review", "1", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    parts = shown.stdout.split("\n\n")[1:]
    assert len(parts) == 6, shown.stdout
    said = [[line.strip() for line in part.strip().splitlines()[1:]] for part in parts]
    assert said == [["No answers yet."]] * 5 + [["No votes yet."]], shown.stdout


def test_a_digest_slack_refused_at_its_review_deadline_is_shown_as_not_approved(
        database: Database, database_url: str, stub: SlackStub) -> None:
    """Nobody approved it; posted as built at its deadline, it was refused for good: the
    draft says it was not posted at its deadline (not that someone approved it), why, and
    that --approve posts it once that is fixed."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now - timedelta(days=1), MEMBERS, starter=FACILITATOR,
                            digest_cron="0 * * * *", unreviewed="post", hours=1)
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: now, "UTC"))
    jobs.post_round_digest(round_id)
    stub.refuse("chat.postMessage", lambda p: p.get("channel") == "CDIGEST", times=20,
                status=200, error="not_in_channel")
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: now + timedelta(hours=2),
                                 "UTC"))
    jobs.settle_reviews()
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": stub.base_url}
    shown = run_cli("digest", "review", str(round_id), env=env)
    assert shown.returncode == 0, shown.stderr
    assert "approved" not in shown.stdout.splitlines()[1], shown.stdout
    assert ("was not posted at its review deadline: the digest channel refused it: "
            "not_in_channel. Invite @Roundtable to the channel (type /invite @Roundtable there). "
            f"Then roundtable digest review {round_id} --approve posts it."
            ) in shown.stdout, shown.stdout


def test_a_refused_drafts_reason_is_still_said_after_an_edit_at_the_command_line(
        database: Database, database_url: str, stub: SlackStub) -> None:
    """Refused for good at its review deadline (the bot not in the digest channel), then
    edited at the command line: the facilitator's draft in Slack and `digest review` still
    say why and what to fix, not only that it was refused."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now - timedelta(days=1), MEMBERS, starter=FACILITATOR,
                            digest_cron="0 * * * *", unreviewed="post", hours=1)
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: now, "UTC"))
    jobs.post_round_digest(round_id)
    [draft] = stub.posted("DUFAC")
    stub.refuse("chat.postMessage", lambda p: p.get("channel") == "CDIGEST", times=20,
                status=200, error="not_in_channel")
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: now + timedelta(hours=2),
                                 "UTC"))
    jobs.settle_reviews()
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": stub.base_url}
    updates = len(stub.calls_to("chat.update"))

    edited = run_cli("digest", "review", str(round_id), "--lead", PROMPT, "Time first",
                     env=env)
    assert edited.returncode == 0, edited.stderr
    why = ("the digest channel refused it: not_in_channel. Invite @Roundtable to the channel "
           "(type /invite @Roundtable there). Then ")
    assert (f"was not posted at its review deadline: {why}roundtable digest review {round_id} "
            "--approve posts it.") in edited.stdout, edited.stdout
    stub.wait_for(lambda: stub.calls_to("chat.update")[updates:],
                  what="the draft brought up to date")
    shown = stub.message("DUFAC", draft.answer["ts"])
    assert shown is not None and "Time first" in as_read(shown["blocks"], stub)
    assert f"Not posted at its review deadline: {why}approve it to post it." in as_read(
        shown["blocks"], stub).splitlines(), as_read(shown["blocks"], stub)


def test_a_digest_slack_refused_for_good_is_posted_by_approving_it_again_once_fixed(
        database: Database, database_url: str, stub: SlackStub) -> None:
    """The bot is not in the digest channel: --approve says so, and that running it again once
    that is fixed posts it; run again after the bot is invited, it posts the digest once."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now - timedelta(days=1), MEMBERS, starter=FACILITATOR,
                            digest_cron="0 * * * *")
    gateway = SlackGateway(make_client("xoxb-test", stub.base_url))
    jobs.install(jobs.JobContext(database, {"slack": gateway}, lambda: now, "UTC"))
    jobs.post_round_digest(round_id)
    env = {"DATABASE_URL": database_url, "SLACK_BOT_TOKEN": "xoxb-test",
           "SLACK_SIGNING_SECRET": "s", "SLACK_API_URL": stub.base_url}
    stub.refuse("chat.postMessage", lambda p: p.get("channel") == "CDIGEST", times=20,
                status=200, error="not_in_channel")

    refused = run_cli("digest", "review", str(round_id), "--approve", env=env)
    assert refused.returncode == 1
    assert refused.stderr.strip() == (
        f"roundtable: the digest of round {round_id} could not be posted: not_in_channel. "
        "Invite @Roundtable to the channel (type /invite @Roundtable there). Then run "
        f"`roundtable digest review {round_id} --approve` again to post it."), refused.stderr
    assert not [c for c in stub.posted("CDIGEST") if not c.params.get("thread_ts")]
    shown = run_cli("digest", "review", str(round_id), env=env)  # the draft, still to post
    assert shown.returncode == 0, shown.stderr
    assert "No digest is waiting" not in shown.stdout
    assert ("was approved at the command line but not posted: the digest channel refused it: "
            "not_in_channel. Invite @Roundtable to the channel (type /invite @Roundtable there). "
            f"Then roundtable digest review {round_id} --approve posts it."
            ) in shown.stdout, shown.stdout

    stub.refuse_no_more()  # the bot was invited
    posted = run_cli("digest", "review", str(round_id), "--approve", env=env)
    assert posted.returncode == 0, posted.stderr
    assert posted.stdout.startswith(f"Approved: the digest of round {round_id} is posted in ")
    again = run_cli("digest", "review", str(round_id), "--approve", env=env)
    assert "and posted; nothing more was posted" in again.stdout, again.stdout
    assert len([c for c in stub.posted("CDIGEST") if not c.params.get("thread_ts")]) == 1
    with database.sessions() as session:
        assert session.scalars(select(Digest.state)).all() == ["posted"]


def test_an_answer_is_not_moved_into_the_theme_of_another_question(
        database: Database, database_url: str) -> None:
    """A theme named with another question's id is refused, naming the answer's question:
    the number alone would pick a theme of the answer's own question the facilitator never
    meant, and nothing is changed."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now, MEMBERS, starter=FACILITATOR)
    before = question(current(database, round_id, now))
    moved = unquoted_in(before, 2)
    refused = run_cli("digest", "review", str(round_id), "--move", moved, "done-well/1",
                      env={"DATABASE_URL": database_url})
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.strip() == (
        f"roundtable: answer {moved} is an answer to {PROMPT}, not to done-well: name a theme "
        f"of {PROMPT} ({PROMPT}/1) or other")
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DigestEdit)) == 0
    assert moved in question(current(database, round_id, now)).themes[1].reply_ids


def test_a_reply_set_aside_is_hidden_only_by_a_command_that_also_moves_it(
        database: Database, database_url: str) -> None:
    """A reply set aside as not an answer is never quoted: hiding it alone would change
    nothing, though the log would say a quote was hidden. Moved by the same command, it is
    an answer, and the hide holds after the move."""
    now = datetime.now(UTC).replace(microsecond=0)
    round_id = review_round(database, now, MEMBERS, starter=FACILITATOR)
    with transaction(database.sessions) as session:
        person = find_participant(session, MEMBERS[0], PLATFORM)
        assert person is not None
        record_reply(session, round_id, PROMPT, person, "👍", now, external_id="aside")
        # words on a vote's question that name no option, as a chat message leaves them
        session.add(Reply(round_id=round_id, prompt_id="support-factors",
                          participant_id=person.id, text="+1", source="chat", created_at=now))
    view = current(database, round_id, now)
    aside = next(a.reply_id for a in question(view).answers if a.noise)
    on_vote = next(a.reply_id for a in view.prompt("support-factors").answers  # type: ignore[union-attr]
                   if a.noise)
    env = {"DATABASE_URL": database_url}
    refused = run_cli("digest", "review", str(round_id), "--hide", aside, env=env)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.strip() == (
        f"roundtable: answer {aside} is set aside as not an answer: it is never quoted; move "
        "it to a theme or other to count it")
    comment = run_cli("digest", "review", str(round_id), "--hide", on_vote, env=env)
    assert comment.stderr.strip() == (
        f"roundtable: answer {on_vote} is set aside as not an answer: it is never quoted")
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(DigestEdit)) == 0

    both = run_cli("digest", "review", str(round_id), "--hide", aside, "--move", aside,
                   f"{PROMPT}/1", env=env)
    assert both.returncode == 0, both.stderr
    hidden = both.stdout[both.stdout.index("Hidden in review"):]
    assert f"      {aside}  “👍”" in hidden, both.stdout
    assert "Set aside" not in both.stdout[both.stdout.index(f"[{PROMPT}]"):]
