"""Progress on a terminal for work that takes more than a second, and never in a pipe."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from rich.console import Console

from bot.terminal import working
from tests.helpers import run_cli
from tests.test_imports import rows, write_csv


def test_it_shows_a_bar_with_how_much_is_done_on_a_terminal() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with working("Importing room.csv", total=0, console=console, after=0) as advance:
        advance(300, 1200)
    shown = screen.getvalue()
    assert "Importing room.csv" in shown and "300/1200" in shown


def test_it_shows_nothing_for_work_shorter_than_its_delay() -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=100)
    with working("Quick", console=console, after=60):
        pass
    assert screen.getvalue() == ""


def test_it_shows_nothing_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    screen = io.StringIO()
    with working("Piped", total=10, console=Console(file=screen), after=0) as advance:
        advance(5, 10)
    assert screen.getvalue() == ""
    assert not [t for t in threading.enumerate() if isinstance(t, threading.Timer)
                and t.is_alive()]
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    imported = run_cli("import-replies", str(write_csv(tmp_path / "room.csv", rows(30))),
                       "--pack", "sel-pharmacy-leadership", cwd=tmp_path)
    assert imported.stderr == "" and imported.stdout.startswith("imported 30 answers")
