"""Anonymity, once promised, holds in every renderer and export: names only in named rounds,
a role only where at least three people of that role answered (by role), and no role or
organisation at all in an anonymous round."""

from __future__ import annotations

import io
import json
from datetime import datetime

from docx import Document

from bot.core.digest.build import build_digest
from bot.core.digest.model import DigestView
from bot.core.digest.render_csv import render_csv
from bot.core.digest.render_docx import render_docx
from bot.core.digest.render_html import render_html
from bot.core.digest.render_md import render_md
from bot.core.digest.render_text import render_text
from bot.core.people import Person
from bot.core.rounds import SMALL_ORGANISATIONS
from bot.core.rounds import SMALL_ROLES as OTHER_ROLES
from bot.slack.digest_blocks import digest_messages
from bot.teams.digest_cards import digest_cards
from storage.database import Database
from storage.db import transaction
from tests.digest.builders import Said, round_with

PEOPLE = [
    Person("UC1", "Chidi Okeke", "community pharmacist", "High Street"),
    Person("UC2", "Ruth Barnes", "community pharmacist", "Corner Chemist"),
    Person("UC3", "Sanjay Patel", "community pharmacist", "Late Night Pharmacy"),
    Person("UK1", "Kay Lindqvist", "consultant pharmacist", "King's"),
]
SAID = [
    Said("UC1", "done-well", "The covid vaccine rollout, community pharmacies at the heart of it."),
    Said("UC2", "done-well", "Covid vaccination clinics run jointly with practices."),
    Said("UC3", "done-well", "Vaccine sites during covid, with every sector on one rota."),
    Said("UK1", "done-well", "Palliative care medicines in care homes, led across trusts."),
    Said("UK1", "bought-in", "The ICS executive."),
]
NAMES = [p.display_name for p in PEOPLE]


def outputs_after_participation(view: DigestView) -> dict[str, str]:
    """Each renderer's output from the first question on (participation counts roles openly)."""
    md = render_md(view)
    html = render_html(view, charts=False)
    word = Document(io.BytesIO(render_docx(view)))
    paragraphs = [p.text for p in word.paragraphs]
    first = next(i for i, t in enumerate(paragraphs) if t.startswith("Section 1"))
    text = render_text(view)
    data = view.to_json()
    return {
        "md": md[md.index("## Section 1") :],
        "html": html[html.index("<h2>Section 1") :],
        "docx": "\n".join(paragraphs[first:]),
        "text": text[text.index("== ") :],
        "csv": render_csv(view),
        "json": json.dumps(data["prompts"], ensure_ascii=False),
        "slack": json.dumps(
            [m.blocks for m in digest_messages(view, charts=False)[1:]], ensure_ascii=False
        ),
    }


def digest(database: Database, now: datetime, anonymity: str) -> DigestView:
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, SAID, anonymity=anonymity)
        return build_digest(session, round_.id, now)


def test_it_shows_a_role_only_where_three_people_of_it_answered(
    database: Database, now: datetime
) -> None:
    view = digest(database, now, "role")
    done_well = view.prompt("done-well")
    assert done_well is not None
    for answer in done_well.answers:
        if answer.text.startswith("Palliative"):
            assert (answer.by, answer.role) == (None, None)
        else:
            assert (answer.by, answer.role) == ("community pharmacist", "community pharmacist")
    for name, output in outputs_after_participation(view).items():
        assert "consultant pharmacist" not in output, name
        assert "community pharmacist" in output, name
        for person in NAMES:
            assert person not in output, (name, person)
    # one consultant: pooled in who took part, never named as a role
    assert "consultant pharmacist" not in render_md(view) + render_text(view)
    assert view.participation["by_role"] == {
        "community pharmacist": {"invited": 3, "answered_any": 3, "answered_all": 0},
        OTHER_ROLES: {
            "invited": 1, "answered_any": 1, "answered_all": 0}}


def test_it_shows_no_name_and_no_role_in_an_anonymous_round(
    database: Database, now: datetime
) -> None:
    view = digest(database, now, "anonymous")
    for name, output in outputs_after_participation(view).items():
        assert "pharmacist" not in output.replace(view.prompts[0].question, ""), name
        for person in NAMES:
            assert person not in output, (name, person)
    whole = render_md(view) + render_html(view, charts=False) + render_text(view)
    assert not any(person in whole for person in NAMES)
    assert "pharmacist" not in whole.replace(view.round.intro, "").replace(
        view.prompts[0].question, "")  # who took part: totals only
    for organisation in ("High Street", "Corner Chemist", "King's"):
        assert organisation not in whole


def test_it_names_people_in_a_named_round(database: Database, now: datetime) -> None:
    view = digest(database, now, "named")
    outputs = outputs_after_participation(view)
    for name in ("md", "html", "text"):
        assert "Kay Lindqvist (consultant pharmacist)" in outputs[name], name
    assert "Kay Lindqvist,consultant pharmacist," in outputs["csv"]  # a column each


def test_it_pools_organisations_too_small_to_hide_who_took_part(
    database: Database, now: datetime
) -> None:
    big = [Person(f"UB{i}", f"Boots {i}", "community pharmacist", "Boots") for i in range(3)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, [*PEOPLE, *big], SAID, anonymity="role")
        view = build_digest(session, round_.id, now)
    by_org = view.participation["by_organisation"]
    assert by_org == {
        "Boots": {"invited": 3, "answered_any": 0, "answered_all": 0},
        SMALL_ORGANISATIONS: {
            "invited": 4, "answered_any": 4, "answered_all": 0},
    }
    whole = render_md(view) + render_text(view) + json.dumps(view.to_json())
    for organisation in ("High Street", "Corner Chemist", "Late Night Pharmacy", "King's"):
        assert organisation not in whole, organisation
    with transaction(database.sessions) as session:
        named = build_digest(session, round_with(session, now, PEOPLE, SAID, anonymity="named",
                                                 ).id, now)
    assert "King's" in named.participation["by_organisation"]


def test_no_table_of_organisations_when_every_one_is_too_small_to_show(
    database: Database, now: datetime
) -> None:
    """"By organisation: Other organisations (…): 12 of 12" said the
    totals again: with no organisation large enough to show, there is no such table."""
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, SAID, anonymity="role")
        view = build_digest(session, round_.id, now)
    assert view.participation["by_organisation"] == {}
    for name, output in {"md": render_md(view), "text": render_text(view)}.items():
        assert SMALL_ORGANISATIONS not in output, name
        assert "By organisation" not in output, name


def test_it_names_an_organisation_beside_a_role_only_where_three_of_both_answered(
    database: Database, now: datetime
) -> None:
    boots = [Person(f"UB{i}", f"Boots {i}", "community pharmacist", "Boots") for i in range(3)]
    said = [*SAID, *(Said(p.platform_user_id, "done-well", f"Boots answer {n}")
                     for n, p in enumerate(boots))]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, [*PEOPLE, *boots], said, anonymity="role")
        view = build_digest(session, round_.id, now)
    done_well = view.prompt("done-well")
    assert done_well is not None
    by = {a.text: a.by for a in done_well.answers}
    assert by["Boots answer 0"] == "community pharmacist, Boots"
    assert by[SAID[0].text or ""] == "community pharmacist"  # High Street: one of them
    assert by[SAID[3].text or ""] is None  # the one consultant


def test_it_counts_an_answer_that_says_dont_quote_me_and_never_shows_its_words(
    database: Database, now: datetime
) -> None:
    secret = "Frankly the ICS board ignored contractors for years, don't quote me"
    said = [*SAID, Said("UC2", "best-support", secret),
            Said("UC1", "best-support", "Protected time for leadership development")]
    for mode in ("named", "role", "anonymous"):
        with transaction(database.sessions) as session:
            round_ = round_with(session, now, PEOPLE, said, anonymity=mode)
            view = build_digest(session, round_.id, now)
        support = view.prompt("best-support")
        assert support is not None and support.answer_count == 2
        hidden = next(a for a in support.answers if not a.quotable)
        assert hidden.text == "(asked not to be quoted)"
        assert hidden.reply_id in support.unthemed_reply_ids + [
            r for t in support.themes for r in t.reply_ids]
        everything = (render_md(view) + render_html(view, charts=False) + render_text(view)
                      + render_csv(view) + json.dumps(view.to_json())
                      + json.dumps([m.blocks for m in digest_messages(view, charts=False)]))
        for words in (secret, "ICS board ignored", "ignored contractors"):
            assert words not in everything, (mode, words)


def test_no_theme_is_titled_or_summed_up_in_words_not_to_be_quoted() -> None:
    from bot.core.digest.model import AnswerView, ThemeView
    from bot.core.digest.not_quoted import keep_unquoted_out

    words = {"R1": "Frankly the ICS board ignored contractors for years",
             "R2": "Locum cover paid for, so contractors can come",
             "R3": "The ICS board must own it"}
    answers = [AnswerView("R1", "(asked not to be quoted)", None, None, False, quotable=False),
               AnswerView("R2", words["R2"], None, None, False),
               AnswerView("R3", words["R3"], None, None, False)]
    themes = [ThemeView("ICS board ignored contractors", "2 answers; they also say “Frankly "
                        "the ICS board ignored contractors”.", [], ["R1", "R2"], {}, "chat"),
              ThemeView("The ICS board", "2 answers, about the ICS board.", [], ["R1", "R3"],
                        {}, "chat")]
    kept = keep_unquoted_out(themes, answers, words)
    assert (kept[0].title, kept[0].summary) == ("Locum cover paid for", "")
    assert kept[1] == themes[1]  # "the ICS board" is also a quotable answer's words


def test_a_role_three_were_asked_but_fewer_answered_is_named_nowhere(
    database: Database, now: datetime
) -> None:
    """The rule that protects people, the same for the table and the quotes: a role (or an
    organisation) is named only where three people of it answered; where fewer did, a
    reader could tell whose the answers without a role are. A role nobody answered from is
    still named as not heard from (no words of theirs to tell apart)."""
    leads = [Person(f"UL{i}", f"Lead {i}", "PCN pharmacy lead", "Bexley PCN") for i in range(3)]
    silent = [Person(f"US{i}", f"Silent {i}", "hospital pharmacist", "Guy's") for i in range(3)]
    said = [*SAID, Said("UL0", "done-well", "Joint rotas with practices across the PCN.")]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, [*PEOPLE, *leads, *silent], said, anonymity="role")
        view = build_digest(session, round_.id, now)
    word = "\n".join(p.text for p in Document(io.BytesIO(render_docx(view))).paragraphs)
    cells = [c.text for t in Document(io.BytesIO(render_docx(view))).tables
             for r in t.rows for c in r.cells]
    outputs = {"md": render_md(view), "html": render_html(view, charts=False),
               "docx": word + "\n".join(cells), "text": render_text(view),
               "json": json.dumps(view.to_json(), ensure_ascii=False),
               "slack": json.dumps([m.blocks for m in digest_messages(view, charts=False)],
                                   ensure_ascii=False),
               "teams": json.dumps(digest_cards(view), ensure_ascii=False)}
    for name, output in outputs.items():
        for hidden in ("PCN pharmacy lead", "Bexley PCN", "consultant pharmacist"):
            assert hidden not in output, (name, hidden)
        assert "community pharmacist" in output, name
        assert "hospital pharmacist" in output, name  # not heard from
    assert list(view.participation["by_role"]) == [
        "community pharmacist", "hospital pharmacist", OTHER_ROLES]
    assert view.participation["by_role"][OTHER_ROLES] == {
        "invited": 4, "answered_any": 2, "answered_all": 0}
    assert view.participation["silent_roles"] == ["hospital pharmacist"]
