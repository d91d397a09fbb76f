"""The synthesis as Markdown. People's words are escaped so that nothing they typed becomes
markup (a heading, a link, raw HTML) in a Markdown viewer."""

from __future__ import annotations

import re
from collections.abc import Mapping

from bot.core.digest.model import DigestView
from bot.core.digest.synthesis import (
    Block,
    Chart,
    Heading,
    Items,
    Paragraph,
    Quote,
    Run,
    Table,
    synthesis,
)

_INLINE = re.compile(r"([\\`*_\[\]<>|~])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_LIST_NUMBER = re.compile(r"^(\s*)(\d+)([.)])", re.MULTILINE)
_LINE_MARK = re.compile(r"^(\s*)([#+\-=])", re.MULTILINE)


def md_escape(text: str) -> str:
    """Backslash-escape what Markdown would read as markup: emphasis, links, raw HTML,
    entities, and headings or list marks at the start of a line. The backslash goes before
    punctuation only, which CommonMark shows as the punctuation itself."""
    text = _INLINE.sub(r"\\\1", text)
    text = _ENTITY.sub(r"\\&", text)
    text = _LIST_NUMBER.sub(r"\1\2\\\3", text)
    return _LINE_MARK.sub(r"\1\\\2", text)


def _inline(text: str) -> str:
    """One line of text (headings, paragraphs, cells): runs of whitespace become one space."""
    return md_escape(re.sub(r"\s+", " ", text))


def render_md(view: DigestView, charts: Mapping[str, str] | None = None) -> str:
    """The document; `charts` maps a prompt id to the path of its chart image, if written."""
    out: list[str] = []
    for block in synthesis(view):
        out.append(_block(block, charts or {}))
    return "\n\n".join(part for part in out if part) + "\n"


def _block(block: Block, charts: Mapping[str, str]) -> str:
    if isinstance(block, Heading):
        return "#" * block.level + " " + _inline(block.text).strip()
    if isinstance(block, Paragraph):
        return _runs(block.runs)
    if isinstance(block, Quote):
        # A line indented four spaces (or a tab) after a blank one would be a code block;
        # a viewer drops the indent of a paragraph's line anyway.
        lines = [line.lstrip() for line in md_escape(block.text.strip()).splitlines()] or [""]
        by = f"  \n> — {_inline(block.by)}" if block.by else ""
        return "\n".join("> " + line if line.strip() else ">" for line in lines) + by
    if isinstance(block, Items):
        return "\n".join(
            (f"{n}. " if block.numbered else "- ") + _runs(item)
            for n, item in enumerate(block.items, start=1)
        )
    if isinstance(block, Table):
        head = "| " + " | ".join(_inline(h) for h in block.header) + " |"
        rule = "|" + "|".join(" --- " for _ in block.header) + "|"
        rows = ["| " + " | ".join(_inline(c) for c in row) + " |" for row in block.rows]
        # Markdown has no caption: the table's title goes on the line above it
        title = [f"*{_inline(block.caption)}*", ""] if block.caption else []
        return "\n".join([*title, head, rule, *rows])
    if isinstance(block, Chart):
        path = charts.get(block.prompt.prompt_id)
        return f"![{_inline(block.alt)}](<{path}>)" if path else ""
    raise TypeError(f"unknown block {block!r}")


def _runs(runs: tuple[Run, ...]) -> str:
    out = []
    for run in runs:
        text = _inline(run.text)
        stripped = text.strip()
        if stripped and (run.bold or run.italic):
            mark = "**" if run.bold else "*"
            lead, trail = text[: len(text) - len(text.lstrip())], text[len(text.rstrip()) :]
            text = f"{lead}{mark}{stripped}{mark}{trail}"
        out.append(text)
    return "".join(out)
