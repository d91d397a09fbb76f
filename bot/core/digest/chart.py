"""A bar chart of a vote's ranking, as PNG bytes (matplotlib, imported only when drawn)."""

from __future__ import annotations

import io
import textwrap

from bot.core.digest.model import PromptDigest

LABEL_WIDTH = 32
TOP = "#2b6cb0"
OTHER = "#718096"
"""Both at least 3:1 against the white page, as WCAG asks of the parts of a chart; the top
is marked in its labels too, not by colour alone."""


def ranking_png(prompt: PromptDigest) -> bytes | None:
    """The ranking as horizontal bars, best at the top; None when nobody has voted."""
    rows = [row for row in prompt.ranking if row.score]
    if not rows or not prompt.answer_count:
        return None
    import matplotlib

    matplotlib.use("Agg", force=True)
    from matplotlib.figure import Figure

    from bot.core.digest.synthesis import is_top, top_label

    label = top_label(prompt)
    top = [is_top(prompt, row) for row in reversed(rows)]
    mark = f" ({label})".replace(" ", "\u00a0") if label else ""  # kept on one line
    labels = [textwrap.fill(f"{row.place_label}. {row.option}" + (mark if t else ""),
                            LABEL_WIDTH)
              for row, t in zip(reversed(rows), top, strict=True)]
    scores = [row.score for row in reversed(rows)]
    figure = Figure(figsize=(7.5, 0.5 * len(rows) + 1.5), dpi=120, layout="constrained")
    axes = figure.subplots()
    bars = axes.barh(labels, scores, color=[TOP if t else OTHER for t in top])
    axes.bar_label(bars, padding=3, fontsize=9)
    if label and any(top):
        from matplotlib.patches import Patch

        axes.legend(handles=[Patch(color=TOP, label=f"{label.capitalize()}, as the question "
                                                    "asks"),
                             Patch(color=OTHER, label="the other options")],
                    loc="lower right", fontsize=8, frameon=False)
    unit = "points" if prompt.kind == "rank" else "votes"
    ballots = prompt.answer_count
    axes.set_xlabel(f"{unit} ({ballots} ballot{'s' if ballots != 1 else ''})")
    figure.suptitle(textwrap.fill(prompt.question, 95), x=0.01, ha="left", fontsize=10)
    axes.spines[["top", "right"]].set_visible(False)
    axes.margins(x=0.12)
    out = io.BytesIO()
    # No timestamps or version in the file: the same ranking gives the same bytes.
    figure.savefig(out, format="png", metadata={"Software": None})
    return out.getvalue()


def chart_filename(round_id: int, prompt_id: str) -> str:
    return f"round-{round_id}-{prompt_id}.png"
