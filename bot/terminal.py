"""What the command line shows while a long command works: a progress bar (or a spinner when
the amount of work is not known) on stderr, once the work has taken more than a second, and
gone when it ends. Nothing at all when stderr is not a terminal (a pipe, a log file, cron).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)

AFTER_SECONDS = 1.0
"""Work done sooner than this shows no progress at all."""

Advance = Callable[[int, int], None]
"""Tell the display how much is done so far, and of how much: advance(done, total)."""


@contextmanager
def working(description: str, total: int | None = None, *, console: Console | None = None,
            after: float = AFTER_SECONDS) -> Iterator[Advance]:
    """Show `description` with a bar (a spinner alone when `total` is None) while the block
    runs; a total of 0 is learnt from the first advance(done, total)."""
    console = console or Console(stderr=True)
    if not console.is_terminal:
        yield lambda _done, _total: None
        return
    columns: list[ProgressColumn] = [SpinnerColumn(), TextColumn("{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    progress = Progress(*columns, TimeElapsedColumn(), console=console, transient=True)
    task = progress.add_task(description, total=total)
    lock = threading.Lock()
    shown = False

    def show() -> None:
        nonlocal shown
        with lock:
            if not finished.is_set():
                progress.start()
                shown = True

    finished = threading.Event()
    timer = threading.Timer(after, show)
    timer.daemon = True
    if after > 0:
        timer.start()
    else:
        show()
    try:
        yield lambda done, of: progress.update(task, completed=done, total=of)
    finally:
        with lock:
            finished.set()
            timer.cancel()
            if shown:
                progress.stop()
