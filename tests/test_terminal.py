"""Progress on a terminal for work that takes more than a second, and never in a pipe."""

from __future__ import annotations

import io

from rich.console import Console

from bot.terminal import working


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


def test_it_shows_nothing_when_stderr_is_not_a_terminal() -> None:
    screen = io.StringIO()  # as a pipe or a log file: tests/test_cli.py sees the same at the
    with working("Piped", total=10, console=Console(file=screen), after=0) as advance:
        advance(5, 10)  # real command line (nothing on stderr from an import)
    assert screen.getvalue() == ""
