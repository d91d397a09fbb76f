"""Facilitator commands: refused politely for anyone else, and nothing changes."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.app.facilitation import DELETE_CANCELLED
from storage.models import AuditEntry, Digest, Facilitator, Round
from tests.slack.conftest import ADMIN, CHANNEL, FACILITATOR, MEMBERS, PACK, Running
from tests.slack.test_round_loop import sent_to_everyone, start_round

OUTSIDER = MEMBERS[0]


@pytest.mark.parametrize("command", [
    f"start {PACK} to <#{CHANNEL}|leaders>", "close", "remind", "digest", "status",
    "add-facilitator <@UBEN|ben>",
])
def test_it_refuses_facilitator_commands_from_others(running: Running, command: str) -> None:
    if not command.startswith("start"):
        start_round(running)
        sent_to_everyone(running)
    rounds_before = [(r.id, r.status) for r in running.scalars(select(Round))]
    calls_before = len(running.stub.calls)
    response = running.slack.command(OUTSIDER, command)
    assert response.status == 200
    answer = response.json()
    assert "only facilitators" in answer["text"]
    assert answer["response_type"] == "ephemeral"
    assert [(r.id, r.status) for r in running.scalars(select(Round))] == rounds_before
    assert running.scalars(select(Digest)) == [] and running.scalars(select(Facilitator)) == []
    assert len(running.stub.calls) == calls_before  # nothing sent, nobody looked up


def test_it_lets_an_admin_add_a_facilitator_and_no_facilitator_add_another(
        running: Running) -> None:
    running.slack.command(FACILITATOR, "add-facilitator <@UBEN|ben>")
    refused = running.wait_for(lambda: running.stub.calls_to("response_url"), "the refusal")
    assert "Only Roundtable's admins can make someone a facilitator." in refused[0].params["text"]
    assert running.scalars(select(Facilitator)) == []
    running.slack.command(ADMIN, "add-facilitator <@UBEN|ben>")
    running.wait_for(lambda: running.scalars(select(Facilitator)), "the new facilitator")
    running.slack.command("UBEN", f"start {PACK} to <@UCHIDI>")
    sent_to_everyone(running, ["UCHIDI"])


def test_it_reports_status_and_closes_with_a_final_digest(running: Running) -> None:
    round_id = start_round(running)
    sent_to_everyone(running)
    running.slack.command(FACILITATOR, "status")
    status = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                       if "delivered" in c.params.get("text", "")], "status")
    assert f"Round {round_id}" in status[0].params["text"]
    assert "5 delivered, 0 pending, 0 failed" in status[0].params["text"]
    running.slack.command(FACILITATOR, "remind")
    running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                              if "Reminded 5" in c.params.get("text", "")], "the reminders")
    running.slack.command(FACILITATOR, f"close {round_id}")
    running.wait_for(lambda: running.scalar(select(Digest).where(Digest.period == "final",
                                                                 Digest.state == "posted")),
                     "the final digest")
    assert running.scalar(select(Round.status)) == "closed"
    running.slack.dm(MEMBERS[1], "Too late?")
    running.wait_for(lambda: [c for c in running.stub.posted("D" + MEMBERS[1])
                              if "no open question" in c.params["text"]], "the refusal")
    assert running.replies() == []


def test_it_takes_only_pack_ids_from_slack_never_file_paths(running: Running) -> None:
    running.slack.command(FACILITATOR, "start /etc/passwd.yaml to <@UBEN>")
    said = running.wait_for(lambda: running.stub.calls_to("response_url"), "the refusal")
    assert "is not a pack id" in said[0].params["text"]
    assert running.scalars(select(Round)) == [] and not running.stub.calls_to("users.info")


def test_it_refuses_a_deletions_cancel_from_someone_who_may_not_act_on_the_round(
        running: Running) -> None:
    """Cancel on `delete`'s question is recorded, so that question's Delete deletes nothing
    after it: pressed (with the question's own value) by anyone else, it is refused, nothing
    is recorded, and the facilitator's Delete still deletes."""
    round_id = start_round(running)
    sent_to_everyone(running)
    running.slack.command(FACILITATOR, f"delete {round_id}")
    question = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                         if "round_delete" in str(c.params.get("blocks"))],
                                "the deletion's question")
    buttons = {e["action_id"]: e["value"] for b in question[0].params["blocks"]
               if b["type"] == "actions" for e in b["elements"]}
    clicked = running.slack.click(OUTSIDER, "round_delete_cancel",
                                  buttons["round_delete_cancel"])
    assert clicked.status == 200
    refused = running.answer_to(clicked, "the refusal")
    assert refused.params["text"].startswith("Only facilitators can")
    assert not refused.params.get("replace_original")
    assert running.scalars(select(AuditEntry).where(
        AuditEntry.action == DELETE_CANCELLED)) == []
    running.slack.click(FACILITATOR, "round_delete", buttons["round_delete"])
    running.wait_for(lambda: running.scalars(select(Round)) == [], "the round deleted")
