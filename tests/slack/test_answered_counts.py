"""A facilitator reads one count of who answered wherever they look: `status`, the App Home,
the digest, and the counts kept once retention deleted the round's answers."""

from __future__ import annotations

from datetime import timedelta

from bot.core.retention import purge
from storage.db import transaction
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, MEMBERS, Running
from tests.slack.test_facilitator_limits import _said
from tests.slack.test_round_loop import sent_to_everyone, start_round
from tests.slack_reading import as_read

KEPT_DAYS = 365


def test_someone_whose_only_reply_was_plus_one_has_not_answered_anywhere(
    running: Running,
) -> None:
    round_id = start_round(running)
    sent_to_everyone(running)
    amara, ben, chidi, *_ = MEMBERS
    running.slack.dm(amara, "The vaccine rollout: one shared aim.")
    running.slack.dm(ben, "Care homes work, because we met weekly.")
    running.slack.dm(chidi, "+1")
    running.wait_for(lambda: len(running.replies()) == 3, "the three replies")

    assert "2 of 5 answered" in _said(running, FACILITATOR, f"status {round_id}")
    assert "Not answered yet: 3 people · answered some: 2 people" in _said(
        running, FACILITATOR, f"status {round_id} who")
    running.slack.event({"type": "app_home_opened", "user": FACILITATOR,
                         "channel": "D" + FACILITATOR, "tab": "home"})
    home = running.wait_for(lambda: running.stub.calls_to("views.publish"), "the home tab")
    assert "2 of 5 answered" in as_read(home[-1].params["view"]["blocks"])
    assert "Posted the digest" in _said(running, FACILITATOR, f"digest {round_id}")
    assert "2 of 5 have answered" in running.stub.posted(DIGEST_CHANNEL)[0].params["text"]

    assert "closed" in _said(running, FACILITATOR, f"close {round_id}")
    with transaction(running.database.sessions) as session:
        purge(session, running.bot.clock() + timedelta(days=KEPT_DAYS + 1), KEPT_DAYS)
    kept = _said(running, FACILITATOR, f"status {round_id}")
    assert "Answers and digests deleted" in kept and "2 of 5 answered" in kept
