"""Adaptive Cards: what a person reads in a confirmation of several answers."""

from __future__ import annotations

from typing import Any

from bot.core.packs import Prompt
from bot.core.questions import Asked, Saved
from bot.teams.cards import confirmations_card
from bot.teams.render import MAX_CARD_BYTES, size
from storage.models import Participant

OPTIONS = tuple(f"Option {i}" for i in range(6))
CHOOSE = Prompt(id="choose", section="S", kind="choice", question="Pick two?",
                options=OPTIONS, pick=2)
RANK = Prompt(id="top", section="S", kind="rank", question="Top 3?", options=OPTIONS, pick=3)
WRITE = Prompt(id="write", section="S", kind="text", question="What worked?")


def _read(card: dict[str, Any]) -> str:
    """Every paragraph of a card as read, one a line."""
    return "\n".join("".join(run["text"] for run in block["inlines"])
                     for block in card["body"] if block["type"] == "RichTextBlock")


def test_a_shared_confirmation_reads_back_a_typed_vote_and_lists_a_form_vote() -> None:
    typed = Saved(Asked(1, Participant(), CHOOSE, 3), ("Option 2", "Option 0"), "a:1:2",
                  typed=True, reason="Both matter to me.")
    form = Saved(Asked(1, Participant(), RANK, 4), ("Option 5", "Option 1", "Option 3"), "f1")
    written = Saved(Asked(1, Participant(), WRITE, 2), "Mutual aid", "a:1:1")
    card = confirmations_card([written, typed, form])
    read = _read(card)
    assert read.startswith("Saved 3 answers, to questions 2, 3 and 4.\n2. What worked?\n"
                           "Mutual aid\n")
    assert ("3. Pick two?\nYour choice, as I read your message:\n1. Option 2\n2. Option 0\n"
            "Your words after it are kept with it, as your reason") in read
    assert "4. Top 3?\nOption 5; Option 1; Option 3" in read
    assert read.count("Not what you meant? Answer the question again on its card.") == 1
    assert "Not what you meant?" not in _read(confirmations_card([written, form]))


def test_twenty_typed_rankings_fit_in_one_card() -> None:
    saved = [Saved(Asked(1, Participant(), RANK, n), ("Option 5", "Option 1", "Option 3"),
                   f"a:1:{n}", typed=True, reason="Because.") for n in range(20)]
    card = confirmations_card(saved)
    assert size(card) < MAX_CARD_BYTES
    assert _read(card).count("Your ranking, as I read your message:\n1. Option 5") == 20


def test_twenty_long_written_answers_fit_in_one_card_each_under_its_question() -> None:
    long = Prompt(id="long", section="S", kind="text", question="Why? " * 200)
    saved = [Saved(Asked(1, Participant(), long, n), "Because " * 300, f"a:1:{n}")
             for n in range(20)]
    card = confirmations_card(saved)
    assert size(card) < MAX_CARD_BYTES
    assert _read(card).count("\nBecause Because") == 20
    assert [b["data"]["answer"] for b in _dont_quote_buttons(card)] == [s.external_id
                                                                        for s in saved]


TEAMS_ID = "t-vjrwqvdh2ya7qu2imuhrl5oq6ubgk7pb:1:17966253091800{:05d}"
"""An answer's id as Teams answers are kept: the conversation's key and the message's id."""


def _dont_quote_buttons(card: dict[str, Any]) -> list[dict[str, Any]]:
    return [a for e in card["body"] if e.get("type") == "ActionSet" for a in e["actions"]
            if a["title"] == "Don't quote me"]


def test_each_dont_quote_button_of_a_shared_confirmation_lists_what_the_card_shows() -> None:
    """So that pressing one can show the card again: the answers' ids, a vote by its round
    and question (a new ballot keeps its first row), and that a file was not kept; where the
    lists would not fit beside twenty long answers, the starts are cut shorter first, then
    the lists are left out."""
    written = [Saved(Asked(3, Participant(), WRITE, 2), f"Mutual aid {n}", TEAMS_ID.format(n),
                     files_dropped=n == 1) for n in range(2)]
    typed = Saved(Asked(3, Participant(), RANK, 4), ("Option 5", "Option 1", "Option 3"),
                  TEAMS_ID.format(9), typed=True)
    card = confirmations_card([written[0], typed, written[1]])
    buttons = _dont_quote_buttons(card)
    assert [b["data"]["answer"] for b in buttons] == [TEAMS_ID.format(0), TEAMS_ID.format(1)]
    for button in buttons:
        assert button["data"]["card"] == [TEAMS_ID.format(0), [3, "top"], TEAMS_ID.format(1)]
        assert button["data"]["files"] is True
        assert button["fallback"]["data"] == button["data"]  # Action.Submit's too

    long = Prompt(id="long", section="S", kind="text", question="Why? " * 200)
    for many, listed in ((10, True), (20, False)):
        saved = [Saved(Asked(1, Participant(), long, n), "Because " * 300, TEAMS_ID.format(n))
                 for n in range(many)]
        card = confirmations_card(saved)
        assert size(card) < MAX_CARD_BYTES
        assert _read(card).count("\nBecause Because") == many
        buttons = _dont_quote_buttons(card)
        assert len(buttons) == many
        assert all(b["data"]["card"] == ([s.external_id for s in saved] if listed else [])
                   for b in buttons)


HOSTILE = "What's *really* [click](https://evil.example)\n- a list\n1. numbered _too_"
SHOWN = ("What's \\*really\\* \\[click\\](https://evil.example)\n\\- a list\n1\\. numbered "
         "\\_too\\_")
"""HOSTILE as a field Teams reads as Markdown must hold it to show it as written."""


def _markdown_fields(element: Any, choices_marked: bool = False) -> list[str]:
    """Every string in a card that Teams reads as Markdown: a TextBlock's text, a fact, a
    toggle's title, and the titles of choices shown as radio buttons or checkboxes."""
    if isinstance(element, list):
        return [t for e in element for t in _markdown_fields(e, choices_marked)]
    if not isinstance(element, dict):
        return []
    kind, found = element.get("type"), []
    if kind == "TextBlock" or kind == "Input.Toggle":
        found.append(element.get("text") or element.get("title") or "")
    if kind == "Fact":
        found += [element["title"], element["value"]]
    marked = kind == "Input.ChoiceSet" and (element.get("style") == "expanded"
                                            or bool(element.get("isMultiSelect")))
    if "title" in element and "value" in element and choices_marked:
        found.append(element["title"])
    return found + [t for k, v in element.items() if k != "type"
                    for t in _markdown_fields(v, marked if k == "choices" else False)]


def _runs(element: Any) -> list[str]:
    if isinstance(element, list):
        return [t for e in element for t in _runs(e)]
    if not isinstance(element, dict):
        return []
    own = [element["text"]] if element.get("type") == "TextRun" else []
    return own + [t for v in element.values() for t in _runs(v)]


def _shows_as_written(card: dict[str, Any], *words: str) -> None:
    runs = "\n".join(_runs(card))
    for text in words:
        assert text in runs, text  # a TextRun: never read as Markdown
    for field in _markdown_fields(card):
        assert "*really*" not in field and "[click]" not in field, field
        assert not any(line.lstrip().startswith(("- ", "1. ")) for line in field.split("\n"))


def test_peoples_and_the_packs_words_show_as_written_in_every_card() -> None:
    from bot.core.digest.model import (
        AnswerView,
        DigestView,
        Draft,
        PromptDigest,
        QuoteView,
        RoundInfo,
        ThemeView,
    )
    from bot.core.home import HomeView
    from bot.core.questions import Question
    from bot.teams.cards import home_card, question_card
    from bot.teams.digest_cards import digest_cards
    from bot.teams.review_cards import draft_card

    hostile_options = (HOSTILE, "Option 1", "Option 2")
    choose = Prompt(id="choose", section="S", kind="choice", question=HOSTILE,
                    options=hostile_options, pick=2)
    asked = Question(1, 7, choose, 1, 3)
    card = question_card(asked)
    _shows_as_written(card, HOSTILE)
    [choices] = [e for e in card["body"] if e["type"] == "Input.ChoiceSet"]
    assert choices["choices"][0]["title"] == SHOWN
    home = home_card(HomeView(False, [], [Asked(7, Participant(), choose, 1)]))
    _shows_as_written(home, HOSTILE)
    assert SHOWN in [c["title"] for e in home["body"] for c in e.get("choices", [])]

    _shows_as_written(confirmations_card([Saved(Asked(7, Participant(), WRITE, 2), HOSTILE,
                                                 "a:1:1")]), HOSTILE)
    _shows_as_written(confirmations_card([Saved(Asked(7, Participant(), choose, 1),
                                                (HOSTILE,), "f1")]), HOSTILE)

    answers = [AnswerView(f"a{n}", HOSTILE, None, HOSTILE, False) for n in range(2)]
    theme = ThemeView(HOSTILE, "", [QuoteView("a0", HOSTILE, None)], ["a0", "a1"],
                      {HOSTILE: 2}, "chat")
    prompt = PromptDigest("q", "S", "text", HOSTILE, 2, themes=[theme], answers=answers)
    info = RoundInfo(7, "pack", "Round", "", "", "open", "named", "", None, "")
    people = {"invited": 3, "answered_any": 2, "answered_all": 2, "silent_roles": [HOSTILE],
              "by_role": {HOSTILE: {"answered_any": 2, "invited": 2, "answered_all": 2}}}
    view = DigestView(info, people, [prompt])
    for part in digest_cards(view):
        _shows_as_written(part, HOSTILE.split("\n")[0])
    draft = Draft(3, "week", view, "review", None, "wait")
    _shows_as_written(draft_card(draft), HOSTILE)
    form = draft_card(draft, "q")
    _shows_as_written(form, HOSTILE)
    titles = [c["title"] for e in form["body"] if e.get("isMultiSelect")
              for c in e["choices"]]
    assert titles and all("*really*" not in t and "\\*really\\*" in t for t in titles)
