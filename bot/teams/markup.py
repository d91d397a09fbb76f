"""The HTML Teams sends for a message with formatting (and for the quote of a reply), as its
reader sees it: the words laid out in lines, and a quoted message set apart.

Read with one pattern that cannot cross a < or >, so reading takes time linear in the text,
however a writer shapes it (a message is theirs to shape: the standard library's HTMLParser
is quadratic on some malformed input, and a pattern spanning a whole element backtracks)."""

from __future__ import annotations

import html
import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Quote:
    """A quoted message in some HTML: its id, and what the quote shows."""

    message_id: str | None
    shown: str


@dataclass(frozen=True)
class Html:
    """Some HTML as its reader sees it: the words, and the messages it quotes."""

    words: str
    quotes: tuple[Quote, ...]


BLOCKS = frozenset({"p", "div", "li", "ul", "ol", "blockquote", "pre", "tr", "table",
                    "h1", "h2", "h3", "h4", "h5", "h6"})
HTML_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*)([^<>]*)>")
"""A tag, its name and attributes; nothing in it may hold < or >."""
ATTRIBUTE = re.compile(r"""([A-Za-z][\w:-]*)\s*=\s*(?:"([^"]*)"|'([^']*)')""")
REPLY = "schema.skype.com/reply"
"""The item type Teams gives the blockquote of a message a reply quotes."""


def read_html(markup: str) -> Html:
    """HTML as its reader sees the words: a line for each paragraph, line break and list
    item, the items of a numbered list numbered as shown ("1. ", "2. "), of a bulleted list
    marked "- " (so a ranking written as a numbered list reads as one), an emoji as itself
    (Teams draws one as a picture); a quoted message (Teams' Reply) set apart from the
    words, with its id and what it shows."""
    out: list[str] = []
    quote: list[str] | None = None  # what the quote being read shows, while in it
    quote_id: str | None = None
    depth = 0  # blockquotes open inside the quote
    quotes: list[Quote] = []
    lists: list[int | None] = []  # each open list's last number; None: bulleted
    at = 0
    for tag in HTML_TAG.finditer(markup):
        text = out if quote is None else quote
        _add(text, markup[at:tag.start()])
        at = tag.end()
        closing, name, attributes = tag.group(1) == "/", tag.group(2).lower(), tag.group(3)
        found = {m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3)
                 for m in ATTRIBUTE.finditer(attributes)}
        if name == "blockquote" and quote is not None:
            depth += -1 if closing else 1
            if depth < 0:
                quotes.append(Quote(quote_id, _laid_out(quote)))
                quote, depth = None, 0
            continue
        if name == "blockquote" and not closing and REPLY in found.get("itemtype", "").lower():
            quote, quote_id = [], found.get("itemid")
            continue
        if name == "br":
            text.append("\n")
        elif name == "img" and "emoji" in found.get("itemtype", "").lower():
            text.append(html.unescape(found.get("alt", "")))
        elif name in BLOCKS:
            _new_line(text)
            _listed(name, closing, found, lists, text)
    _add(out if quote is None else quote, markup[at:])
    if quote is not None:  # never closed: what it held is the quote's
        quotes.append(Quote(quote_id, _laid_out(quote)))
    return Html(_laid_out(out), tuple(quotes))


def _listed(name: str, closing: bool, found: dict[str, str], lists: list[int | None],
            text: list[str]) -> None:
    """A list opened or closed (`lists`: each open list's last number, None when bulleted),
    or an item begun: its number or bullet written."""
    if name in ("ol", "ul") and closing:
        if lists:
            lists.pop()
    elif name == "ul":
        lists.append(None)
    elif name == "ol":
        first = found.get("start", "1")  # a number int() takes whole, or the first is 1
        short = first.isascii() and first.isdigit() and len(first) < 7
        lists.append(int(first) - 1 if short else 0)
    elif name == "li" and not closing and lists:
        number = lists[-1]
        if number is None:
            text.append("- ")
        else:
            lists[-1] = number + 1
            text.append(f"{number + 1}. ")


def _add(text: list[str], between: str) -> None:
    """The words between two tags (their line breaks are spaces in HTML)."""
    if between:
        text.append(html.unescape(between).replace("\r", " ").replace("\n", " "))


def _new_line(text: list[str]) -> None:
    """End the line being written, if one is (spaces between tags write none)."""
    for piece in reversed(text):
        if piece.strip(" "):
            if not piece.rstrip(" ").endswith("\n"):
                text.append("\n")
            return


def _laid_out(pieces: list[str]) -> str:
    lines = (" ".join(line.split()) for line in "".join(pieces).split("\n"))
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()
