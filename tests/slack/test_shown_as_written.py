"""Words people wrote, shown back to them exactly as written: an answer in its confirmation
(alone or with others), and a pack's words (a facilitator's) in the question's message, the
answer form, the Home tab and a reminder; the pack's questions and options, people's roles
and organisations in a draft digest, its edit form and the digest.
Read back from the blocks the Slack stand-in recorded: people's words only in rich text or
plain text, never in mrkdwn, which would turn `*really*` bold; the bot's own words keep
their formatting."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.app.confirmations import Confirmations
from bot.core.digest_review import draft_of
from bot.core.packs import load_pack
from bot.core.people import Person, find_participant
from bot.core.ports import Sent
from bot.core.replies import record_reply, record_vote
from bot.core.rounds import RoundRequest, start_round
from bot.scheduling import jobs
from bot.slack import review_blocks
from storage.database import Database
from storage.db import transaction
from storage.models import Digest, QuestionMessage, Round
from tests.conftest import NOW
from tests.helpers import HeldClock
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, MEMBERS, Running, run_bot
from tests.slack.test_answers import answer_buttons
from tests.slack.test_digest_review import FRIDAY_NOON, button, draft_in
from tests.slack.test_round_loop import question_ts, sent_to_everyone
from tests.slack_api_stub import Call, SlackStub
from tests.slack_reading import as_read

URGENT = "this is *really* _urgent_ ~maybe~"
MORE = ["`code` and ```a block``` too", "> quoted & <tagged>"]
"""As their writer saw them; Slack sends `>`, `&` and `<` encoded."""
PACK = """\
id: marked
title: "Leadership *now*: _what_ works"
workshop_date: 2021-03-10
intro: "We ask *everyone* the ~same~ questions, in `plain` words."
prompts:
  - id: worked
    section: "Where it *works*"
    kind: text
    question: "Where did leadership work *really* well, and _why_?"
    context: "The room said ~nothing~ about `rotas`."
  - id: first
    section: Support
    kind: choice
    question: "Which *one* matters most?"
    options: ["Protected *time*", "_Backing_ from the top"]
"""
PACK_WORDS = ["Leadership *now*: _what_ works",
              "We ask *everyone* the ~same~ questions, in `plain` words.",
              "Where did leadership work *really* well, and _why_?",
              "The room said ~nothing~ about `rotas`."]


def mrkdwn_of(node: Any) -> str:
    """Every mrkdwn text in these blocks (or view), one a line: what Slack formats."""
    if isinstance(node, list):
        return "\n".join(mrkdwn_of(item) for item in node)
    if not isinstance(node, dict):
        return ""
    if node.get("type") == "mrkdwn":
        return str(node.get("text", ""))
    return "\n".join(mrkdwn_of(value) for value in node.values())


def shows_as_written(node: Any, words: str) -> bool:
    """Whether these blocks (or view) show `words` where Slack shows text exactly as given."""
    return any(words in text for text in shown_as_written(node))


def shown_as_written(node: Any) -> list[str]:
    """Every text Slack shows exactly as given: rich text runs, and plain text."""
    if isinstance(node, list):
        return [text for item in node for text in shown_as_written(item)]
    if not isinstance(node, dict):
        return []
    if node.get("type") in ("text", "plain_text") and isinstance(node.get("text"), str):
        return [node["text"]]
    return [text for value in node.values() for text in shown_as_written(value)]


def test_a_confirmation_shows_the_answers_exactly_as_written(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    pacing = HeldClock()
    with run_bot(database, database_url, stub, pacing=pacing,
                 ROUNDTABLE_DATA_DIR=str(tmp_path)) as running:
        running.slack.command(FACILITATOR, "start sel-pharmacy-leadership to <#CLEADERS|l>")
        sent_to_everyone(running)
        user = MEMBERS[0]
        thread = question_ts(running, user, "done-well")
        running.slack.dm(user, URGENT, thread_ts=thread)  # the first is confirmed at once
        alone = running.wait_for(lambda: _confirmations(running.stub, user), "its confirmation")
        for text in ("`code` and ```a block``` too", "&gt; quoted &amp; &lt;tagged&gt;"):
            running.slack.dm(user, text, thread_ts=thread)  # these wait their turn together
        running.wait_for(lambda: len(running.bot.confirmations.queued()) == 2, "both saved")
        pacing.advance(Confirmations.SPACING)
        together = running.wait_for(lambda: _confirmations(running.stub, user)[1:],
                                    "their shared confirmation")

    one = alone[0].params["blocks"]
    assert shows_as_written(one, URGENT) and "*really*" not in mrkdwn_of(one)
    assert f"\n>{URGENT}\n" in as_read(one)  # a quote, in no style of the bot's
    assert "Not the right question?" in mrkdwn_of(one)  # the bot's words stay mrkdwn
    assert any(e["action_id"] == "answer_dont_quote" for b in one if b["type"] == "actions"
               for e in b["elements"])
    shared = together[0].params
    # written after the first answered question 1: kept beside it, and said so
    assert shared["text"] == "Added 2 messages to your answer to question 1."
    blocks = shared["blocks"]
    assert all(shows_as_written(blocks, words) for words in MORE)
    assert not any(words in mrkdwn_of(blocks) for words in ("`code`", "quoted", "tagged"))
    read = as_read(blocks)
    question = "*1. Where have you seen clinical or professional system leadership work well, and"
    assert read.count(question) == 2  # the question in the bot's bold, over each answer
    assert len([e for b in blocks if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == "answer_dont_quote"]) == 2


def test_a_packs_words_are_shown_as_written_in_the_question_form_home_tab_and_reminder(
        database: Database, database_url: str, stub: SlackStub, tmp_path: Path) -> None:
    packs = tmp_path / "packs"
    packs.mkdir()
    (packs / "marked.yaml").write_text(PACK, encoding="utf-8")
    user = MEMBERS[0]
    with run_bot(database, database_url, stub, ROUNDTABLE_DATA_DIR=str(tmp_path),
                 ROUNDTABLE_PACKS_DIR=str(packs)) as running:
        running.slack.command(FACILITATOR, f"start marked to <@{user}>")
        sent_to_everyone(running, [user])
        round_id = running.scalar(select(Round.id))
        question = running.stub.posted("D" + user)[0].params["blocks"]
        running.slack.command(FACILITATOR, "remind")
        reminder = running.wait_for(lambda: [c for c in running.stub.posted("D" + user)
                                             if "gentle reminder" in c.params["text"]],
                                    "the reminder")[0].params["blocks"]
        for who in (user, FACILITATOR):
            running.slack.event({"type": "app_home_opened", "user": who, "channel": "D" + who,
                                 "tab": "home"})
        homes = running.wait_for(lambda: _homes(running.stub, user, FACILITATOR), "both homes")
        button = answer_buttons(homes[user])[0]
        assert json.loads(button["value"]) == {"round": round_id, "prompt": "worked"}
        running.slack.click(user, "answer_open", button["value"])
        form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the form")[0]
        assert running.slack.submit(user, form.answer["view"], {"answer": {"value": {
            "type": "plain_text_input", "value": URGENT}}}).status == 200
        choice = running.wait_for(lambda: running.stub.posted("D" + user)[1:] and [
            c for c in running.stub.posted("D" + user) if "Question 2 of 2" in c.params["text"]],
            "question 2")[0]
        # a person replies once the question is shown; the bot records it a moment after
        # Slack answers its post, and only a recorded question has a thread to answer in
        running.wait_for(lambda: running.scalars(select(QuestionMessage.message_id).where(
            QuestionMessage.prompt_id == "first")), "question 2 recorded")
        running.slack.dm(user, "1", thread_ts=question_ts(running, user, "first"))
        vote = running.wait_for(lambda: [c for c in running.stub.posted("D" + user)
                                         if "as I read your message" in c.params["text"]],
                                "the vote read back")[0].params["blocks"]

    for words in PACK_WORDS:
        assert shows_as_written(question, words), words
    for words in ("*really*", "*everyone*", "~nothing~", "*works*"):
        assert words not in mrkdwn_of(question), words
    read = as_read(question)
    assert "*Question 1 of 2 · Where it *works**\nWhere did leadership" in read  # bot's bold
    assert "*How your answers are used*" in mrkdwn_of(question)  # the bot's own mrkdwn
    asked = "Where did leadership work *really* well, and _why_?"
    for view in (homes[user], form.params["view"], reminder):
        assert shows_as_written(view, asked) and "*really*" not in mrkdwn_of(view)
    assert f"*Question 1* · {asked}" in as_read(homes[user]["blocks"])
    options = "1. Protected *time* · 2. _Backing_ from the top"
    assert shows_as_written(choice.params["blocks"], options)  # a context line, plain text
    assert "*time*" not in mrkdwn_of(choice.params["blocks"])
    assert shows_as_written(vote, "1. Protected *time*") and "*time*" not in mrkdwn_of(vote)
    facilitators = homes[FACILITATOR]
    assert shows_as_written(facilitators, PACK_WORDS[0])
    assert "*now*" not in mrkdwn_of(facilitators)
    assert f"*Round {round_id}* · {PACK_WORDS[0]} · open" in as_read(facilitators["blocks"])


def _confirmations(stub: SlackStub, user: str) -> list[Call]:
    return [c for c in stub.posted("D" + user)
            if c.params["text"].startswith(("Saved", "Added"))]


def _homes(stub: SlackStub, *users: str) -> dict[str, dict[str, Any]]:
    """The last Home tab published for each of these people, once each has one."""
    homes = {c.params["user_id"]: c.params["view"] for c in stub.calls_to("views.publish")}
    return homes if set(users) <= set(homes) else {}


HOSTILE_PACK = """\
id: hostile
title: Barriers
workshop_date: 2021-03-10
intro: What stops you.
prompts:
  - id: stopping
    section: Barriers
    kind: text
    question: "What's *really* stopping you? <!channel> & _why_ > now"
  - id: support
    section: Support
    kind: choice
    question: "Which one helps most?"
    options: ["Protected *time* <!here> & ~cover~", "Backing from the top"]
"""
QUESTION = "What's *really* stopping you? <!channel> & _why_ > now"
OPTION = "Protected *time* <!here> & ~cover~"
ROLE = "*Lead* <!channel> & _PCN_ pharmacist"
SILENT_ROLE = "~Locum~ <@UBEN> pharmacist"
ORGANISATION = "Boots *Catford* & <!everyone>"
APPROVER = "Fola *the* <!channel> & _lead_"
HOSTILE = ("*really*", "*time*", "~cover~", "*Lead*", "~Locum~", "*Catford*", "*the*",
           "<!channel>", "<!here>", "<!everyone>", "<@UBEN>")
"""None of this may reach Slack as mrkdwn: it would format, or ping."""


def _hostile_round(running: Running, pack: Path) -> int:
    """A reviewed round of HOSTILE_PACK: four people of ROLE answered, one of SILENT_ROLE
    did not; its draft digest is in the facilitator's direct messages."""
    members = [Person(m, m[1:].title(), ROLE, ORGANISATION) for m in MEMBERS[:4]]
    members.append(Person(MEMBERS[4], "Elif", SILENT_ROLE, ORGANISATION))
    with transaction(running.database.sessions) as session:
        round_ = start_round(session, RoundRequest(
            load_pack(pack), members, started_by=FACILITATOR, digest_channel=DIGEST_CHANNEL,
            review="review", anonymity="named", platform="slack"), NOW)
        for n, user in enumerate(MEMBERS[:4]):
            person = find_participant(session, user, "slack")
            assert person is not None
            record_reply(session, round_.id, "stopping", person, f"Rotas, week {n}.", NOW,
                         external_id=f"hostile-{n}")
            record_vote(session, round_.id, "support", person, [OPTION], NOW,
                        external_id=f"vote-{n}")
        round_id = round_.id
    jobs.install(jobs.JobContext(running.database, running.bot.gateways,
                                 lambda: FRIDAY_NOON + timedelta(seconds=30), "Europe/London"))
    jobs.post_round_digest(round_id)
    return round_id


def _never_as_mrkdwn(node: Any) -> None:
    marked = mrkdwn_of(node)
    for words in HOSTILE:
        assert words not in marked, (words, marked)


def test_a_draft_and_its_digest_show_the_packs_and_peoples_words_as_written(
        running: Running, tmp_path: Path) -> None:
    pack = tmp_path / "hostile.yaml"
    pack.write_text(HOSTILE_PACK, encoding="utf-8")
    round_id = _hostile_round(running, pack)
    draft = draft_in(running, FACILITATOR)
    assert shows_as_written(draft["blocks"], QUESTION)
    _never_as_mrkdwn(draft["blocks"])

    edit = button(draft, f"{review_blocks.REVIEW_EDIT}:stopping")
    running.slack.click(FACILITATOR, edit["action_id"], edit["value"])
    form = running.wait_for(lambda: running.stub.calls_to("views.open"), "the edit form")[0]
    assert shows_as_written(form.params["view"], QUESTION)
    _never_as_mrkdwn(form.params["view"])

    approve = button(draft, review_blocks.REVIEW_APPROVE)
    running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
    running.wait_for(lambda: len(running.stub.posted(DIGEST_CHANNEL)) >= 3, "the digest")
    digest = [c.params["blocks"] for c in running.stub.posted(DIGEST_CHANNEL)]
    for words in (QUESTION, OPTION, ROLE, ORGANISATION, "no ~Locum~ <@UBEN> pharmacists yet"):
        assert shows_as_written(digest, words), words
    _never_as_mrkdwn(digest)
    approved = running.wait_for(lambda: "and posted" in json.dumps(
        draft_in(running, FACILITATOR)["blocks"]) and draft_in(running, FACILITATOR),
        "the draft marked approved")
    _never_as_mrkdwn(approved["blocks"])

    # who approved it is named by Slack from their id; text stored in its place that is no
    # one's id (hostile as can be) is never repeated
    with running.database.sessions() as session:
        row = session.scalars(select(Digest).where(Digest.round_id == round_id)).one()
        settled = replace(draft_of(session, row, NOW), approved_by=APPROVER)
    running.bot.gateway("slack").update_draft(
        Sent("D" + FACILITATOR, str(draft["ts"])), settled)
    named = running.stub.calls_to("chat.update")[-1].params["blocks"]
    assert "Approved and posted." in as_read(named).splitlines()
    assert "Fola" not in json.dumps(named)
    _never_as_mrkdwn(named)
