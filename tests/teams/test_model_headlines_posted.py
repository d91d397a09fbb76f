"""With ROUNDTABLE_LLM_URL set, a Teams facilitator's draft and the digest card posted once it
is approved carry the model's checked headlines, and the card says a model wrote them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.scheduling import jobs
from storage.database import Database
from storage.db import transaction
from storage.models import Round
from tests.conftest import NOW
from tests.digest.test_summariser import StandIn, endpoint
from tests.model_headlines import LABEL, answering, asked
from tests.review_round import answer_all
from tests.teams.conftest import Tenant, run_teams
from tests.teams.test_round import start_from_channel
from tests.teams_connector_stub import ConnectorStub, card_text

__all__ = ["endpoint"]  # the stand-in's fixture, used here too

FRIDAY_NOON = NOW + timedelta(days=4, hours=2)


def test_a_teams_digest_shows_the_models_headlines_labelled(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
        endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    proposed = answering(stand_in)
    with run_teams(database, database_url, connector, tenant.facilitator,
                   ROUNDTABLE_LLM_URL=url, ROUNDTABLE_LLM_MODEL="local-model") as running:
        channel = tenant.team.channel_id
        start_from_channel(running, tenant)
        [round_] = running.wait_for(lambda: running.scalars(select(Round)), "the round")
        with transaction(running.database.sessions) as session:
            answer_all(session, round_.id, [p.aad for p in tenant.members], NOW, "teams")
        jobs.install(replace(running.bot.job_context(),
                             clock=lambda: FRIDAY_NOON + timedelta(seconds=30)))
        jobs.post_round_digest(round_.id)

        draft = running.wait_for(lambda: [c for c in connector.sent_to(tenant.facilitator)
                                          if "For review" in card_text(c)], "the draft card")[0]
        for n, title in proposed.items():
            assert f"{n}. {title} · " in card_text(draft)
        [approve] = draft.body["attachments"][0]["content"]["actions"]
        running.teams.submit(tenant.facilitator, dict(approve["data"]))

        def in_channel() -> str:  # the digest's top and its replies, one question in each
            return "\n".join(card_text(c) for c in connector.sent()
                             if c.conversation.startswith(channel))

        posted = running.wait_for(lambda: in_channel() if LABEL in in_channel() else None,
                                  "the digest's themes in the channel")
    assert proposed
    for title in proposed.values():
        assert f"{title}  ·  " in posted and LABEL in posted
    assert asked(stand_in) == (1, 1)  # grouping declined, then headlines: each once
