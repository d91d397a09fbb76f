"""Writing the synthesis export to files: Markdown (with its charts beside it), Word, CSV, HTML.
Each file is created readable by its owner alone (0600): it holds people's words."""

from __future__ import annotations

from pathlib import Path

from bot.core.digest.model import DigestView
from storage.files import private_folder, write_private

FORMATS = ("md", "docx", "csv", "html")


def default_name(round_id: int, fmt: str) -> str:
    return f"round-{round_id}-synthesis.{fmt}"


def write_export(view: DigestView, fmt: str, path: Path) -> list[Path]:
    """Write the export in `fmt` to `path`; returns the files written, the document first."""
    from bot.core.digest.chart import chart_filename, ranking_png

    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    private_folder(path.parent)
    written = [path]
    if fmt == "md":
        from bot.core.digest.render_md import render_md

        charts: dict[str, str] = {}
        for prompt in view.prompts:
            png = ranking_png(prompt) if prompt.kind != "text" else None
            if png is not None:
                chart = path.with_name(chart_filename(view.round.id, prompt.prompt_id))
                write_private(chart, png)
                charts[prompt.prompt_id] = chart.name
                written.append(chart)
        write_private(path, render_md(view, charts))
    elif fmt == "docx":
        from bot.core.digest.render_docx import render_docx

        write_private(path, render_docx(view))
    elif fmt == "csv":
        from bot.core.digest.render_csv import render_csv

        # A byte-order mark so that Excel reads the file as UTF-8.
        write_private(path, render_csv(view), encoding="utf-8-sig")
    else:
        from bot.core.digest.render_html import render_html

        write_private(path, render_html(view))
    return written
