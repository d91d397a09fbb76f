"""The whole loop, as Slack drives it: start, questions by DM, answers three ways, the digest."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.core.digest.build import build_digest
from bot.core.public_ids import public_reply_id
from storage.models import Delivery, Digest, QuestionMessage, Reply, Round
from tests.outbox.fanout import tagged_posts
from tests.slack.conftest import (
    CHANNEL,
    DIGEST_CHANNEL,
    FACILITATOR,
    MEMBERS,
    PACK,
    Running,
)

QUESTIONS = 6


def public_ids(running: Running, round_id: int) -> list[str]:
    """The ids outputs name the round's answers by (opaque, but for a named round's CSV ids)."""
    with running.database.sessions() as session:
        round_ = session.get_one(Round, round_id)
        return [public_reply_id(round_.secret, round_.anonymity, r.id, r.external_id, r.source)
                for r in session.scalars(select(Reply).where(Reply.round_id == round_id))]


def start_round(running: Running, extra: str = "") -> int:
    """The facilitator starts the seed pack for the channel; returns the round id."""
    response = running.slack.command(
        FACILITATOR, f"start {PACK} to <#{CHANNEL}|leaders> digest <#{DIGEST_CHANNEL}|digest>"
        + extra)
    assert response.status == 200
    said = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                     if "started" in c.params.get("text", "")],
                            "the start confirmation")
    return int(said[0].params["text"].split()[1])


def sent_to_everyone(running: Running, members: list[str] = MEMBERS) -> None:
    def done() -> bool:
        states = running.scalars(select(Delivery.state))
        return len(states) == len(members) and set(states) == {"sent"}

    running.wait_for(done, "every delivery to be sent", timeout=60)


def question_ts(running: Running, user: str, prompt_id: str) -> str:
    with running.database.sessions() as session:
        return session.scalars(select(QuestionMessage.message_id).where(
            QuestionMessage.channel_id == "D" + user,
            QuestionMessage.prompt_id == prompt_id)).one()


def rank(running: Running, user: str, round_id: int, picks: list[int]) -> None:
    """Open the rank form from the question's button and submit it."""
    opened_before = len(running.stub.calls_to("views.open"))
    value = json.dumps({"round": round_id, "prompt": "support-factors"})
    assert running.slack.click(user, "answer_open", value).status == 200
    calls = running.wait_for(lambda: running.stub.calls_to("views.open")[opened_before:],
                             "the rank form to open")
    view = calls[0].answer["view"]
    options = {b["block_id"]: b["element"]["options"] for b in view["blocks"]
               if b["type"] == "input"}
    values: dict[str, Any] = {
        f"rank-{place}": {"value": {"type": "static_select",
                                    "selected_option": options[f"rank-{place}"][pick]}}
        for place, pick in enumerate(picks, start=1)
    }
    response = running.slack.submit(user, view, values)
    assert response.status == 200 and not response.body, response.body


def asked(running: Running, user: str, prompt_id: str) -> str:
    """Wait until the person has been asked this question; its message's ts."""
    return running.wait_for(lambda: running.scalar(select(QuestionMessage.message_id).where(
        QuestionMessage.channel_id == "D" + user, QuestionMessage.prompt_id == prompt_id)),
        f"{user} to be asked {prompt_id}")


def said_to(running: Running, user: str, start: str) -> list[str]:
    return [c.params["text"] for c in running.stub.posted("D" + user)
            if c.params["text"].startswith(start)]


def test_it_runs_a_round_for_a_channel_from_start_to_digest(running: Running) -> None:
    round_id = start_round(running)
    sent_to_everyone(running)
    for user in MEMBERS:
        # one message to begin with: why they are asked, and the first question
        first, = running.stub.posted("D" + user)
        assert "Question 1 of 6" in first.params["text"]
        assert first.params["blocks"][0]["type"] == "header"
    assert not running.stub.posted("DUHELPERBOT") and not running.stub.posted("DUGONE")
    assert not running.stub.posted("D" + FACILITATOR)

    amara, ben, chidi, dev, elif_ = MEMBERS
    running.slack.dm(amara, "The vaccine rollout: one shared aim.",
                     thread_ts=question_ts(running, amara, "done-well"))
    running.slack.dm(amara, "GP practice managers.", thread_ts=asked(running, amara, "bought-in"))
    running.slack.dm(ben, "Care homes work, because we met weekly.")
    asked(running, ben, "bought-in")  # the next question follows the answer
    running.slack.dm(ben, "Commissioners and LPC.")
    assert running.slack.click(chidi, "question_skip", json.dumps(
        {"round": round_id, "prompt": "done-well"})).status == 200
    asked(running, chidi, "bought-in")  # skipping brings the next question too
    assert running.wait_for(lambda: said_to(running, chidi, "Skipped question 1 for now"),
                            "the skip's notice") == [
        "Skipped question 1 for now. It stays open on your Home tab, and you can still answer "
        "it in its thread."]
    running.slack.dm(chidi, "The ICS board and the LMC.")
    running.slack.dm(elif_, "Young PCN pharmacists.",
                     thread_ts=question_ts(running, elif_, "done-well"))
    rank(running, dev, round_id, [0, 1, 2, 3, 4])  # from the Home tab, before question 6 came
    rank(running, elif_, round_id, [5, 0, 7, 2, 9])
    running.wait_for(lambda: len(running.replies()) == 8, "eight answers")
    running.wait_for(lambda: said_to(running, dev, "Saved your answer to question 6"),
                     "the ranking's confirmation in the conversation")

    stored = {(r.prompt_id, r.text or tuple(r.choices or ())) for r in running.replies()}
    assert ("done-well", "The vaccine rollout: one shared aim.") in stored
    assert ("bought-in", "GP practice managers.") in stored
    assert ("done-well", "Care homes work, because we met weekly.") in stored
    assert ("bought-in", "Commissioners and LPC.") in stored
    assert ("bought-in", "The ICS board and the LMC.") in stored
    assert ("done-well", "Young PCN pharmacists.") in stored
    assert ("support-factors", ("Protected time", "Insights from elsewhere",
                                "Clear purpose and motivation", "Information and analytics",
                                "Leadership development")) in stored
    # a plain message says which question it was filed under
    confirmations = running.wait_for(
        lambda: (s := said_to(running, ben, "Saved")) and len(s) >= 2 and s,
        "Ben's two confirmations")
    assert "question 1" in confirmations[0] and "question 2" in confirmations[1]
    for user in (amara, ben, chidi):
        asked(running, user, "future-leaders")
    asked(running, elif_, "bought-in")
    # Dev's question 1 is still waiting: nothing more was sent to Dev
    assert [p for _, p in tagged_posts(running.stub) if _ == "D" + dev] == ["done-well"]
    # every question message went once, and only once each person was ready for it
    assert set(tagged_posts(running.stub).values()) == {1}
    assert {p for c, p in tagged_posts(running.stub) if c == "D" + amara} == {
        "done-well", "bought-in", "future-leaders"}

    assert running.slack.command(FACILITATOR, "digest").status == 200
    running.wait_for(lambda: running.stub.posted(DIGEST_CHANNEL), "the digest in its channel")
    digest = running.wait_for(lambda: running.scalar(
        select(Digest).where(Digest.state == "posted")), "the digest to be recorded")
    assert digest.channel_id == DIGEST_CHANNEL and digest.message_id
    with running.database.sessions() as session:
        view = build_digest(session, round_id, running.bot.clock()).to_json()
    listed = [rid for p in view["prompts"] for rid in p["unthemed_reply_ids"]] + [
        rid for p in view["prompts"] for t in p["themes"] for rid in t["reply_ids"]]
    assert sorted(listed) == sorted(public_ids(running, round_id))
    top = running.stub.posted(DIGEST_CHANNEL)[0]
    thread = [c for c in running.stub.posted(DIGEST_CHANNEL)
              if c.params.get("thread_ts") == top.answer["ts"]]
    assert len(thread) == QUESTIONS


def test_it_starts_a_round_for_people_and_user_groups(running: Running) -> None:
    running.stub.usergroups["SPCN"] = ["UAMARA", "UBEN"]
    running.slack.command(FACILITATOR, f"start {PACK} to <!subteam^SPCN|@pcn> <@UCHIDI|chidi> "
                                       "closes 14d anonymous")
    sent_to_everyone(running, ["UAMARA", "UBEN", "UCHIDI"])
    with running.database.sessions() as session:
        round_ = session.scalars(select(Round)).one()
        assert round_.anonymity == "anonymous" and round_.closes_at is not None
        assert round_.audience == {"groups": ["SPCN"], "users": ["UCHIDI"]}


def test_it_looks_people_up_once_and_pages_the_workspace_for_big_audiences(
        running: Running) -> None:
    def members_looked_up() -> int:
        return len([c for c in running.stub.calls_to("users.info")
                    if c.params["user"] in MEMBERS])

    start_round(running)
    sent_to_everyone(running)
    assert members_looked_up() == len(MEMBERS)
    running.slack.command(FACILITATOR, f"start {PACK} to <#{CHANNEL}|leaders>")
    running.wait_for(lambda: len(running.scalars(select(Round))) == 2, "the second round")
    assert members_looked_up() == len(MEMBERS)  # from the cache this time
    looked_up = len(running.stub.calls_to("users.info"))
    crowd = [f"UCROWD{i:03d}" for i in range(120)]
    for user in crowd:
        running.stub.add_user(user, user.title())
    running.stub.add_channel("CCROWD", crowd)
    running.slack.command(FACILITATOR, f"start {PACK} to <#CCROWD|crowd>")
    running.wait_for(lambda: len(running.scalars(select(Round))) == 3, "the crowd's round")
    assert len(running.stub.calls_to("users.info")) == looked_up
    assert running.stub.calls_to("users.list")
