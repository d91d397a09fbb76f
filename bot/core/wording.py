"""Small pieces of English shared by everything that writes sentences for people."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence


def listed(items: Sequence[str]) -> str:
    """"a", "a and b", "a, b and c"."""
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def reading_order(name: str) -> tuple[str, str]:
    """The key that lists names people wrote (roles, organisations) as a reader expects:
    case and accents aside ("community pharmacist" before "PCN pharmacy lead", "Évelina"
    beside "Evelina"), then as written, so that the same names always read the same."""
    bare = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
    return bare.casefold(), name


def counted(n: int, one: str, many: str | None = None) -> str:
    """"1 answer", "3 answers", "1 person", "2 people"."""
    return f"{n} {one if n == 1 else many or one + 's'}"


_ENDS_SENTENCE = (".", "!", "?", "…")


def quoted_last(text: str) -> str:
    """Someone's words in quotation marks at the end of a sentence: "“Time to learn”." but
    "“Time to learn.”", whose own full stop ends the sentence too."""
    return f"“{text}”" + ("" if text.rstrip().endswith(_ENDS_SENTENCE) else ".")


def all_of_yours(n: int, one: str, many: str | None = None) -> str:
    """"all 3 of your answers", "your one answer", "your answers (none so far)"."""
    many = many or one + "s"
    if n == 0:
        return f"your {many} (none so far)"
    return f"your one {one}" if n == 1 else f"all {n} of your {many}"


_QUALIFIER = re.compile(r"\s+(?:of|for|in|at|to|with|from|on)\s+|\s*[,(;]|\s+[-–—]\s+",
                        re.IGNORECASE)
"""Where a role's head noun ends and what qualifies it begins: "head | of medicines",
"lead pharmacist | (PCN)", "pharmacist | , Guy's"."""
_SIBILANT = ("ss", "sh", "ch", "x", "z")
_UNCOUNTED = frozenset({"staff", "personnel"})


def plural(role: str) -> str:
    """The plural of a role that people wrote freely, by its head noun: "community pharmacist"
    → "community pharmacists", "head of medicines" → "heads of medicines", "GP" → "GPs",
    "deputy" → "deputies"; a role already plural ("GPs", "pharmacy leads") stays as it is,
    and each of alternatives ("pharmacist/technician") is made plural."""
    if "/" in role:
        return "/".join(plural(part) for part in role.split("/"))
    cut = _QUALIFIER.search(role)
    head, rest = (role[:cut.start()], role[cut.start():]) if cut and cut.start() else (role, "")
    found = re.search(r"[^\W\d_]+(?=\s*$)", head)
    if found is None:
        return role
    word = found.group()
    return head[:found.start()] + _plural_word(word) + head[found.end():] + rest


def _plural_word(word: str) -> str:
    lower = word.lower()
    if len(word) > 1 and word.isupper():  # an acronym: GP, ACP
        return word + "s"
    if lower in _UNCOUNTED or (lower.endswith("s") and not lower.endswith("ss")):
        return word  # already plural, or never counted
    if lower.endswith(_SIBILANT):
        return word + ("ES" if word.isupper() else "es")
    if len(lower) > 1 and lower.endswith("y") and lower[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word + "s"


PLATFORM_NAMES = {"slack": "Slack", "teams": "Teams"}
"""Each chat platform by the name people know it by."""
