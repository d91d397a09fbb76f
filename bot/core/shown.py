"""People's words as a document or a terminal shows them back.

An answer may hold characters that show nothing where a reader looks: C0 and C1 controls
(a bell, a backspace that erases the letter before it on a terminal, an escape that starts a
colour code), Unicode's noncharacters, and direction controls left open, which reorder what
follows them on the line (bot.core.direction_marks). Shown back, those controls are dropped
(a form feed or vertical tab becomes a space, as it would read) and open direction controls
are closed; line breaks and tabs stay. What is stored is never changed, and the JSON and CSV
exports, which are data, keep the words as given.
"""

from __future__ import annotations

import re

from bot.core.direction_marks import closed

_AS_SPACE = re.compile("[\x0b\x0c\x1c-\x1f\x85]")
"""Controls Python (and a reader) take for a break between words."""
_UNSHOWN = re.compile("[\x00-\x08\x0e-\x1b\x7f-\x9f\ufffe\uffff]")


def shown(text: str) -> str:
    """`text` with nothing in it that a document or terminal would act on rather than show."""
    return closed(_UNSHOWN.sub("", _AS_SPACE.sub(" ", text)))
