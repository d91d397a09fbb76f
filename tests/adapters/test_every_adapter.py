"""Acceptance 4 of issue 14: the duplicate-delivery, hostile-text, rate-limit and anonymity
tests, one suite run over both adapters (Slack and Teams) on both databases."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from storage.database import Database
from tests.adapters.harness import HOSTILE, NAMES, Harness, harness
from tests.helpers import wait_for
from tests.teams.conftest import MEMBER_NAMES, Tenant
from tests.teams_connector_stub import ConnectorStub

PLATFORMS = ["slack", "teams"]


def _tenant(connector: ConnectorStub) -> Tenant:
    facilitator = connector.add_person("Fola")
    members = [connector.add_person(name) for name in MEMBER_NAMES]
    return Tenant(facilitator, members, connector.add_team("Leaders", members))


@pytest.fixture(params=PLATFORMS)
def bot(request: pytest.FixtureRequest, database: Database, database_url: str,
        tmp_path: Path) -> Iterator[Harness]:
    with harness(request.param, database, database_url, str(tmp_path), _tenant) as running:
        yield running


def saved_to(bot: Harness, who: int) -> list[str]:
    return [m for m in bot.said_to(who) if "Saved" in m]


def test_an_answer_delivered_three_times_is_stored_and_confirmed_once(bot: Harness) -> None:
    bot.start()
    bot.write(0, "Protected time made it work.", times=3)
    wait(bot, lambda: saved_to(bot, 0), "the confirmation")
    wait(bot, lambda: any("Question 2 of 6" in m for m in bot.said_to(0)), "question 2")
    assert [(r.prompt_id, r.text) for r in bot.replies()] == [
        ("done-well", "Protected time made it work.")]
    assert len(saved_to(bot, 0)) == 1
    asked = Counter(m.split("\n")[0][:40] for m in bot.said_to(0) if "Question 2 of 6" in m)
    assert list(asked.values()) == [1]


def test_hostile_text_is_stored_verbatim_and_pings_nobody_when_repeated(bot: Harness) -> None:
    bot.start()
    hostile = HOSTILE[bot.platform]
    bot.write(1, hostile)
    wait(bot, lambda: saved_to(bot, 1), "the confirmation")
    assert [r.text for r in bot.replies()] == [hostile]
    digest = "\n".join(bot.digest())
    assert "evil.example" in digest or "the NHS site" in digest  # shown, as words
    assert bot.pings() == []


def test_everyone_gets_question_one_once_through_rate_limits(bot: Harness) -> None:
    bot.refuse_next_posts(3, retry_after=1)
    bot.start()
    for who in range(len(NAMES)):
        firsts = [m for m in bot.said_to(who) if "Question 1 of 6" in m]
        assert len(firsts) == 1, (who, firsts)
    assert {d.state for d in bot.deliveries()} == {"sent"}
    assert bot.refusals() == 3


def test_an_anonymous_round_names_nobody_in_its_digest(bot: Harness) -> None:
    bot.start(anonymous=True)
    for who in range(3):
        bot.write(who, f"Answer {who}: protected time and peer support.")
    wait(bot, lambda: len(bot.replies()) == 3, "three answers")
    digest = "\n".join(bot.digest())
    assert "Answer 0: protected time" in digest
    for name in NAMES:
        assert name not in digest, name


def wait(bot: Harness, predicate: Callable[[], object], what: str) -> None:
    wait_for(predicate, what)
