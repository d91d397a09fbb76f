"""Acceptance 6 of issue 12: ties share a place ("=2"), the top the question asks for is marked
and one line says how points are counted, in the Slack blocks, Markdown, HTML and Word outputs
(each read back as a reader sees it), and in the JSON. A reason typed with a ballot appears
under the top option its author put first; words written to the question apart from a ballot
are its comments."""

from __future__ import annotations

import io
import json
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser

import pytest
from docx import Document

from bot.core.digest.build import build_digest
from bot.core.digest.model import DigestView
from bot.core.digest.render_csv import render_csv
from bot.core.digest.render_docx import render_docx
from bot.core.digest.render_html import render_html
from bot.core.digest.render_md import render_md
from bot.core.digest.render_text import render_text
from bot.core.digest.synthesis import BEYOND_ROOM
from bot.core.people import find_participant
from bot.slack.digest_blocks import digest_messages
from bot.teams.digest_cards import digest_cards
from storage.database import Database
from storage.db import transaction
from storage.models import Reply
from tests.digest.builders import RANK_PROMPT, Said, demo_people, demo_said, round_with
from tests.digest.test_renderers import md_plain
from tests.helpers import seed_pack
from tests.slack_reading import as_read

OPTIONS = seed_pack().prompt(RANK_PROMPT).options  # type: ignore[union-attr]
FIRST, TIED_A, TIED_B, FOURTH, FIFTH = OPTIONS[:5]
REASON = "Without time set aside nobody can lead anything well."
POINTS = ("5 points for a first place, 4 for a second, 3 for a third, 2 for a fourth and 1 for "
          "a fifth")


COMMENT = "Honestly the list matters less than who turns up to the meetings."


@pytest.fixture
def view(database: Database, now: datetime) -> DigestView:
    """Two ballots, one typed with a reason after it; a comment its author wrote afterwards."""
    people = demo_people()[:2]
    ballots = [(FIRST, TIED_A, TIED_B, FOURTH, FIFTH), (FIRST, TIED_B, TIED_A, FOURTH, FIFTH)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, [
            Said(people[1].platform_user_id, RANK_PROMPT, choices=ballots[1])])
        author = find_participant(session, people[0].platform_user_id, "slack")
        assert author is not None
        typed = ", ".join(ballots[0]) + f"\n\n{REASON}"
        session.add(Reply(round_id=round_.id, prompt_id=RANK_PROMPT, participant_id=author.id,
                          text=typed, choices=list(ballots[0]), source="chat",
                          created_at=now))
        session.add(Reply(round_id=round_.id, prompt_id=RANK_PROMPT, participant_id=author.id,
                          text=COMMENT, source="chat", created_at=now))
        session.flush()
        return build_digest(session, round_.id, now)


class Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def lines_of(view: DigestView) -> dict[str, str]:
    """Each output as a reader reads it: plain text, markup taken away."""
    slack = next(m for m in digest_messages(view, charts=False)
                 if RANK_PROMPT in json.dumps(m.blocks) or "support factors" in m.text)
    html = Text()
    html.feed(render_html(view, charts=False))
    word = Document(io.BytesIO(render_docx(view)))
    return {
        "slack": as_read(slack.blocks).replace("*", "").replace("_(", "(").replace(")_", ")"),
        "markdown": md_plain(render_md(view)).replace("**", ""),
        "html": "".join(html.parts),
        "word": "\n".join(p.text for p in word.paragraphs),
    }


def test_it_shows_ties_the_top_the_question_asks_for_and_how_points_count(
        view: DigestView) -> None:
    rows = {r["option"]: r for r in next(p for p in view.to_json()["prompts"]
                                         if p["prompt_id"] == RANK_PROMPT)["ranking"]}
    assert [rows[o]["place"] for o in (FIRST, TIED_A, TIED_B, FOURTH, FIFTH)] == [1, 2, 2, 4, 5]
    assert rows[TIED_A]["place_label"] == "=2" and rows[FIRST]["place_label"] == "1"
    for name, text in lines_of(view).items():
        assert f"1. {FIRST} (top 5)" in text, name
        assert f"=2. {TIED_A} (top 5)" in text and f"=2. {TIED_B} (top 5)" in text, name
        assert f"4. {FOURTH} (top 5)" in text and f"5. {FIFTH} (top 5)" in text, name
        assert f"{OPTIONS[5]} (top 5)" not in text, name
        assert POINTS in text, name
        assert "the top 5 the question asks for" in text, name


def test_a_reason_is_under_the_first_choice_and_a_comment_under_the_question(
        view: DigestView) -> None:
    prompt = view.to_json()["prompts"][-1]
    reason = [q["text"] for r in prompt["reasons"] if r["option"] == FIRST for q in r["quotes"]]
    assert reason == [REASON]
    assert [q["text"] for q in prompt["comments"]] == [COMMENT]
    ids = prompt["unthemed_reply_ids"]
    assert len(ids) == len(set(ids)) == 3  # two ballots and the comment, once each
    for name, text in lines_of(view).items():
        why = text.index(f"1. {FIRST}: why people put it first")
        comments = text.index("Comments on the question (1)")
        assert why < text.index(REASON) < comments < text.index(COMMENT), name


def test_it_marks_themes_not_raised_in_the_room_in_every_format(
        database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, demo_people(), demo_said(extra=False))
        view = build_digest(session, round_.id, now)
    themes = [t for p in view.prompts for t in p.themes]
    beyond = [t for t in themes if t.beyond_room]
    assert beyond and all(t.origin == "chat" for t in beyond)
    assert all(t.beyond_room for t in themes if t.origin == "chat")
    word = Document(io.BytesIO(render_docx(view)))
    outputs = {
        "slack": json.dumps([m.blocks for m in digest_messages(view, charts=False)]),
        "markdown": render_md(view), "html": render_html(view, charts=False),
        "word": "\n".join(p.text for p in word.paragraphs), "csv": render_csv(view),
        "text": render_text(view),
    }
    for name, out in outputs.items():
        assert out.count(BEYOND_ROOM) >= len(beyond), name
    assert all(t["beyond_room"] for p in view.to_json()["prompts"] for t in p["themes"]
               if t["origin"] == "chat")


def test_a_round_with_no_answers_from_the_room_marks_no_theme_with_where_it_was_said(
        database: Database, now: datetime) -> None:
    said = [replace(s, source="chat") for s in demo_said(extra=False)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, demo_people(), said)
        view = build_digest(session, round_.id, now)
    assert [t for p in view.prompts for t in p.themes]
    word = Document(io.BytesIO(render_docx(view)))
    outputs = {
        "slack": json.dumps([m.blocks for m in digest_messages(view, charts=False)]),
        "markdown": render_md(view), "html": render_html(view, charts=False),
        "word": "\n".join(p.text for p in word.paragraphs), "text": render_text(view),
    }
    for name, out in outputs.items():
        for where in ("said in the chat", "said in the room", "in the room and the chat",
                      BEYOND_ROOM):
            assert where not in out, (name, where)


def test_it_says_who_has_not_been_heard_from_when_nobody_has_a_role(
        database: Database, now: datetime) -> None:
    people = [replace(p, role=None) for p in demo_people()[:3]]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, [], anonymity="named")
        view = build_digest(session, round_.id, now)
    text = render_text(view) + render_md(view)
    assert "not givens" not in text
    # "nobody whose role is not given" read as if everyone had answered
    assert "Not heard from yet: no answer yet from anyone whose role is not given." in text
    assert "nobody whose role" not in text
    assert "0 of 3 people invited" in md_plain(render_md(view))


def test_who_has_not_been_heard_from_is_a_sentence_in_every_format(
        database: Database, now: datetime) -> None:
    """The leadership group reads "Not heard from yet: no community pharmacists yet." with its
    full stop in the posted digest and in every export, not only in the terminal's text."""
    people = [replace(p, role=None) for p in demo_people()[:3]]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, [], anonymity="named")
        view = build_digest(session, round_.id, now)
    html = Text()
    html.feed(render_html(view, charts=False))
    word = Document(io.BytesIO(render_docx(view)))
    top_card = json.loads(json.dumps(digest_cards(view)[0]))
    card = next(" ".join(r["text"] for r in block["inlines"]) for block in top_card["body"]
                if block.get("type") == "RichTextBlock"
                and block["inlines"][0]["text"].startswith("Not heard from yet"))
    outputs = {
        "text": render_text(view), "markdown": md_plain(render_md(view)).replace("**", ""),
        "html": "\n".join(html.parts), "word": "\n".join(p.text for p in word.paragraphs),
        "slack": as_read(digest_messages(view, charts=False)[0].blocks).replace("*", ""),
        "teams": card,
    }
    for name, out in outputs.items():
        lines = [line.strip() for line in out.splitlines() if "anyone whose role" in line]
        assert lines, name
        assert all(line.endswith("is not given.") for line in lines), (name, lines)
