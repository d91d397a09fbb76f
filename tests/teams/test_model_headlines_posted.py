"""With ROUNDTABLE_LLM_URL set, a Teams facilitator's draft and the digest card posted once it
is approved carry the model's checked headlines, and the card says a model wrote them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta

from sqlalchemy import select

from bot.app import review
from bot.app.actors import OPERATOR
from bot.core.people import find_participant
from bot.core.replies import record_reply
from bot.scheduling import jobs
from storage.database import Database
from storage.db import transaction
from storage.models import DigestEdit, Round
from tests.conftest import NOW
from tests.digest.test_stable_themes import TIME
from tests.digest.test_summariser import StandIn, endpoint
from tests.model_headlines import LABEL, answering, asked, held
from tests.review_round import PROMPT, answer_all
from tests.teams.conftest import RunningTeams, Tenant, run_teams
from tests.teams.test_digest_review import (
    Card,
    buttons,
    content,
    draft_for_review,
    filled,
    form_of,
    json_text,
    opened,
    said_to,
    updates,
)
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


def edit_opened_before_an_answer(running: RunningTeams, tenant: Tenant, stand_in: StandIn
                                 ) -> tuple[int, Card, dict[str, Card]]:
    """A Teams draft worded by the model, its question's form opened, and then an answer in:
    saving the form makes the model word the draft again. The round, and the open form."""
    answering(stand_in)
    round_id, draft = draft_for_review(running, tenant)
    save, inputs = form_of(opened(running, tenant.facilitator, draft, PROMPT), round_id, PROMPT)
    with transaction(running.database.sessions) as session:
        person = find_participant(session, tenant.members[0].aad, "teams")
        assert person is not None
        record_reply(session, round_id, PROMPT, person, TIME[10], FRIDAY_NOON,
                     external_id="late-answer")
    return round_id, save, inputs


RENAMED = "Time away from the dispensary"


@contextmanager
def renamed_while_the_model_words_it(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
        endpoint: tuple[StandIn, str]) -> Iterator[tuple[RunningTeams, int, Callable[[], None]]]:
    """The bot serving with a model; a draft's form saved (a rename) while the model words
    the draft again, its answer held back past the button's wait. The running bot, the round,
    and what lets the model answer."""
    stand_in, url = endpoint
    with run_teams(database, database_url, connector, tenant.facilitator,
                   ROUNDTABLE_LLM_URL=url, ROUNDTABLE_LLM_MODEL="local-model",
                   ROUNDTABLE_LLM_TIMEOUT="20") as running:
        round_id, save, inputs = edit_opened_before_an_answer(running, tenant, stand_in)
        with held(stand_in) as let_go:
            [answered] = running.teams.submit(tenant.facilitator, filled(
                save, inputs, rename_theme="1", rename_title=RENAMED), execute=False)
            assert answered.status == 200
            yield running, round_id, let_go


def test_a_teams_edit_the_model_takes_long_over_is_saved_and_the_chat_says_so(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
        endpoint: tuple[StandIn, str]) -> None:
    """Saving a draft's form while the model words it again: the chat says the changes are
    being saved, then that they are, and what changed; the draft card shows the new name."""
    facilitator = tenant.facilitator
    with renamed_while_the_model_words_it(database, database_url, connector, tenant,
                                          endpoint) as (running, round_id, let_go):
        assert said_to(running, facilitator, "Saving your changes")
        let_go()
        told = said_to(running, facilitator, f"Your changes to the draft of round {round_id}")
        assert told.startswith(f"Your changes to the draft of round {round_id} are saved: "
                               f"Theme {PROMPT}/1 is now “{RENAMED}”."), told
        running.wait_for(lambda: [c for c in updates(running, facilitator)
                                  if RENAMED in json_text(c)], "the draft card brought up to date")


def test_a_teams_edit_refused_while_the_model_worded_it_says_why_in_the_chat(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
        endpoint: tuple[StandIn, str]) -> None:
    """The form was saved while the model worded the draft; meanwhile the draft was approved,
    so the change cannot be made: the chat says it was not saved, and why."""
    facilitator = tenant.facilitator
    with renamed_while_the_model_words_it(database, database_url, connector, tenant,
                                          endpoint) as (running, round_id, let_go):
        draft = running.wait_for(lambda: [c for c in running.stub.sent_to(facilitator)
                                          if "For review" in card_text(c)], "the draft")[-1]
        [approve] = buttons(content(draft), "digest-approve")
        approved = running.teams.submit(facilitator, dict(approve["data"]))
        assert approved[0].json()["value"].startswith("Approved"), approved[0].body
        let_go()
        told = said_to(running, facilitator, f"Your changes to the draft of round {round_id}")
    assert told.startswith(f"Your changes to the draft of round {round_id} were not saved: "), told
    assert "already approved" in told, told
    assert not [e for e in running.scalars(select(DigestEdit)) if e.action == "rename"]


def test_a_teams_edit_refused_after_the_buttons_wait_leaves_its_form_open(
        database: Database, database_url: str, connector: ConnectorStub, tenant: Tenant,
        endpoint: tuple[StandIn, str]) -> None:
    """The form is saved while the model words the draft again, past the wait of the
    button, and refused (a theme merged into itself): the chat says why, and the form stays
    open on the card, so another facilitator's edit leaves the card as it is (what was typed
    stays) and says so."""
    stand_in, url = endpoint
    fola = tenant.facilitator
    with run_teams(database, database_url, connector, fola, ROUNDTABLE_LLM_URL=url,
                   ROUNDTABLE_LLM_MODEL="local-model", ROUNDTABLE_LLM_TIMEOUT="20") as running:
        answering(stand_in)
        round_id, draft = draft_for_review(running, tenant)
        [sent] = [c for c in connector.sent_to(fola) if "For review" in card_text(c)]
        [edit] = [b for b in buttons(draft, "digest-open") if b["data"]["prompt"] == PROMPT]
        [answer] = running.teams.submit(fola, dict(edit["data"]), card_id=sent.activity_id)
        save, inputs = form_of(dict(answer.json()["value"]), round_id, PROMPT)
        with transaction(running.database.sessions) as session:
            person = find_participant(session, tenant.members[0].aad, "teams")
            assert person is not None
            record_reply(session, round_id, PROMPT, person, TIME[10], FRIDAY_NOON,
                         external_id="late-answer")
        with held(stand_in) as let_go:
            running.teams.submit(fola, filled(save, inputs, merge_theme="2", merge_into="2"),
                                 execute=False, card_id=sent.activity_id)
            assert said_to(running, fola, "Saving your changes")
            let_go()
            told = said_to(running, fola, f"Your changes to the draft of round {round_id} were")
        assert "not saved: a theme cannot be merged into itself" in told, told

        review.edit(running.bot, OPERATOR, round_id, [review.Change("lead", PROMPT,
                                                                    text="Time first")])
        running.wait_for(lambda: updates(running, fola) or [
            c for c in connector.sent_to(fola) if "Another facilitator" in card_text(c)],
            "the card brought up to date, or left as it was")
        assert updates(running, fola) == []
        said_to(running, fola, "Another facilitator changed")
