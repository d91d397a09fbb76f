"""A language model's stand-in answers for digests of tests/review_round.py's round: grounded
headlines in the words of each theme's own answers, or hostile ones that must never show."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from bot.core.digest.summariser import GROUPING_SYSTEM
from tests.digest.test_summariser import StandIn, chat

LABEL = "headline written by a language model"
HOSTILE = ("{} Dave Smith", "“{}”", "{} <@U0123ABCD> <!channel>", "{} https://evil.example/x")
"""A grounded headline with one thing added that must never reach a post."""
HOSTILE_LEAKS = ("Dave", "Smith", "U0123ABCD", "<!channel", "evil.example")
THEME = re.compile(r"^Theme (\d+) \(now called: .*\)$")
HELD_AT_MOST = 15.0
"""Seconds the stand-in holds an answer back at most, should a test never let it go: within
the 20 s ROUNDTABLE_LLM_TIMEOUT of the tests that hold one."""


def asked(stand_in: StandIn) -> tuple[int, int]:
    """How often the model was asked to group a question's answers, and to headline themes.
    The stand-in declines to group (its answer places no answer in a group), so the offline
    themes stand and the headlines are what these tests follow."""
    grouping = sum(r["messages"][0]["content"] == GROUPING_SYSTEM for r in stand_in.requests)
    return grouping, len(stand_in.requests) - grouping


def grounded(answers: list[str], shift: int = 0) -> str:
    """A headline in the words of a theme's own answers (five words of its last answer, from
    the second on, or later by `shift`)."""
    words = re.findall(r"[A-Za-z]+", answers[-1])[1 + shift:6 + shift]
    return " ".join(words).capitalize()


def themes_sent(request: dict[str, Any]) -> dict[int, list[str]]:
    """The answers the request gave the model, by theme number."""
    sent: dict[int, list[str]] = {}
    number = 0
    for line in request["messages"][1]["content"].splitlines():
        found = THEME.match(line)
        if found:
            number = int(found.group(1))
            sent[number] = []
        elif line.startswith("- ") and number:
            sent[number].append(line[2:])
    return sent


def answering(stand_in: StandIn, hostile: bool = False) -> dict[int, str]:
    """The stand-in answers every theme with a grounded headline (or, with `hostile`, every
    theme but the last with a hostile one): the titles it proposed, by theme number. Asked
    again, it words them differently, as a model may."""
    proposed: dict[int, str] = {}

    def reply(request: dict[str, Any]) -> tuple[int, bytes, float]:
        sent = themes_sent(request)
        themes = []
        shift = asked(stand_in)[1] - 1
        for n, answers in sent.items():
            title = grounded(answers, shift)
            if hostile and n < max(sent):
                title = HOSTILE[(n - 1) % len(HOSTILE)].format(title)
            proposed[n] = title
            themes.append({"n": n, "title": title, "summary": title + "."})
        return 200, chat(json.dumps({"themes": themes})), 0.0

    stand_in.reply = reply
    return proposed


@contextmanager
def held(stand_in: StandIn) -> Iterator[Callable[[], None]]:
    """The model's next answer held back until the test lets it go (the function given): a
    model that takes longer than the platform waits for a button or a form (REVIEW_WAIT), as
    long as the test needs and no longer. Answers after it come at once, as before."""
    answer = stand_in.reply
    first = threading.Lock()
    let_go = threading.Event()

    def reply(request: dict[str, Any]) -> tuple[int, bytes, float]:
        if first.acquire(blocking=False):
            let_go.wait(HELD_AT_MOST)
        return answer(request)

    stand_in.reply = reply
    try:
        yield let_go.set
    finally:
        let_go.set()
        stand_in.reply = answer
