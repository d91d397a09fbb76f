"""A language model's grouping (ROUNDTABLE_LLM_URL, unless ROUNDTABLE_LLM_GROUPING=false): its
groups make the themes a reader sees, labelled as its proposal in every format; it is never
sent a reply that is not an answer nor the words of someone who asked not to be quoted; any
odd, hostile or missing answer leaves the engine's themes. Against a local stand-in of an
OpenAI-compatible endpoint, through build_digest on a stored round."""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.app.roundtable import model_summariser
from bot.config import load_settings
from bot.core.digest.build import build_digest
from bot.core.digest.model import DigestView, PromptDigest
from bot.core.digest.summariser import GROUPING_SYSTEM, Endpoint, summariser
from bot.core.digest.synthesis import GROUPED_BY_MODEL
from bot.core.people import Person
from storage.database import Database
from storage.db import transaction
from storage.model_answers import DatabaseModelAnswers
from storage.models import ModelAnswer
from tests.digest.builders import Said, round_with
from tests.digest.test_model_headlines import every_format
from tests.digest.test_stable_themes import MENTOR, PEERS, TIME
from tests.digest.test_summariser import StandIn, chat, endpoint

__all__ = ["endpoint"]  # the stand-in's fixture, used here too

PROMPT = "best-support"
OTHER_PROMPT = "done-well"
PEOPLE = [Person(f"U{i:03d}", f"Person {i}", "community pharmacist", None) for i in range(40)]
PRIVATE = "Mentoring from the deputy superintendent, don't quote me on that"
SAYS_NOTHING = "?!"
ANSWERS = [*TIME[:5], *MENTOR[:5], *PEERS[:5], PRIVATE, SAYS_NOTHING]
NUMBERED = re.compile(r"^(\d+)\. (.*)$", re.M)
sqlite_only = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
"""For tests of what the model answers, not of storage (the first tests run on both)."""


def stored_round(database: Database, now: datetime, second_question: bool = False) -> int:
    said = [Said(PEOPLE[n].platform_user_id, PROMPT, text) for n, text in enumerate(ANSWERS)]
    if second_question:
        said += [Said(PEOPLE[20 + n].platform_user_id, OTHER_PROMPT, text)
                 for n, text in enumerate([*TIME[5:10], *MENTOR[5:10]])]
    with transaction(database.sessions) as session:
        return round_with(session, now, PEOPLE, said, anonymity="named").id


def digest(database: Database, round_id: int, now: datetime, url: str,
           grouping: bool = True) -> DigestView:
    model = summariser(Endpoint(url, "m", timeout=5), grouping=grouping)
    with database.sessions() as session:
        return build_digest(session, round_id, now, summariser=model)


def grouping_requests(stand_in: StandIn) -> list[str]:
    return [r["messages"][1]["content"] for r in stand_in.requests
            if r["messages"][0]["content"] == GROUPING_SYSTEM]


def sent_answers(content: str) -> dict[int, str]:
    return {int(n): text for n, text in NUMBERED.findall(content)}


def answering(stand_in: StandIn, group: Any) -> None:
    """Grouping requests get `group(answers sent, by number)` as the model's JSON (a dict, or
    raw text); headline requests get a server error (the offline headlines stand)."""
    def reply(request: dict[str, Any]) -> tuple[int, bytes, float]:
        if request["messages"][0]["content"] != GROUPING_SYSTEM:
            return 500, b"", 0.0
        out = group(sent_answers(request["messages"][1]["content"]))
        return 200, chat(out if isinstance(out, str) else json.dumps(out)), 0.0
    stand_in.reply = reply


def two_groups(sent: dict[int, str]) -> dict[str, Any]:
    """Not what the engine finds: mentors and peers as one theme ("people to learn from"),
    time set aside as the other."""
    people = [n for n, text in sent.items() if text in MENTOR or text in PEERS]
    time = [n for n, text in sent.items() if text in TIME]
    return {"themes": [{"label": "People to learn from", "answers": people},
                       {"label": "Time", "answers": time}]}


def texts(prompt: PromptDigest, ids: list[str]) -> set[str]:
    words = {a.reply_id: a.text for a in prompt.answers}
    return {words[r] for r in ids}


def everything_once(prompt: PromptDigest) -> None:
    placed = [r for t in prompt.themes for r in t.reply_ids] + prompt.unthemed_reply_ids
    assert sorted(placed) == sorted(a.reply_id for a in prompt.answers)


def test_the_models_groups_make_the_themes_and_every_format_says_so(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    answering(stand_in, two_groups)
    round_id = stored_round(database, now)
    view = digest(database, round_id, now, url)
    prompt = view.prompt(PROMPT)
    assert prompt is not None
    everything_once(prompt)
    themes = {frozenset(texts(prompt, t.reply_ids)) for t in prompt.themes}
    # The private answer was not sent, so it joins the group of the answer most like it
    # (a mentor's); its words stay out of every output.
    assert themes == {frozenset(TIME[:5]),
                      frozenset([*MENTOR[:5], *PEERS[:5], "(asked not to be quoted)"])}
    assert all(t.grouped_by_model for t in prompt.themes)
    for name, out in every_format(view).items():
        assert GROUPED_BY_MODEL in out or (
            name == "json" and '"grouped_by_model": true' in out), name
        assert "People to learn from" not in out, name  # its label is never shown
        assert "deputy superintendent" not in out, name


def test_it_never_sends_a_non_answer_or_the_words_of_who_asked_not_to_be_quoted(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    answering(stand_in, two_groups)
    digest(database, stored_round(database, now), now, url)
    [request] = grouping_requests(stand_in)
    sent = set(sent_answers(request).values())
    assert sent == {*TIME[:5], *MENTOR[:5], *PEERS[:5]}
    everything_sent = json.dumps(stand_in.requests)
    assert "deputy superintendent" not in everything_sent
    assert SAYS_NOTHING not in sent


HOSTILE: list[Any] = [
    "no JSON here, just my thoughts about the answers",
    {"themes": "Dave Smith bullied me"},
    {"themes": [{"label": "Dave Smith at Boots", "answers": [1]}, {"answers": [2]},
                {"answers": [3]}, {"answers": [4]}]},  # groups of one: nothing grouped
    {"themes": [{"answers": [0, 99, -3, "2", True, None, 2.0]}]},  # nothing usable
    {"themes": [{"answers": list(range(1, 16))}]},  # all in one
]


@sqlite_only
@pytest.mark.parametrize("answer", HOSTILE)
def test_an_odd_or_hostile_grouping_leaves_the_engines_themes(
        database: Database, now: datetime, endpoint: tuple[StandIn, str], answer: Any) -> None:
    stand_in, url = endpoint
    round_id = stored_round(database, now)
    with database.sessions() as session:
        offline = build_digest(session, round_id, now).prompt(PROMPT)
    assert offline is not None
    answering(stand_in, lambda _sent: answer)
    prompt = digest(database, round_id, now, url).prompt(PROMPT)
    assert prompt is not None
    everything_once(prompt)
    if answer == HOSTILE[-1]:  # a grouping, if a poor one: used, and labelled
        assert len(prompt.themes) == 1 and prompt.themes[0].grouped_by_model
        return
    assert [t.reply_ids for t in prompt.themes] == [t.reply_ids for t in offline.themes]
    assert not any(t.grouped_by_model for t in prompt.themes)


@sqlite_only
def test_repeats_and_unknown_numbers_are_dropped_and_each_answer_is_shown_once(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint

    def repeats(sent: dict[int, str]) -> dict[str, Any]:
        grouped = two_groups(sent)
        time, people = grouped["themes"][1]["answers"], grouped["themes"][0]["answers"]
        return {"themes": [{"answers": [*time, 999, time[0]]},
                           {"answers": [*people, *time[:2], 0]}]}

    answering(stand_in, repeats)
    prompt = digest(database, stored_round(database, now), now, url).prompt(PROMPT)
    assert prompt is not None
    everything_once(prompt)
    assert {frozenset(texts(prompt, t.reply_ids)) for t in prompt.themes} == {
        frozenset(TIME[:5]), frozenset([*MENTOR[:5], *PEERS[:5], "(asked not to be quoted)"])}


def test_an_endpoint_that_fails_is_not_asked_again_for_the_next_question(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    stand_in.reply = lambda _request: (503, b"", 0.0)
    round_id = stored_round(database, now, second_question=True)
    view = digest(database, round_id, now, url)
    assert len(grouping_requests(stand_in)) == 1
    for prompt_id in (PROMPT, OTHER_PROMPT):
        prompt = view.prompt(prompt_id)
        assert prompt is not None and prompt.themes, prompt_id
        assert not any(t.grouped_by_model for t in prompt.themes)
        everything_once(prompt)


@sqlite_only
def test_grouping_turned_off_asks_the_model_for_headlines_only(
        database: Database, now: datetime, endpoint: tuple[StandIn, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    stand_in, url = endpoint
    answering(stand_in, two_groups)
    view = digest(database, stored_round(database, now), now, url, grouping=False)
    assert grouping_requests(stand_in) == [] and stand_in.requests  # headlines were asked
    prompt = view.prompt(PROMPT)
    assert prompt is not None and not any(t.grouped_by_model for t in prompt.themes)
    monkeypatch.setenv("ROUNDTABLE_LLM_URL", url)
    monkeypatch.setenv("ROUNDTABLE_LLM_GROUPING", "false")
    off = model_summariser(load_settings())
    assert off is not None and getattr(off, "engine", "missing") is None
    monkeypatch.delenv("ROUNDTABLE_LLM_GROUPING")
    on = model_summariser(load_settings())
    assert on is not None and getattr(on, "engine", None) is not None


def test_a_second_process_shows_the_groups_the_first_was_given_without_asking_again(
        database: Database, now: datetime, endpoint: tuple[StandIn, str]) -> None:
    """The scheduler drafts a digest; a server, another process, posts it once approved: both
    must show the themes the facilitator saw, though the model would now answer otherwise."""
    stand_in, url = endpoint
    round_id = stored_round(database, now)
    answering(stand_in, two_groups)
    stores = [DatabaseModelAnswers(database.sessions) for _ in range(2)]
    processes = [summariser(Endpoint(url, "m", timeout=5), shared=store) for store in stores]
    with database.sessions() as session:  # on SQLite, this holds the write turn throughout
        drafted = build_digest(session, round_id, now, summariser=processes[0]).prompt(PROMPT)
    stores[0].flush(timeout=20)  # the first process's grouping has been written
    answering(stand_in, lambda sent: {"themes": [{"answers": list(sent)}]})  # all in one
    with database.sessions() as session:
        posted = build_digest(session, round_id, now, summariser=processes[1]).prompt(PROMPT)
    assert drafted is not None and posted is not None
    assert len(grouping_requests(stand_in)) == 1
    assert [t.reply_ids for t in posted.themes] == [t.reply_ids for t in drafted.themes]
    assert len(posted.themes) == 2 and all(t.grouped_by_model for t in posted.themes)
    with database.sessions() as session:
        [kept] = session.scalars(select(ModelAnswer).where(ModelAnswer.kind == "grouping"))
    assert len(kept.key) == 64 and set(kept.value) <= {-1, 0, 1} and kept.round_id is None
    assert not any(word in json.dumps(kept.value) for word in ("mentor", "Time"))
