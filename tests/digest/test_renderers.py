"""Every renderer of one digest: quotes verbatim, same content in Markdown and HTML, Word
readable, and the edge cases (empty round, one answer, a question nobody answered)."""

from __future__ import annotations

import csv
import io
import json
import re
from collections import Counter
from datetime import datetime
from html.parser import HTMLParser

import pytest
from docx import Document

from bot.core.digest.build import build_digest
from bot.core.digest.grounded import markup
from bot.core.digest.model import DigestView
from bot.core.digest.render_csv import COLUMNS, render_csv
from bot.core.digest.render_docx import render_docx
from bot.core.digest.render_html import render_html
from bot.core.digest.render_md import render_md
from bot.core.digest.render_text import render_text
from bot.core.digest.theme_views import Grouping, is_verbatim
from bot.core.forgetting import erase
from bot.core.people import Person
from bot.slack.digest_blocks import digest_messages
from bot.teams.digest_cards import digest_cards
from storage.database import Database
from storage.db import transaction
from tests.digest.builders import (
    RANK_PROMPT,
    TEXT_PROMPTS,
    Said,
    demo_people,
    demo_said,
    round_with,
    view_of,
)

MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")


@pytest.fixture
def view(database: Database, now: datetime) -> DigestView:
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, demo_people(), demo_said())
        return build_digest(session, round_.id, now)


def texts_by_id(view: DigestView) -> dict[str, str]:
    return {a.reply_id: a.text for p in view.prompts for a in p.answers}


def md_plain(markdown: str) -> str:
    return MD_ESCAPE.sub(r"\1", markdown)


class Blocks(HTMLParser):
    """Text of an HTML page by element, and each blockquote with its reply id."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.quotes: list[tuple[str, str]] = []
        self.headings: list[str] = []
        self._stack: list[str] = []
        self._reply: str | None = None
        self._quote: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack.append(tag)
        if tag == "blockquote":
            self._reply, self._quote = dict(attrs)["data-reply-id"], []

    def handle_endtag(self, tag: str) -> None:
        self._stack.pop()
        if tag == "blockquote" and self._reply:
            self.quotes.append((self._reply, self._quote[0] if self._quote else ""))
            self._reply = None

    def handle_data(self, data: str) -> None:
        if "style" in self._stack or "title" in self._stack:
            return
        if self._reply and self._stack[-1] == "p":
            self._quote.append(data)
        if self._stack and self._stack[-1] in ("h1", "h2", "h3", "h4"):
            self.headings.append(data)
        self.words += re.findall(r"\w+", data)


def test_it_quotes_only_verbatim_answers_of_the_theme_in_every_renderer(view: DigestView) -> None:
    said = texts_by_id(view)
    quotes = [(t, q) for p in view.prompts for t in p.themes for q in t.quotes]
    assert quotes, "the engine found no theme in the demo answers"
    for theme, quote in quotes:
        assert quote.reply_id in theme.reply_ids
        assert is_verbatim(quote.text, said[quote.reply_id])

    page = Blocks()
    page.feed(render_html(view, charts=False))
    others = {a.reply_id for p in view.prompts for a in p.answers if not a.noise}
    for reply_id, text in page.quotes:
        assert reply_id in others and is_verbatim(text, said[reply_id])
    assert {q.reply_id for _, q in quotes} <= {r for r, _ in page.quotes}

    markdown = md_plain(render_md(view))
    text = render_text(view)
    word = Document(io.BytesIO(render_docx(view)))
    quoted_in_word = [p.text for p in word.paragraphs if p.style.name == "Quote"]
    slack = json.dumps([m.blocks for m in digest_messages(view, charts=False)], ensure_ascii=False)
    for _, quote in quotes:
        first_line = quote.text.splitlines()[0]
        assert first_line in markdown
        assert " ".join(quote.text.split())[:60] in " ".join(text.split())
        assert any(q.startswith(f"“{quote.text}”") for q in quoted_in_word)
        # Slack shows people's words in rich text, exactly as written
        assert json.dumps(first_line[:200], ensure_ascii=False)[1:-1] in slack


def test_the_terminal_digest_marks_quotes_and_who_said_them_as_every_other_format_does(
        view: DigestView) -> None:
    """“…” — role, as the Word file, the Markdown and the draft under review show a quote
    (the text digest alone wrote "…" - role, beside its own “…” in the summaries)."""
    text = " ".join(render_text(view).split())
    quoted = [q for p in view.prompts for t in p.themes for q in t.quotes if q.by]
    assert quoted
    for quote in quoted:
        assert f"“{' '.join(quote.text.split())}” — {quote.by}" in text, quote.text
    assert '" - ' not in text


def test_it_never_quotes_an_answer_that_says_nothing(view: DigestView) -> None:
    noise = [a for p in view.prompts for a in p.answers if a.noise]
    assert {a.text for a in noise} >= {"no comment", "thanks"}
    quoted = {q.reply_id for p in view.prompts for t in p.themes for q in t.quotes}
    page = Blocks()
    page.feed(render_html(view, charts=False))
    for answer in noise:
        assert answer.reply_id not in quoted
        assert answer.reply_id not in {r for r, _ in page.quotes}
        assert answer.reply_id in {r for p in view.prompts for r in p.unthemed_reply_ids}


def test_it_lists_every_answer_exactly_once_in_the_json(view: DigestView) -> None:
    data = view.to_json()
    for prompt in data["prompts"]:
        placed = [r for t in prompt["themes"] for r in t["reply_ids"]] + prompt[
            "unthemed_reply_ids"
        ]
        assert len(placed) == len(set(placed)) == (prompt["answer_count"]
                                                   + prompt["not_answer_count"])
        assert set(placed) == {a["reply_id"] for a in prompt["answers"]}
        # who wrote which answer is how themes count writers, never part of the output
        assert all("writer" not in a for a in prompt["answers"])
    assert any(a.writer for p in view.prompts for a in p.answers)
    assert json.loads(json.dumps(data)) == data


def test_it_holds_the_same_content_in_markdown_and_html(view: DigestView) -> None:
    page = Blocks()
    page.feed(render_html(view, charts=False))
    # Ordered-list numbers are text in Markdown and markup in HTML.
    markdown = re.sub(r"^\d+\. ", "", render_md(view), flags=re.MULTILINE)
    markdown_words = re.findall(r"\w+", md_plain(markdown))
    assert Counter(markdown_words) == Counter(page.words)
    for prompt in view.prompts:
        assert prompt.question in page.headings
        assert f"### {prompt.question}" in render_md(view)


def test_it_escapes_everything_people_wrote_in_html_and_markdown() -> None:
    view = view_of({"done-well": ["<script>alert(1)</script> & <!channel> *all* # of us"]})
    html = render_html(view, charts=False)
    assert "<script>" not in html and "<!channel>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;!channel&gt;" in html
    markdown = render_md(view)
    assert "\\<script\\>alert(1)\\</script\\> & \\<!channel\\> \\*all\\* # of us" in markdown


def test_it_shows_people_s_words_in_every_document_without_what_a_reader_cannot_see() -> None:
    """Controls that show nothing (a bell, a backspace, a colour code's escape, a form feed)
    are not written into a document or a terminal, and a right-to-left override left open
    is closed where the words end, so it cannot reverse who said them: in Markdown, HTML,
    Word and the terminal alike."""
    words = ["Bell\x07 and back\x08space, an escape\x1b[31m and a form\x0cfeed",
             "Reversed \u202eby an override left open"]
    view = view_of({"done-well": words})
    word = Document(io.BytesIO(render_docx(view)))
    shown = {
        "markdown": md_plain(render_md(view)),
        "html": render_html(view, charts=False),
        "word": "\n".join(p.text for p in word.paragraphs),
        "terminal": render_text(view),
    }
    for where, text in shown.items():
        assert not re.search("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", text), where
        assert "Bell and backspace, an escape[31m and a form feed" in text, where
        assert re.search("\u202eby an override left open\u202c", text), where
        assert text.count("\u202e") == text.count("\u202c"), where


def test_it_writes_a_word_file_with_a_heading_per_question_and_the_ranking(
    view: DigestView,
) -> None:
    word = Document(io.BytesIO(render_docx(view)))
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading")]
    for prompt in view.prompts:
        assert prompt.question in headings
    ranked = [p.text for p in word.paragraphs
              if p.style.name == "List Bullet" and re.match(r"=?\d+\. ", p.text)]
    ranking = view.prompt(RANK_PROMPT).ranking  # type: ignore[union-attr]
    assert [re.sub(r"^=?\d+\. | \(top 5\)$", "", line.split(" — ")[0]) for line in ranked] == [
        r.option for r in ranking]
    assert f"{ranking[0].score} points" in ranked[0]
    assert len(word.inline_shapes) == 1  # the ranking chart
    assert word.paragraphs[0].text == view.round.title
    assert "Introduction" in headings


def test_the_synthesis_introduces_the_packs_words_as_how_the_questions_were_put(
    view: DigestView,
) -> None:
    """The pack's intro speaks to the people asked ("we are asking you …, answer in your own
    words"); in a board paper it reads as an instruction to the board unless it is said to be
    how the questions were put."""
    lead = "The questions below were put with these words:"
    word = [p.text for p in Document(io.BytesIO(render_docx(view))).paragraphs]
    at = word.index("Introduction")
    assert word[at + 1:at + 3] == [lead, view.round.intro]
    markdown = md_plain(render_md(view))
    assert f"## Introduction\n\n{lead}\n\n{view.round.intro}\n" in markdown
    assert f"<p>{lead}</p>" in render_html(view, charts=False)


def test_it_writes_every_answer_to_csv_with_formulas_defused(view: DigestView) -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(view))))
    assert tuple(rows[0]) == COLUMNS
    assert len(rows) == view.answer_count + sum(p.not_answer_count for p in view.prompts)
    by_id = {r["id"]: r for r in rows}
    for prompt in view.prompts:
        for answer in prompt.answers:
            row = by_id[answer.reply_id]
            assert row["prompt"] == prompt.prompt_id
            assert row["text"] in (answer.text, "'" + answer.text)
            unthemed = ("(not an answer)" if answer.noise
                        else "Other answers" if prompt.kind == "text" else "")
            assert row["theme"] == (answer.theme or unthemed)
    assert not any(r["text"].startswith("=") for r in rows)
    assert {r["source"] for r in rows} == {"room", "chat", "form"}


def every_format(view: DigestView) -> None:
    render_text(view)
    render_md(view)
    render_html(view)
    Document(io.BytesIO(render_docx(view)))
    render_csv(view)
    json.dumps(view.to_json())
    for message in digest_messages(view):
        assert message.text and message.blocks


def test_it_renders_an_empty_round_in_every_format(database: Database, now: datetime) -> None:
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, demo_people(), [])
        view = build_digest(session, round_.id, now)
    every_format(view)
    assert "No answers yet." in render_md(view)
    assert "No votes yet." in render_md(view)


def test_it_renders_a_round_with_one_answer_in_every_format(
    database: Database, now: datetime
) -> None:
    person = Person("U1", "Ada", "community pharmacist", "High Street")
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, [person], [Said("U1", "done-well", "Covid.")])
        view = build_digest(session, round_.id, now)
    every_format(view)
    assert "Covid." in render_md(view)
    done_well = view.prompt("done-well")
    assert done_well is not None and done_well.answer_count == 1


def test_it_renders_a_question_nobody_answered_and_a_lone_vote(
    database: Database, now: datetime
) -> None:
    people = [Person(f"U{i}", f"P{i}", "PCN pharmacy lead", None) for i in range(3)]
    said = [Said(f"U{i}", "bought-in", f"The ICS board, answer {i}") for i in range(3)]
    said.append(Said("U0", RANK_PROMPT, choices=("Protected time", "Information and analytics",
                                                 "Leadership development", "Psychological safety",
                                                 "Insights from elsewhere")))
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, said)
        view = build_digest(session, round_.id, now)
    every_format(view)
    assert view.prompt("done-well").answer_count == 0  # type: ignore[union-attr]
    assert view.prompt(RANK_PROMPT).ranking[0].option == "Protected time"  # type: ignore[union-attr]


def test_it_names_the_roles_a_theme_came_from_in_the_plural(view: DigestView) -> None:
    summaries = [t.summary for p in view.prompts for t in p.themes]
    from_roles = [s for s in summaries if " from " in s.split(";")[0]]
    assert from_roles, summaries
    for said in from_roles:
        assert re.match(r"(Mostly|Most) from (community pharmacists|PCN pharmacy leads) \(\d+\)"
                        r"( and (community pharmacists|PCN pharmacy leads) \(\d+\))?[;.]",
                        said), said
    assert "community pharmacists (" in render_md(view)


def test_no_theme_title_or_summary_holds_a_mention_link_or_tag(view: DigestView) -> None:
    for prompt in view.prompts:
        for theme in prompt.themes:
            assert markup(theme.title) is None, theme.title
            assert markup(theme.summary) is None, theme.summary


def test_every_format_says_how_many_asked_to_be_forgotten(
        database: Database, now: datetime) -> None:
    """The terminal digest, the exports and the Slack and Teams messages carry the same facts:
    someone who asked for everything about them to be deleted is said to be left out."""
    people = [Person(f"U{i}", f"P{i}", "PCN pharmacy lead", None) for i in range(3)]
    said = [Said(f"U{i}", "bought-in", f"The ICS board, answer {i}") for i in range(3)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, said)
        erase(session, "slack", "U2", now)
        view = build_digest(session, round_.id, now)
    note = "1 person invited asked for everything about them to be deleted, and is not counted."
    word = Document(io.BytesIO(render_docx(view)))
    page = Blocks()
    page.feed(render_html(view, charts=False))
    slack = json.dumps([m.blocks for m in digest_messages(view, charts=False)],
                       ensure_ascii=False)
    teams = json.dumps(digest_cards(view), ensure_ascii=False)
    shown = {
        "text": render_text(view), "md": render_md(view),
        "html": " ".join(page.words), "docx": "\n".join(p.text for p in word.paragraphs),
        "slack": slack, "teams": teams,
    }
    html_note = " ".join(re.findall(r"\w+", note))
    missing = [name for name, words in shown.items()
               if (html_note if name == "html" else note) not in " ".join(words.split())]
    assert missing == []


def test_copies_of_an_answer_in_no_theme_are_listed_once_with_how_many_gave_it() -> None:
    said = ["no comment", "A covered bike shelter", "No comment.", "no  comment", "Free fruit"]
    view = view_of({TEXT_PROMPTS[0]: said},
                   grouping=lambda answers, _: Grouping([], [a.reply_id for a in answers]))
    md = md_plain(render_md(view))
    assert md.count("no comment") == 1 and "No comment." not in md, md
    assert "no comment  \n> — 3 answers" in md
    assert "A covered bike shelter  \n> — Person" in md  # one answer keeps its writer
    text = render_text(view)
    assert text.count("no comment") == 1 and "3 answers" in text, text
    slack = json.dumps([m.blocks for m in digest_messages(view)], ensure_ascii=False)
    assert slack.count("no comment") == 1 and "3 answers" in slack
    teams = json.dumps(digest_cards(view), ensure_ascii=False)
    assert teams.count("no comment") == 1 and "3 answers" in teams
    assert [a.text for a in view.prompts[0].answers] == said  # every answer still in the data
