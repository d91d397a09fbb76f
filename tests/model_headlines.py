"""A language model's stand-in answers for digests of tests/review_round.py's round: grounded
headlines in the words of each theme's own answers, or hostile ones that must never show."""

from __future__ import annotations

import json
import re
from typing import Any

from bot.core.digest.summariser import GROUPING_SYSTEM
from tests.digest.test_summariser import StandIn, chat

LABEL = "headline written by a language model"
HOSTILE = ("{} Dave Smith", "“{}”", "{} <@U0123ABCD> <!channel>", "{} https://evil.example/x")
"""A grounded headline with one thing added that must never reach a post."""
HOSTILE_LEAKS = ("Dave", "Smith", "U0123ABCD", "<!channel", "evil.example")
THEME = re.compile(r"^Theme (\d+) \(now called: .*\)$")


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
