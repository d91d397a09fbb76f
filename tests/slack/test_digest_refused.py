"""A digest Slack will not take: the facilitator hears why and what to do, never silence."""

from __future__ import annotations

from sqlalchemy import select

from storage.models import Digest, Round
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, Running
from tests.slack.test_round_loop import sent_to_everyone, start_round


def told(running: Running, words: str) -> list[str]:
    return [c.params["text"] for c in running.stub.calls_to("response_url")
            if words in c.params.get("text", "")]


def test_a_facilitator_is_told_why_the_digest_was_not_posted_and_how_to_fix_it(
        running: Running) -> None:
    round_id = start_round(running)
    sent_to_everyone(running)
    running.stub.fail_next("chat.postMessage", status=200, error="not_in_channel")
    running.slack.command(FACILITATOR, "digest")
    [said] = running.wait_for(lambda: told(running, "could not post"), "the refusal")
    assert f"could not post the digest of round {round_id} in <#{DIGEST_CHANNEL}>" in said
    assert "not_in_channel" in said and "/invite @Roundtable" in said
    assert running.scalar(select(Digest.state)) == "failed"

    running.slack.command(FACILITATOR, "digest")  # invited now: it posts
    running.wait_for(lambda: told(running, "Posted the digest"), "the digest")


def test_closing_says_the_round_closed_and_why_its_final_digest_did_not_post(
        running: Running) -> None:
    round_id = start_round(running)
    sent_to_everyone(running)
    running.stub.fail_next("chat.postMessage", status=200, error="is_archived")
    running.slack.command(FACILITATOR, f"close {round_id}")
    [said] = running.wait_for(lambda: told(running, "is closed"), "the answer")
    assert "could not post its final digest" in said and "archived" in said
    assert running.scalar(select(Round.status)) == "closed"
