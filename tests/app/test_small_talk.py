"""Which whole messages are small talk (a greeting, a question about the bot, no word at all)
and not an answer: a closed list, the whole message only."""

from __future__ import annotations

import pytest

from bot.app.small_talk import small_talk


@pytest.mark.parametrize(("text", "talk"), [
    ("hi", "greeting"), ("Hello!", "greeting"), ("HEY THERE 👋", "greeting"),
    ("Good morning :wave:", "greeting"), ("hi Roundtable", "greeting"),
    ("What is this?", "about"), ("what’s this??", "about"), ("Help me", "about"),
    ("help me please", "about"), ("Who are you?", "about"),
    ("👍", "no words"), (":+1::skin-tone-2:", "no words"), ("👋", "no words"), ("?", "no words"),
])
def test_it_recognises_a_whole_message_of_small_talk(text: str, talk: str) -> None:
    assert small_talk(text) == talk


@pytest.mark.parametrize("text", [
    "Hi, protected time made it work.", "Hello GPs and the ICS board", "help",
    "Help me understand the budget", "who are you working with at the PCN?", "", "\u2800",
    "3, 1, 5, 2, 4", "5", "Dim 👎", "👍 Cytuno",
    "hi " + "!" * 200, "Morning.", "Evenings", "Thanks",
])
def test_it_takes_anything_else_for_an_answer(text: str) -> None:
    assert small_talk(text) is None
