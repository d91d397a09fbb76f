"""Every total a reader sees adds up the questions' own counts: a reply set aside as not an
answer is counted apart, in the questions, the totals, the JSON and "new since"."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta

from docx import Document

from bot.core.digest.build import build_digest
from bot.core.digest.changes import record_digest
from bot.core.digest.render_docx import render_docx
from bot.core.digest.render_html import render_html
from bot.core.digest.render_md import render_md
from bot.core.digest.render_text import render_text
from bot.core.people import Person, find_participant
from bot.core.replies import record_reply, record_vote
from bot.slack.digest_blocks import digest_messages
from bot.teams.digest_cards import digest_cards
from storage.database import Database
from storage.db import transaction
from storage.models import Reply
from tests.digest.builders import Said, demo_people, demo_said, round_with
from tests.teams_connector_stub import Call, card_text

QUESTION_COUNT = re.compile(r"^ {3}(\d+) (?:answers?|ballots?)[.,]", re.MULTILINE)
"""A question's count, under its heading (three spaces in: a theme's lines are further in)."""


def test_it_counts_in_every_total_only_what_the_questions_count_as_answers(
    database: Database, now: datetime
) -> None:
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, demo_people(), demo_said(extra=False))
        view = build_digest(session, round_.id, now)
    text = render_text(view)
    per_question = [int(n) for n in QUESTION_COUNT.findall(text)]
    assert len(per_question) == len(view.prompts)
    assert "reply that was not an answer" in text  # the demo has some: "See above"
    total = sum(per_question)
    word = "\n".join(p.text for p in Document(io.BytesIO(render_docx(view))).paragraphs)
    for document in (render_md(view), render_html(view, charts=False), word):
        assert f"{total} answers and votes in all" in document
    top = digest_messages(view, charts=False)[0]
    assert f"{total} answers and votes across 6 questions" in str(top.blocks)
    data = view.to_json()
    assert [p["answer_count"] for p in data["prompts"]] == per_question
    not_answers = [sum(a["noise"] for a in p["answers"]) for p in data["prompts"]]
    assert [p["not_answer_count"] for p in data["prompts"]] == not_answers
    assert sum(not_answers) > 0


def test_it_counts_as_new_only_the_answers_the_questions_count(
    database: Database, now: datetime
) -> None:
    said = demo_said(extra=False)
    cut = len(said) * 2 // 3  # where the demo records its first digest
    later = now + timedelta(days=1)
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, demo_people(), said[:cut])
        first = build_digest(session, round_.id, now)
        record_digest(session, round_.id, "week-1", first, now)
        for n, item in enumerate(said[cut:]):
            person = find_participant(session, item.person, "slack")
            assert person is not None
            if item.text is not None:
                record_reply(session, round_.id, item.prompt_id, person, item.text,
                             later + timedelta(minutes=n), external_id=f"L{n}")
            else:
                record_vote(session, round_.id, item.prompt_id, person, list(item.choices),
                            later + timedelta(minutes=n), external_id=f"W{n}")
        session.flush()
        second = build_digest(session, round_.id, later + timedelta(hours=1))
    before = {r for p in first.prompts for r in p.unthemed_reply_ids} | {
        r for p in first.prompts for t in p.themes for r in t.reply_ids}
    governance = second.prompt("anti-governance")
    assert governance is not None
    new_replies = [a for a in governance.answers if a.reply_id not in before]
    assert any(a.noise for a in new_replies)  # "See above" came after the first digest
    new_answers = sum(not a.noise for a in new_replies)
    text = render_text(second)
    assert f"{new_answers} to “If we wanted governance" in text
    changes = second.since_last
    assert changes is not None
    assert changes.new_by_prompt["anti-governance"] == new_answers
    assert changes.new_answers == sum(changes.new_by_prompt.values())
    assert f"{changes.new_answers} new answers and votes" in text


def test_a_plus_one_is_no_answer_in_a_small_question_nor_a_reason_under_a_vote(
        database: Database, now: datetime) -> None:
    people = demo_people()[:6]
    texts = ["Protected time to lead", "+1", "Backfill so pharmacists can attend",
             "Protected learning time every month", "Funded backfill for the day", "👍"]
    from tests.digest.builders import RANK_PROMPT, Said
    from tests.digest.test_since_last import FIRST as FIVE

    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, [
            *(Said(p.platform_user_id, "best-support", t) for p, t in zip(people, texts,
                                                                          strict=True)),
            Said(people[0].platform_user_id, RANK_PROMPT, choices=FIVE),
        ])
        view = build_digest(session, round_.id, now)
        person = find_participant(session, people[1].platform_user_id, "slack")
        assert person is not None
        # words typed on a vote question that name no option are kept as a comment
        session.add(Reply(round_id=round_.id, prompt_id=RANK_PROMPT, participant_id=person.id,
                          text="+1", source="chat", created_at=now))
        session.flush()
        with_comment = build_digest(session, round_.id, now)
    text = render_text(view)
    assert "4 answers" in text and "2 replies that were not answers" in text
    assert '"+1"' not in text and "“+1”" not in text
    assert "+1" not in render_text(with_comment) and "+1" not in render_md(with_comment)


def test_someone_whose_only_reply_was_not_an_answer_has_not_answered(
    database: Database, now: datetime
) -> None:
    """"+1" is set aside as not an answer: its writer is not among those who answered, in
    any format nor on any role's row (and answering every question means answering each)."""
    people = [Person(f"U{n}", f"Person {n}", "community pharmacist") for n in range(3)]
    said = [Said("U0", "done-well", "Protected time for leads made it work."),
            Said("U1", "done-well", "+1"), Said("U2", "done-well", "👍")]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, said, anonymity="role")
        view = build_digest(session, round_.id, now)
    assert view.prompt("done-well").not_answer_count == 2  # type: ignore[union-attr]
    word = "\n".join(p.text for p in Document(io.BytesIO(render_docx(view))).paragraphs)
    for document in (render_md(view), render_html(view, charts=False), word):
        assert "1 of 3 people invited answered at least one question" in document
    assert "Participation: 1 of 3 answered at least one question" in render_text(view)
    top = digest_messages(view, charts=False)[0]
    assert "*1* of *3* people invited has answered" in str(top.blocks)
    card = card_text(Call("POST", "", None, {"attachments": [{"content": digest_cards(view)[0]}]},
                          201))
    assert "1 of 3 people invited has answered at least one question" in card
    assert view.participation["by_role"] == {}  # fewer than three of the role answered
    assert view.to_json()["participation"]["answered_any"] == 1
