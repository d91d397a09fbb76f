"""Reading a submitted edit form, whatever the platform: each pair is filled in both or
neither, the field left empty is named, and the lead counts only when it changed."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.app.review import Change, ThemeRef
from bot.app.review_form import (
    CHOICES,
    OUT_OF_DATE,
    SEEN,
    SET_ASIDE,
    UNQUOTED,
    FieldError,
    changes_from,
    choices,
    seen_in,
    theme_value,
)
from bot.core.digest.model import AnswerView, PromptDigest, QuoteView, ThemeView
from bot.core.digest.theme_marks import mark_of

PROMPT = "best-support"
THEMES = [ThemeView(title, "", [], [f"ans-{n}-{i}" for i in range(size)], {}, "chat")
          for n, (title, size) in enumerate([("Time", 6), ("Mentors", 5), ("Peers", 4),
                                             ("Cover", 3)], start=1)]
"""Themes as a form showed them, numbered from 1."""
VALUES = {n: theme_value(n, t) for n, t in enumerate(THEMES, start=1)}


def shown(number: int) -> ThemeRef:
    """The theme the form showed as `number`, as a change names it."""
    theme = THEMES[number - 1]
    return ThemeRef(number, mark_of(theme.reply_ids), theme.title)


@pytest.mark.parametrize(("fields", "named", "message"), [
    ({"rename_theme": "1"}, "rename_title", "give both the theme and its new title"),
    ({"rename_title": "Time away"}, "rename_theme", "give both the theme and its new title"),
    ({"merge_theme": "2", "merge_into": " "}, "merge_into", "give both themes to merge"),
    ({"merge_into": "3"}, "merge_theme", "give both themes to merge"),
    ({"move_answer": ["ans-1"]}, "move_to", "give both the answers and where they go"),
    ({"move_to": "other", "move_answer": [], "lead": ""}, "move_answer",
     "give both the answers and where they go"),
    ({"move_answer": ["ans-1", "ans-2"], "move_to": "new"}, "new_title",
     "give the new theme its title"),
    ({"move_answer": ["ans-1"], "move_to": VALUES[2], "new_title": "Cover"}, "move_to",
     "choose “a new theme” for the answers to take this title"),
])
def test_it_names_the_empty_half_of_a_pair(fields: dict[str, str], named: str,
                                           message: str) -> None:
    with pytest.raises(FieldError) as refused:
        changes_from(PROMPT, None, fields)
    assert (refused.value.field, str(refused.value)) == (named, message)


def test_it_reads_every_change_a_form_asks_for() -> None:
    assert changes_from(PROMPT, "Before", {
        "rename_theme": VALUES[1], "rename_title": " Time away ", "merge_theme": VALUES[4],
        "merge_into": VALUES[3], "move_answer": ["ans-7", "ans-8"], "move_to": "other",
        "hide": ["ans-2", "ans-5"], "show": ["ans-6"], "lead": "After"}) == [
        Change("rename", PROMPT, theme=shown(1), text="Time away", source="rename_title"),
        Change("merge", PROMPT, theme=shown(4), into=shown(3), source="merge_into"),
        Change("move", PROMPT, reply_id="ans-7", to=None, source="move_to"),
        Change("move", PROMPT, reply_id="ans-8", to=None, source="move_to"),
        Change("hide", PROMPT, reply_id="ans-2", source="hide"),
        Change("hide", PROMPT, reply_id="ans-5", source="hide"),
        Change("show", PROMPT, reply_id="ans-6", source="show"),
        Change("lead", PROMPT, text="After", source="lead")]


def test_answers_moved_to_a_new_theme_make_one_change_with_its_title() -> None:
    assert changes_from(PROMPT, None, {"move_answer": ["ans-3", "ans-9"], "move_to": "new",
                                       "new_title": " Backfill for the day "}) == [
        Change("group", PROMPT, reply_ids=("ans-3", "ans-9"), text="Backfill for the day",
               source="new_title")]


def test_it_counts_the_lead_only_when_it_changed() -> None:
    assert changes_from(PROMPT, "Same", {"lead": " Same ", "hide": []}) == []
    assert changes_from(PROMPT, None, {"lead": "", "rename_theme": ""}) == []
    assert changes_from(PROMPT, "Gone", {}) == []
    assert changes_from(PROMPT, "Gone", {"lead": ""}) == [
        Change("lead", PROMPT, text="", source="lead")]


def test_a_theme_that_is_not_a_number_is_a_field_error() -> None:
    with pytest.raises(FieldError) as refused:
        changes_from(PROMPT, None, {"merge_theme": VALUES[1], "merge_into": "three"})
    assert refused.value.field == "merge_into"


def test_the_choices_list_replies_set_aside_first_and_keep_to_the_shared_limit() -> None:
    answers = [AnswerView(f"ans-{n}", f"answer {n}", None, None, False, noise=n % 10 == 0)
               for n in range(150)]
    theme = ThemeView("Time", "", [QuoteView("ans-1", "answer 1", None)],
                      [a.reply_id for a in answers if not a.noise], {}, "chat")
    prompt = PromptDigest(PROMPT, "S", "text", "Q?", 150, themes=[theme], answers=answers)
    offered = choices(prompt)
    assert [(c.value, c.text) for c in offered.themes] == [(theme_value(1, theme), "1. Time")]
    assert [c.value for c in offered.targets] == [theme_value(1, theme), "other", "new"]
    assert len(offered.answers) == CHOICES and offered.answers_in_all == 150
    # The replies the engine did not take for answers come first, marked, for a facilitator
    # to take one for an answer by moving it.
    assert [(c.value, c.text) for c in offered.answers[:2]] == [
        ("ans-0", f"{SET_ASIDE}answer 0"), ("ans-10", f"{SET_ASIDE}answer 10")]
    assert [c.value for c in offered.answers[15:17]] == ["ans-1", "ans-2"]
    assert len(choices(prompt, answers=20).answers) == 20
    assert choices(PromptDigest(PROMPT, "S", "text", "Q?", 0)).themes == []


def test_a_themes_choice_names_the_theme_the_form_showed_within_slacks_limit() -> None:
    """A theme's choice carries its number, a mark of its answers and its title as shown, so
    that a form saved after another edit renumbered the themes still names that theme."""
    big = ThemeView("A title as long as a facilitator may write it, " * 3, "", [],
                    [f"ans-{i:016d}" for i in range(5000)], {}, "chat")
    prompt = PromptDigest(PROMPT, "S", "text", "Q?", 5003, themes=[big, THEMES[3]])
    offered = choices(prompt)
    assert [c.text for c in offered.themes] == [f"1. {big.title}", "2. Cover"]
    assert all(len(c.value) <= 150 for c in offered.targets)  # a Slack option's value
    [change] = changes_from(PROMPT, None, {"rename_theme": offered.themes[0].value,
                                           "rename_title": "Shorter"})
    assert change.theme is not None and change.theme.number == 1
    assert change.theme.mark == mark_of(big.reply_ids)
    assert change.theme.title == "A title as long as a facilitator may wr…"
    [move] = changes_from(PROMPT, None, {"move_answer": ["ans-1"],
                                         "move_to": offered.targets[1].value})
    assert move.to == ThemeRef(2, mark_of(THEMES[3].reply_ids), "Cover")


def test_a_theme_chosen_by_its_number_alone_is_from_a_form_out_of_date() -> None:
    """A form made before themes were marked numbers them as the draft did then: refused."""
    with pytest.raises(FieldError) as refused:
        changes_from(PROMPT, None, {"rename_theme": "2", "rename_title": "Mentoring"})
    assert (refused.value.field, str(refused.value)) == ("rename_theme", OUT_OF_DATE)
    with pytest.raises(FieldError) as refused:
        changes_from(PROMPT, None, {"move_answer": ["ans-1"], "move_to": "2:not-a-mark:X"})
    assert (refused.value.field, str(refused.value)) == ("move_to", OUT_OF_DATE)


@pytest.mark.parametrize("carried", [None, 17, "", "yesterday", "2026-12-06T10:00:00",
                                     ["2026-12-06T10:00:00+00:00"]])
def test_a_form_time_that_is_missing_or_not_a_zoned_time_is_not_used(carried: object) -> None:
    """What a form carries back is the platform's client's to change: anything but a time
    with its zone counts as no time (the new theme then takes in only answers given after
    it is saved)."""
    assert seen_in({SEEN: carried}) is None and seen_in({}) is None


def test_the_time_a_form_carries_back_is_the_drafts() -> None:
    assert seen_in({SEEN: "2026-12-06T10:00:00.250000+00:00"}) == datetime(
        2026, 12, 6, 10, 0, 0, 250000, tzinfo=UTC)


def test_the_answers_a_theme_does_not_quote_are_marked_with_it_and_other_answers_hideable(
        ) -> None:
    """The form is where a chat facilitator reads a theme's answers the draft does not quote;
    the other answers the digest lists word for word are offered to hide beside the quotes."""
    answers = [AnswerView(f"ans-{n}", f"answer {n}", None, None, False) for n in range(6)]
    theme = ThemeView("Time", "", [QuoteView("ans-0", "answer 0", None)],
                      ["ans-0", "ans-1", "ans-2", "ans-3", "ans-4"], {}, "chat")
    prompt = PromptDigest(PROMPT, "S", "text", "Q?", 6, themes=[theme], answers=answers,
                          unthemed_reply_ids=["ans-5"])
    offered = choices(prompt)
    assert [c.text for c in offered.answers] == [
        "answer 0", *(f"{UNQUOTED.format(1)}answer {n}" for n in range(1, 5)), "answer 5"]
    assert [c.text for c in offered.quotes] == ["answer 0", "answer 5"]
