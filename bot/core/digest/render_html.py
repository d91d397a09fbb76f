"""The synthesis as one self-contained HTML page: everything escaped, charts inline."""

from __future__ import annotations

import base64
from html import escape

from bot.core.digest.chart import ranking_png
from bot.core.digest.model import DigestView
from bot.core.digest.synthesis import (
    LANGUAGE,
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

STYLE = """
body { font-family: Arial, Helvetica, sans-serif; max-width: 48rem; margin: 2rem auto;
       padding: 0 1rem; line-height: 1.5; color: #1a202c; }
h1 { color: #2b6cb0; } h2 { border-bottom: 1px solid #cbd5e0; margin-top: 2rem; }
blockquote { margin: 0.6rem 0 0.6rem 1rem; padding-left: 0.8rem; border-left: 3px solid #90cdf4;
             white-space: pre-wrap; }
blockquote footer { color: #4a5568; font-size: 0.9em; }
table { border-collapse: collapse; margin: 0.6rem 0; }
caption { text-align: left; font-weight: bold; padding: 0.2rem 0; }
th, td { border: 1px solid #cbd5e0; padding: 0.2rem 0.6rem; text-align: left; }
img { max-width: 100%; }
"""


def render_html(view: DigestView, *, charts: bool = True) -> str:
    """The document as HTML; `charts=False` leaves the chart images out (faster, smaller)."""
    body = "\n".join(filter(None, (_block(b, charts) for b in synthesis(view))))
    return (
        f"<!DOCTYPE html>\n<html lang=\"{LANGUAGE}\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{escape(view.round.title)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _block(block: Block, charts: bool) -> str:
    if isinstance(block, Heading):
        return f"<h{block.level}>{escape(block.text)}</h{block.level}>"
    if isinstance(block, Paragraph):
        return f"<p>{_runs(block.runs)}</p>"
    if isinstance(block, Quote):
        by = f"\n<footer>— {escape(block.by)}</footer>" if block.by else ""
        return (
            f'<blockquote data-reply-id="{escape(block.reply_id)}">'
            f"<p>{escape(block.text.strip())}</p>{by}</blockquote>"
        )
    if isinstance(block, Items):
        tag = "ol" if block.numbered else "ul"
        items = "\n".join(f"<li>{_runs(item)}</li>" for item in block.items)
        return f"<{tag}>\n{items}\n</{tag}>"
    if isinstance(block, Table):
        head = "".join(f"<th>{escape(h)}</th>" for h in block.header)
        rows = "\n".join(
            "<tr>" + "".join(f"<td>{escape(c)}</td>" for c in row) + "</tr>" for row in block.rows
        )
        caption = f"<caption>{escape(block.caption)}</caption>\n" if block.caption else ""
        return (f"<table>\n{caption}<thead><tr>{head}</tr></thead>\n<tbody>\n{rows}\n</tbody>"
                "\n</table>")
    if isinstance(block, Chart):
        png = ranking_png(block.prompt) if charts else None
        if png is None:
            return ""
        data = base64.b64encode(png).decode("ascii")
        return f'<p><img src="data:image/png;base64,{data}" alt="{escape(block.alt)}"></p>'
    raise TypeError(f"unknown block {block!r}")


def _runs(runs: tuple[Run, ...]) -> str:
    out = []
    for run in runs:
        text = escape(run.text)
        if run.bold:
            text = f"<strong>{text}</strong>"
        if run.italic:
            text = f"<em>{text}</em>"
        out.append(text)
    return "".join(out)
