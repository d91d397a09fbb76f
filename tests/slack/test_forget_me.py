"""forget-me, my-data and "don't quote me", as people use them in Slack (acceptance 2 and 3 of
issue 13): after forget-me the person's words appear in no later digest or export, the
database holds no row with their id, name or words, the bot's messages that repeated them
were deleted or replaced (the stand-in records the calls), and the counts still add up;
my-data sends exactly the person's own data."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.app.actors import OPERATOR, Actor
from bot.app.personal_data import forget, my_data
from bot.core import audit
from bot.core.digest.build import build_digest
from bot.core.digest.render_csv import render_csv
from bot.core.digest.render_md import render_md
from bot.core.imports import import_replies
from storage.db import transaction
from storage.models import BotMessage, Digest, HomeOwed, InboxEvent, QuestionMessage, Reply
from tests.helpers import stored_values
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, MEMBERS, Running
from tests.slack.test_answers import answer_buttons
from tests.slack.test_round_loop import asked, question_ts, sent_to_everyone, start_round
from tests.slack_reading import as_read
from tests.test_imports import write_csv

AMARA, BEN = MEMBERS[0], MEMBERS[1]
AMARA_SAID = ["Vaccination clinics run with every practice in Lewisham",
              "Commissioners who return calls within the week"]
BEN_SAID = "Care homes work, because we met weekly."


def _answered(running: Running) -> int:
    round_id = start_round(running)
    sent_to_everyone(running)
    running.slack.dm(AMARA, AMARA_SAID[0], thread_ts=question_ts(running, AMARA, "done-well"))
    running.slack.dm(AMARA, AMARA_SAID[1], thread_ts=asked(running, AMARA, "bought-in"))
    running.slack.dm(BEN, BEN_SAID)
    running.wait_for(lambda: len(running.replies()) == 3, "three answers")
    running.wait_for(lambda: len(running.scalars(select(BotMessage).where(
        BotMessage.kind == "confirmation"))) >= 3, "the confirmations, remembered")
    # her second answer releases her third question, sent on its own time
    running.wait_for(lambda: len(running.scalars(select(QuestionMessage).where(
        QuestionMessage.channel_id == "D" + AMARA))) == 3, "her third question, sent")
    return round_id


def _digest(running: Running) -> list[Any]:
    before = len(running.scalars(select(Digest)))
    running.slack.command(FACILITATOR, "digest")
    running.wait_for(lambda: len(running.scalars(select(Digest).where(
        Digest.state == "posted"))) > before, "the digest")
    return running.scalars(select(BotMessage).where(BotMessage.kind == "digest"))


def copies_to_amara(running: Running) -> list[str]:
    """The files shared in Amara's DM, not deleted, that hold her words."""
    return [content.decode() for shared, content in running.stub.uploaded("D" + AMARA)
            if running.stub.files.get(shared["id"]) and AMARA_SAID[0] in content.decode()]


def _said(running: Running, words: str) -> str:
    found = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                      if words in c.params.get("text", "")], words)
    return str(found[-1].params["text"])


def test_forget_me_forgets_and_says_exactly_what_was_done(running: Running) -> None:
    round_id = _answered(running)
    first = _digest(running)
    parts = _digest(running)  # a second digest, whose top says what is new since the first
    with running.database.sessions() as session:
        confirmations = list(session.scalars(select(BotMessage).where(
            BotMessage.kind == "confirmation", BotMessage.channel_id == "D" + AMARA)))
    assert confirmations and all(running.stub.message(m.channel_id, m.message_id)
                                 for m in confirmations)
    with transaction(running.database.inbox_sessions) as session:  # set aside after failing
        session.add(InboxEvent(platform="slack", event_id="EvStuck", attempts=3,
                               received_at=running.bot.clock(), payload=json.dumps(
                                   {"kind": "written", "channel_id": "D" + AMARA,
                                    "author_id": AMARA, "text": "a stuck answer",
                                    "message_id": "1900000999.000200"})))
    running.slack.command(AMARA, "forget-me")
    assert "cannot be undone" in _said(running, "cannot be undone")
    assert len(running.replies()) == 3  # nothing before the confirmation
    running.slack.click(AMARA, "forget_confirm")
    done = _said(running, "Done. Roundtable deleted")

    # the bot's messages that repeated her words: confirmations deleted, digest parts replaced
    deleted = {(c.params["channel"], c.params["ts"]) for c in running.stub.calls_to("chat.delete")}
    assert deleted == {(m.channel_id, m.message_id) for m in confirmations}
    assert all(running.stub.message(*where) is None for where in deleted)
    updated = {c.params["ts"]: c.params["text"] for c in running.stub.calls_to("chat.update")}
    about = {p.message_id: p.prompt_id for p in parts if p.part}
    tops = {p.message_id: p.digest_id for p in parts if p.part == 0}
    # the question parts of both digests that she answered, and the second digest's top,
    # whose "new since" lines may name themes titled with her words; the first's top is counts
    assert sorted(about[ts] for ts in updated if ts in about) == [
        "bought-in", "bought-in", "done-well", "done-well"]
    assert [tops[ts] for ts in updated if ts in tops] == [max(tops.values())]
    assert {p.message_id for p in first if p.part == 0} & set(updated) == set()
    for ts, text in updated.items():
        assert "someone asked Roundtable to delete their answers" in text
        assert running.stub.message(DIGEST_CHANNEL, ts)["text"] == text  # type: ignore[index]
    # what was done, exactly
    assert "deleted 2 answers, the 3 questions sent to you in 1 round" in done
    assert f"deleted {len(deleted)} messages of mine that repeated your answers" in done
    assert f"replaced {len(updated)} digest messages that drew on them, in <#{DIGEST_CHANNEL}>" \
        in done
    assert "1 message waiting to be handled" in done
    assert f"withdrew from round {round_id}" in done and "one-way fingerprint" in done

    # nothing left about her: no id, no name, no words, in either database (once her App
    # Home is published again, without her questions: her id is kept until that is recorded)
    running.wait_for(lambda: [c for c in running.stub.calls_to("views.publish")
                              if c.params["user_id"] == AMARA], "her home published again")
    running.wait_for(lambda: not running.scalars(select(HomeOwed.id)),
                     "her home recorded as published")
    with running.database.sessions() as session:
        left = "\n".join(stored_values(session))
    with running.database.inbox_sessions() as session:
        left += "\n".join(stored_values(session))
    for trace in (AMARA, "Amara", *AMARA_SAID, "a stuck answer"):
        assert trace not in left, trace
    assert BEN_SAID in left  # Ben's answer stays

    # a later digest and the exports: without her words, counts that add up
    later = _digest(running)
    posted = json.dumps([running.stub.message(DIGEST_CHANNEL, m.message_id)
                         for m in later if m.digest_id == max(p.digest_id or 0 for p in later)])
    with running.database.sessions() as session:
        view = build_digest(session, round_id, running.bot.clock())
    exported = render_md(view) + render_csv(view) + json.dumps(view.to_json()) + posted
    assert BEN_SAID in exported
    assert not any(words in exported for words in AMARA_SAID)
    people = view.participation
    assert (people["invited"], people["answered_any"], people["withdrawn"]) == (4, 1, 1)
    # no row of a role fewer than three answered from: no table, or one that adds up
    assert sum(r["invited"] for r in people["by_role"].values()) in (0, people["invited"])
    assert view.answer_count == len(running.replies()) == 1
    assert "1 person invited asked for everything about them to be deleted" in exported
    # and she is asked nothing again, in this round or a new one
    running.slack.command(FACILITATOR, f"start sel-pharmacy-leadership to <@{AMARA}> <@{BEN}>")
    running.wait_for(lambda: len(running.scalars(select(Digest.round_id).distinct())) >= 1
                     and _said(running, "Round 2"), "the second round")
    assert "to 1 person" in _said(running, "Round 2")


def test_forgetting_an_imported_person_replaces_the_digest_parts_in_slack(
        running: Running, tmp_path: Path) -> None:
    """An imported person has no platform of their own: the digest messages that quote them
    are where the round's digest was posted, and those are replaced."""
    round_id = start_round(running)
    notes = write_csv(tmp_path / "room.csv", [
        {"prompt_id": "done-well", "participant": "p08", "role": "community pharmacist",
         "text": "The vaccine hubs, run with every practice"},
        {"prompt_id": "bought-in", "participant": "p08", "role": "community pharmacist",
         "text": "Commissioners, early"},
        {"prompt_id": "done-well", "participant": "p09", "role": "community pharmacist",
         "text": "Care homes work"}], ["prompt_id", "participant", "role", "text"])
    with transaction(running.database.sessions) as session:
        import_replies(session, notes, running.bot.clock(), round_id=round_id)
    parts = _digest(running)
    about = {p.message_id: p.prompt_id for p in parts if p.part}

    done = forget(running.bot, OPERATOR, "import", "p08").plain

    updated = {c.params["ts"]: c.params["text"] for c in running.stub.calls_to("chat.update")}
    assert sorted(about[ts] for ts in updated) == ["bought-in", "done-well"]
    assert {c.params["channel"] for c in running.stub.calls_to("chat.update")} == {
        DIGEST_CHANNEL}
    for ts, text in updated.items():
        assert "someone asked Roundtable to delete their answers" in text
        assert running.stub.message(DIGEST_CHANNEL, ts)["text"] == text  # type: ignore[index]
    assert done.startswith("Done. Roundtable deleted 2 answers")
    assert "In Slack: deleted 0 messages of mine that repeated their answers, and replaced " \
        "2 digest messages that drew on them" in done
    assert "could not be changed" not in done and "Slack id" not in done
    assert "their label and role from the imported file" in done
    with running.database.sessions() as session:
        assert "The vaccine hubs" not in "\n".join(stored_values(session))


def test_my_data_sends_exactly_the_persons_own_data(running: Running) -> None:
    round_id = _answered(running)
    running.slack.command(AMARA, "my-data")
    assert "roundtable-my-data.json" in _said(running, "I have sent you")
    (shared, content), = running.wait_for(lambda: running.stub.uploaded("D" + AMARA),
                                          "her file")
    assert shared["title"] == "Everything Roundtable holds about you"
    data = json.loads(content)
    assert data["person"]["user_id"] == AMARA and data["person"]["name"] == "Amara"
    assert [a["text"] for a in data["answers"]] == AMARA_SAID
    assert [r["round"] for r in data["rounds"]] == [round_id]
    assert {q["prompt_id"] for q in data["rounds"][0]["questions_sent"]} >= {"done-well",
                                                                             "bought-in"}
    text = content.decode()
    for someone_else in (BEN, "Ben", BEN_SAID, FACILITATOR, "Fola"):
        assert someone_else not in text, someone_else
    assert not running.stub.uploaded("D" + BEN)  # sent to her alone
    running.slack.command(BEN, "my-data")
    (_, bens), = running.wait_for(lambda: running.stub.uploaded("D" + BEN), "Ben's file")
    assert [a["text"] for a in json.loads(bens)["answers"]] == [BEN_SAID]
    assert not any(words in bens.decode() for words in [AMARA, *AMARA_SAID])


def test_dont_quote_me_on_the_confirmation_keeps_an_answer_from_quotes(
        running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    running.slack.dm(AMARA, AMARA_SAID[0])
    confirmation = running.wait_for(lambda: [c for c in running.stub.posted("D" + AMARA)
                                             if c.params["text"].startswith("Saved")],
                                    "the confirmation")[0]
    button = next(e for b in confirmation.params["blocks"] if b["type"] == "actions"
                  for e in b["elements"] if e["action_id"] == "answer_dont_quote")
    assert button["text"]["text"] == "Don't quote me"
    response = running.slack.interact({
        "type": "block_actions", "user": {"id": AMARA, "team_id": "T0ROUNDTBL"},
        "container": {"type": "message", "channel_id": "D" + AMARA,
                      "message_ts": confirmation.answer["ts"]},
        "channel": {"id": "D" + AMARA},
        "message": {"ts": confirmation.answer["ts"], "text": confirmation.params["text"],
                    "blocks": confirmation.params["blocks"]},
        "response_url": running.stub.response_url("dont-quote"),
        "actions": [{**button, "block_id": "b", "action_ts": "1"}]})
    assert response.status == 200
    running.wait_for(lambda: not running.replies()[0].quotable, "the answer marked")
    replaced = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                         if c.params.get("replace_original")], "the update")
    blocks = json.dumps(replaced[0].params["blocks"])
    assert "answer_dont_quote" not in blocks and "never quoted" in blocks
    # someone else cannot mark it
    running.slack.interact({
        "type": "block_actions", "user": {"id": BEN, "team_id": "T0ROUNDTBL"},
        "response_url": running.stub.response_url("not-yours"),
        "actions": [{**button, "block_id": "b", "action_ts": "2"}]})
    said = running.wait_for(lambda: [c for c in running.stub.calls_to("response_url")
                                     if "/not-yours" in c.answer.get("path", "")], "refusal")
    assert "Only the person who wrote an answer can change it" in said[0].params["text"]
    # written in the answer itself, it is understood too
    running.slack.dm(BEN, "The ICS board never listened. Don't quote me on that.")
    running.wait_for(lambda: len(running.replies()) == 2, "Ben's answer")
    assert [r.quotable for r in running.scalars(select(Reply).order_by(Reply.id))] == [
        False, False]


def test_my_data_of_a_facilitator_who_never_answered_lists_what_is_held_about_them(
        running: Running) -> None:
    round_id = _answered(running)
    running.slack.command(FACILITATOR, "my-data")
    said = _said(running, "you")
    assert "holds nothing about you" not in said, said
    (_, content), = running.wait_for(lambda: running.stub.uploaded("D" + FACILITATOR),
                                     "the facilitator's file")
    data = json.loads(content)
    assert data["person"]["user_id"] == FACILITATOR
    assert data["answers"] == [] and data["rounds"] == []
    assert data["facilitator"]["rounds_started"] == [round_id]
    assert "round.start" in {e["action"] for e in data["audit_log"]}
    for someone_else in (AMARA, BEN, *AMARA_SAID, BEN_SAID):
        assert someone_else not in content.decode(), someone_else


def test_forgetting_someone_for_them_takes_their_questions_off_their_home_tab(
        running: Running) -> None:
    """Ben asked the operator to forget him: his App Home, which listed the round's
    questions, is published again without them."""
    start_round(running)
    sent_to_everyone(running)
    running.slack.event({"type": "app_home_opened", "user": BEN, "channel": "D" + BEN,
                         "tab": "home"})
    home = running.wait_for(lambda: running.stub.calls_to("views.publish"), "Ben's home tab")
    assert len(answer_buttons(home[0].params["view"])) == 6

    forget(running.bot, OPERATOR, "slack", BEN)

    published = running.wait_for(lambda: [c for c in running.stub.calls_to("views.publish")[1:]
                                          if c.params["user_id"] == BEN], "Ben's home again")
    assert answer_buttons(published[0].params["view"]) == []


def test_forget_me_says_what_it_deletes_in_plain_words_however_many_answers(
        running: Running) -> None:
    """The warning before deleting counts the answers and votes it deletes, and says when
    there are none, in one phrase ("your answers (none so far) (votes included)" read as
    two afterthoughts)."""
    start_round(running)
    sent_to_everyone(running)
    running.slack.dm(MEMBERS[1], "Protected time made it work.",
                     thread_ts=question_ts(running, MEMBERS[1], "done-well"))
    running.wait_for(lambda: running.replies(), "the answer")
    warned = {}
    for user in MEMBERS[:2]:
        warned[user] = running.answer_to(running.slack.command(user, "forget-me"),
                                         "the warning").params["text"]
    assert warned[MEMBERS[0]].startswith(
        "This deletes everything Roundtable holds about you: your answers and votes (none so "
        "far), the questions sent to you,"), warned
    assert warned[MEMBERS[1]].startswith(
        "This deletes everything Roundtable holds about you: your one answer or vote, the "
        "questions sent to you,"), warned


@pytest.mark.each_database
def test_a_confirmation_of_someone_forgotten_meanwhile_keeps_nobody_elses_from_being_kept(
        running: Running) -> None:
    """Hers cannot be recorded (she is gone): his is, as if hers were never posted."""
    start_round(running)
    sent_to_everyone(running)
    saved = "Saved as your answer"
    running.stub.hold("chat.postMessage", lambda params: params.get("channel") == "D" + AMARA
                      and saved in str(params.get("text")))
    running.slack.dm(AMARA, AMARA_SAID[0], thread_ts=question_ts(running, AMARA, "done-well"))
    running.wait_for(lambda: running.stub.held, "her confirmation on its way")
    running.slack.command(AMARA, "forget-me")
    _said(running, "cannot be undone")
    running.slack.click(AMARA, "forget_confirm")
    _said(running, "Done. Roundtable deleted")
    running.stub.release()
    running.wait_for(lambda: [c for c in running.stub.posted("D" + AMARA)
                              if saved in c.params["text"]], "her confirmation, posted")
    running.slack.dm(BEN, BEN_SAID, thread_ts=question_ts(running, BEN, "done-well"))
    running.wait_for(lambda: running.scalars(select(BotMessage).where(
        BotMessage.kind == "confirmation", BotMessage.channel_id == "D" + BEN)),
        "his confirmation, kept")


def test_a_confirmation_being_posted_when_its_author_is_forgotten_is_deleted_after(
        running: Running) -> None:
    """Hers is in the chat, but Slack has not said where yet, while she is forgotten: once
    Slack answers, it is deleted, as forget-me deletes those it knows of."""
    start_round(running)
    sent_to_everyone(running)
    running.stub.withhold("chat.postMessage", lambda params: params.get("channel") == "D" + AMARA
                          and "Saved as your answer" in str(params.get("text")))
    running.slack.dm(AMARA, AMARA_SAID[0], thread_ts=question_ts(running, AMARA, "done-well"))
    posted = running.wait_for(lambda: running.stub.withheld, "her confirmation, posted")[0]
    running.slack.command(AMARA, "forget-me")
    _said(running, "cannot be undone")
    running.slack.click(AMARA, "forget_confirm")
    _said(running, "Done. Roundtable deleted")
    running.stub.release()
    running.bot.confirmations.stop()  # answered, and recorded (or not)
    assert running.stub.message("D" + AMARA, posted.answer["ts"]) is None


@pytest.mark.each_database
def test_a_confirmation_recorded_as_its_author_is_being_forgotten_is_deleted(
        running: Running) -> None:
    """Forget-me has looked for her confirmations, and is deleting the one it found, when
    Slack answers where her second landed, and it is recorded: forget-me finds it before it
    deletes her rows, and deletes it too."""
    start_round(running)
    sent_to_everyone(running)
    running.slack.dm(AMARA, AMARA_SAID[0], thread_ts=question_ts(running, AMARA, "done-well"))
    running.wait_for(lambda: running.scalars(select(BotMessage).where(
        BotMessage.kind == "confirmation")), "her first confirmation, recorded")
    running.stub.withhold("chat.postMessage", lambda params: params.get("channel") == "D" + AMARA
                          and "Saved as your answer" in str(params.get("text")))
    running.slack.dm(AMARA, AMARA_SAID[1], thread_ts=asked(running, AMARA, "bought-in"))
    posted = running.wait_for(lambda: running.stub.withheld, "her second, posted")[0]
    running.slack.command(AMARA, "forget-me")
    _said(running, "cannot be undone")
    running.stub.withhold("chat.delete", lambda params: True)
    confirming = threading.Thread(target=running.slack.click, args=(AMARA, "forget_confirm"))
    confirming.start()
    running.wait_for(lambda: [c for c in running.stub.withheld if c.method == "chat.delete"],
                     "the first, being deleted")
    running.stub.release("chat.postMessage")
    running.wait_for(lambda: len(running.scalars(select(BotMessage).where(
        BotMessage.kind == "confirmation"))) == 2, "her second, recorded")
    running.stub.release()
    _said(running, "Done. Roundtable deleted")
    confirming.join()
    assert running.stub.message("D" + AMARA, posted.answer["ts"]) is None
    assert not [c for c in running.stub.posted("D" + AMARA) if "Saved as your answer" in
                c.params["text"] and running.stub.message("D" + AMARA, c.answer["ts"])]


@pytest.mark.each_database
def test_a_copy_of_someone_s_data_sent_as_they_are_being_forgotten_is_deleted(
        running: Running) -> None:
    """Forget-me is deleting her confirmation in Slack when she asks for her data (from
    another device, say): the copy, sent and recorded meanwhile, holds her words, and is
    deleted with her rows."""
    start_round(running)
    sent_to_everyone(running)
    running.slack.dm(AMARA, AMARA_SAID[0], thread_ts=question_ts(running, AMARA, "done-well"))
    running.wait_for(lambda: running.scalars(select(BotMessage).where(
        BotMessage.kind == "confirmation")), "her confirmation, recorded")
    running.stub.hold("chat.delete", lambda params: True)
    told: list[str] = []
    running.meanwhile(lambda: told.append(forget(running.bot, OPERATOR, "slack", AMARA).plain),
                      "her confirmation, being deleted",
                      lambda: told.append(my_data(running.bot, Actor("slack", AMARA)).plain))
    sent, done = told
    assert "I have sent you" in sent, told
    assert "In Slack: deleted 1 message of mine that repeated their answers and their data as "\
           "my-data sent it to them." in done, done  # the copy found after is counted too
    with running.database.sessions() as session:
        assert [(e.action, e.detail) for e in audit.entries(session)
                if e.action == "participant.forget.meanwhile"] == [
            ("participant.forget.meanwhile",
             "1 message holding someone's words deleted in chat")]
    assert running.stub.uploaded("D" + AMARA) != []
    assert copies_to_amara(running) == []


def test_a_confirmation_waiting_when_its_author_is_forgotten_is_never_posted(
        running: Running) -> None:
    """Hers waits behind his, held at Slack, while she is forgotten: her words are not
    repeated in chat afterwards, and his confirmation is posted."""
    start_round(running)
    sent_to_everyone(running)
    saved = "Saved as your answer"
    running.stub.hold("chat.postMessage", lambda params: params.get("channel") == "D" + BEN
                      and saved in str(params.get("text")))
    running.slack.dm(BEN, BEN_SAID, thread_ts=question_ts(running, BEN, "done-well"))
    running.wait_for(lambda: running.stub.held, "his confirmation on its way")
    running.slack.dm(AMARA, AMARA_SAID[0], thread_ts=question_ts(running, AMARA, "done-well"))
    running.wait_for(lambda: running.bot.confirmations.queued(), "hers, waiting behind his")
    running.slack.command(AMARA, "forget-me")
    _said(running, "cannot be undone")
    running.slack.click(AMARA, "forget_confirm")
    _said(running, "Done. Roundtable deleted")
    running.stub.release()
    running.bot.confirmations.stop()  # posts everything still waiting, then ends
    assert [c for c in running.stub.posted("D" + BEN) if saved in c.params["text"]]
    assert not [c for c in running.stub.posted() if AMARA_SAID[0] in json.dumps(c.params)]


def test_the_digest_top_messages_fallback_says_someone_asked_to_be_forgotten(
        running: Running) -> None:
    """The top message's plain text (what a notification or a screen reader gives) says what
    its blocks say: someone invited asked for everything about them to be deleted."""
    start_round(running)
    sent_to_everyone(running)
    forget(running.bot, OPERATOR, "slack", AMARA)
    _digest(running)

    top = running.stub.posted(DIGEST_CHANNEL)[0].params
    assert "asked for everything about them to be deleted" in as_read(top["blocks"])
    assert top["text"].endswith(
        "1 person invited asked for everything about them to be deleted, and is not counted.")
