"""Writing the synthesis export to files: Markdown (with its charts beside it), Word, CSV, HTML."""

from __future__ import annotations

from pathlib import Path

from bot.core.digest.model import DigestView

FORMATS = ("md", "docx", "csv", "html")


def default_name(round_id: int, fmt: str) -> str:
    return f"round-{round_id}-synthesis.{fmt}"


def write_export(view: DigestView, fmt: str, path: Path) -> list[Path]:
    """Write the export in `fmt` to `path`; returns the files written, the document first."""
    from bot.core.digest.chart import chart_filename, ranking_png

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    written = [path]
    if fmt == "md":
        from bot.core.digest.render_md import render_md

        charts: dict[str, str] = {}
        for prompt in view.prompts:
            png = ranking_png(prompt) if prompt.kind != "text" else None
            if png is not None:
                chart = path.with_name(chart_filename(view.round.id, prompt.prompt_id))
                chart.write_bytes(png)
                charts[prompt.prompt_id] = chart.name
                written.append(chart)
        path.write_text(render_md(view, charts), encoding="utf-8")
    elif fmt == "docx":
        from bot.core.digest.render_docx import render_docx

        path.write_bytes(render_docx(view))
    elif fmt == "csv":
        from bot.core.digest.render_csv import render_csv

        # A byte-order mark so that Excel reads the file as UTF-8.
        path.write_text(render_csv(view), encoding="utf-8-sig", newline="")
    else:
        from bot.core.digest.render_html import render_html

        path.write_text(render_html(view), encoding="utf-8")
    return written
