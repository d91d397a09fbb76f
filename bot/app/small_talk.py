"""Messages that are only a greeting or a question about the bot itself ("hi", "who are
you?"), or have no word at all ("👍"): written to the bot while a question waits, they are
not an answer to it.

Recognition is deliberately narrow: a short, closed list of everyday English phrases, matched
against the whole message (case, punctuation and emoji ignored, a "please" or the bot's name
at the end allowed), never a phrase within a longer message. "Hi, protected time made it
work" is an answer; so is anything that says a word about the question's subject.
"""

from __future__ import annotations

import re
from typing import Literal

from bot.core.replies import shows_nothing

Talk = Literal["greeting", "about", "no words"]
"""A greeting, a question about the bot (what it is, how it works, a call for help), or a
message of emoji or punctuation only (a thumbs-up to the question is not an answer to it)."""

GREETINGS = frozenset({
    "hi", "hello", "hey", "hiya", "howdy", "greetings", "good morning", "good afternoon",
    "good evening", "hi how are you", "hello how are you", "how are you",
})
ABOUT_THE_BOT = frozenset({
    "what is this", "whats this", "what is this about", "whats this about", "who are you",
    "what are you", "who is this", "what is roundtable", "whats roundtable", "help me",
    "can you help", "can you help me", "i need help", "how does this work",
    "how do i use this", "how do i answer", "why am i getting this",
})
# Not "morning" alone, nor anything else a question could be answered with ("When do you
# find time?" "Morning.").
ADDRESSED = frozenset({"please", "there", "roundtable", "bot"})
"""Words that may close either (“hello there”, “help me please”, “hi Roundtable”)."""
LONGEST = 120
"""Characters a message may have and still be recognised: these phrases are short, and so
is what the bot keeps of them to save later."""
SHORTCODE = re.compile(r":[a-z0-9_+'-]+:")
"""An emoji written as its name (Slack sends `:wave:`)."""
WORD = re.compile(r"[a-z]+")
LETTER_OR_DIGIT = re.compile(r"\w")
"""In any language: a message with none ("👍", ":+1:", "?") says nothing a digest could quote
(one that shows nothing at all is refused as an answer: bot.core.replies.shows_nothing)."""


def small_talk(text: str) -> Talk | None:
    """What the whole message is, when it is only a greeting or a question about the bot."""
    if len(text) > LONGEST:
        return None
    lowered = SHORTCODE.sub(" ", text.lower()).replace("'", "").replace("\u2019", "")
    if not shows_nothing(text) and not LETTER_OR_DIGIT.search(lowered):
        return "no words"
    words = WORD.findall(lowered)
    while len(words) > 1 and words[-1] in ADDRESSED:
        words.pop()
    phrase = " ".join(words)
    if phrase in GREETINGS:
        return "greeting"
    if phrase in ABOUT_THE_BOT:
        return "about"
    return None
