"""Acceptance 2 of issue 14: a round with participants on Slack and on Teams. One digest
covers them all and is posted to each platform's digest channel; a process sends only the
deliveries of the platforms it is set up for."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest
from sqlalchemy import select

from bot.slack.app import SlackPlatform
from bot.teams.app import TeamsPlatform
from storage.database import Database
from storage.models import Delivery, Participant, Round
from tests.slack.conftest import (
    CHANNEL,
    DIGEST_CHANNEL,
    FACILITATOR,
    MEMBERS,
    PACK,
    SECRET,
    SlackDriver,
)
from tests.slack_api_stub import SlackStub
from tests.teams.conftest import RunningTeams, TeamsDriver, Tenant, serving, teams_settings
from tests.teams_connector_stub import ConnectorStub, card_text


@pytest.fixture
def slack_stub() -> Iterator[SlackStub]:
    stub = SlackStub().start()
    stub.add_user(FACILITATOR, "Fola Facilitator")
    for user in MEMBERS:
        stub.add_user(user, user[1:].title())
    stub.add_channel(CHANNEL, MEMBERS)
    stub.add_channel(DIGEST_CHANNEL, [FACILITATOR])
    yield stub
    stub.stop()


def both_settings(database_url: str, connector: ConnectorStub, slack: SlackStub,
                  tenant: Tenant, *, slack_on: bool = True, teams_on: bool = True) -> dict:
    # the Teams facilitator is an admin: a round started in Slack is not theirs otherwise
    settings = teams_settings(database_url, connector, TEAMS_FACILITATORS=tenant.facilitator.aad,
                              ROUNDTABLE_ADMINS=tenant.facilitator.aad,
                              ROUNDTABLE_FACILITATORS=FACILITATOR, SLACK_BOT_TOKEN="xoxb-test",
                              SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=slack.base_url,
                              ROUNDTABLE_DATA_DIR=tempfile.mkdtemp(prefix="roundtable-"))
    return {"settings": settings, "slack_on": slack_on, "teams_on": teams_on}


def start_slack_round(slack: SlackDriver, stub: SlackStub) -> int:
    assert slack.command(FACILITATOR, f"start {PACK} to <#{CHANNEL}|leaders> digest "
                                      f"<#{DIGEST_CHANNEL}|digest>").status == 200
    said = stub.wait_for(lambda: [c for c in stub.calls_to("response_url")
                                  if "started" in c.params.get("text", "")], what="the start")
    return int(said[0].params["text"].split()[1])


def invite_team(teams: TeamsDriver, tenant: Tenant, round_id: int) -> None:
    assert teams.added_to_team(tenant.team, tenant.facilitator).status == 200
    assert teams.in_channel(tenant.team, tenant.facilitator,
                            f"invite {round_id} to team").status == 200


@contextmanager
def mixed_round(database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
                slack_stub: SlackStub
                ) -> Iterator[tuple[SlackDriver, TeamsDriver, RunningTeams, int]]:
    """One process serving both platforms, a round started in Slack with the Teams team
    invited, once its ten first questions are sent."""
    chosen = both_settings(database_url, connector, slack_stub, tenant)["settings"]
    platforms = [SlackPlatform(chosen, database), TeamsPlatform(chosen, database)]
    with serving(chosen, database, platforms) as (bot, port):
        slack, teams = SlackDriver(port, slack_stub), TeamsDriver(port, connector)
        running = RunningTeams(bot, teams, connector, database)
        round_id = start_slack_round(slack, slack_stub)
        invite_team(teams, tenant, round_id)
        running.wait_for(lambda: all_sent(database, 10), "ten first questions", timeout=60)
        yield slack, teams, running, round_id


def all_sent(database: Database, count: int) -> bool:
    with database.sessions() as session:
        states = list(session.scalars(select(Delivery.state)))
    return len(states) == count and set(states) == {"sent"}


def test_one_digest_covers_both_platforms_and_is_posted_on_each(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
        slack_stub: SlackStub) -> None:
    with mixed_round(database, database_url, connector, tenant, slack_stub) as (
            slack, teams, running, round_id):
        with database.sessions() as session:
            platforms_of = sorted(session.scalars(select(Participant.platform).join(
                Delivery, Delivery.participant_id == Participant.id)))
        assert platforms_of == ["slack"] * 5 + ["teams"] * 5
        slack.dm(MEMBERS[0], "From Slack: protected time.")
        teams.chat(tenant.members[0], "From Teams: peer support.")
        running.wait_for(lambda: len(running.replies()) == 2, "both answers")

        before = len(slack_stub.posted(DIGEST_CHANNEL))
        assert slack.command(FACILITATOR, "digest").status == 200
        slack_stub.wait_for(lambda: len(slack_stub.posted(DIGEST_CHANNEL)) >= before + 7, 20,
                            "the Slack digest")
        in_teams = running.wait_for(lambda: [c for c in connector.sent() if "Digest:" in
                                             card_text(c)], "the Teams digest")
        slack_top = slack_stub.posted(DIGEST_CHANNEL)[before].params["text"]
        assert "2 of 10 have answered" in slack_top
        assert "2 of 10" in card_text(in_teams[0])
        assert in_teams[0].conversation == tenant.team.channel_id
        thread = running.wait_for(lambda: [c for c in connector.sent() if (
            c.conversation or "").startswith(tenant.team.channel_id + ";messageid=")],
            "the Teams digest's replies")
        everything = "\n".join(card_text(c) for c in thread)
        assert "From Slack: protected time." in everything
        assert "From Teams: peer support." in everything


def test_each_process_sends_only_the_deliveries_of_its_own_platforms(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
        slack_stub: SlackStub) -> None:
    chosen = both_settings(database_url, connector, slack_stub, tenant)["settings"]
    with ExitStack() as stack:
        slack_bot, slack_port = stack.enter_context(
            serving(chosen, database, [SlackPlatform(chosen, database)]))
        teams_bot, teams_port = stack.enter_context(
            serving(chosen, database, [TeamsPlatform(chosen, database)]))
        slack, teams = SlackDriver(slack_port, slack_stub), TeamsDriver(teams_port, connector)
        round_id = start_slack_round(slack, slack_stub)
        invite_team(teams, tenant, round_id)
        connector.wait_for(lambda: all_sent(database, 10), "ten first questions", timeout=60)
        to_people = [c for c in slack_stub.posted() if c.params["channel"].startswith("D")]
        assert sorted(c.params["channel"] for c in to_people) == sorted("D" + m for m in MEMBERS)
        for person in tenant.members:
            assert len(connector.sent_to(person)) == 1
        with database.sessions() as session:
            assert list(session.scalars(select(Delivery.last_error).where(
                Delivery.last_error.is_not(None)))) == []


def test_a_round_started_in_slack_keeps_its_digest_channel_when_set_from_teams(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
        slack_stub: SlackStub) -> None:
    chosen = both_settings(database_url, connector, slack_stub, tenant)["settings"]
    platforms = [SlackPlatform(chosen, database), TeamsPlatform(chosen, database)]
    with serving(chosen, database, platforms) as (bot, port):
        teams, channel = TeamsDriver(port, connector), tenant.team.channel_id
        running = RunningTeams(bot, teams, connector, database)
        round_id = start_slack_round(SlackDriver(port, slack_stub), slack_stub)
        invite_team(teams, tenant, round_id)

        def answer(text: str, expect: str) -> str:
            assert teams.in_channel(tenant.team, tenant.facilitator, text).status == 200
            return str(running.wait_for(lambda: [card_text(c) for c in connector.sent(channel)
                                                 if expect in card_text(c)], expect)[0])

        refused = answer(f"set {round_id} digest #Leaders (General)", "started in Slack")
        assert refused == (f"Round {round_id} was started in Slack: set its digest "
                           "channel there.")
        assert running.scalars(select(Round.digest_channel)) == [DIGEST_CHANNEL]
        closes = answer(f"set {round_id} closes 14d", "; closes ")
        assert closes.startswith(f"Round {round_id}: digests go to ")
        assert running.scalars(select(Round.closes_at)) != [None]


def test_the_facilitator_hears_once_that_the_digest_was_refused_on_the_other_platform(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
        slack_stub: SlackStub) -> None:
    """The digest posts in Slack; Teams refuses its copy for good (the channel is gone). The
    facilitator who started the round hears it where they work, once, with what to fix."""
    with mixed_round(database, database_url, connector, tenant, slack_stub) as (
            slack, teams, running, round_id):
        connector.fail_next("send", status=404, where=tenant.team.channel_id)

        assert slack.command(FACILITATOR, "digest").status == 200
        slack_stub.wait_for(lambda: [c for c in slack_stub.calls_to("response_url")
                                     if "Posted the digest" in c.params.get("text", "")],
                            what="the digest posted in Slack")

        def told() -> list[str]:
            return [c.params["text"] for c in slack_stub.posted("D" + FACILITATOR)
                    if "could not be posted" in c.params.get("text", "")]

        slack_stub.wait_for(told, what="the facilitator told")
        assert told() == [
            f"The digest of round {round_id} could not be posted in Teams: ServiceError. "
            "Teams does not know that conversation any more: add Roundtable to the team "
            "again, or choose another channel. Then the `digest` command posts it there, and "
            f"in <#{DIGEST_CHANNEL}> again. Otherwise the next one is tried at the next "
            "digest time."]
        assert not [c for c in connector.sent() if "Digest:" in card_text(c)]
