"""Unicode's direction controls in people's words, kept from reaching past them.

Right-to-left words may carry embeddings, overrides or isolates (U+202A–U+202E,
U+2066–U+2068). One left open runs on to the end of its paragraph, so whatever a platform
shows after the words on the same line (who wrote them, an id, the bot's own words) would
read reordered or reversed, as if the writer had put it there: a spoof as much as an
accident. Shown back, people's words are `closed`: each control left open gets its closing
mark, which shows nothing. What is stored is never changed.
"""

from __future__ import annotations

EMBEDDINGS = frozenset("\u202a\u202b\u202d\u202e")
"""LRE, RLE, LRO, RLO: each closed by a PDF."""
ISOLATES = frozenset("\u2066\u2067\u2068")
"""LRI, RLI, FSI: each closed by a PDI, which also closes every embedding opened inside."""
PDF = "\u202c"
PDI = "\u2069"


def closing(text: str) -> str:
    """The marks that close, innermost first, the controls `text` leaves open (pairing them
    as Unicode's bidi algorithm does); empty when it leaves none open."""
    still: list[str] = []
    for char in text:
        if char in EMBEDDINGS:
            still.append(PDF)
        elif char in ISOLATES:
            still.append(PDI)
        elif char == PDF and still and still[-1] == PDF:
            still.pop()
        elif char == PDI and PDI in still:
            while still.pop() != PDI:
                pass
    return "".join(reversed(still))


def closed(text: str) -> str:
    """`text` with every direction control it leaves open closed at its end."""
    return text + closing(text)
