"""Acceptance 5 of issue 13: a facilitator acts on their own rounds only (an admin on all);
co-facilitators are added and removed by the round's owner; a digest posts only to its
round's channel, and a round without one asks the facilitator to set it; each refusal is a
clear message, and nothing changes."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.core.audit import entries
from storage.models import (
    Delivery,
    Digest,
    Facilitator,
    Reminder,
    Round,
    RoundFacilitator,
)
from tests.slack.conftest import (
    ADMIN,
    CHANNEL,
    DIGEST_CHANNEL,
    FACILITATOR,
    PACK,
    Running,
)
from tests.slack.test_round_loop import start_round
from tests.slack_reading import as_read

OTHER = "UBEN"


def _said(running: Running, user: str, text: str) -> str:
    """Type a command; what the bot answered (only to them)."""
    response = running.slack.command(user, text)
    if response.body.startswith(b"{") and "Working" not in response.json().get("text", ""):
        return str(response.json()["text"])  # answered at once (a refusal)
    return str(running.answer_to(response, f"the answer to {text!r}").params["text"])


def _other_facilitator(running: Running) -> int:
    """The admin makes OTHER a facilitator, who starts a round of their own."""
    assert "they can now start rounds" in _said(running, ADMIN, f"add-facilitator <@{OTHER}>")
    assert "started" in _said(running, OTHER, f"start {PACK} to <@UCHIDI>")
    return int(running.scalar(select(Round.id).where(Round.started_by == OTHER)))


def test_a_facilitator_cannot_act_on_another_facilitators_round(running: Running) -> None:
    mine = start_round(running)
    theirs = _other_facilitator(running)
    running.wait_for(lambda: set(running.scalars(select(Delivery.state))) == {"sent"},
                     "every first message")
    posts = len(running.stub.calls_to("chat.postMessage"))
    for command in (f"status {mine}", f"remind {mine}", f"digest {mine}", f"close {mine}",
                    f"set {mine} digest <#{CHANNEL}|leaders>",
                    f"add-facilitator <@UDEV> round {mine}"):
        said = _said(running, OTHER, command)
        assert f"Round {mine} is not one of yours" in said, (command, said)
        assert "the facilitator who started it" in said and "admins" in said
    assert running.scalar(select(Round.status).where(Round.id == mine)) == "open"
    assert running.scalar(select(Round.digest_channel).where(Round.id == mine)) == DIGEST_CHANNEL
    assert running.scalars(select(Digest)) == [] and running.scalars(select(Reminder)) == []
    assert running.scalars(select(RoundFacilitator)) == []
    assert len(running.stub.calls_to("chat.postMessage")) == posts  # nothing was sent
    # their own status lists their own round only; the admin's lists both
    assert f"Round {theirs} " in (status := _said(running, OTHER, "status"))
    assert f"Round {mine} " not in status
    both = _said(running, ADMIN, "status")
    assert f"Round {mine} " in both and f"Round {theirs} " in both
    # their Home tab lists their round only
    running.slack.event({"type": "app_home_opened", "user": OTHER, "channel": "D" + OTHER,
                         "tab": "home"})
    home = running.wait_for(lambda: [c for c in running.stub.calls_to("views.publish")
                                     if c.params["user_id"] == OTHER], "their home")
    shown = as_read(home[-1].params["view"]["blocks"])
    assert f"*Round {theirs}*" in shown and f"*Round {mine}*" not in shown


def test_the_owner_shares_a_round_and_takes_it_back(running: Running) -> None:
    mine = start_round(running)
    _other_facilitator(running)
    refused = _said(running, OTHER, f"remove-facilitator <@{FACILITATOR}> round {mine}")
    assert f"Round {mine} is not one of yours" in refused
    assert f"they can now act on round {mine}" in _said(
        running, FACILITATOR, f"add-facilitator <@{OTHER}> round {mine}")
    assert f"Round {mine} " in _said(running, OTHER, f"status {mine}")
    # a co-facilitator does not change who else facilitates
    assert f"Only the facilitator who started round {mine}" in _said(
        running, OTHER, f"add-facilitator <@UDEV> round {mine}")
    assert f"they can no longer act on round {mine}" in _said(
        running, FACILITATOR, f"remove-facilitator <@{OTHER}> round {mine}")
    assert f"Round {mine} is not one of yours" in _said(running, OTHER, f"status {mine}")
    # only admins make and unmake facilitators
    assert "Only Roundtable's admins can remove a facilitator" in _said(
        running, FACILITATOR, f"remove-facilitator <@{OTHER}>")
    assert "server's settings" in _said(running, ADMIN, f"remove-facilitator <@{FACILITATOR}>")
    assert "can no longer start rounds" in _said(running, ADMIN, f"remove-facilitator <@{OTHER}>")
    assert running.scalars(select(Facilitator)) == []
    assert "Only facilitators" in _said(running, OTHER, f"start {PACK} to <@UCHIDI>")
    with running.database.sessions() as session:
        done = [(e.actor, e.action, e.round_id, e.subject) for e in entries(session)
                if e.action.startswith("facilitator.")]
    assert done == [
        (f"slack:{ADMIN}", "facilitator.add", None, f"slack:{OTHER}"),
        (f"slack:{FACILITATOR}", "facilitator.add", mine, f"slack:{OTHER}"),
        (f"slack:{FACILITATOR}", "facilitator.remove", mine, f"slack:{OTHER}"),
        (f"slack:{ADMIN}", "facilitator.remove", None, f"slack:{OTHER}"),
    ]


def test_a_digest_posts_only_to_its_rounds_channel(running: Running) -> None:
    said = _said(running, FACILITATOR, f"start {PACK} to <@UCHIDI>")
    assert "No digest channel yet" in said
    round_id = int(said.split()[1])
    refused = _said(running, FACILITATOR, "digest")  # typed in #leaders
    assert f"Round {round_id} has no digest channel, so its digest was not posted anywhere" \
        in refused
    assert f"/roundtable set {round_id} digest #channel" in refused
    assert not [c for c in running.stub.calls_to("chat.postMessage")
                if not str(c.params["channel"]).startswith("D")]
    assert running.scalars(select(Digest)) == []
    assert f"Round {round_id}: digests go to <#{DIGEST_CHANNEL}>" in _said(
        running, FACILITATOR, f"set digest <#{DIGEST_CHANNEL}|digest>")
    notice = running.scalar(select(Round.privacy_notice).where(Round.id == round_id))
    assert {"place": DIGEST_CHANNEL} in notice  # those asked from now on are told where
    assert f"in <#{DIGEST_CHANNEL}>" in _said(running, FACILITATOR, "digest")
    channels = {c.params["channel"] for c in running.stub.calls_to("chat.postMessage")
                if not str(c.params["channel"]).startswith("D")}
    assert channels == {DIGEST_CHANNEL}  # not #leaders, where the command was typed
    with running.database.sessions() as session:
        actions = [(e.action, e.round_id) for e in entries(session)]
    assert ("round.set", round_id) in actions and ("digest.post", round_id) in actions


def test_closing_a_round_without_a_channel_posts_no_final_digest_anywhere(
        running: Running) -> None:
    said = _said(running, FACILITATOR, f"start {PACK} to <@UCHIDI>")
    round_id = int(said.split()[1])
    closed = _said(running, FACILITATOR, f"close {round_id}")
    assert f"Round {round_id} is closed" in closed
    assert "No final digest was posted: the round has no digest channel" in closed
    assert running.scalars(select(Digest)) == []


def test_the_slack_guide_says_who_adds_facilitators_as_the_bot_does(running: Running) -> None:
    """docs/slack.md told facilitators they "can add more with /roundtable add-facilitator
    @person", which the bot refuses them: only admins make facilitators; a facilitator shares
    one of their rounds with `add-facilitator @person round N`."""
    mine = start_round(running)
    assert "Only Roundtable's admins can make someone a facilitator" in _said(
        running, FACILITATOR, f"add-facilitator <@{OTHER}>")
    assert f"they can now act on round {mine}" in _said(
        running, FACILITATOR, f"add-facilitator <@{OTHER}> round {mine}")
    guide = (Path(__file__).resolve().parents[2] / "docs" / "slack.md").read_text("utf-8")
    row = next(line for line in guide.splitlines()
               if line.startswith("| `ROUNDTABLE_FACILITATORS`"))
    assert "they can add more with `/roundtable add-facilitator @person` |" not in row, row
    assert "`ROUNDTABLE_ADMINS`" in row and "`/roundtable add-facilitator @person`" in row, row
    assert "`/roundtable add-facilitator @person round N`" in row, row
