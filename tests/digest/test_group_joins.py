"""A theme a facilitator made of answers (`group`) takes in the answers given after it that
say the same thing: the engine puts them back in the theme the facilitator split, and the
next digest shows them in the facilitator's theme, which "grew", while answers of the other
subject stay where they were and an answer the facilitator moved stays where they moved it."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from bot.core.digest import embeddings
from bot.core.digest.build import build_digest
from bot.core.digest.changes import compare, record_digest, snapshot
from bot.core.digest.edits import HIDDEN, Edit, Joining, apply_edits
from bot.core.digest.model import AnswerView, DigestView, PromptDigest, ThemeView
from bot.core.digest.novelty import Judgement
from bot.core.digest.render_md import render_md
from bot.core.digest.synthesis import theme_line
from bot.core.digest.theme_views import Grouping
from storage.database import Database
from storage.db import transaction
from storage.models import DigestEdit
from tests.digest.builders import Said, round_with, summed_up_from, view_of
from tests.digest.test_stable_themes import PEOPLE, PROMPT, add

# Written for this test. Two subjects the stand-in engine below keeps in one theme: being
# released from the counter, and learning beside someone who has led before; and a third.
RELEASED = [
    "Backfill for my shifts so that I can step away from the counter",
    "A locum booked and paid for so I can leave the dispensary for a day",
    "Cover at the counter while I attend the leadership days",
    "Someone to run the dispensary so I can be released for the course",
    "Paid backfill so the counter is staffed when I am away",
    "Locum cover for the counter on the days I am released",
    "Backfill that lets me leave the dispensary without closing it",
    "A second pharmacist on the counter so I can step away",
]
ALONGSIDE = [
    "Shadowing a chief pharmacist for a week to see how they lead",
    "Working alongside an experienced leader and watching how they handle a board",
    "Time shadowing a clinical director in a neighbouring trust",
    "Sitting in with a senior leader while they chair difficult meetings",
    "Watching an experienced director run a service change, close up",
    "Shadowing a senior pharmacist who has led a service redesign",
    "Following an experienced leader through their week to learn how they decide",
    "A placement shadowing a director of pharmacy to watch how an experienced leader works",
    "Sitting beside a seasoned leader as they negotiate with commissioners",
]
RECORDS = [
    "Read access to the GP record from the pharmacy computer",
    "One login for the shared care record instead of three",
    "Referrals that arrive electronically rather than by fax",
    "Hospital discharge letters that reach the pharmacy system",
    "A records system that shows the patient's latest blood results",
]
TITLE = "Learning beside a leader"


def lumping(answers: Sequence[AnswerView], question: str) -> Grouping:
    """The engine as the facilitator found it: both subjects of support in one theme, the
    records in another, whenever the answers were given."""
    support = [a.reply_id for a in answers if a.text in RELEASED or a.text in ALONGSIDE]
    records = [a.reply_id for a in answers if a.text in RECORDS]
    rest = [a.reply_id for a in answers if a.reply_id not in {*support, *records}]
    return Grouping([("Support to take part", "", support, []),
                     ("Records that join up", "", records, [])], rest)


def asked(view: DigestView) -> PromptDigest:
    found = view.prompt(PROMPT)
    assert found is not None
    return found


def holding(prompt: PromptDigest, text: str) -> ThemeView:
    [answer] = ids_of(prompt, [text])
    [theme] = [t for t in prompt.themes if answer in t.reply_ids]
    return theme


def ids_of(prompt: PromptDigest, texts: Sequence[str]) -> list[str]:
    return [a.reply_id for a in prompt.answers if a.text in texts]


def edit(session: Session, round_id: int, action: str, at: datetime, **what: object) -> None:
    session.add(DigestEdit(round_id=round_id, prompt_id=PROMPT, action=action,
                           actor="facilitator", at=at, **what))
    session.flush()


@pytest.fixture(params=["model", "tf-idf"])
def vectors(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The sentence model's vectors, and TF-IDF's where the model cannot be had."""
    if request.param == "tf-idf":
        embeddings.use_model(tmp_path / "no-model-here")
        with pytest.raises(embeddings.ModelUnavailable):
            embeddings.default_encoder()
    elif embeddings.model_location() is None:
        pytest.skip("the sentence model is not installed")
    try:
        yield request.param
    finally:
        embeddings.use_model(None)


def test_answers_given_later_that_say_the_same_join_the_facilitators_theme(
        database: Database, now: datetime, vectors: str) -> None:
    first = [*RELEASED[:4], *ALONGSIDE[:5], *RECORDS]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, [
            Said(p.platform_user_id, PROMPT, text) for p, text in zip(PEOPLE, first,
                                                                      strict=False)],
            anonymity="role")
        opening = asked(build_digest(session, round_.id, now, engine=lumping))
        named = ids_of(opening, ALONGSIDE)
        assert any(set(named) <= set(t.reply_ids) for t in opening.themes)  # lumped
        edit(session, round_.id, "group", now, other=named, text=TITLE)
        reviewed = build_digest(session, round_.id, now, engine=lumping)
        assert [len(t.reply_ids) for t in asked(reviewed).themes if t.title == TITLE] == [5]
        record_digest(session, round_.id, "week-1", reviewed, now)

        week2 = now + timedelta(days=7)
        add(session, round_.id, [*ALONGSIDE[5:], *RELEASED[4:]], len(first), week2)
        grown = build_digest(session, round_.id, week2, engine=lumping)
        prompt = asked(grown)
        joined, released = ids_of(prompt, ALONGSIDE[5:]), ids_of(prompt, RELEASED[4:])
        [theirs] = [t for t in prompt.themes if t.title == TITLE]
        assert theirs.reply_ids == [*named, *joined]
        assert theme_line(theirs).startswith("9 answers") and summed_up_from(theirs, prompt)
        assert theirs.quotes and {q.reply_id for q in theirs.quotes} <= set(theirs.reply_ids)
        support = holding(prompt, RELEASED[0])
        assert set(released) <= set(support.reply_ids)
        assert not set(ids_of(prompt, RELEASED)) & set(theirs.reply_ids)
        changes = grown.since_last
        assert changes is not None
        assert (TITLE, 4, 9) in [(c.title, c.added, c.total) for c in changes.grown_themes]
        assert TITLE not in [c.title for c in changes.new_themes]
        markdown = render_md(grown)
        assert f"“{TITLE}” grew by 4 to 9 answers." in markdown
        assert f"New theme “{TITLE}”" not in markdown

        # One of them moved by the facilitator stays where they put it; one hidden is still
        # counted in the theme it joined, and never quoted.
        moved, hidden = joined[0], joined[1]
        edit(session, round_.id, "move", week2, reply_id=moved, theme=support.reply_ids)
        edit(session, round_.id, "hide", week2, reply_id=hidden)
        edited = build_digest(session, round_.id, week2, engine=lumping)
    prompt = asked(edited)
    [theirs] = [t for t in prompt.themes if t.title == TITLE]
    support = holding(prompt, RELEASED[0])
    assert moved in support.reply_ids and moved not in theirs.reply_ids
    assert hidden in theirs.reply_ids and theme_line(theirs).startswith("8 answers")
    assert summed_up_from(theirs, prompt)
    assert hidden not in {q.reply_id for t in prompt.themes for q in t.quotes}
    assert [a.text for a in prompt.answers if a.reply_id == hidden] == [HIDDEN]
    placed = [r for t in prompt.themes for r in t.reply_ids] + prompt.unthemed_reply_ids
    assert sorted(placed) == sorted(a.reply_id for a in prompt.answers)


def test_answers_given_before_the_theme_was_made_stay_where_the_facilitator_left_them(
        database: Database, now: datetime) -> None:
    """Only answers given after the theme was made may join it: those the facilitator saw and
    did not name were theirs to take, and they left them."""
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, [
            Said(p.platform_user_id, PROMPT, text) for p, text in zip(
                PEOPLE, [*RELEASED[:4], *ALONGSIDE, *RECORDS], strict=False)],
            anonymity="role")
        opening = asked(build_digest(session, round_.id, now, engine=lumping))
        named = ids_of(opening, ALONGSIDE[:5])
        edit(session, round_.id, "group", now, other=named, text=TITLE)
        prompt = asked(build_digest(session, round_.id, now + timedelta(days=7),
                                    engine=lumping))
    [theirs] = [t for t in prompt.themes if t.title == TITLE]
    assert theirs.reply_ids == named


def test_nothing_joins_where_nothing_can_be_judged() -> None:
    """No vectors (neither the model nor TF-IDF): the theme holds the answers named."""
    view = view_of({PROMPT: [*RELEASED[:4], *ALONGSIDE[:5], *RECORDS, *ALONGSIDE[5:]]},
                   grouping=lumping)
    prompt = asked(view)
    named = ids_of(prompt, ALONGSIDE[:5])
    made = datetime(2026, 11, 20, tzinfo=UTC)
    given = {a.reply_id: made + timedelta(days=1) if a.text in ALONGSIDE[5:]
             else made - timedelta(days=1) for a in prompt.answers}
    words = {a.reply_id: a.text for a in prompt.answers}
    group = Edit(PROMPT, "group", other=tuple(named), text=TITLE, at=made)
    calls: list[int] = []

    def unjudged(new: Sequence[str], themes: Sequence[Sequence[str]]) -> None:
        calls.append(len(new))
        return None

    edited = apply_edits(view, [group], Joining(given, words, unjudged))
    [theirs] = [t for t in asked(edited.view).themes if t.title == TITLE]
    assert calls == [4] and theirs.reply_ids == named
    assert edited.placed == {PROMPT: set(named)}
    # and without the words and times to judge by, as before
    assert apply_edits(view, [group]).view == edited.view


def test_answers_that_joined_the_facilitators_theme_are_its_growth_whatever_the_judge_says(
        ) -> None:
    """"New since the last digest" does not judge again what joined a facilitator's theme:
    it grew by them, even where the judge would have said the theme it was split from."""
    base = view_of({})
    answers = [AnswerView(r, f"answer {r}", None, None, False) for r in "abcdefgh"]
    before = replace(base, prompts=[replace(
        base.prompts[0], prompt_id=PROMPT, themes=[
            ThemeView("Support to take part", "", [], ["a", "b", "c"], {}, "chat"),
            ThemeView(TITLE, "", [], ["d", "e"], {}, "chat")],
        answers=answers[:5])])
    after = replace(before, prompts=[replace(before.prompts[0], themes=[
        ThemeView("Support to take part", "", [], ["a", "b", "c", "f"], {}, "chat"),
        ThemeView(TITLE, "", [], ["d", "e", "g", "h"], {}, "chat")], answers=answers)])

    def split_from(new: Sequence[str], earlier: Sequence[Sequence[str]],
                   sizes: Sequence[int], worded: Sequence[str]) -> Judgement:
        assert list(new) == ["answer f"]
        return Judgement([0] * len(new), [])

    changes = compare(snapshot(before), after, "week 1", judge=split_from,
                      placed={PROMPT: {"d", "e", "g", "h"}})
    assert sorted((c.title, c.added, c.total) for c in changes.grown_themes) == [
        (TITLE, 2, 4), ("Support to take part", 1, 4)]
    assert changes.new_themes == []


def test_answers_given_while_the_facilitator_chose_may_join_their_theme(
        database: Database, now: datetime, vectors: str) -> None:
    """An answer given after the facilitator's form opened, and before they saved the new
    theme, was not on the form: it joins the theme when it says the same, as one given after
    the save does. Without the time the form opened (the command line), only answers given
    after the save may join."""
    first = [*RELEASED[:4], *ALONGSIDE[:5], *RECORDS]
    opened, saved = now + timedelta(minutes=1), now + timedelta(minutes=5)
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, [
            Said(p.platform_user_id, PROMPT, text) for p, text in zip(PEOPLE, first,
                                                                      strict=False)],
            anonymity="role")
        named = ids_of(asked(build_digest(session, round_.id, opened, engine=lumping)),
                       ALONGSIDE[:5])
        add(session, round_.id, [ALONGSIDE[5], RELEASED[4]], len(first),
            now + timedelta(minutes=3))
        edit(session, round_.id, "group", saved, other=named, text=TITLE, seen_at=opened)
        prompt = asked(build_digest(session, round_.id, saved, engine=lumping))
        session.get_one(DigestEdit, 1).seen_at = None
        session.flush()
        without = asked(build_digest(session, round_.id, saved, engine=lumping))
    [theirs] = [t for t in prompt.themes if t.title == TITLE]
    assert theirs.reply_ids == [*named, *ids_of(prompt, [ALONGSIDE[5]])]
    assert set(ids_of(prompt, [RELEASED[4]])) <= set(holding(prompt, RELEASED[0]).reply_ids)
    [theirs] = [t for t in without.themes if t.title == TITLE]
    assert theirs.reply_ids == named
