"""A digest in review reaches a Teams facilitator as a card with Approve; approving posts it
to the team's channel once, and approving again posts nothing more."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.scheduling import jobs
from storage.db import transaction
from storage.models import Round
from tests.conftest import NOW
from tests.review_round import answer_all
from tests.teams.conftest import RunningTeams, Tenant
from tests.teams.test_round import start_from_channel
from tests.teams_connector_stub import card_text

FRIDAY_NOON = NOW + timedelta(days=4, hours=2)


def test_a_teams_facilitator_approves_a_reviewed_digest_once(
        running_teams: RunningTeams, tenant: Tenant) -> None:
    running, stub, channel = running_teams, running_teams.stub, tenant.team.channel_id
    start_from_channel(running, tenant)
    [round_] = running.wait_for(lambda: running.scalars(select(Round)), "the round")
    assert round_.review == "review"  # a round with a digest channel is reviewed by default
    with transaction(running.database.sessions) as session:
        answer_all(session, round_.id, [p.aad for p in tenant.members], NOW, "teams")
    posted_before = len(stub.sent(channel))
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_.id)

    draft = running.wait_for(lambda: [c for c in stub.sent_to(tenant.facilitator)
                                      if "For review" in card_text(c)], "the draft card")[0]
    assert len(stub.sent(channel)) == posted_before
    card = draft.body["attachments"][0]["content"]
    [approve] = card["actions"]
    answered = running.teams.submit(tenant.facilitator, dict(approve["data"]))
    assert answered[0].json()["value"].startswith(f"Approved: the digest of round {round_.id}")
    tops = running.wait_for(lambda: [c for c in stub.sent(channel)[posted_before:]
                                     if "Digest" in card_text(c)], "the digest in the channel")
    again = running.teams.submit(tenant.facilitator, dict(approve["data"]))
    assert "nothing more was posted" in again[0].json()["value"]
    assert [c for c in stub.sent(channel)[posted_before:] if "Digest" in card_text(c)] == tops
