"""App Homes kept right without holding anyone up: a change many people's homes show (a round
deleted, someone forgotten, a round's answers deleted by retention) is answered at once, and
the homes follow from the serving process, each person's once, also when the change was made
at a command line with no Slack token."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import update

from bot.app import facilitation
from bot.app.actors import OPERATOR, Actor
from bot.app.personal_data import forget
from bot.config import load_settings
from bot.core import audit
from bot.core.homes_owed import claim_homes
from bot.core.retention import apply_retention
from bot.scheduling import jobs
from storage.database import Database
from storage.db import transaction
from storage.models import Delivery, Round
from tests.helpers import started_round
from tests.slack.conftest import (
    ADMIN,
    FACILITATOR,
    PACK,
    Running,
    application,
    bot_settings,
)
from tests.slack.test_answers import answer_buttons
from tests.slack.test_round_commands import command
from tests.slack.test_round_loop import sent_to_everyone
from tests.slack_api_stub import SlackStub


def published_for(stub: SlackStub, user_id: str) -> list[dict[str, Any]]:
    """The views published as this person's App Home, oldest first."""
    return [c.params["view"] for c in stub.calls_to("views.publish")
            if c.params["user_id"] == user_id]


def test_deleting_a_round_answers_before_its_peoples_homes_are_published(
        running: Running) -> None:
    """Slack takes its time publishing Ben's App Home: the facilitator is told the round is
    deleted all the same, and Ben's home follows, without the round's questions."""
    round_id = int(command(running, f"start {PACK} to <@UBEN>", "started")["text"].split()[1])
    sent_to_everyone(running, ["UBEN"])
    running.slack.event({"type": "app_home_opened", "user": "UBEN", "channel": "DUBEN",
                         "tab": "home"})
    running.wait_for(lambda: published_for(running.stub, "UBEN"), "Ben's home tab")
    running.stub.hold("views.publish", lambda params: params["user_id"] == "UBEN")
    try:
        asked = command(running, f"delete {round_id}", "Deleting it removes")
        delete = next(e for b in asked["blocks"] if b["type"] == "actions"
                      for e in b["elements"] if e["style"] == "danger")
        running.slack.click(FACILITATOR, delete["action_id"], delete["value"])
        running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                  if f"Round {round_id} is deleted" in c.params.get("text", "")],
                         "the facilitator told, while Ben's home waits")
    finally:
        running.stub.release()
    republished = running.wait_for(lambda: published_for(running.stub, "UBEN")[1:],
                                   "Ben's home published again")
    assert answer_buttons(republished[-1]) == []


def test_homes_a_command_line_without_a_token_changes_are_published_by_the_serving_process(
        database: Database, database_url: str, stub: SlackStub, now: datetime,
        tmp_path: Path) -> None:
    """Two rounds deleted and someone forgotten at a command line with no Slack token: the
    serving process publishes the App Home of each person concerned (those asked, and the
    rounds' facilitator), once however many of those changes it shows."""
    with transaction(database.sessions) as session:
        rounds = [started_round(session, now, 2, started_by=FACILITATOR).id for _ in range(2)]
        session.execute(update(Delivery).values(state="sent"))
    settings = load_settings(DATABASE_URL=database_url, ROUNDTABLE_DATA_DIR=str(tmp_path))
    offline = application(settings, database)
    assert not offline.signed_in("slack")
    for round_id in rounds:
        facilitation.delete(offline, OPERATOR, round_id)
    forget(offline, OPERATOR, "slack", "U0001")
    assert stub.calls_to("views.publish") == []  # nothing reached Slack from here

    serving = application(bot_settings(database_url, stub), database)
    assert serving.homes.publish_owed() == 3
    assert sorted(c.params["user_id"] for c in stub.calls_to("views.publish")) == sorted([
        "U0001", "U0002", FACILITATOR])  # the people asked, and the rounds' facilitator
    assert all(answer_buttons(c.params["view"]) == [] for c in stub.calls_to("views.publish"))
    assert serving.homes.publish_owed() == 0


def test_a_facilitators_home_is_published_again_once_retention_deletes_a_rounds_answers(
        database: Database, database_url: str, stub: SlackStub, now: datetime) -> None:
    """The Home lists the facilitator's rounds with their counts: once the nightly job deletes
    a round's answers, it is published again, the round still listed."""
    with transaction(database.sessions) as session:
        round_id = started_round(session, now, 2, started_by=FACILITATOR).id
        session.execute(update(Round).values(status="closed",
                                             closed_at=now - timedelta(days=400)))
    serving = application(bot_settings(database_url, stub), database)
    done = apply_retention(database, now, 365, audit.SCHEDULER, serving.gateways)
    assert done.rounds == [round_id]

    assert serving.homes.publish_owed() == 1
    [home] = published_for(stub, FACILITATOR)
    listed = json.dumps(home)
    assert f"Round {round_id}" in listed and "0 of 2 answered" in listed, listed


def test_an_admins_home_is_published_again_once_a_round_they_do_not_facilitate_is_deleted(
        database: Database, database_url: str, stub: SlackStub, now: datetime) -> None:
    """An admin's Home lists every round: once a facilitator deletes one of theirs, the
    admin's is published again, the round gone and the other still listed."""
    with transaction(database.sessions) as session:
        kept, deleted = (started_round(session, now, 2, started_by=FACILITATOR).id
                         for _ in range(2))
    serving = application(bot_settings(database_url, stub), database)
    facilitation.delete(serving, Actor("slack", FACILITATOR), deleted)

    serving.homes.publish_owed()
    [home] = published_for(stub, ADMIN)
    listed = json.dumps(home)
    assert f"Round {kept}" in listed and f"Round {deleted}" not in listed, listed


def test_an_admin_named_by_an_entra_id_is_not_published_a_home_in_slack(
        database: Database, database_url: str, stub: SlackStub, now: datetime) -> None:
    """ROUNDTABLE_ADMINS names a Teams admin (an Entra object id) beside a Slack one: a
    deleted round owes the Slack admin their Home, and Slack is never asked to publish one
    for the Entra id (it would refuse it, and the log would say so)."""
    entra = "0f8fad5b-d9cb-469f-a165-70867728950e"
    with transaction(database.sessions) as session:
        round_id = started_round(session, now, 2, started_by=FACILITATOR).id
    serving = application(bot_settings(database_url, stub, ROUNDTABLE_ADMINS=f"{entra},{ADMIN}"),
                          database)
    facilitation.delete(serving, Actor("slack", FACILITATOR), round_id)

    serving.homes.publish_owed()
    assert published_for(stub, ADMIN) != []
    assert published_for(stub, entra) == []


def test_an_admins_home_is_published_again_once_retention_deletes_a_rounds_answers(
        database: Database, database_url: str, stub: SlackStub, now: datetime) -> None:
    """The nightly job deletes the answers of a round the admin does not facilitate: the
    admin's Home, which lists every round with its counts, is published again."""
    with transaction(database.sessions) as session:
        round_id = started_round(session, now, 2, started_by=FACILITATOR).id
        session.execute(update(Round).values(status="closed",
                                             closed_at=now - timedelta(days=400)))
    serving = application(bot_settings(database_url, stub), database)
    jobs.install(serving.job_context())
    jobs.apply_retention()

    serving.homes.publish_owed()
    [home] = published_for(stub, ADMIN)
    listed = json.dumps(home)
    assert f"Round {round_id}" in listed and "0 of 2 answered" in listed, listed



def test_homes_claimed_by_a_process_that_died_are_published_by_another(
        database: Database, database_url: str, stub: SlackStub, now: datetime,
        tmp_path: Path) -> None:
    """Queued with the deletion, the homes outlive a serving process that died while
    publishing them: another one publishes them once the dead one's claim has lapsed."""
    with transaction(database.sessions) as session:
        round_id = started_round(session, now, 2, started_by=FACILITATOR).id
        session.execute(update(Delivery).values(state="sent"))
    settings = load_settings(DATABASE_URL=database_url, ROUNDTABLE_DATA_DIR=str(tmp_path))
    facilitation.delete(application(settings, database), OPERATOR, round_id)
    with transaction(database.sessions) as session:  # claimed, then the process died
        assert len(claim_homes(session, ["slack"], now - timedelta(minutes=5), "gone")) == 3

    serving = application(bot_settings(database_url, stub), database)
    assert serving.homes.publish_owed() == 3
    assert sorted(c.params["user_id"] for c in stub.calls_to("views.publish")) == sorted([
        "U0001", "U0002", FACILITATOR])
