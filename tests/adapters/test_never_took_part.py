"""my-data and forget-me from someone who never took part in a round (a colleague writing to
the bot): on Slack and Teams alike, forget-me warns of all it deletes and then says exactly
what it deleted, and my-data then says there is nothing to send."""

from __future__ import annotations

from tests.adapters.harness import (
    MEMBERS,
    Harness,
    SlackHarness,
    TeamsHarness,
)
from tests.teams.conftest import replaced_by
from tests.teams_connector_stub import card_text

NOTHING_TO_SEND = ("Roundtable holds no answers of yours and has asked you no questions, so "
                   "there is no file of them to send.")


def _told(bot: Harness, command: str) -> str:
    """Person 0 writes `command` to the bot: the first thing they are told."""
    if isinstance(bot, SlackHarness):
        acked = bot.running.slack.command(MEMBERS[0], command)
        assert acked.status == 200
        return str(bot.running.answer_to(acked, f"the answer to {command}").params["text"])
    assert isinstance(bot, TeamsHarness)
    member = bot.tenant.members[0]
    before = len(bot.stub.sent_to(member))
    bot.running.teams.chat(member, command)
    return card_text(bot.running.wait_for(lambda: bot.stub.sent_to(member)[before:],
                                          f"the answer to {command}")[0])


def _delete_everything(bot: Harness) -> str:
    """Person 0 presses Delete everything on forget-me's question: what they are told."""
    if isinstance(bot, SlackHarness):
        clicked = bot.running.slack.click(MEMBERS[0], "forget_confirm")
        assert clicked.status == 200
        return str(bot.running.answer_to(clicked, "done").params["text"])
    assert isinstance(bot, TeamsHarness)
    member = bot.tenant.members[0]
    question = next(c for c in reversed(bot.stub.sent_to(member))
                    if "cannot be undone" in card_text(c))
    delete = question.body["attachments"][0]["content"]["actions"][0]
    assert delete["title"] == "Delete everything"
    [answered] = bot.running.teams.submit(member, delete["data"])
    return replaced_by(answered.json())


def test_forget_me_from_someone_who_never_took_part_says_what_it_deletes(
        bot: Harness) -> None:
    """Slack knows nobody who writes a command until a round asks them; Teams keeps the name,
    email address and time zone its activities carry, to reach them: forget-me says so."""
    if isinstance(bot, TeamsHarness):
        bot.stub.open_chat(bot.tenant.members[0])
    name = "Slack" if isinstance(bot, SlackHarness) else "Teams"
    warned = _told(bot, "forget-me")
    assert warned.startswith(
        "This deletes everything Roundtable holds about you: your answers and votes (none so "
        f"far), the questions sent to you, your name, time zone and {name} id. "), warned
    assert warned.endswith("It cannot be undone. (" + (
        "`/roundtable my-data`" if name == "Slack" else "my-data")
        + " first sends you a copy of it all.)"), warned
    done = _delete_everything(bot)
    if isinstance(bot, SlackHarness):
        assert done == ("Roundtable held nothing about you; it will not ask you in any future "
                        "round.")
    else:
        assert done.startswith("Done. Roundtable deleted the name, email address, time zone "
                               "and Teams id kept to reach you. "), done
    assert _told(bot, "my-data") == NOTHING_TO_SEND
