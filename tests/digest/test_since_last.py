"""Each digest leads with what changed since the last recorded one; a period is claimed once."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timedelta

from docx import Document

from bot.core.digest.build import build_digest
from bot.core.digest.changes import compare, record_digest, snapshot
from bot.core.digest.model import ThemeView
from bot.core.digest.render_docx import render_docx
from bot.core.digest.render_html import render_html
from bot.core.digest.render_md import render_md
from bot.core.digest.render_text import render_text
from bot.core.people import Person, find_participant
from bot.core.replies import record_reply, record_vote
from bot.slack.digest_blocks import digest_messages
from storage.database import Database
from storage.db import transaction
from tests.digest.builders import RANK_PROMPT, Said, round_with, view_of

PEOPLE = [Person(f"U{i}", f"P{i}", "PCN pharmacy lead", None) for i in range(4)]
FIRST = ("Protected time", "Information and analytics", "Leadership development",
         "Psychological safety", "Insights from elsewhere")
SECOND = ("Leadership development", "Psychological safety", "Insights from elsewhere",
          "Information and analytics", "Relationships and networks")


def theme(title: str, *ids: str) -> ThemeView:
    return ThemeView(title, "", [], list(ids), {}, "chat")


def test_it_records_a_period_once_and_compares_with_the_last_recorded(
    database: Database, now: datetime
) -> None:
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, [
            Said("U0", "done-well", "Covid vaccines."),
            Said("U0", RANK_PROMPT, choices=FIRST),
        ])
        first = build_digest(session, round_.id, now)
        assert first.since_last is None
        assert record_digest(session, round_.id, "2026-W47", first, now) is not None
        assert record_digest(session, round_.id, "2026-W47", first, now) is None
        later = now + timedelta(days=1)
        for uid in ("U1", "U2", "U3"):
            person = find_participant(session, uid, "slack")
            assert person is not None
            record_reply(session, round_.id, "done-well", person, f"Covid response {uid}", later)
            record_vote(session, round_.id, RANK_PROMPT, person, list(SECOND), later)
        session.flush()
        second = build_digest(session, round_.id, later)
    changes = second.since_last
    assert changes is not None
    assert changes.previous_period == "2026-W47"
    assert changes.new_answers == 6
    assert changes.new_by_prompt == {"done-well": 3, RANK_PROMPT: 3}
    assert changes.new_people == 3
    top = next(m for m in changes.moves if m.option == "Leadership development")
    assert (top.place, top.previous_place) == (1, 3)
    for rendered in (render_md(second), render_html(second, charts=False), render_text(second)):
        assert "New since the last digest" in rendered
        assert "6 new answers and votes and 3 more people took part" in rendered
        assert "“Leadership development” moved up to 1st (was 3rd)" in rendered
    top_message = str(digest_messages(second, charts=False)[0].blocks)
    assert "New since the last digest" in top_message and "moved up to 1st" in top_message


def test_it_says_which_themes_are_new_and_which_grew() -> None:
    before = view_of({})
    done_well = before.prompts[0]
    before = replace(before, prompts=[
        replace(done_well, themes=[theme("Covid", "a", "b"), theme("Care homes", "c", "d")],
                unthemed_reply_ids=["e"]),
        *before.prompts[1:],
    ])
    after = replace(before, prompts=[
        replace(done_well, themes=[
            theme("Covid response", "a", "b", "f", "g"),   # grew by two
            theme("Care homes", "c", "d"),                 # unchanged
            theme("Oxygen crisis", "e", "h", "i"),         # mostly new answers: a new theme
        ], unthemed_reply_ids=[]),
        *before.prompts[1:],
    ])
    changes = compare(snapshot(before), after, "week 1")
    assert changes.new_answers == 4
    assert [(c.title, c.added, c.total) for c in changes.new_themes] == [("Oxygen crisis", 2, 3)]
    assert [(c.title, c.added, c.total) for c in changes.grown_themes] == [
        ("Covid response", 2, 4)
    ]
    assert not changes.quiet


def test_it_says_nothing_is_new_when_nothing_changed() -> None:
    view = view_of({"done-well": ["Covid vaccines", "Care homes"]})
    changes = compare(snapshot(view), view)
    assert changes.quiet and changes.new_answers == 0
    assert "Nothing new since the last digest." in render_md(replace(view, since_last=changes))


def test_a_move_into_a_shared_place_says_the_place_as_the_ranking_does(
    database: Database, now: datetime
) -> None:
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, [Said("U0", RANK_PROMPT, choices=FIRST)])
        record_digest(session, round_.id, "2026-W47", build_digest(session, round_.id, now), now)
        later = now + timedelta(days=1)
        person = find_participant(session, "U1", "slack")
        assert person is not None
        # Leadership development (3rd) draws level with Protected time on points and firsts
        record_vote(session, round_.id, RANK_PROMPT, person,
                    ["Leadership development", "Relationships and networks", "Protected time",
                     "Information and analytics", "Psychological safety"], later)
        session.flush()
        second = build_digest(session, round_.id, later)
    rank = second.prompt(RANK_PROMPT)
    assert rank is not None
    assert {r.option: r.place_label for r in rank.ranking}["Leadership development"] == "=1"
    line = "“Leadership development” moved up to =1st (was 3rd)"
    word = "\n".join(p.text for p in Document(io.BytesIO(render_docx(second))).paragraphs)
    top = str(digest_messages(second, charts=False)[0].blocks)
    for rendered in (render_text(second), render_md(second), render_html(second, charts=False),
                     word, top):
        assert line in rendered
        assert "moved up to 1st" not in rendered
    moves = second.to_json()["since_last"]["moves"]
    moved = next(m for m in moves if m["option"] == "Leadership development")
    assert (moved["tied"], moved["place_label"], moved["previous_place_label"]) == (
        True, "=1", "3")


def test_new_answers_by_role_add_up_with_the_roles_not_shown_as_other_roles(
        database: Database, now: datetime) -> None:
    people = [*PEOPLE, Person("U8", "P8", "chief pharmacist", None),
              Person("U9", "P9", None, None)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, [Said("U0", "done-well", "Covid vaccines.")],
                            anonymity="role")
        record_digest(session, round_.id, "2026-W47", build_digest(session, round_.id, now), now)
        later = now + timedelta(days=1)
        for uid in ("U1", "U2", "U3", "U8", "U9"):
            person = find_participant(session, uid, "slack")
            assert person is not None
            record_reply(session, round_.id, "done-well", person, f"Covid response {uid}", later)
        session.flush()
        second = build_digest(session, round_.id, later)
    assert second.since_last is not None and second.since_last.new_answers == 5
    # a chief pharmacist alone, and someone with no role, are not shown by role
    assert second.since_last.new_by_role == {"PCN pharmacy lead": 3, "other roles": 2}
    assert "New answers by role: PCN pharmacy lead 3, other roles 2." in render_text(second)


def test_roles_with_as_many_new_answers_are_listed_by_name(database: Database,
                                                            now: datetime) -> None:
    """Equal counts read in one order, whatever order the answers came in (it followed the
    hashing of their ids, so one digest could list the roles one way and its copy the other)."""
    roles = ["technician", "PCN pharmacy lead", "GP", "community pharmacist"]
    people = [Person(f"U{r}{i}", f"P{r}{i}", role, None)
              for r, role in enumerate(roles) for i in range(3)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, [Said("U00", "done-well", "Covid vaccines.")],
                            anonymity="role")
        record_digest(session, round_.id, "2026-W47", build_digest(session, round_.id, now), now)
        later = now + timedelta(days=1)
        for person_ in people[::-1]:
            person = find_participant(session, person_.platform_user_id, "slack")
            assert person is not None
            record_reply(session, round_.id, "done-well", person,
                         f"Covid response {person_.platform_user_id}", later)
        session.flush()
        second = build_digest(session, round_.id, later)
    assert ("New answers by role: community pharmacist 3, GP 3, PCN pharmacy lead 3, "
            "technician 3.") in render_text(second)


def test_a_long_question_is_named_in_whole_words_in_what_is_new(database: Database,
                                                                 now: datetime) -> None:
    """"11 to “If we wanted governance to be as ineffective as possible, w…”": a question
    too long for the line is cut after a whole word."""
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, [Said("U0", "anti-governance",
                                                        "Three sign-offs for everything.")])
        record_digest(session, round_.id, "2026-W47", build_digest(session, round_.id, now), now)
        later = now + timedelta(days=1)
        person = find_participant(session, "U1", "slack")
        assert person is not None
        record_reply(session, round_.id, "anti-governance", person, "Meetings with no notes.",
                     later)
        session.flush()
        text = render_text(build_digest(session, round_.id, later))
    line = next(x for x in text.splitlines() if "new answer" in x)
    assert "“If we wanted governance to be as ineffective as possible…”" in line, line
