"""What a reader sees of a question's themes: at most seven, whole-phrase titles taken from
their own answers, listed answers where there are too few to theme, and one build of the
themes for every format of one digest."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from datetime import datetime
from pathlib import Path

import pytest

from bot.core.digest import build as build_module
from bot.core.digest.build import build_digest
from bot.core.digest.export import FORMATS, write_export
from bot.core.digest.lexicon import STOP_WORDS, words
from bot.core.digest.model import AnswerView
from bot.core.digest.render_md import render_md
from bot.core.digest.theme_views import Engine, Grouping, engine_grouping
from bot.core.digest.themes import MAX_THEMES, Answer, find_themes
from bot.core.digest.titles import distinctive_terms, title
from bot.core.people import Person
from storage.database import Database
from storage.db import transaction
from tests.digest.builders import Said, round_with

ROOT = Path(__file__).resolve().parents[2]
LABELLED = [ROOT.parent / "shared" / "data" / "replies-labeled.csv",
            *sorted(p for p in (ROOT / "bench" / "data").glob("*.csv")
                    if not p.stem.endswith(("-themes", "-questions")))]
PEOPLE = [Person(f"U{i}", f"Person {i}", "community pharmacist", f"Org {i}") for i in range(6)]


def labelled_questions(path: Path) -> list[tuple[str, list[dict[str, str]]]]:
    by_prompt: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            by_prompt[row["prompt_id"]].append(row)
    return [(f"{path.stem}:{prompt}", rows) for prompt, rows in by_prompt.items()]


def test_the_labelled_sets_are_all_there() -> None:
    present = [path for path in LABELLED if path.is_file()]
    assert len(present) >= 8, "the sample file and the sets in bench/data"


# One case per labelled file, so that test workers share them out.
@pytest.mark.parametrize("path", [p for p in LABELLED if p.is_file()], ids=lambda p: p.stem)
def test_every_labelled_question_gets_at_most_seven_themes_titled_from_their_answers(
        path: Path) -> None:
    for name, rows in labelled_questions(path):
        text = {r["id"]: r["text"] for r in rows}
        result = find_themes([Answer(r["id"], r["text"]) for r in rows])
        assert 1 <= len(result.themes) <= MAX_THEMES, name
        sizes = [len(t.reply_ids) for t in result.themes]
        assert sizes == sorted(sizes, reverse=True), name
        for theme in result.themes:
            said = words(theme.title)
            assert said and said[-1] not in STOP_WORDS, (name, theme.title)
            assert not re.search(r"[-–—,;:(&+/]\s*$", theme.title), (name, theme.title)
            theirs = {w for r in theme.reply_ids for w in words(text[r])}
            assert set(said) <= theirs, (name, theme.title)
            # A whole clause of one answer, word for word.
            assert any(theme.title.lower() in text[r].lower() for r in theme.reply_ids), theme
            # a sentence, or none where the count (the theme's line) is all there is
            assert not theme.summary or theme.summary.endswith("."), (name, theme.summary)


def test_a_theme_whose_answers_all_end_on_a_small_word_is_titled_by_a_whole_opening_phrase(
) -> None:
    members = ["A weekly huddle with notes sent round to anyone who missed it",
               "Notes sent round to whoever was off, that is all we need from it"]
    titled = title(members, [0, 1], distinctive_terms(members, []))
    assert titled == "A weekly huddle with notes sent round"
    assert words(titled)[-1] not in STOP_WORDS


def said_to_one_question(database: Database, now: datetime, texts: list[str]) -> str:
    said = [Said(PEOPLE[n % len(PEOPLE)].platform_user_id, "bought-in", text)
            for n, text in enumerate(texts)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, said)
        view = build_digest(session, round_.id, now)
    prompt = view.prompt("bought-in")
    assert prompt is not None
    assert prompt.themes == []
    return render_md(view)


def test_three_unrelated_answers_are_listed_not_themed(database: Database, now: datetime) -> None:
    texts = ["The LPC, because it speaks for every contractor",
             "Patients and carers through Healthwatch",
             "Whoever holds the ICS budget for medicines"]
    markdown = said_to_one_question(database, now, texts)
    section = markdown.split("Who needs to be bought in")[1].split("\n## ")[0]
    assert "#### Answers" in section and "Other answers" not in section
    for text in texts:
        assert text in section


def test_a_question_with_one_answer_shows_that_answer(database: Database, now: datetime) -> None:
    markdown = said_to_one_question(database, now, ["Community pharmacy owners and the LPC"])
    section = markdown.split("Who needs to be bought in")[1].split("\n## ")[0]
    assert "1 answer." in section
    assert "#### Answers" in section and "Community pharmacy owners and the LPC" in section


def test_four_formats_of_one_digest_build_its_themes_once(
        database: Database, now: datetime, tmp_path: Path) -> None:
    builds: list[str] = []

    def counted(answers: list[AnswerView], question: str) -> Grouping:
        builds.append(question)
        return engine_grouping(answers, question)

    engine: Engine = counted
    build_module._BUILT.clear()
    texts = ["Fund backfill so community pharmacists can attend",
             "Backfill funding for locum cover", "Locum cover paid so I can attend",
             "The ICS board must own medicines leadership", "ICS executives bought in",
             "The ICS board and its chief executive"]
    said = [Said(PEOPLE[n % len(PEOPLE)].platform_user_id, "bought-in", text)
            for n, text in enumerate(texts)]
    with transaction(database.sessions) as session:
        round_ = round_with(session, now, PEOPLE, said)
        for fmt in FORMATS:
            view = build_digest(session, round_.id, now, engine=engine)
            write_export(view, fmt, tmp_path / f"synthesis.{fmt}")
    assert builds == ["Who needs to be bought in to developing pharmacy system leadership "
                      "for it to succeed?"]
    # A new answer is a new set of answers: the themes are built again.
    with transaction(database.sessions) as session:
        person = PEOPLE[0].platform_user_id
        from bot.core.people import find_participant
        from bot.core.replies import record_reply

        participant = find_participant(session, person, "slack")
        assert participant is not None
        record_reply(session, round_.id, "bought-in", participant, "LPC chairs too", now)
        build_digest(session, round_.id, now, engine=engine)
    assert len(builds) == 2
