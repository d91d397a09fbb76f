"""The exports as their readers open them: the CSV in a spreadsheet, the Word file and the
HTML page with assistive technology, the Markdown in a viewer."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from dataclasses import replace
from datetime import datetime
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

from docx import Document
from docx.oxml.ns import qn
from markdown_it import MarkdownIt
from sqlalchemy import func, select

from bot.core.digest.build import build_digest
from bot.core.digest.chart import ranking_png
from bot.core.digest.model import DigestView
from bot.core.digest.render_csv import render_csv
from bot.core.digest.render_docx import render_docx
from bot.core.digest.render_html import render_html
from bot.core.digest.render_md import render_md
from bot.core.digest.render_text import render_text
from bot.core.imports import import_replies
from bot.core.people import Person, find_participant
from bot.core.replies import record_vote
from bot.slack.digest_blocks import digest_messages
from bot.teams.digest_cards import digest_cards
from storage.database import Database
from storage.db import transaction
from storage.models import Round
from tests.digest.builders import RANK_PROMPT, Said, round_with, view_of
from tests.helpers import seed_pack
from tests.slack_reading import as_read

FORMULA_START = ("=", "+", "-", "@")
BALLOT = "Protected time;Psychological safety;Leadership development;Insights from elsewhere;" \
         "Information and analytics"


def imported_view(database: Database, now: datetime, tmp_path: Path,
                  rows: list[dict[str, str]], mode: str = "named") -> DigestView:
    """A round made by importing `rows` as a facilitator's CSV would, and its digest."""
    path = tmp_path / "notes.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, ["id", "prompt_id", "participant", "role", "text"])
        writer.writeheader()
        writer.writerows(rows)
    with transaction(database.sessions) as session:
        import_replies(session, path, now, pack=seed_pack(), anonymity=mode)  # type: ignore[arg-type]
        session.flush()
        round_id = session.scalar(select(func.max(Round.id)))
        assert round_id is not None
        return build_digest(session, round_id, now)


def test_it_defuses_a_formula_in_every_csv_cell_also_an_imported_answer_id(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    view = imported_view(database, now, tmp_path, [
        {"id": "=1+2", "prompt_id": "done-well", "participant": "Ada",
         "role": "community pharmacist", "text": "The vaccine rollout"},
        {"id": "@SUM(A1)", "prompt_id": "support-factors", "participant": "Ada",
         "role": "community pharmacist", "text": BALLOT},
    ])
    assert {a.reply_id for p in view.prompts for a in p.answers} == {"=1+2", "@SUM(A1)"}
    rows = list(csv.reader(io.StringIO(render_csv(view))))
    cells = [cell for row in rows[1:] for cell in row]
    assert cells and not [c for c in cells if c.startswith(FORMULA_START)]
    assert {row[0] for row in rows[1:]} == {"'=1+2", "'@SUM(A1)"}


def test_it_gives_word_readers_alt_text_header_rows_and_british_english() -> None:
    view = view_of({"done-well": ["The vaccine rollout", "Care homes across sectors"]},
                   ballots=[BALLOT.split(";")] * 3)
    word = Document(io.BytesIO(render_docx(view)))
    question = view.prompt(RANK_PROMPT).question  # type: ignore[union-attr]
    [chart] = word.inline_shapes
    assert question in (chart._inline.docPr.get("descr") or "")
    assert word.tables
    for table in word.tables:
        header = table.rows[0]._tr.trPr
        assert header is not None and header.find(qn("w:tblHeader")) is not None
        assert [c.text for c in table.rows[0].cells][1:] == ["Invited", "Answered any",
                                                             "Answered all"]
        assert all(r._tr.trPr is None or r._tr.trPr.find(qn("w:tblHeader")) is None
                   for r in table.rows[1:])
    assert word.core_properties.title == view.round.title
    assert word.core_properties.language == "en-GB"
    lang = word.styles.element.find(qn("w:docDefaults")).find(".//" + qn("w:lang"))
    assert lang is not None and lang.get(qn("w:val")) == "en-GB"


def test_the_html_page_is_in_british_english_as_the_word_file_is() -> None:
    """A screen reader speaks the page in the language it names: "en" left it to the reader's
    default, often US English, where the Word file says British English."""
    page = render_html(view_of({"done-well": ["The vaccine rollout"]}), charts=False)
    assert '<html lang="en-GB">' in page


def test_it_keeps_an_indented_line_of_an_answer_out_of_a_markdown_code_block() -> None:
    said = ("Two things worked.\n\n    Protected time for leads\n\n\tand a weekly call "
            "*with* everyone")
    html = MarkdownIt("commonmark").render(render_md(view_of({"done-well": [said]})))
    assert "<pre>" not in html and "<code>" not in html
    assert "<p>Protected time for leads</p>" in html
    assert "<p>and a weekly call *with* everyone<br />" in html


class Page(HTMLParser):
    """The quotes (by reply id) and paragraphs of an HTML export."""

    def __init__(self) -> None:
        super().__init__()
        self.quoted: list[str] = []
        self.paragraphs: list[str] = []
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in.append(tag)
        if tag == "blockquote":
            self.quoted.append(dict(attrs)["data-reply-id"] or "")
        if tag == "p" and "blockquote" not in self._in:
            self.paragraphs.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] == "p" and "blockquote" not in self._in:
            self.paragraphs[-1] += data


def test_it_says_how_many_answers_in_no_theme_are_counted_but_not_quoted(
    database: Database, now: datetime, tmp_path: Path
) -> None:
    said = ["The vaccine rollout, with hospital and community pharmacists on one rota",
            "Care home medicines support across trust and PCN, don't quote me"]
    view = imported_view(database, now, tmp_path, [
        {"id": f"n{i}", "prompt_id": "done-well", "participant": f"P{i}",
         "role": "community pharmacist", "text": text} for i, text in enumerate(said)])
    prompt = view.prompt("done-well")
    assert prompt is not None and prompt.answer_count == 2 and not prompt.themes
    page = Page()
    page.feed(render_html(view, charts=False))
    assert page.quoted == ["n0"]
    line = "Counted but not quoted: 1 answer whose writer asked not to be quoted."
    assert line in page.paragraphs
    # the same in the digest as posted and printed
    assert line in " ".join(render_text(view).split())
    slack = json.dumps([m.blocks for m in digest_messages(view, charts=False)])
    assert line in slack
    assert line in json.dumps(digest_cards(view))


def contrast(rgb: tuple[float, float, float], against: tuple[float, float, float]) -> float:
    """WCAG 2 contrast ratio of two sRGB colours given as 0-1 floats."""
    def luminance(colour: tuple[float, float, float]) -> float:
        r, g, b = (c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in colour)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    light, dark = sorted((luminance(rgb), luminance(against)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_it_draws_every_bar_of_a_chart_with_3_to_1_contrast_against_the_page() -> None:
    from matplotlib.image import imread

    options = seed_pack().prompt(RANK_PROMPT).options  # type: ignore[union-attr]
    view = view_of({}, ballots=[options[:5], options[5:], options[2:7]])
    prompt = view.prompt(RANK_PROMPT)
    assert prompt is not None
    png = ranking_png(replace(prompt, picks=5))
    assert png is not None
    pixels = imread(io.BytesIO(png))[:, :, :3]
    colours = Counter(tuple(round(float(c), 3) for c in p) for row in pixels for p in row)
    white = (1.0, 1.0, 1.0)
    # The bars are the large areas of one colour other than the page and the text.
    bars = [c for c, n in colours.items() if n > 0.005 * pixels.shape[0] * pixels.shape[1]
            and c not in (white, (0.0, 0.0, 0.0))]
    assert len(bars) == 2, bars  # the top the question asks for, and the rest
    assert all(contrast(c, white) >= 3 for c in bars), bars


def test_roles_and_organisations_are_listed_as_people_read_them_not_by_code_point(
        database: Database, now: datetime) -> None:
    """Case and accents aside: "community pharmacist" before "PCN pharmacy lead", and
    "Évelina London" between "bromley" and "Lewisham", in every list of them."""
    where = {"PCN pharmacy lead": "Lewisham", "community pharmacist": "bromley",
             "clinical lead": "Évelina London"}
    people = [Person(f"U{role[:3].upper()}{n}", f"{role} {n}", role, org)
              for role, org in where.items() for n in range(3)]
    people += [Person("UTECH", "Tess", "Pharmacy technician"), Person("UDIR", "Dee", "director")]
    said = [Said(p.platform_user_id, "done-well", text) for p, text in zip(people, [
        "Protected time for leadership made it work", "Protected time to lead, every week",
        "Time protected from the counter for leading", "Protected leadership time, funded",
        "Backfill so that leaders had protected time", "Protected time and a clear aim",
        "Having protected time to do the leading", "Time that was protected for leaders",
        "Protected time above everything else"], strict=False)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, said)
        view = build_digest(session, round_.id, now)
    rows = [line.split(" | ")[0].lstrip("| ") for line in render_md(view).splitlines()
            if line.startswith("| ") and "Invited" not in line and "---" not in line]
    assert rows[:5] == ["clinical lead", "community pharmacist", "director", "PCN pharmacy lead",
                     "Pharmacy technician"]
    assert rows[-3:] == ["bromley", "Évelina London", "Lewisham"]
    ties = [(a, b) for t in view.prompt("done-well").themes  # type: ignore[union-attr]
            for (a, n), (b, m) in pairwise(t.roles.items()) if n == m]
    assert ties and all(a.casefold() < b.casefold() for a, b in ties), ties
    top = as_read(digest_messages(view, charts=False)[0].blocks)
    assert "no directors yet; no Pharmacy technicians yet" in top
    assert top.index("community pharmacist") < top.index("PCN pharmacy lead")
    assert top.index("bromley") < top.index("Évelina London") < top.index("Lewisham")


def csv_rows(view: DigestView) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(render_csv(view))))


def test_a_csv_row_says_who_once_and_where_an_answer_in_no_theme_is(
        database: Database, now: datetime) -> None:
    """The participant column holds a name only where the round names people, beside the
    role and organisation columns (never the role again); an answer in no theme is among
    "Other answers", not blank like a ballot."""
    people = [Person(f"U{n}", f"Person {n}", "community pharmacist", "Lewisham")
              for n in range(3)]
    said = [Said(f"U{n}", "done-well", text) for n, text in enumerate(
        ["Protected time made it work", "The vaccine sites", "Care homes in 2020"])]
    with transaction(database.sessions) as session:
        view = build_digest(session, round_with(session, now, people, said, "role").id, now)
    assert [(r["participant"], r["role"], r["organisation"]) for r in csv_rows(view)] == [
        ("", "community pharmacist", "Lewisham")] * 3
    ballot = Said("U1", "support-factors", choices=tuple(BALLOT.split(";")))
    with transaction(database.sessions) as session:
        view = build_digest(session, round_with(session, now, people, [said[0], ballot]).id,
                            now)
    answer, vote = csv_rows(view)
    assert (answer["participant"], answer["role"]) == ("Person 0", "community pharmacist")
    assert answer["theme"] == "Other answers" and vote["theme"] == ""


def test_csv_ids_join_the_json_ids_once_one_leading_apostrophe_is_taken_away(
        database: Database, now: datetime, tmp_path: Path) -> None:
    """A formula-like id gets a ' in the CSV; so does an id that starts with one, so that
    taking one leading ' away from every CSV id that has one always gives the JSON's id."""
    ids = ["=1+2", "'=1+2", "-3", "'kept", "plain"]
    view = imported_view(database, now, tmp_path, [
        {"id": i, "prompt_id": "done-well", "participant": f"P{n}", "role": "pharmacist",
         "text": f"Answer {n} about protected time"} for n, i in enumerate(ids)])
    from_json = sorted(i for p in view.to_json()["prompts"] for i in p["unthemed_reply_ids"]
                       + [r for t in p["themes"] for r in t["reply_ids"]])
    assert from_json == sorted(ids)
    from_csv = [r["id"] for r in csv_rows(view)]
    assert not [i for i in from_csv if i.startswith(FORMULA_START)]
    assert sorted(i.removeprefix("'") for i in from_csv) == from_json


class Captions(HTMLParser):
    """Each table of a page, by the caption a screen reader announces it with."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: list[str] = []
        self._in_caption = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self.tables.append("")
        self._in_caption = tag == "caption" or self._in_caption

    def handle_endtag(self, tag: str) -> None:
        self._in_caption = self._in_caption and tag != "caption"

    def handle_data(self, data: str) -> None:
        if self._in_caption:
            self.tables[-1] += data


def test_every_html_and_word_table_has_a_caption(database: Database, now: datetime) -> None:
    people = [Person(f"U{n}", f"Person {n}", "community pharmacist", "Lewisham")
              for n in range(3)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, [Said("U0", "done-well", "Protected time")])
        view = build_digest(session, round_.id, now)
    page = Captions()
    page.feed(render_html(view, charts=False))
    assert page.tables == ["Who took part, by role", "Who took part, by organisation"]
    word = Document(io.BytesIO(render_docx(view)))
    assert [t._tbl.tblPr.find(qn("w:tblCaption")).get(qn("w:val")) for t in word.tables] \
        == page.tables


def test_the_synthesis_states_how_people_are_attributed_once() -> None:
    """The rule beside "Who took part" is not repeated in the closing note."""
    view = view_of({"done-well": ["The vaccine rollout", "Care homes across sectors"]})
    rule = "Quotes carry the name and role of the person who gave them."
    word = "\n".join(p.text for p in Document(io.BytesIO(render_docx(view))).paragraphs)
    for name, text in (("markdown", render_md(view)), ("html", render_html(view, charts=False)),
                       ("word", word)):
        assert text.count(rule) == 1, name


def test_a_reason_typed_with_a_ballot_is_in_the_csv_word_for_word(
        database: Database, now: datetime) -> None:
    """The CSV holds every answer: a ballot typed with a reason keeps the reason beside it,
    uncut, as the JSON does; one whose writer asked not to be quoted is left out of both."""
    people = [Person(f"U{n}", f"Person {n}", "community pharmacist") for n in range(2)]
    reason = "because protected time is what is missing " + "in community pharmacy " * 20
    ballot = BALLOT.split(";")
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, people, [])
        for n, words in enumerate((reason.strip(), "don't quote me, it is all about time")):
            person = find_participant(session, f"U{n}", "slack")
            assert person is not None
            record_vote(session, round_.id, "support-factors", person, ballot, now,
                        source="chat", external_id=f"V{n}", text=f"1, 2, 3, 4, 5 {words}")
        view = build_digest(session, round_.id, now)
    texts = [row["text"] for row in csv_rows(view)]
    assert texts == ["; ".join(ballot) + " — " + reason.strip(), "; ".join(ballot)]
    answers = view.to_json()["prompts"][-1]["answers"]
    assert [a["reason"] for a in answers] == [reason.strip(), None]


class Images(HTMLParser):
    """The alt text of each image of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.alts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.alts.append(dict(attrs).get("alt") or "")


def test_a_charts_alt_text_reads_out_the_places_and_points_it_shows() -> None:
    ballots = [BALLOT.split(";")] * 2 + [BALLOT.split(";")[::-1]]
    view = view_of({}, ballots=ballots)
    view = replace(view, prompts=[replace(p, picks=5) for p in view.prompts])
    [chart] = Document(io.BytesIO(render_docx(view))).inline_shapes
    page = Images()
    page.feed(render_html(view))
    said = [chart._inline.docPr.get("descr") or "", *page.alts]
    for alt in said:
        assert "1. Protected time (top 5), 11 points" in alt
        assert "Information and analytics (top 5), 7 points" in alt
        assert "3 ballots" in alt
    assert len(said) == 2


def test_the_line_under_the_synthesis_title_reads_as_a_heading() -> None:
    view = view_of({"done-well": ["The vaccine rollout"]})
    view = replace(view, round=replace(view.round, late=True))
    word = [p.text for p in Document(io.BytesIO(render_docx(view))).paragraphs]
    line = "Synthesis Pack · Round 1, open (late) · Generated 23 November 2026, 10:00 UTC"
    assert line in word
    assert f"**Synthesis Pack** · {line.removeprefix('Synthesis Pack · ')}" in render_md(view)
