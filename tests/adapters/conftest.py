"""The adapter tests run each use case on both platforms, and each on both databases: not
every pairing. A test's two platforms take one database each, in turns from one test to the
next (Slack on SQLite and Teams on PostgreSQL, then the other way round), so that both
platforms meet both databases across the file and each test still runs on each database once.
Both platforms' storage code is the same (bot.core, storage), and it runs on both databases
in tests/ and in tests/slack and tests/teams; the four pairings of every test took a sixth of
the suite's time. Without PostgreSQL every pairing that can run is kept."""

from __future__ import annotations

import os
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from storage.database import Database
from tests.adapters.harness import Harness, harness, leaders_tenant
from tests.conftest import POSTGRES_ENV
from tests.helpers import HeldClock

HERE = os.path.dirname(__file__)
PLATFORMS = {"slack", "teams"}
BACKENDS = {"sqlite", "postgres"}


def _pairing(item: pytest.Item) -> tuple[str, str] | None:
    """The platform and the database of an adapter test's run, if it has both."""
    spec = getattr(item, "callspec", None)
    if spec is None or not str(item.path).startswith(HERE):
        return None
    values = {str(v) for v in spec.params.values()}
    platform, backend = values & PLATFORMS, values & BACKENDS
    if len(platform) != 1 or len(backend) != 1:
        return None
    return platform.pop(), backend.pop()


def _runs(item: pytest.Item, platform: str, backend: str) -> bool:
    test = f"{item.path.name}::{getattr(item, 'originalname', item.name)}"
    slack_on_sqlite = zlib.crc32(test.encode()) % 2 == 0
    return (platform == "slack") == (backend == "sqlite") if slack_on_sqlite else \
        (platform == "slack") == (backend == "postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not os.environ.get(POSTGRES_ENV):
        return
    kept, left = [], []
    for item in items:
        pairing = _pairing(item)
        (left if pairing is not None and not _runs(item, *pairing) else kept).append(item)
    if left:
        config.hook.pytest_deselected(items=left)
        items[:] = kept


@pytest.fixture(params=sorted(PLATFORMS))
def bot(request: pytest.FixtureRequest, database: Database, database_url: str,
        tmp_path: Path) -> Iterator[Harness]:
    """The bot on each platform, its people those of `leaders_tenant` (a module needing
    others has its own), its data folder one it makes in the test's folder."""
    with harness(request.param, database, database_url, str(tmp_path / "data"),
                 leaders_tenant) as running:
        yield running


@pytest.fixture(params=sorted(PLATFORMS))
def paced(request: pytest.FixtureRequest, database: Database, database_url: str,
          tmp_path: Path) -> Iterator[tuple[Harness, HeldClock]]:
    """The bot, its confirmations paced by a clock the test moves on."""
    pacing = HeldClock()
    with harness(request.param, database, database_url, str(tmp_path / "data"),
                 leaders_tenant, pacing) as running:
        yield running, pacing
