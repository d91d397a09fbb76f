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
