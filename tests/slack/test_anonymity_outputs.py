"""Acceptance 1 of issue 13: for a round in each mode, everything the project can output about
it (each digest and export format, JSON, CSV, HTML, status, App Home, the digest as posted in
Slack, the audit log, the log at DEBUG) holds no name, user id, conversation id or exact
timestamp of a participant that the mode forbids; in `anonymous`, no role or organisation;
in `by role`, two community pharmacists (and one chief pharmacist) show no role anywhere,
while three PCN pharmacists of one PCN show both. An answer that says "don't quote me" is
never quoted."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from docx import Document
from sqlalchemy import select
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.core.packs import find_pack
from storage.db import transaction
from storage.models import Participant, Reply
from tests.helpers import cli_env
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, PACK, Running
from tests.slack.test_round_loop import rank, sent_to_everyone

AUDIENCE = "CPHARMACY"


@dataclass(frozen=True)
class Member:
    user: str
    name: str
    role: str
    organisation: str


MEMBERS = [
    Member("UPCNONE", "Zanele Mbatha", "PCN pharmacist", "Lewisham PCN"),
    Member("UPCNTWO", "Oluwaseun Adeyemi", "PCN pharmacist", "Lewisham PCN"),
    Member("UPCNTHREE", "Priyanka Raghunathan", "PCN pharmacist", "Lewisham PCN"),
    Member("UCOMONE", "Krzysztof Wisniewski", "community pharmacist", "Boots Catford"),
    Member("UCOMTWO", "Siobhan Ni Bhriain", "community pharmacist", "Day Lewis Brockley"),
    Member("UCHIEF", "Thandiwe Mokoena", "chief pharmacist", "Guys and St Thomas"),
]
SAID = {
    "UPCNONE": "Protected time for leadership, agreed with the practices in advance.",
    "UPCNTWO": "Protected time, and an executive sponsor who answers emails.",
    "UPCNTHREE": "The vaccine programme: protected time, one rota for every sector.",
    "UCOMONE": "Locum cover paid for, so that contractors can come to meetings.",
    "UCOMTWO": "Frankly the ICS board ignored contractors for years. Don't quote me.",
    "UCHIEF": "Our regional network met monthly and shared every decision.",
}
NOT_QUOTED = SAID["UCOMTWO"]
NEVER_SHOWN_BY_ROLE = ("community pharmacist", "chief pharmacist", "Boots Catford",
                       "Day Lewis Brockley", "Guys and St Thomas")


def _with_roles(running: Running) -> None:
    running.stub.add_channel(AUDIENCE, [m.user for m in MEMBERS])
    for member in MEMBERS:
        running.stub.add_user(member.user, member.name)
    with transaction(running.database.sessions) as session:
        session.add_all([Participant(platform="slack", platform_user_id=m.user,
                                     role=m.role, organisation=m.organisation,
                                     created_at=running.bot.clock(), opted_out=False)
                         for m in MEMBERS])


def _run_round(running: Running, mode: str) -> tuple[int, list[str]]:
    """Start, answer (chat, thread and form), post the digest; the answers' message ids."""
    said = [c for c in running.stub.calls_to("response_url")]
    running.slack.command(FACILITATOR, f"start {PACK} to <#{AUDIENCE}|pharmacy> "
                                       f"digest <#{DIGEST_CHANNEL}|digest> {mode}")
    started = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                        if c not in said and "started" in c.params["text"]],
                               "the round to start")
    round_id = int(started[0].params["text"].split()[1])
    sent_to_everyone(running, [m.user for m in MEMBERS])
    stamps = [running.slack.dm(m.user, SAID[m.user])[0] for m in MEMBERS]
    running.wait_for(lambda: len(running.replies()) == len(MEMBERS), "every answer")
    rank(running, "UPCNONE", round_id, [0, 1, 2, 3, 4])
    running.wait_for(lambda: len(running.replies()) == len(MEMBERS) + 1, "the ranking")
    running.slack.command(FACILITATOR, f"digest {round_id}")
    running.wait_for(lambda: len(running.stub.posted(DIGEST_CHANNEL)) > 6, "the digest")
    running.slack.command(FACILITATOR, f"status {round_id}")
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if "delivered" in c.params.get("text", "")], "the status")
    for n, user in enumerate((FACILITATOR, "UPCNONE"), start=1):
        running.slack.event({"type": "app_home_opened", "user": user, "channel": "D" + user,
                             "tab": "home"})
        running.wait_for(lambda n=n: len([c for c in running.stub.calls_to("views.publish")
                                          if c.params["user_id"] in (FACILITATOR, "UPCNONE")
                                          ]) >= n, "the home tab")
    return round_id, stamps


def _from_the_command_line(running: Running, round_id: int, folder: Path) -> list[str]:
    env = cli_env(DATABASE_URL=running.bot.settings.database_url,
                  SLACK_API_URL=running.stub.base_url)
    runner = CliRunner()
    out: list[str] = []

    def run(*args: str) -> str:
        result = runner.invoke(cli, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    for fmt in ("text", "md", "json", "blocks"):
        out.append(run("digest", "--round", str(round_id), "--format", fmt))
    for fmt in ("md", "csv", "html", "docx"):
        path = folder / f"round.{fmt}"
        run("export", "--round", str(round_id), "--format", fmt, "--out", str(path))
        if fmt == "docx":
            document = Document(str(path))
            out.append("\n".join([p.text for p in document.paragraphs] + [
                cell.text for table in document.tables for row in table.rows
                for cell in row.cells]))
        else:
            out.append(path.read_text(encoding="utf-8-sig"))
    out += [run("round", "status", str(round_id)), run("audit")]
    return out


def _in_slack(running: Running) -> list[str]:
    """What the bot showed anyone but the participants themselves: posts outside their
    conversations, command answers, App Home views."""
    out: list[Any] = []
    for call in running.stub.calls:
        channel = str(call.params.get("channel", ""))
        if call.method in ("chat.postMessage", "chat.update") and not channel.startswith("D"):
            out.append(call.params)
        elif call.method == "response_url":
            out.append(call.params)
        elif call.method == "views.publish":  # what it shows (not whom it is published for)
            out.append(call.params["view"])
    return [json.dumps(item, ensure_ascii=False) for item in out]


def _without_the_pack(text: str) -> str:
    pack = find_pack(PACK)
    for words in [pack.title, pack.intro, *(p.question for p in pack.prompts),
                  *(p.context or "" for p in pack.prompts), *(p.section for p in pack.prompts),
                  *(o for p in pack.prompts for o in p.options)]:
        if words:
            text = text.replace(words, "").replace(json.dumps(words)[1:-1], "")
    return text


@pytest.mark.parametrize("mode", ["named", "by-role", "anonymous"])
def test_it_shows_only_what_the_round_s_mode_allows_everywhere(
        running: Running, mode: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    _with_roles(running)
    round_id, stamps = _run_round(running, mode)
    with running.database.sessions() as session:
        forms = [r.external_id or "" for r in session.scalars(select(Reply)) if r.choices]
    outputs = {
        "slack": "\n".join(_in_slack(running)),
        "command line": "\n".join(_from_the_command_line(running, round_id, tmp_path)),
        "log": caplog.text,
    }
    everything = "\n".join(outputs.values())
    assert "Protected time" in everything  # the outputs do hold the answers
    for where, text in outputs.items():
        for member in MEMBERS:
            assert member.user not in text, (where, member.user)  # nor "D" + it
        for stamp in [*stamps, *forms]:
            assert stamp not in text, (where, stamp)
        for words in (NOT_QUOTED, "Frankly the ICS board", "ignored contractors"):
            assert words not in text, (where, words)  # not quoted, not even in a title
        assert "1900000" not in text, where  # no message timestamp of anyone's
        names = [n for m in MEMBERS for n in (m.name, *m.name.split()) if len(n) > 3]
        found = [n for n in names if n in text]
        if mode == "named":
            continue
        assert found == [], (where, found)
        roles = _without_the_pack(text)
        if mode == "anonymous":
            for member in MEMBERS:
                assert member.role not in roles and member.organisation not in roles, (
                    where, member.role)
        else:
            for hidden in NEVER_SHOWN_BY_ROLE:
                assert hidden not in roles, (where, hidden)
    if mode == "named":
        assert "Zanele Mbatha (PCN pharmacist)" in outputs["command line"]
        assert "Krzysztof Wisniewski (community pharmacist)" in outputs["command line"]
    if mode == "by-role":
        assert "PCN pharmacist, Lewisham PCN" in outputs["command line"]  # three of them
        assert "PCN pharmacist, Lewisham PCN" in outputs["slack"]
        assert "Other roles (fewer than three of each answered)" in outputs["command line"]
    if mode == "anonymous":
        assert "PCN pharmacist" not in _without_the_pack(everything)


def test_the_first_message_tells_each_person_how_their_words_are_used(
        running: Running) -> None:
    _with_roles(running)
    running.slack.command(FACILITATOR, f"start {PACK} to <#{AUDIENCE}|pharmacy> "
                                       f"digest <#{DIGEST_CHANNEL}|digest>")
    sent_to_everyone(running, [m.user for m in MEMBERS])
    first = running.stub.posted("D" + MEMBERS[0].user)[0].params
    notice = next(b["text"]["text"] for b in first["blocks"]
                  if b["type"] == "section" and "How your answers are used" in b["text"]["text"])
    assert "This round is *by role*" in notice
    assert f"<#{DIGEST_CHANNEL}>" in notice  # where the digests go, as a channel link
    assert "for 365 days after the round closes" in notice
    assert "not sent to any AI service" in notice
    for command in ("/roundtable stop", "/roundtable my-data", "/roundtable forget-me"):
        assert command in notice
    assert "don't quote me" in notice
    # only the first message carries it
    running.slack.dm(MEMBERS[0].user, "An answer.")
    second = running.wait_for(lambda: [c for c in running.stub.posted("D" + MEMBERS[0].user)
                                       if "Question 2 of" in c.params["text"]], "question 2")
    assert "How your answers are used" not in json.dumps(second[0].params["blocks"])


def test_a_deployment_words_its_own_notice_and_names_its_ai_service(
        database: Any, database_url: str, stub: Any, tmp_path: Path) -> None:
    from tests.slack.conftest import run_bot

    notice = tmp_path / "notice.txt"
    notice.write_text("Our trust keeps answers for {retention_days} days; the IG team "
                      "(ig@example.nhs.uk) answers questions.\n")
    with run_bot(database, database_url, stub, ROUNDTABLE_DATA_DIR=str(tmp_path),
                 ROUNDTABLE_PRIVACY_NOTICE_FILE=str(notice), ROUNDTABLE_RETENTION_DAYS="90",
                 ROUNDTABLE_LLM_URL="https://ai.example.nhs.uk/v1") as running:
        running.slack.command(FACILITATOR, f"start {PACK} to <@UAMARA> anonymous")
        sent_to_everyone(running, ["UAMARA"])
        blocks = json.dumps(running.stub.posted("DUAMARA")[0].params["blocks"])
    assert "Our trust keeps answers for 90 days" in blocks
    assert "ig@example.nhs.uk" in blocks
    assert "This round is *anonymous*" in blocks
    assert "no digest channel" in blocks or "a channel" in blocks
    assert "AI service (ai.example.nhs.uk)" in blocks


