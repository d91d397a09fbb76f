"""`roundtable round start` with a bot token: the audience is looked up in Slack, as from
`/roundtable start`, so people are named and messaged in their own working hours."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.app.health import NO_SENDER
from storage.database import Database
from storage.models import Participant
from tests.helpers import run_cli
from tests.slack_api_stub import SlackStub


@pytest.fixture
def stub() -> Iterator[SlackStub]:
    slack = SlackStub().start()
    slack.add_user("UAMARA", "Amara", tz="Europe/London")
    slack.add_user("UKIRI", "Kiri", tz="Pacific/Auckland")
    slack.add_user("UBOT", "Helper", is_bot=True)
    slack.add_user("UGONE", "Left", deleted=True)
    slack.add_channel("CPHARM", ["UAMARA", "UBOT", "UGONE"])
    yield slack
    slack.stop()


def start(database_url: str, to: str, tmp_path: Path, **settings: str
          ) -> subprocess.CompletedProcess[str]:
    return run_cli("round", "start", "sel-pharmacy-leadership", "--to", to, cwd=tmp_path,
                   env={"DATABASE_URL": database_url, **settings})


def test_it_looks_people_up_in_slack_and_expands_channels(
    database: Database, database_url: str, stub: SlackStub, tmp_path: Path
) -> None:
    result = start(database_url, "CPHARM,UKIRI", tmp_path, SLACK_BOT_TOKEN="xoxb-test",
                   SLACK_API_URL=stub.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Round 1 started for 2 people.", NO_SENDER.plain]  # bot and leaver left out
    with database.sessions() as session:
        known = {p.platform_user_id: (p.display_name, p.timezone)
                 for p in session.scalars(select(Participant))}
    assert known == {"UAMARA": ("Amara", "Europe/London"), "UKIRI": ("Kiri", "Pacific/Auckland")}


def test_it_says_why_it_cannot_find_someone_and_starts_nothing(
    database: Database, database_url: str, stub: SlackStub, tmp_path: Path
) -> None:
    result = start(database_url, "UAMARA,UNOBODY", tmp_path, SLACK_BOT_TOKEN="xoxb-test",
                   SLACK_API_URL=stub.base_url)
    assert result.returncode == 1
    assert "UNOBODY" in result.stderr and "Traceback" not in result.stderr
    with database.sessions() as session:
        assert session.scalars(select(Participant)).all() == []


def test_it_needs_a_token_to_expand_a_channel(
    database: Database, database_url: str, tmp_path: Path
) -> None:
    result = start(database_url, "CPHARM", tmp_path)
    assert result.returncode == 1
    assert "SLACK_BOT_TOKEN" in result.stderr
