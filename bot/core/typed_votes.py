"""Reading a vote from words someone typed: "3, 1, 5, 2, 4", or the options' names in order
("Protected time, then psychological safety, …"), or a numbered list of them.

The reading is strict on purpose: every word must name an option (in full, or shortened, or
with one slip of the keyboard, as long as only one option fits), be its number, or be one of a
few joining words ("then", "and", "first", "my top five is"). A message with any other word is
not a vote; it is kept as the person's comment on the question instead, so that a
reason is never mistaken for a ballot and nothing anybody wrote is dropped. When the rest of
such a message reads as options, the pieces that did not are named back ("exec support"), so
that the person can write them again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.core.packs import Prompt
from bot.core.said import AnswerForm, Said, said
from bot.core.wording import listed

_WORD = re.compile(r"[a-z0-9]+")
_SEPARATORS = re.compile(r"[,;\n>/|→]+|(?<=[^\W\d])\.(?=\s|$)|\bthen\b|\bfollowed by\b|\bnext\b",
                         re.IGNORECASE)
_ORDINALS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth",
             "ninth", "tenth")
JOINING = frozenset({
    "and", "then", "next", "followed", "by", "finally", "lastly", "last", "after", "that",
    "my", "top", "is", "are", "choice", "choices", "ranking", "rank", "ranked", "order",
    "in", "i", "d", "say", "would", "pick", "picks", "option", "options", "number",
    "numbers", "place", "the", "a", "of", "one", "two", "three", "four", "five", "st", "nd",
    "rd", "th", "most", "least", "important", "plus", "also", "with", "it", "s", "to", "me",
    *_ORDINALS,
})
"""Words that join names in a typed vote and say nothing of their own."""


@dataclass(frozen=True)
class TypedVote:
    """What a message says as a vote: the options named, in order, and whether they make a
    ballot this question takes (`problem` says why not)."""

    named: tuple[str, ...]
    problem: str | None = None
    unread: tuple[str, ...] = ()
    """Pieces of a ballot, as typed, that fit no option (or several), when the rest of the
    message named options: then `named` is empty, as the message is no vote."""

    @property
    def ballot(self) -> tuple[str, ...] | None:
        return self.named if self.named and self.problem is None else None


def read_vote(prompt: Prompt, text: str) -> TypedVote:
    """The options a message names for a rank or choice question, checked as a ballot."""
    named: list[str] = []
    unread: list[str] = []
    for chunk in _SEPARATORS.split(text):
        words = _WORD.findall(_folded(chunk))
        if not words:
            continue
        options = _whole_names(prompt, words) or _one_shortened(prompt, words)
        if options is None:
            unread.append(chunk)
        else:
            named += options
    if unread:
        meant = [_LIST_MARK.sub("", c).strip(" .") for c in unread if _meant_as_option(prompt, c)]
        return TypedVote((), unread=tuple(meant) if named and len(meant) == len(unread) else ())
    if not named:
        return TypedVote(())
    return TypedVote(tuple(named), _problem(prompt, named))


_LIST_MARK = re.compile(r"^\s*(?:\d+[.)]\s+|[-*•]\s*)")
UNREAD_WORDS = 1
"""Words a piece may hold that are neither an option's nor joining words, and still be taken
for an option typed wrongly ("exec support") rather than for words of the person's own."""


def _meant_as_option(prompt: Prompt, chunk: str) -> bool:
    """Whether a piece that fits no one option looks meant as one: a number alone (none of
    the options'), or words of which some are options' words and at most UNREAD_WORDS not."""
    content = [w for w in _WORD.findall(_folded(_LIST_MARK.sub("", chunk))) if w not in JOINING]
    if content and all(w.isdigit() for w in content):
        return True
    names = [n for _, name in _option_words(prompt) for n in name]
    known = [w for w in content if any(_same_word(w, n) for n in names)]
    return bool(known) and len(content) - len(known) <= UNREAD_WORDS


_REASON_START = re.compile(r"\n|(?<=[.!?])\s|\s[-–—]\s|\s(?=(?:because|as|since)\b)|:\s",
                           re.IGNORECASE)
REASON_WORDS = 2
"""Words after a ballot that make a reason (fewer are a stray word, and no ballot)."""


def read_vote_and_reason(prompt: Prompt, text: str) -> tuple[TypedVote, str | None]:
    """A ballot, and the person's reason when words follow it ("3, 1, 5, 2, 4 because…",
    a numbered list and then a sentence): the reason is their words after the ballot,
    verbatim. A message that is not a ballot followed by words is read as a whole."""
    whole = read_vote(prompt, text)
    if whole.named:
        return whole, None
    for match in reversed(list(_REASON_START.finditer(text))):  # the longest ballot first
        vote = read_vote(prompt, text[:match.start()])
        reason = text[match.start():].strip(" \t\n-–—:")
        if vote.ballot is not None and len(_WORD.findall(_folded(reason))) >= REASON_WORDS:
            return vote, reason
    return whole, None


def _folded(text: str) -> str:
    return text.lower().replace("&", " and ").replace("’", "'").replace("-", " ")


def _option_words(prompt: Prompt) -> list[tuple[str, list[str]]]:
    return [(option, _WORD.findall(_folded(option))) for option in prompt.options]


def _whole_names(prompt: Prompt, words: list[str]) -> list[str] | None:
    """Options named in full, or by number, one after another with joining words between;
    a number followed by an option's name is the list's numbering, not the option's."""
    names = sorted(_option_words(prompt), key=lambda kv: -len(kv[1]))
    out: list[str] = []
    i = 0
    while i < len(words):
        found = _name_at(names, words, i)
        if found is not None:
            out.append(found[0])
            i += found[1]
        elif words[i].isdigit():
            if _name_at(names, words, i + 1) is None:
                number = int(words[i])
                if not 1 <= number <= len(prompt.options):
                    return None
                out.append(prompt.options[number - 1])
            i += 1
        elif words[i] in JOINING or re.fullmatch(r"\d+(st|nd|rd|th)", words[i]):
            i += 1
        else:
            return None
    return out or None


def _name_at(names: list[tuple[str, list[str]]], words: list[str], i: int
             ) -> tuple[str, int] | None:
    for option, name in names:
        if name and words[i:i + len(name)] == name:
            return option, len(name)
    return None


def _one_shortened(prompt: Prompt, words: list[str]) -> list[str] | None:
    """A piece between separators that names one option by some of its words
    ("relationships", "executive backing"), and no other option."""
    content = [w for w in words if w not in JOINING and not w.isdigit()]
    if not content:
        return None
    matches = [option for option, name in _option_words(prompt)
               if all(any(_same_word(w, n) for n in name) for w in content)]
    return matches if len(matches) == 1 else None


SHORTEST_PREFIX = 3
"""A word this long or longer that begins an option's word stands for it ("psych", "dev")."""
SHORTEST_SLIP = 4
"""A word this long or longer may carry one slip of the keyboard ("tiem" for "time"), when the
option's word is as long too: with three, "hand", "land" or "thme" would fit "and" and "the",
which several options hold. In the seed pack no four-letter slip fits two options."""


def _same_word(typed: str, word: str) -> bool:
    """`typed` is `word`, its beginning ("analytics" by "analyt"), or `word` with one slip of
    the keyboard (a letter added, dropped, changed or two swapped) once both have four
    letters."""
    if typed == word or (len(typed) >= SHORTEST_PREFIX and word.startswith(typed)):
        return True
    return min(len(typed), len(word)) >= SHORTEST_SLIP and _one_slip(typed, word)


def _one_slip(a: str, b: str) -> bool:
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        differ = [i for i in range(len(a)) if a[i] != b[i]]
        return len(differ) == 1 or (len(differ) == 2 and differ[1] == differ[0] + 1
                                    and a[differ[0]] == b[differ[1]]
                                    and a[differ[1]] == b[differ[0]])
    shorter, longer = sorted((a, b), key=len)
    i = next((i for i in range(len(shorter)) if shorter[i] != longer[i]), len(shorter))
    return shorter[i:] == longer[i + 1:]


def _problem(prompt: Prompt, named: list[str]) -> str | None:
    """Why the options named are no ballot here (None: they are one). An option named more
    than once is said, each once, with what the question takes."""
    repeated = [f"{option} {_times(named.count(option))}" for option in dict.fromkeys(named)
                if named.count(option) > 1]
    if repeated:
        takes = (f"a ranking here needs your top {prompt.places}, each named once"
                 if prompt.kind == "rank" else "this question takes each option once")
        return f"you named {listed(repeated)}, and {takes}"
    if prompt.kind == "rank":
        wanted = prompt.places
        if len(named) != wanted:
            return f"a ranking here needs your top {wanted}, and I found {len(named)}"
    elif len(named) > prompt.picks:
        return f"this question takes at most {prompt.picks}, and I found {len(named)}"
    return None


def _times(n: int) -> str:
    return "twice" if n == 2 else f"{n} times"


def numbered_options(prompt: Prompt) -> str:
    """"1. Protected time · 2. Insights from elsewhere · …": the numbers a typed vote uses."""
    return " · ".join(f"{n}. {option}" for n, option in enumerate(prompt.options, start=1))


def how_to_type(prompt: Prompt) -> str:
    """One line on answering a vote in words."""
    if prompt.kind == "rank":
        wanted = prompt.places
        example = ", ".join(str(n) for n in _example(wanted, len(prompt.options)))
        return (f"Or reply with the numbers or names of your top {wanted}, best first "
                f"(like {example}).")
    most = "one" if prompt.picks == 1 else f"up to {prompt.picks}"
    return f"Or reply with the number or name of {most} of the options."


def _example(wanted: int, options: int) -> list[int]:
    order = [3, 1, 5, 2, 4, 6, 7, 8, 9, 10]
    picked = [n for n in order if n <= options][:wanted]
    return picked + [n for n in range(1, options + 1) if n not in picked][:wanted - len(picked)]


def _pieces(unread: tuple[str, ...]) -> str:
    return listed([f"“{piece}”" for piece in unread])


def which_unread(typed: TypedVote) -> str | None:
    """The pieces of a ballot that fit no option, asked about ("Which option is “exec
    support”?"); None when there are none to name."""
    if not typed.unread:
        return None
    if len(typed.unread) == 1:
        return f"Which option is {_pieces(typed.unread)}?"
    return f"Which options are {_pieces(typed.unread)}?"


def comment_notice(number: int, prompt: Prompt, typed: TypedVote, *,
                   voted: bool = False, quotable: bool = True) -> Said:
    """What the bot says when words to a vote's question were kept as a comment (`voted`:
    beside the person's ballot; not `quotable`: they asked not to be quoted, so no digest
    shows it)."""
    vote = "ranking" if prompt.kind == "rank" else "choice"
    beside = f", beside your {vote}" if voted else ""
    shown = ("it appears in the digest under the question, as your words" if quotable else
             "as you asked, it is never quoted, so the digest does not show it")
    kept = f"I kept your message as a comment on question {number}{beside}: {shown}. "
    if voted:
        return said(kept, f"To change your {vote}, use ", AnswerForm(),
                    f". {how_to_type(prompt)}")
    found = ""
    if typed.named and typed.problem:
        found = f"I found {', '.join(dict.fromkeys(typed.named))} in it, but {typed.problem}. "
    elif typed.unread:
        pieces = _pieces(typed.unread)
        found = (f"I could not tell which option {pieces} is. " if len(typed.unread) == 1 else
                 f"I could not tell which options {pieces} are. ")
    verb = "rank" if prompt.kind == "rank" else "choose"
    return said(kept, f"{found}It is not a vote yet: to {verb}, use ", AnswerForm(),
                f". {how_to_type(prompt)}")
