"""Mentions in what people write: Slack sends `<@U0123ABC>` with no name, and what is kept (and
quoted in every digest) is the name its writer saw, never the id; when no name can be had, a
neutral word, and the answer is kept all the same."""

from __future__ import annotations

from pathlib import Path

from docx import Document
from typer.testing import CliRunner

from bot.cli import app as cli
from bot.slack.mrkdwn import Unnamed, to_plain, unnamed
from tests.helpers import cli_env
from tests.slack.conftest import DIGEST_CHANNEL, FACILITATOR, MEMBERS, Running
from tests.slack.test_round_loop import question_ts, sent_to_everyone, start_round
from tests.slack_events import ACK_TIMEOUT
from tests.slack_reading import as_read

AMARA = "U0123ABC"
"""Known to Slack by her full name only: she never chose a display name."""
OSEI = "U0456DEF"
"""Chose to be shown as "Ben O"."""
NAMED = ("Ask <@U0123ABC> and <@U0456DEF> in <!subteam^S0PCN> or <#C0LEADS|>; "
         "<@UBEN> knows too.")
AS_SEEN = "Ask @Amara Okafor and @Ben O in @pcn-leads or #pharmacy-leaders; @Ben knows too."


def _workspace(running: Running) -> None:
    running.stub.add_user(AMARA, "Amara Okafor", display_name="")
    running.stub.add_user(OSEI, "Benedict Osei", display_name="Ben O")
    running.stub.add_group("S0PCN", "pcn-leads", [AMARA])
    running.stub.add_channel("C0LEADS", [AMARA], name="pharmacy-leaders")


def _answer(running: Running, text: str, user: str = MEMBERS[0]) -> tuple[str, float]:
    """`user` answers question 1 in its thread; the message's ts, and how long Slack waited."""
    ts, response = running.slack.dm(user, text,
                                    thread_ts=question_ts(running, user, "done-well"))
    assert response.status == 200
    return ts, response.seconds


def _users_looked_up(running: Running) -> list[str]:
    return [c.params["user"] for c in running.stub.calls_to("users.info", ok_only=False)]


def test_it_asks_about_people_groups_and_channels_mentioned_without_a_name() -> None:
    text = "<@B01> <@U02|ben> <@W03> <!subteam^S1> <!subteam^S2|@pcn> <#C1|> <#C2|leads> <@W03>"
    assert unnamed(text) == Unnamed(users=("W03",), groups=("S1",), channels=("C1",))
    assert to_plain(text, {"W03": "@Amara Okafor"}) == (
        "@someone @ben @Amara Okafor @a group @pcn #a channel #leads @Amara Okafor")


def test_it_keeps_the_names_that_mentions_showed_their_writer(running: Running) -> None:
    _workspace(running)
    start_round(running)
    sent_to_everyone(running)
    before = len(_users_looked_up(running))
    _answer(running, NAMED)
    running.wait_for(running.replies, "the answer")
    assert [r.text for r in running.replies()] == [AS_SEEN]
    # people Slack was asked about once, like real Slack; Ben, a participant, from the cache
    assert _users_looked_up(running)[before:] in ([AMARA, OSEI], [OSEI, AMARA])
    # (the start asked about the digest channel, to say whether the bot may post there)
    assert [c.params["channel"] for c in running.stub.calls_to("conversations.info")
            if c.params["channel"] != DIGEST_CHANNEL] == ["C0LEADS"]
    assert len(running.stub.calls_to("usergroups.list")) == 1


def test_it_asks_slack_about_a_group_or_channel_once_for_many_answers(
        running: Running) -> None:
    """usergroups.list answers about 20 calls a minute: a morning of answers that mention
    @pcn-leads must not spend them."""
    _workspace(running)
    start_round(running)
    sent_to_everyone(running)
    for user in MEMBERS[:3]:
        _answer(running, "Raise it in <!subteam^S0PCN> and <#C0LEADS>.", user)
    running.wait_for(lambda: len(running.replies()) == 3, "the three answers")
    assert {r.text for r in running.replies()} == {
        "Raise it in @pcn-leads and #pharmacy-leaders."}
    assert len(running.stub.calls_to("usergroups.list", ok_only=False)) == 1
    assert len([c for c in running.stub.calls_to("conversations.info", ok_only=False)
                if c.params["channel"] == "C0LEADS"]) == 1


def test_it_names_the_mentions_of_an_edit_the_same_way(running: Running) -> None:
    _workspace(running)
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[1]
    ts, _ = _answer(running, "Ask the LPC.", user)
    running.wait_for(running.replies, "the answer")
    edited = running.slack.event({
        "type": "message", "subtype": "message_changed", "channel": "D" + user,
        "channel_type": "im", "ts": "1900000999.1", "hidden": True,
        "message": {"type": "message", "user": user, "text": NAMED, "ts": ts,
                    "edited": {"user": user, "ts": "1900000999.1"}},
        "previous_message": {"user": user, "text": "Ask the LPC.", "ts": ts}})
    assert edited.status == 200
    running.wait_for(lambda: running.replies()[0].text == AS_SEEN, "the edit, names and all")


def test_it_keeps_the_answer_without_the_ids_when_slack_names_nobody(
        running: Running) -> None:
    start_round(running)
    sent_to_everyone(running)
    _answer(running, "Ask <@U0NOBODY> in <!subteam^S0GONE> or <#C0SECRET>.")
    running.wait_for(running.replies, "the answer")
    assert [r.text for r in running.replies()] == [
        "Ask @someone in @a group or #a channel."]
    assert [(c.params["user"], c.answer["error"]) for c in running.stub.calls_to(
        "users.info", ok_only=False) if c.params["user"] == "U0NOBODY"] == [
        ("U0NOBODY", "user_not_found")]


def test_it_names_a_mentioned_bot_or_deactivated_account_as_slack_shows_it(
        running: Running) -> None:
    """Bots and deactivated people are no audience, but a mention of one showed its writer a
    name: that name is kept, not "@someone"."""
    running.stub.add_user("U0PHARMBOT", "Pharmacy Helper", is_bot=True, display_name="")
    running.stub.add_user("U0LEFT", "Lola Left", deleted=True, display_name="Lola L")
    start_round(running)
    sent_to_everyone(running)
    user = MEMBERS[0]
    _answer(running, "Ask <@U0PHARMBOT> or <@U0LEFT>, who set it up.", user)
    running.wait_for(running.replies, "the answer")
    assert [r.text for r in running.replies()] == [
        "Ask @Pharmacy Helper or @Lola L, who set it up."]
    confirmed = running.wait_for(lambda: [c for c in running.stub.posted("D" + user)
                                          if c.params["text"].startswith("Saved")],
                                 "the confirmation")
    assert ">Ask @Pharmacy Helper or @Lola L, who set it up.\n" in as_read(
        confirmed[0].params["blocks"])


def test_it_keeps_the_answer_when_slack_rate_limits_every_try(running: Running) -> None:
    _workspace(running)
    start_round(running)
    sent_to_everyone(running)
    running.stub.fail_next("users.info", 7, status=429)  # the first try and all six retries
    _answer(running, "Ask <@U0123ABC>.")
    running.wait_for(running.replies, "the answer")
    assert [r.text for r in running.replies()] == ["Ask @someone."]
    refused = [c for c in running.stub.calls_to("users.info", ok_only=False) if c.status == 429]
    assert len(refused) == 7


def test_it_answers_slack_in_time_when_slack_asks_it_to_wait(running: Running) -> None:
    _workspace(running)
    start_round(running)
    sent_to_everyone(running)
    running.stub.fail_next("users.info", 1, status=429, retry_after=4)
    _, waited = _answer(running, "Ask <@U0123ABC>.")
    assert waited < ACK_TIMEOUT  # else Slack would count the event failed and send it again
    running.wait_for(running.replies, "the answer")
    assert [r.text for r in running.replies()] == ["Ask @someone."]


def test_every_digest_quotes_the_name_and_no_id(running: Running, tmp_path: Path) -> None:
    _workspace(running)
    round_id = start_round(running)
    sent_to_everyone(running)
    for user in MEMBERS:
        _answer(running, f"Protected time worked, ask <@{AMARA}> how ({user[1:].title()}).",
                user)
    running.wait_for(lambda: len(running.replies()) == len(MEMBERS), "every answer")
    assert running.slack.command(FACILITATOR, "digest").status == 200
    running.wait_for(lambda: len(running.stub.posted(DIGEST_CHANNEL)) > 6, "the digest")
    outputs = {"slack": "\n".join(str(c.params) for c in running.stub.posted(DIGEST_CHANNEL))}
    outputs |= _digests_from_the_command_line(running, round_id, tmp_path)
    for where, text in outputs.items():
        assert "@Amara Okafor" in text, where
        assert "U0123" not in text, where


def _digests_from_the_command_line(running: Running, round_id: int, folder: Path
                                   ) -> dict[str, str]:
    """The digest in each of its formats, and the synthesis export in each of its formats."""
    env = cli_env(DATABASE_URL=running.bot.settings.database_url,
                  SLACK_API_URL=running.stub.base_url)

    def run(*args: str) -> str:
        result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    out = {f"digest {fmt}": run("digest", "--round", str(round_id), "--format", fmt)
           for fmt in ("text", "md", "json", "blocks")}
    for fmt in ("md", "html", "docx", "csv"):
        path = folder / f"round.{fmt}"
        run("export", "--round", str(round_id), "--format", fmt, "--out", str(path))
        out[f"export {fmt}"] = _docx_text(path) if fmt == "docx" else path.read_text(
            encoding="utf-8-sig")
    return out


def _docx_text(path: Path) -> str:
    document = Document(str(path))
    return "\n".join([p.text for p in document.paragraphs] + [
        cell.text for table in document.tables for row in table.rows for cell in row.cells])
