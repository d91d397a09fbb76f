"""Every Slack stand-in a test starts, checked against Block Kit's limits when the test ends:
also the ones a test starts itself rather than through the `stub` fixture (a fixture of every
test, by tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.slack_api_stub import STARTED


@pytest.fixture(autouse=True)
def slack_within_limits() -> Iterator[None]:
    STARTED.clear()
    yield
    started = list(STARTED)
    STARTED.clear()
    for stub in started:
        stub.assert_within_limits()
