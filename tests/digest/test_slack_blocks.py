"""The digest in Slack: within Block Kit's limits and pinging nobody, whatever people wrote."""

from __future__ import annotations

import json
import random
import re
from dataclasses import replace
from functools import cache
from typing import Any

from bot.core.digest.model import DigestView
from bot.core.digest.synthesis import FULL_SYNTHESIS, OTHER_ANSWERS_SHOWN, other_answers
from bot.core.rounds import SMALL_ORGANISATIONS
from bot.slack.digest_blocks import digest_messages
from tests.digest.builders import LONG, NASTY, RANK_PROMPT, TEXT_PROMPTS, demo_said, view_of
from tests.slack_reading import as_read

OPTIONS = [
    "Protected time", "Insights from elsewhere", "Clear purpose and motivation",
    "Information and analytics", "Leadership development", "Psychological safety",
    "Relationships and networks", "Executive backing and trust", "Joint cross-sector training",
    "Shared vision across the system",
]


@cache
def thousand_answers() -> DigestView:
    """1,000 answers mixed from the demo's and nasty ones; the quick TF-IDF method groups them
    (the renderer is under test here, not the grouping)."""
    rng = random.Random(5)
    plain = [s.text for s in demo_said(extra=False) if s.text]
    pool = plain + NASTY + [LONG, "no comment", "x" * 5000, "<" * 3000, "&" * 3000]
    answers: dict[str, list[str]] = {p: [] for p in TEXT_PROMPTS}
    for n in range(1000):
        a, b = rng.sample(pool, 2)
        text = a if n % 3 else f"{a} {b}"
        answers[TEXT_PROMPTS[n % len(TEXT_PROMPTS)]].append(text)
    ballots = [rng.sample(OPTIONS, 5) for _ in range(200)]
    return view_of(answers, ballots, engine="tfidf")


def texts(node: Any) -> list[str]:
    """Every string Slack would read as mrkdwn or plain text in a block tree (rich text's
    own text elements are shown as written, and are not among them)."""
    if isinstance(node, dict):
        if node.get("type") == "rich_text":
            return []
        return [v for k, v in node.items() if k == "text" and isinstance(v, str)] + [
            t for k, v in node.items() for t in texts(v)
        ]
    if isinstance(node, list):
        return [t for item in node for t in texts(item)]
    return []


def rich_texts(node: Any) -> list[str]:
    """The text elements of rich text blocks: shown exactly as written."""
    if isinstance(node, dict):
        if node.get("type") == "text" and isinstance(node.get("text"), str):
            return [node["text"]]
        return [t for v in node.values() for t in rich_texts(v)]
    if isinstance(node, list):
        return [t for item in node for t in rich_texts(item)]
    return []


def test_it_keeps_every_message_of_a_1000_answer_digest_within_block_kit_limits() -> None:
    view = thousand_answers()
    assert view.answer_count >= 1000
    messages = digest_messages(view)
    assert len(messages) == 1 + len(view.prompts)
    for message in messages:
        assert 0 < len(message.text) <= 40_000
        assert len(message.blocks) <= 50
        for block in message.blocks:
            if block["type"] == "header":
                assert len(block["text"]["text"]) <= 150
            if block["type"] == "section":
                assert len(block.get("text", {}).get("text", "")) <= 3000
                assert len(block.get("fields", [])) <= 10
                assert all(len(f["text"]) <= 2000 for f in block.get("fields", []))
            if block["type"] == "context":
                assert all(len(e["text"]) <= 3000 for e in block["elements"])
    assert messages[-1].files and messages[-1].files[0].content.startswith(b"\x89PNG")


def test_it_pings_nobody_and_breaks_no_markup_whatever_the_answers_contain() -> None:
    # a thousand answers, and three to a question (listed, so each of them is shown)
    messages = [*digest_messages(thousand_answers()),
                *digest_messages(view_of({TEXT_PROMPTS[0]: [NASTY[0], NASTY[4], NASTY[5]]},
                                         engine="tfidf"))]
    everything = [m.text for m in messages] + [t for m in messages for t in texts(m.blocks)]
    for text in everything:
        assert "<" not in text, text[:200]
        assert not re.search(r"&(?!amp;|lt;|gt;)", text), text[:200]
        for line in text.splitlines():
            assert ">" not in line.lstrip(">"), line[:200]
    shown = "\n".join(t for m in messages for t in rich_texts(m.blocks))
    # people's words are shown as they wrote them, in rich text, which neither pings nor
    # formats: none of them in mrkdwn
    assert "<!channel> please read this" in shown
    assert "*bold* _italic_ ~strike~ `code`" in shown
    assert "Fish & chips < champagne > beer" in shown
    mrkdwn = json.dumps(everything)
    assert "please read this" not in mrkdwn and "italic" not in mrkdwn


def test_it_points_to_the_full_synthesis_for_what_it_leaves_out_never_to_a_command() -> None:
    view = thousand_answers()
    messages = digest_messages(view)
    pointed = 0
    for prompt, message in zip(view.prompts, messages[1:], strict=True):
        left_out = len(other_answers(prompt)) > OTHER_ANSWERS_SHOWN
        shown = json.dumps(message.blocks)
        assert (f"more in {FULL_SYNTHESIS}" in shown) == left_out, prompt.question
        pointed += left_out
    assert pointed
    assert not any("roundtable export" in json.dumps(m.blocks) for m in messages)


def test_it_leads_the_top_message_with_the_headline_and_silent_roles() -> None:
    top = digest_messages(view_of({}), charts=False)[0]
    blob = json.dumps(top.blocks)
    assert "*900* of *1200*" in blob
    assert "no community pharmacists yet" in blob
    assert "no community pharmacists yet" in top.text
    shown = as_read(top.blocks)
    assert "*role 0*: 75 of 100 answered" in shown and "*role 8*: 75 of 100" in shown
    assert "role 9" not in shown and "_and 3 more roles_" in shown
    assert RANK_PROMPT not in blob


def test_it_heads_each_role_in_bold_and_shows_its_name_as_written() -> None:
    """A role's name is the heading of its count, in bold; its `*`, `_` or `<!here>` are
    shown as typed, neither formatting nor pinging."""
    view = view_of({})
    roles = {"*Lead* _PCN_ <!here> pharmacist": {"invited": 4, "answered_any": 1,
                                                  "answered_all": 0}}
    top = digest_messages(replace(view, participation={**view.participation,
                                                       "by_role": roles}), charts=False)[0]
    assert "**Lead* _PCN_ <!here> pharmacist*: 1 of 4 answered" in as_read(top.blocks)
    assert "<!here>" not in json.dumps(texts(top.blocks)) and "<!here>" not in top.text


def test_it_counts_people_by_organisation_as_the_other_formats_do() -> None:
    """Each row's people who answered of those asked, small organisations pooled in one row,
    as the Markdown, HTML and Word digests' table; never "1 of 1 heard from" for the pool."""
    view = view_of({})

    def top(count: int) -> str:
        organisations = {f"Org <!here> {i}": {"invited": 3, "answered_any": i % 2,
                                              "answered_all": 0} for i in range(count)}
        organisations[SMALL_ORGANISATIONS] = {"invited": 12, "answered_any": 12,
                                              "answered_all": 3}
        shown = replace(view, participation={**view.participation,
                                             "by_organisation": organisations})
        # organisations are people's words: in plain text, which neither pings nor formats
        return "\n".join(e["text"] for b in digest_messages(shown, charts=False)[0].blocks
                         if b["type"] == "context" for e in b["elements"]
                         if e["type"] == "plain_text")

    blob = top(2)
    assert ("By organisation, people who answered of those asked: Org <!here> 0: 0 of 3 · "
            f"Org <!here> 1: 1 of 3 · {SMALL_ORGANISATIONS}: 12 of 12") in blob
    assert "Organisations: " not in blob
    assert "and 6 more in the full synthesis" in top(20)


def test_it_counts_in_a_questions_thread_header_the_answers_its_body_counts() -> None:
    """Replies set aside as not answers are not counted in the header, as in the body's
    "11 answers, …; 1 reply that was not an answer"."""
    view = thousand_answers()
    noisy = [(p, m) for p, m in zip(view.prompts, digest_messages(view)[1:], strict=True)
             if any(a.noise for a in p.answers)]
    assert noisy
    for prompt, message in noisy:
        answers = sum(not a.noise for a in prompt.answers)
        assert f"({answers} answers, " in message.text
        assert f"{answers} answers, " in json.dumps(message.blocks)


def test_a_digest_of_no_themes_does_not_count_none_in_its_top_message() -> None:
    """"0 themes across the questions" read as if something had failed: a digest of votes
    alone, or of too few answers to theme, says where each question is, with no count."""
    from bot.teams.digest_cards import digest_cards

    view = view_of({"done-well": ["Covid vaccines."]},
                   ballots=[["Protected time", "Clear purpose and motivation",
                             "Insights from elsewhere", "Leadership development",
                             "Information and analytics"]])
    assert not any(p.themes for p in view.prompts)
    top = json.dumps(digest_messages(view, charts=False)[0].blocks)
    assert "Each question is in this thread." in top and "0 themes" not in top
    card = json.dumps(digest_cards(view)[0])
    assert "Each question is in the replies." in card and "0 themes" not in card
