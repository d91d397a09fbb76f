"""Small builders shared by tests."""

from __future__ import annotations

import itertools
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from bot.core.packs import Pack, load_pack
from bot.core.people import Person, find_participant
from bot.core.rounds import RoundRequest, start_round
from prompts import PROMPTS_DIR
from storage.models import Participant, Round
from tests.forked_cli import ForkingCli

SEED_PACK_PATH = PROMPTS_DIR / "sel-pharmacy-leadership.yaml"
TOP5 = ["Protected time", "Insights from elsewhere", "Clear purpose and motivation",
        "Information and analytics", "Leadership development"]
"""A valid ballot for the seed pack's ranked question."""


def day_in_words(day: date) -> str:
    """A day as a reader in the UK writes it: 4 December 2026, no leading zero."""
    return f"{day.day} {day:%B %Y}"


def seed_pack() -> Pack:
    return load_pack(SEED_PACK_PATH)


PLATFORM = "slack"
"""The platform of the people these builders make (Slack-style ids: U0001, …)."""


def people(n: int, role: str = "community pharmacist") -> list[Person]:
    return [Person(f"U{i:04d}", f"Person {i}", role, f"Pharmacy {i}") for i in range(1, n + 1)]


def participant(session: Session, user_id: str) -> Participant:
    """A participant who must exist (started_round makes U0001, U0002, …)."""
    found = find_participant(session, user_id, PLATFORM)
    assert found is not None, user_id
    return found


def started_round(session: Session, now: datetime, n: int = 3, **kwargs: object) -> Round:
    request = RoundRequest(seed_pack(), people(n), platform=PLATFORM, **kwargs)  # type: ignore[arg-type]
    return start_round(session, request, now)


ROUNDTABLE = str(Path(sys.executable).with_name("roundtable"))
"""The installed console script, as a user runs it."""


def cli_env(**settings: str) -> dict[str, str]:
    """The environment for running `roundtable` in a subprocess: ours, less any settings of the
    person running the tests, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ROUNDTABLE_"))}
    return {**env, **settings}


FORKS = ForkingCli()


def run_cli(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
            timeout: float = 120, input: str | None = None) -> subprocess.CompletedProcess[str]:
    """`roundtable ARGS` in a process of its own with `env` as its settings (see cli_env),
    `input` as what is typed at its questions (none: a question asked gets no answer).
    The process is forked with the application imported (tests.forked_cli); tests of the
    console script itself use `run_script`."""
    return FORKS.run(list(args), cwd=cwd, env=cli_env(**(env or {})), input=input,
                     timeout=timeout)


def run_script(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None,
               timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """`roundtable ARGS` as a user runs it: the installed console script, in a subprocess."""
    return subprocess.run([ROUNDTABLE, *args], cwd=cwd, env=cli_env(**(env or {})),
                          capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)


SHUTDOWN_POLL = 0.02
"""Seconds between a stand-in server's checks for `shutdown()` (serve_forever's poll_interval):
its default, half a second, was the most of every test's teardown."""


PATIENCE = 60.0
"""Seconds a test waits for what the bot does in the background before it fails: enough for a
loaded machine running the suite; a wait ends as soon as what it waits for holds."""


LAST_CALLS = 12
"""How many of the bot's last calls a stand-in lists when a wait on it times out."""


def wait_for(predicate: Callable[[], Any], what: str, timeout: float = PATIENCE) -> Any:
    """Poll until `predicate()` is truthy and return its value; fail naming `what` after
    `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


def stored_values(session: Any) -> list[str]:
    """Every value of every row of every table of ours, as text (to search a database for
    someone's id, name or words)."""
    from sqlalchemy import inspect, select

    from storage.models import Base

    out: list[str] = []
    present = set(inspect(session.connection()).get_table_names())
    for table in Base.metadata.sorted_tables:
        if table.name not in present:
            continue
        for row in session.execute(select(table)):
            out += [str(value) for value in row if value is not None]
    return out


class HeldClock:
    """Seconds that pass only when a test moves them on: a stand-in for time.monotonic, so
    what is paced by it (confirmations) waits until the test says the time has come."""

    def __init__(self) -> None:
        self.seconds = 1000.0

    def __call__(self) -> float:
        return self.seconds

    def advance(self, seconds: float) -> None:
        self.seconds += seconds


def stepping(seconds: float) -> Callable[[], float]:
    """A stand-in for time.monotonic that is `seconds` later at each reading: what is paced
    `seconds` apart by it (confirmations) goes out in turn without waiting for them to pass."""
    return itertools.count(0.0, seconds).__next__


class StillThenRunning:
    """A stand-in for time.monotonic that stands still until `run_on(ahead)`, then runs with
    real time, `ahead` seconds on: a Retry-After taken while it stood passes only when a test
    says, and any taken after passes as it would."""

    def __init__(self) -> None:
        self.still = time.monotonic()
        self.ahead: float | None = None

    def __call__(self) -> float:
        return self.still if self.ahead is None else time.monotonic() + self.ahead

    def run_on(self, ahead: float) -> None:
        self.ahead = ahead + (self.still - time.monotonic())


def migrate(database: Any, revision: str) -> None:
    """Take the test's database to `revision` with Alembic: up to "head", down to any other."""
    from alembic import command

    from storage.migrate import alembic_config

    config = alembic_config(database.engine.url.render_as_string(hide_password=False))
    with database.engine.begin() as connection:
        config.attributes["connection"] = connection
        (command.upgrade if revision == "head" else command.downgrade)(config, revision)


def free_port() -> int:
    """A port no process on this machine listens on, for a process a test starts. Taken below
    the range the system hands out to a bind to port 0 (what every stand-in and in-process
    server does), so a server another test starts meanwhile cannot take it: such a port,
    found free and let go, could be handed out again before the process under test binds it,
    which then answered in its place."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as ranges:
            lowest = int(ranges.read().split()[0])
    except (OSError, ValueError, IndexError):
        lowest = 32768
    while True:
        port = random.randrange(10_000, max(lowest, 10_001))
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
