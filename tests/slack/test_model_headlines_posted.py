"""With ROUNDTABLE_LLM_URL set, the digests the group reads in Slack carry the model's checked
headlines, labelled: posted on demand or on schedule, and drafted for review, where a
facilitator's rename wins, the model is asked once per question, and the approved post shows
what the draft showed. A model that fails or does not answer leaves the offline digest posted.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app.roundtable import model_summariser
from bot.core import audit
from bot.core.digest.summariser import GROUPING_SYSTEM
from bot.core.digest.synthesis import GROUPED_BY_MODEL
from bot.core.people import find_participant
from bot.core.replies import record_reply
from bot.scheduling import jobs
from bot.slack import review_blocks
from storage.database import Database
from storage.db import transaction
from storage.model_answers import DatabaseModelAnswers
from storage.models import Round
from tests.digest.test_stable_themes import TIME
from tests.digest.test_summariser import StandIn, chat, endpoint
from tests.model_headlines import HOSTILE_LEAKS, LABEL, answering, asked, held
from tests.review_round import PROMPT, current, question, review_round
from tests.slack.conftest import FACILITATOR, MEMBERS, Running, run_bot
from tests.slack.test_digest_review import (
    FRIDAY_NOON,
    button,
    digest_posted,
    draft_in,
    respond_text,
    theme,
)
from tests.slack.test_round_commands import command
from tests.slack_api_stub import SlackStub
from tests.slack_reading import as_read

__all__ = ["endpoint"]  # the stand-in's fixture, used here too

@pytest.fixture
def model_url(endpoint: tuple[StandIn, str]) -> str:
    return endpoint[1]


@pytest.fixture
def stand_in(endpoint: tuple[StandIn, str]) -> StandIn:
    return endpoint[0]


@contextmanager
def serving_with_model(database: Database, database_url: str, stub: SlackStub, tmp_path: Path,
                       model_url: str, timeout: str) -> Iterator[Running]:
    """The bot serving, with ROUNDTABLE_LLM_URL at the stand-in (`timeout` s to answer)."""
    with run_bot(database, database_url, stub, ROUNDTABLE_DATA_DIR=str(tmp_path),
                 ROUNDTABLE_LLM_URL=model_url, ROUNDTABLE_LLM_MODEL="local-model",
                 ROUNDTABLE_LLM_TIMEOUT=timeout) as running:
        yield running


@pytest.fixture
def with_model(database: Database, database_url: str, stub: SlackStub, tmp_path: Path,
               model_url: str) -> Iterator[Running]:
    """The bot serving, with a model given half a second to answer."""
    with serving_with_model(database, database_url, stub, tmp_path, model_url, "0.5") as running:
        yield running


def posted_round(running: Running) -> int:
    """A round with answers enough for themes whose digests post as built."""
    round_id = review_round(running.database, FRIDAY_NOON - timedelta(days=4), MEMBERS,
                            starter=FACILITATOR)
    with transaction(running.database.sessions) as session:
        session.get_one(Round, round_id).review = "post"
    return round_id


def on_schedule(running: Running) -> None:
    """The scheduled jobs of this process, as its scheduler runs them, just after Friday noon."""
    jobs.install(replace(running.bot.job_context(),
                         clock=lambda: FRIDAY_NOON + timedelta(seconds=30)))


def post_headings(running: Running) -> list[str]:
    """The theme headings of the digest channel, as posted."""
    return re.findall(r"\*([^*]+)\*  ·  _", digest_posted(running))


def draft_titles(message: dict[str, Any]) -> list[str]:
    """The theme titles a draft shows, in order."""
    return re.findall(r"\d+\. \*([^*]+)\* · ", as_read(message["blocks"]))


def offline_titles(running: Running, round_id: int) -> list[str]:
    return [t.title for t in question(current(running.database, round_id, FRIDAY_NOON)).themes]


def test_a_digest_posted_on_demand_shows_the_models_headlines_labelled(
        with_model: Running, stand_in: StandIn) -> None:
    running = with_model
    round_id = posted_round(running)
    offline = offline_titles(running, round_id)
    proposed = answering(stand_in)
    command(running, f"digest {round_id}", "Posted")
    headings = post_headings(running)
    assert headings == [proposed[n] for n in sorted(proposed)] != offline
    assert digest_posted(running).count(LABEL) == len(proposed)


def test_a_hostile_model_headline_never_reaches_the_scheduled_post(
        with_model: Running, stand_in: StandIn) -> None:
    running = with_model
    round_id = posted_round(running)
    offline = offline_titles(running, round_id)
    proposed = answering(stand_in, hostile=True)
    on_schedule(running)
    jobs.post_round_digest(round_id)
    posted = digest_posted(running)
    assert len(proposed) == len(offline) >= 3
    assert post_headings(running) == [*offline[:-1], proposed[len(offline)]]
    assert posted.count(LABEL) == 1
    assert [leak for leak in HOSTILE_LEAKS if leak in posted] == []
    assert [t for t in list(proposed.values())[:-1] if t in posted] == []


def test_a_draft_keeps_the_models_headlines_through_an_edit_and_posts_them_as_approved(
        with_model: Running, stand_in: StandIn) -> None:
    running = with_model
    round_id = review_round(running.database, FRIDAY_NOON - timedelta(days=4), MEMBERS,
                            starter=FACILITATOR)
    proposed = answering(stand_in)
    on_schedule(running)
    jobs.post_round_digest(round_id)
    draft = draft_in(running, FACILITATOR)
    shown = draft_titles(draft)
    assert shown == [proposed[n] for n in sorted(proposed)]

    edit = button(draft, f"{review_blocks.REVIEW_EDIT}:{PROMPT}")
    assert running.slack.click(FACILITATOR, edit["action_id"], edit["value"]).status == 200
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the edit form")[0]
    answered = running.slack.submit(FACILITATOR, form.answer["view"], rename(form))
    assert answered.status == 200 and not answered.body, answered.body
    edited = running.wait_for(
        lambda: [t for t in [draft_titles(draft_in(running, FACILITATOR))]
                 if t[:1] == ["Time away from the dispensary"]], "the draft renamed")[0]
    assert edited == ["Time away from the dispensary", *shown[1:]]

    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    assert respond_text(running, answers, "Approved").startswith("Approved")
    assert post_headings(running) == edited
    assert digest_posted(running).count(LABEL) >= len(shown) - 1
    assert asked(stand_in) == (1, 1)  # one question with themes: each kind asked once


def test_an_approved_draft_posts_the_headlines_a_scheduler_in_another_process_drafted(
        with_model: Running, stand_in: StandIn) -> None:
    """The scheduler drafts in a process of its own; the server that takes the approval has
    never asked the model, and the model, asked again, would word every title otherwise."""
    running = with_model
    round_id = review_round(running.database, FRIDAY_NOON - timedelta(days=4), MEMBERS,
                            starter=FACILITATOR)
    proposed = answering(stand_in)
    store = DatabaseModelAnswers(running.database.sessions)
    scheduler = model_summariser(running.bot.settings, store)
    assert scheduler is not None and scheduler is not running.bot.summariser
    jobs.install(replace(running.bot.job_context(), summariser=scheduler,
                         clock=lambda: FRIDAY_NOON + timedelta(seconds=30)))
    jobs.post_round_digest(round_id)
    store.flush(timeout=20)
    shown = draft_titles(draft_in(running, FACILITATOR))
    assert shown == [proposed[n] for n in sorted(proposed)]

    approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
    answers = len(running.stub.calls_to("response_url"))
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    assert respond_text(running, answers, "Approved").startswith("Approved")
    assert post_headings(running) == shown
    assert digest_posted(running).count(LABEL) == len(shown)
    assert asked(stand_in)[1] == 1  # the headlines: asked by the scheduler alone


@pytest.mark.parametrize("failure", ["500", "timeout"])
def test_a_digest_posts_with_offline_headlines_when_the_model_fails(
        with_model: Running, stand_in: StandIn, failure: str) -> None:
    running = with_model
    round_id = posted_round(running)
    offline = offline_titles(running, round_id)
    stand_in.reply = ((lambda _r: (500, b"{}", 0.0)) if failure == "500"
                      else (lambda _r: (200, chat('{"themes": []}'), 3.0)))
    on_schedule(running)
    jobs.post_round_digest(round_id)
    assert post_headings(running) == offline
    command(running, f"digest {round_id}", "Posted")
    assert post_headings(running) == offline * 2
    assert LABEL not in digest_posted(running)
    assert stand_in.requests  # it was asked, each time


def test_a_digest_posted_on_demand_shows_the_models_grouping_labelled(
        with_model: Running, stand_in: StandIn) -> None:
    running = with_model
    round_id = posted_round(running)
    offline = question(current(running.database, round_id, FRIDAY_NOON)).themes

    def reply(request: dict[str, Any]) -> tuple[int, bytes, float]:
        if request["messages"][0]["content"] != GROUPING_SYSTEM:
            return 500, b"", 0.0  # headlines: the offline ones stand
        sent = dict(re.findall(r"^(\d+)\. (.*)$", request["messages"][1]["content"], re.M))
        time = [int(n) for n, text in sent.items() if text in TIME]
        return 200, chat(json.dumps({"themes": [
            {"answers": [int(n) for n in sent if int(n) not in time]}, {"answers": time}]})), 0.0

    stand_in.reply = reply
    command(running, f"digest {round_id}", "Posted")
    posted = digest_posted(running)
    assert len(offline) >= 3 and len(post_headings(running)) == 2
    assert posted.count(GROUPED_BY_MODEL) == 2
    assert "12 answers" in posted and "6 answers" in posted


@pytest.fixture
def with_patient_model(database: Database, database_url: str, stub: SlackStub, tmp_path: Path,
                       model_url: str) -> Iterator[Running]:
    """The bot serving, with a model that may take its time (20 s) to answer."""
    with serving_with_model(database, database_url, stub, tmp_path, model_url, "20") as running:
        yield running


def edit_form_opened_before_an_answer(running: Running, stand_in: StandIn) -> Any:
    """A draft worded by the model, its edit form opened, and then an answer in: saving the
    form makes the model word the draft again. The form (views.open's call)."""
    round_id = review_round(running.database, FRIDAY_NOON - timedelta(days=4), MEMBERS,
                            starter=FACILITATOR)
    answering(stand_in)
    on_schedule(running)
    jobs.post_round_digest(round_id)
    draft = draft_in(running, FACILITATOR)
    edit = button(draft, f"{review_blocks.REVIEW_EDIT}:{PROMPT}")
    assert running.slack.click(FACILITATOR, edit["action_id"], edit["value"]).status == 200
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the edit form")[0]
    with transaction(running.database.sessions) as session:
        person = find_participant(session, MEMBERS[0], "slack")
        assert person is not None
        record_reply(session, round_id, PROMPT, person, TIME[10], FRIDAY_NOON,
                     external_id="late-answer")
    return form


def rename(form: Any) -> dict[str, Any]:
    """The form's first theme renamed."""
    return {"rename_theme": theme(form, "rename_theme", 1),
            "rename_title": {"value": {"value": "Time away from the dispensary"}}}


def renamed(running: Running) -> None:
    running.wait_for(lambda: [t for t in [draft_titles(draft_in(running, FACILITATOR))]
                              if t[:1] == ["Time away from the dispensary"]], "the rename")


@pytest.mark.each_database
def test_answers_are_stored_while_the_model_words_a_draft_being_edited(
        with_patient_model: Running, stand_in: StandIn) -> None:
    """While the model words the draft again for an edit, the database takes other writes
    (on SQLite, one writer at a time): the people answering are not held up by the edit."""
    running = with_patient_model
    form = edit_form_opened_before_an_answer(running, stand_in)
    headline = stand_in.reply
    stored_meanwhile: list[bool] = []

    def reply(request: dict[str, Any]) -> tuple[int, bytes, float]:
        if request["messages"][0]["content"] != GROUPING_SYSTEM:
            done = threading.Event()

            def another_write() -> None:
                with transaction(running.database.sessions) as session:
                    audit.record(session, FRIDAY_NOON, "test", "test.meanwhile")
                done.set()

            threading.Thread(target=another_write, daemon=True).start()
            stored_meanwhile.append(done.wait(10))
        return headline(request)

    stand_in.reply = reply
    answered = running.slack.submit(FACILITATOR, form.answer["view"], rename(form))
    assert answered.status == 200 and not answered.body, answered.body
    renamed(running)
    assert stored_meanwhile and all(stored_meanwhile), stored_meanwhile


def test_an_edit_the_model_takes_long_over_closes_the_form_in_time_and_is_saved(
        with_patient_model: Running, stand_in: StandIn) -> None:
    """Slack gives a form's submission three seconds; the model, wording the draft again,
    answers only after the form was answered: the form closes in time (no error shown), the
    change is saved after, and a direct message says so."""
    running = with_patient_model
    form = edit_form_opened_before_an_answer(running, stand_in)
    with held(stand_in) as let_go:
        answered = running.slack.submit(FACILITATOR, form.answer["view"], rename(form))
        assert answered.status == 200 and not answered.body, answered.body
        let_go()
    renamed(running)
    told = running.wait_for(lambda: [c.params["text"] for c in running.stub.posted(
        "D" + FACILITATOR) if "are saved" in c.params.get("text", "")], "that it is saved")
    assert told[0].startswith(f"Your changes to the draft of round {round_of_form(form)} are "
                              f"saved: Theme {PROMPT}/1 is now "), told


def test_an_edit_refused_after_its_form_closed_says_why_in_a_direct_message(
        with_patient_model: Running, stand_in: StandIn) -> None:
    """The form closed in time while the model worded the draft; meanwhile the draft was
    approved, so the change cannot be made: the facilitator is told so, and why."""
    running = with_patient_model
    form = edit_form_opened_before_an_answer(running, stand_in)
    with held(stand_in) as let_go:
        answered = running.slack.submit(FACILITATOR, form.answer["view"], rename(form))
        assert answered.status == 200 and not answered.body, answered.body
        approve = button(draft_in(running, FACILITATOR), review_blocks.REVIEW_APPROVE)
        answers = len(running.stub.calls_to("response_url"))
        running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
        respond_text(running, answers, "Approved")  # approved while the model words the edit
        let_go()
    told = running.wait_for(lambda: [c.params["text"] for c in running.stub.posted(
        "D" + FACILITATOR) if "were not saved" in c.params.get("text", "")], "why not")
    assert told[0].startswith(
        f"Your changes to the draft of round {round_of_form(form)} were not saved: "), told
    assert "already approved" in told[0], told


def round_of_form(form: Any) -> int:
    return int(json.loads(form.params["view"]["private_metadata"])["round"])
