"""One way to drive a running Roundtable on either platform, so one suite runs over both
adapters (as APScheduler runs one suite over every job store): a facilitator starts a round
for five people, they write answers in their conversation with the bot (Slack's DM, Teams'
1:1 chat), the facilitator posts the digest; the stand-in records what the bot sent."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from sqlalchemy import select

from bot.app.confirmations import Confirmations
from bot.app.review_form import HIDE, SHOW
from bot.app.roundtable import Roundtable
from bot.slack import review_blocks
from bot.slack.listeners import commands
from bot.teams import review_cards
from storage.database import Database
from storage.models import Delivery, Reply
from tests.helpers import stepping
from tests.slack.conftest import (
    CHANNEL,
    DIGEST_CHANNEL,
    FACILITATOR,
    MEMBERS,
    PACK,
    Running,
    run_bot,
)
from tests.slack_api_stub import SlackStub
from tests.slack_reading import as_read
from tests.teams.conftest import MEMBER_NAMES, RunningTeams, Tenant, run_teams
from tests.teams.test_round import start_from_channel
from tests.teams_connector_stub import Call, ConnectorStub, card_text

NAMES = [m[1:].title() for m in MEMBERS]
"""The five people's names, the same on both platforms (Amara, Ben, Chidi, Dev, Elif)."""


class Harness(Protocol):
    platform: str
    app: Roundtable
    """The running application (to wait for what it has queued)."""

    def start(self, *, anonymous: bool = False, closes: str | None = None) -> None:
        """Start the seed pack for the five (closing `closes`: 14d, a date); return once each
        was sent question 1 and the facilitator was told the round started (an answer still
        on its way would land among what a later step reads)."""

    def write(self, who: int, text: str, *, times: int = 1, files: int = 0) -> None:
        """Person `who` writes `text` to the bot, delivered `times` times (one event id),
        sharing `files` files with it."""

    def edit(self, who: int, text: str, *, files: int = 0) -> None:
        """Person `who` edits the last message they wrote to the bot into `text` (the
        message still carrying the `files` shared with it)."""

    def delete(self, who: int, back: int = 0) -> None:
        """Person `who` deletes the last message they wrote to the bot (`back`: the one that
        many messages before it)."""

    def said_to(self, who: int) -> list[str]:
        """Everything person `who` was sent, as they read it, one string a message."""

    def shown_to(self, who: int) -> list[str]:
        """What person `who` reads now of what they were sent (changed messages as they are
        now), one string a message still there."""

    def press(self, who: int, label: str) -> str:
        """Person `who` presses the button `label` on the newest message they were sent
        that has one; what the button said, as read."""

    def press_changed(self, who: int, label: str, **changed: object) -> str:
        """As `press`, the button's round and question changed to `changed` (`round=`,
        `prompt=`): a button of an older message, or one made up; what it said, as read."""

    def digest(self) -> list[str]:
        """The facilitator posts the digest; each of its messages as people read it."""

    def command(self, text: str) -> str:
        """The facilitator types the command `text` where they talk to the bot (Slack's
        /roundtable, Teams' 1:1 chat, where answers are written too); the answer as read."""

    def command_in_channel(self, text: str) -> str:
        """The facilitator types the command `text` in the team's channel (Slack's
        /roundtable there, `@Roundtable text` on Teams, where no answers are taken)."""

    digest_channel: str
    """The round's digest channel as the facilitator names it in a command."""

    digest_channel_read: str
    """The round's digest channel as people read it where the bot names it."""

    def draft(self) -> str:
        """The newest draft digest waiting for review, as the facilitator reads it where the
        bot sent it (Slack's DM, Teams' 1:1 chat)."""

    def form_choices(self, prompt_id: str) -> dict[str, list[str]]:
        """The facilitator presses Edit by question `prompt_id` on the draft: the choices its
        form offers to hide and to quote again (review_form.HIDE, SHOW), as read."""

    def hide_in_review(self, prompt_id: str, quotes: list[str], field: str = HIDE) -> None:
        """The facilitator presses Edit by question `prompt_id` on the draft, ticks under
        "Hide" (`field`: SHOW, "Quote again") the choices that show each of `quotes`, and
        saves."""

    def approve_review(self) -> str:
        """The facilitator presses Approve on the draft; what the bot answered, as read."""

    def posted(self) -> str:
        """Everything in the round's digest channel, as the group reads it."""

    def everything_sent(self) -> str:
        """All the bot sent the platform, as JSON, for scanning."""

    def pings(self) -> list[str]:
        """Whatever in what the bot sent would ping someone, link, or format people's words."""

    def refuse_next_posts(self, times: int, retry_after: int = 1) -> None:
        """The platform answers the next `times` posts 429 with Retry-After."""

    def refusals(self) -> int:
        """How many calls the stand-in answered 429."""

    def hold_posts(self, who: int, words: str) -> None:
        """The bot's posts to person `who` holding `words` wait at the platform (and what
        posts them waits with them) until `release`."""

    def withhold_posts(self, who: int, words: str) -> None:
        """The bot's posts to person `who` holding `words` are made, but the platform's
        answer (where each landed) waits until `release`: meanwhile the bot does not know
        where they are."""

    def holding(self) -> bool:
        """Whether a post `hold_posts` holds (or `withhold_posts` withholds) is waiting at
        the platform now."""

    def release(self) -> None:
        """Let the held posts be answered (Slack fails them, Teams takes them), and hold no
        more."""

    def replies(self) -> list[Reply]: ...

    def deliveries(self) -> list[Delivery]: ...


HOSTILE = {
    "slack": "<!channel> ask <@UFACILITATOR> *now* <https://evil.example/x|the NHS site>",
    "teams": "@channel ask <at>Fola</at> **now** [the NHS site](https://evil.example/x)",
}
"""The same hostile answer, as each platform delivers what someone typed."""
STORED = {
    "slack": "@channel ask @Fola Facilitator *now* the NHS site",
    "teams": "@channel ask @Fola **now** [the NHS site](https://evil.example/x)",
}
"""The hostile answer as its reader saw it, which is what is stored: each platform's encoding
of a mention is undone at the adapter."""


class SlackHarness:
    platform = "slack"
    digest_channel = f"<#{DIGEST_CHANNEL}|digest>"
    digest_channel_read = "#digest"

    def __init__(self, running: Running) -> None:
        self.running, self.stub, self.app = running, running.stub, running.bot
        self._events = 0
        self._written: dict[int, str] = {}
        self._earlier: dict[int, list[str]] = {}

    def start(self, *, anonymous: bool = False, closes: str | None = None) -> None:
        extra = (" anonymous" if anonymous else "") + (f" closes {closes}" if closes else "")
        acked = self.running.slack.command(
            FACILITATOR, f"start {PACK} to <#{CHANNEL}|leaders> digest <#{DIGEST_CHANNEL}|d>"
            + extra)
        assert acked.status == 200
        self.running.answer_to(acked, "the facilitator to hear the round started")
        self.running.wait_for(lambda: _asked_everyone(self.deliveries(), len(MEMBERS)),
                              "question 1 to reach everyone", timeout=60)

    def write(self, who: int, text: str, *, times: int = 1, files: int = 0) -> None:
        user = MEMBERS[who]
        self._events += 1
        ts = f"{1_900_000_000 + self._events}.000100"
        self._written[who] = ts
        self._earlier.setdefault(who, []).append(ts)
        event: dict[str, Any] = {"type": "message", "channel": "D" + user,
                                 "channel_type": "im", "user": user, "text": text, "ts": ts,
                                 "event_ts": ts}
        if files:
            event.update(subtype="file_share", files=_slack_files(user, files))
        for retry in range(times):
            response = self.running.slack.event(event, event_id=f"EvH{self._events}",
                                                retry=retry or None)
            assert response.status == 200

    def edit(self, who: int, text: str, *, files: int = 0) -> None:
        user, ts = MEMBERS[who], self._written[who]
        self._events += 1
        edited = f"{1_900_000_000 + self._events}.000100"
        message: dict[str, Any] = {"type": "message", "user": user, "text": text, "ts": ts,
                                   "edited": {"user": user, "ts": edited}}
        if files:
            message.update(subtype="file_share", files=_slack_files(user, files))
        assert self.running.slack.event({
            "type": "message", "subtype": "message_changed", "channel": "D" + user,
            "channel_type": "im", "ts": edited, "event_ts": edited, "hidden": True,
            "message": message,
            "previous_message": {"type": "message", "user": user, "ts": ts}},
            event_id=f"EvH{self._events}").status == 200

    def delete(self, who: int, back: int = 0) -> None:
        user, ts = MEMBERS[who], self._earlier[who][-1 - back]
        self._events += 1
        at = f"{1_900_000_000 + self._events}.000100"
        assert self.running.slack.event({
            "type": "message", "subtype": "message_deleted", "channel": "D" + user,
            "channel_type": "im", "ts": at, "event_ts": at, "hidden": True, "deleted_ts": ts,
            "previous_message": {"type": "message", "user": user, "ts": ts}},
            event_id=f"EvH{self._events}").status == 200

    def said_to(self, who: int) -> list[str]:
        return [self.read_message(c.params) for c in self.stub.posted("D" + MEMBERS[who])]

    def shown_to(self, who: int) -> list[str]:
        channel = "D" + MEMBERS[who]
        now = [self.stub.message(channel, c.answer["ts"]) for c in self.stub.posted(channel)]
        return [self.read_message(m) for m in now if m is not None]

    def press(self, who: int, label: str) -> str:
        user = MEMBERS[who]
        button = next(e for c in reversed(self.stub.posted("D" + user))
                      for b in c.params.get("blocks") or [] if b["type"] == "actions"
                      for e in b["elements"] if e.get("text", {}).get("text") == label)
        clicked = self.running.slack.click(user, button["action_id"], button["value"])
        assert clicked.status == 200
        return self.read_message(self.running.answer_to(clicked, f"what {label!r} did").params)

    def press_changed(self, who: int, label: str, **changed: object) -> str:
        user = MEMBERS[who]
        button = next(e for c in reversed(self.stub.posted("D" + user))
                      for b in c.params.get("blocks") or [] if b["type"] == "actions"
                      for e in b["elements"] if e.get("text", {}).get("text") == label)
        value = json.dumps({**json.loads(button["value"]), **changed})
        clicked = self.running.slack.click(user, button["action_id"], value)
        assert clicked.status == 200
        return self.read_message(self.running.answer_to(clicked, f"what {label!r} did").params)

    def digest(self) -> list[str]:
        before = len(self.stub.posted(DIGEST_CHANNEL))
        assert self.running.slack.command(FACILITATOR, "digest").status == 200
        self.running.wait_for(lambda: len(self.stub.posted(DIGEST_CHANNEL)) >= before + 7,
                              "the digest and its thread")
        return [self.read_message(c.params) for c in self.stub.posted(DIGEST_CHANNEL)[before:]]

    def command(self, text: str) -> str:
        acked = self.running.slack.command(FACILITATOR, text)
        assert acked.status == 200
        shown = _acknowledged(acked.body)
        if shown and shown.get("text") != commands.WORKING:
            return self.read_message(shown)
        return self.read_message(self.running.answer_to(acked, f"the answer to {text!r}").params)

    def command_in_channel(self, text: str) -> str:
        return self.command(text)  # a slash command is the same command in any channel

    def _draft(self) -> dict[str, Any]:
        posted = self.running.wait_for(
            lambda: [c for c in self.stub.posted("D" + FACILITATOR)
                     if "For review" in json.dumps(c.params.get("blocks"))], "the draft")
        found = self.stub.message("D" + FACILITATOR, posted[-1].answer["ts"])
        assert found is not None
        return found

    def draft(self) -> str:
        return self.read_message(self._draft())

    def _form(self, prompt_id: str) -> tuple[Any, dict[str, list[dict[str, Any]]]]:
        """The edit form opened (the views.open call), and its options by field."""
        edit = _slack_button(self._draft(), f"{review_blocks.REVIEW_EDIT}:{prompt_id}")
        before = len(self.stub.calls_to("views.open"))
        assert self.running.slack.click(FACILITATOR, edit["action_id"],
                                        edit["value"]).status == 200
        form = self.running.wait_for(lambda: self.stub.calls_to("views.open")[before:],
                                     "the edit form")[0]
        return form, {b["block_id"]: b["element"].get("options") or []
                      for b in form.params["view"]["blocks"] if b.get("block_id")}

    def form_choices(self, prompt_id: str) -> dict[str, list[str]]:
        _, options = self._form(prompt_id)
        return {f: [o["text"]["text"] for o in options.get(f, [])] for f in (HIDE, SHOW)}

    def hide_in_review(self, prompt_id: str, quotes: list[str], field: str = HIDE) -> None:
        form, options = self._form(prompt_id)
        chosen = [o for o in options[field] if any(q in o["text"]["text"] for q in quotes)]
        answered = self.running.slack.submit(FACILITATOR, form.answer["view"], {
            field: {"value": {"selected_options": chosen}}})
        assert answered.status == 200 and not answered.body, answered.body

    def approve_review(self) -> str:
        approve = _slack_button(self._draft(), review_blocks.REVIEW_APPROVE)
        clicked = self.running.slack.click(FACILITATOR, approve["action_id"], approve["value"])
        assert clicked.status == 200
        return self.read_message(self.running.answer_to(clicked, "what Approve did").params)

    def posted(self) -> str:
        return "\n".join(self.read_message(c.params) for c in self.stub.posted(DIGEST_CHANNEL))

    def everything_sent(self) -> str:
        return json.dumps([c.params for c in self.stub.calls if c.method in (
            "chat.postMessage", "chat.update", "views.publish", "response_url")])

    def pings(self) -> list[str]:
        out = self.everything_sent()
        return [c for c in ("<!channel", "<!here", "<@U", "<https:", '"link_names"',
                            '"parse"') if c in out]

    def read_message(self, params: dict[str, Any]) -> str:
        """A Slack message as read: its blocks' text (mrkdwn unescaped), else its text."""
        blocks = params.get("blocks")
        text = as_read(blocks or [], self.stub) or as_read(
            {"type": "mrkdwn", "text": str(params.get("text", ""))}, self.stub)
        return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")

    def refuse_next_posts(self, times: int, retry_after: int = 1) -> None:
        self.stub.fail_next("chat.postMessage", times, status=429, retry_after=retry_after)

    def refusals(self) -> int:
        return len([c for c in self.stub.calls if c.status == 429])

    def hold_posts(self, who: int, words: str) -> None:
        channel = "D" + MEMBERS[who]
        self.stub.hold("chat.postMessage", lambda params: params.get("channel") == channel
                       and words in json.dumps(params))

    def withhold_posts(self, who: int, words: str) -> None:
        channel = "D" + MEMBERS[who]
        self.stub.withhold("chat.postMessage", lambda params: params.get("channel") == channel
                           and words in json.dumps(params))

    def holding(self) -> bool:
        return bool(self.stub.held or self.stub.withheld)

    def release(self) -> None:
        self.stub.release()

    def replies(self) -> list[Reply]:
        return self.running.replies()

    def deliveries(self) -> list[Delivery]:
        return self.running.scalars(select(Delivery))


def _asked_everyone(deliveries: list[Delivery], people: int) -> bool:
    """Whether the newest round (the one just started: its start was answered) has sent
    question 1 to all `people`; an earlier round's deliveries are not counted."""
    newest = max((d.round_id for d in deliveries), default=None)
    return len([d for d in deliveries if d.round_id == newest and d.state == "sent"]) == people


def _slack_files(user: str, files: int) -> list[dict[str, Any]]:
    """What Slack's message event says of the files shared with it."""
    return [{"id": f"F0ROTA{n:04d}", "name": f"rota-{n}.pdf", "mimetype": "application/pdf",
             "filetype": "pdf", "user": user, "mode": "hosted"} for n in range(files)]


def _acknowledged(body: bytes) -> dict[str, Any] | None:
    """The message an acknowledgement shows its user at once: its JSON body, or a body of
    plain text as the message's text (Bolt sends `ack(text=…)` so); None for an empty one."""
    if not body:
        return None
    if body.lstrip().startswith(b"{"):
        return dict(json.loads(body))
    return {"text": body.decode()}


def _slack_button(message: dict[str, Any], action_id: str) -> dict[str, Any]:
    return next(dict(e) for b in message["blocks"]
                for e in [b.get("accessory") or {}, *(b.get("elements") or [])]
                if e.get("action_id") == action_id)


class TeamsHarness:
    platform = "teams"
    digest_channel = "#Leaders (General)"
    digest_channel_read = digest_channel

    def __init__(self, running: RunningTeams, tenant: Any) -> None:
        self.running, self.stub, self.tenant = running, running.stub, tenant
        self.app = running.bot
        self.channel = tenant.team.channel_id
        self._written: dict[int, str] = {}
        self._earlier: dict[int, list[str]] = {}

    def start(self, *, anonymous: bool = False, closes: str | None = None) -> None:
        extra = (" anonymous" if anonymous else "") + (f" closes {closes}" if closes else "")
        start_from_channel(self.running, self.tenant, extra)
        self.running.wait_for(lambda: _asked_everyone(self.deliveries(), len(MEMBER_NAMES)),
                              "question 1 to reach everyone", timeout=60)

    def write(self, who: int, text: str, *, times: int = 1, files: int = 0) -> None:
        self._written[who], responses = self.running.teams.chat(
            self.tenant.members[who], text, times=times, attachments=_teams_files(files))
        self._earlier.setdefault(who, []).append(self._written[who])
        assert {r.status for r in responses} == {200}

    def edit(self, who: int, text: str, *, files: int = 0) -> None:
        member = self.tenant.members[who]
        assert self.running.teams.edit(member, self._written[who], text,
                                       attachments=_teams_files(files)).status == 200

    def delete(self, who: int, back: int = 0) -> None:
        member = self.tenant.members[who]
        assert self.running.teams.delete(member, self._earlier[who][-1 - back]).status == 200

    def said_to(self, who: int) -> list[str]:
        return [card_text(c) for c in self.stub.sent_to(self.tenant.members[who])]

    def shown_to(self, who: int) -> list[str]:
        calls, shown = self.stub.calls, []
        for call in self.stub.sent_to(self.tenant.members[who]):
            if call.activity_id is None or call.activity_id in self.stub.gone:
                continue
            changed = [c for c in calls if c.method == "PUT" and c.status == 200
                       and c.path.endswith("/" + call.activity_id)]
            shown.append(card_text(changed[-1] if changed else call))
        return shown

    def press(self, who: int, label: str) -> str:
        member = self.tenant.members[who]
        data = next(a["data"] for c in reversed(self.stub.sent_to(member))
                    for attachment in (c.body or {}).get("attachments") or []
                    for a in (attachment.get("content") or {}).get("actions") or []
                    if a.get("title") == label)
        response, = self.running.teams.submit(member, data)
        assert response.status == 200
        answer = response.json()["value"]
        if isinstance(answer, str):  # a line by the card
            return answer
        return _card_read(answer)

    def press_changed(self, who: int, label: str, **changed: object) -> str:
        member = self.tenant.members[who]
        data = next(a["data"] for c in reversed(self.stub.sent_to(member))
                    for attachment in (c.body or {}).get("attachments") or []
                    for a in (attachment.get("content") or {}).get("actions") or []
                    if a.get("title") == label)
        response, = self.running.teams.submit(member, {**data, **changed})
        assert response.status == 200
        answer = response.json()["value"]
        return answer if isinstance(answer, str) else _card_read(answer)

    def _in_channel(self) -> list[Call]:
        return [c for c in self.stub.sent() if (c.conversation or "").startswith(self.channel)]

    def digest(self) -> list[str]:
        before = len(self._in_channel())
        assert self.running.teams.in_channel(self.tenant.team, self.tenant.facilitator,
                                             "digest").status == 200
        self.running.wait_for(lambda: len(self._in_channel()) >= before + 8,
                              "the digest and its replies")
        return [card_text(c) for c in self._in_channel()[before:] if "Posted the digest"
                not in card_text(c)]

    def command(self, text: str) -> str:
        facilitator = self.tenant.facilitator
        if not self.stub.chats_of(facilitator):
            # the facilitator installs the bot for themselves, and is welcomed in that chat
            chat = self.stub.open_chat(facilitator, "a:1facilitator-chat-with-roundtable")
            assert self.running.teams.installed(facilitator, chat).status == 200
            self.running.wait_for(lambda: self.stub.sent(chat), "the welcome")
        before = len(self.stub.sent_to(facilitator))
        _, responses = self.running.teams.chat(facilitator, text)
        assert [r.status for r in responses] == [200]
        answer = self.running.wait_for(lambda: self.stub.sent_to(facilitator)[before:],
                                       f"the answer to {text!r}")[0]
        return card_text(answer)

    def command_in_channel(self, text: str) -> str:
        before = len(self.stub.sent(self.channel))
        assert self.running.teams.in_channel(self.tenant.team, self.tenant.facilitator,
                                             text).status == 200
        answer = self.running.wait_for(lambda: self.stub.sent(self.channel)[before:],
                                       f"the answer to {text!r} in the channel")[0]
        return card_text(answer)

    def _draft(self) -> dict[str, Any]:
        """The newest draft card in the facilitator's chat: sent, or put in place of one."""
        facilitator = self.tenant.facilitator

        def drafts() -> list[Call]:
            chats = set(self.stub.chats_of(facilitator))
            return [c for c in list(self.stub.calls) if c.conversation in chats
                    and (c.method, c.status) in (("POST", 201), ("PUT", 200))
                    and "For review" in card_text(c)]

        return dict(self.running.wait_for(drafts, "the draft card")[-1]
                    .body["attachments"][0]["content"])

    def draft(self) -> str:
        return _card_read(self._draft())

    def _form(self, prompt_id: str) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """The card with the question's form open (Edit as an Action.Execute), and its
        inputs by field."""
        edit = next(a for a in _card_buttons(self._draft(), review_cards.OPEN)
                    if a["data"]["prompt"] == prompt_id)
        [answer] = self.running.teams.submit(self.tenant.facilitator, dict(edit["data"]))
        form = answer.json()["value"]
        return form, {str(e["id"]).split("-", 1)[0]: e for e in form["body"]
                      if str(e.get("type")).startswith("Input.")}

    def form_choices(self, prompt_id: str) -> dict[str, list[str]]:
        _, inputs = self._form(prompt_id)
        return {f: [c["title"] for c in inputs[f]["choices"]] if f in inputs else []
                for f in (HIDE, SHOW)}

    def hide_in_review(self, prompt_id: str, quotes: list[str], field: str = HIDE) -> None:
        form, inputs = self._form(prompt_id)
        [save] = _card_buttons(form, review_cards.EDIT)
        chosen = [c["value"] for c in inputs[field]["choices"]
                  if any(q in c["title"] for q in quotes)]
        sent = {e["id"]: e.get("value", "") for e in inputs.values()}
        [saved] = self.running.teams.submit(
            self.tenant.facilitator,
            {**save["data"], **sent, inputs[field]["id"]: ",".join(chosen)}, execute=False)
        assert saved.status == 200

    def approve_review(self) -> str:
        [approve] = _card_buttons(self._draft(), review_cards.APPROVE)
        [answer] = self.running.teams.submit(self.tenant.facilitator, dict(approve["data"]))
        return str(answer.json()["value"])

    def posted(self) -> str:
        return "\n".join(card_text(c) for c in self._in_channel())

    def everything_sent(self) -> str:
        return json.dumps([c.body for c in self.stub.calls if c.method in ("POST", "PUT")
                           and c.path.endswith("activities")])

    def pings(self) -> list[str]:
        """Mentions need an entity, and Markdown is read only in TextBlocks: people's words
        must be in neither (only in text runs)."""
        found: list[str] = []
        for call in self.stub.sent():
            body = call.body or {}
            if any(e.get("type") == "mention" for e in body.get("entities") or []):
                found.append("a mention entity")
            if body.get("text") and body.get("textFormat") != "plain":
                found.append(f"markdown text: {body['text'][:40]}")
            for block in _text_blocks(body):
                if "<at>" in block or "evil.example" in block or "**" in block:
                    found.append(f"people's words in a TextBlock: {block[:40]}")
        return found

    def refuse_next_posts(self, times: int, retry_after: int = 1) -> None:
        self.stub.fail_next("send", status=429, retry_after=retry_after, times=times)

    def refusals(self) -> int:
        return len([c for c in self.stub.calls if c.status == 429])

    def hold_posts(self, who: int, words: str) -> None:
        # an activity's body does not name its chat: the words alone pick it
        self.stub.hold("send", lambda body: words in json.dumps(body))

    def withhold_posts(self, who: int, words: str) -> None:
        # held before it lands: to the bot, waiting for its answer all the same
        self.hold_posts(who, words)

    def holding(self) -> bool:
        return self.stub.holding > 0

    def release(self) -> None:
        self.stub.release()

    def replies(self) -> list[Reply]:
        return self.running.replies()

    def deliveries(self) -> list[Delivery]:
        return self.running.scalars(select(Delivery))


def _teams_files(files: int) -> list[dict[str, Any]]:
    """What a Teams message says of the files shared with it."""
    return [{"contentType": "application/vnd.microsoft.teams.file.download.info",
             "name": f"rota-{n}.pdf", "contentUrl": f"https://contoso.sharepoint.com/rota-{n}.pdf",
             "content": {"downloadUrl": f"https://contoso.sharepoint.com/download/rota-{n}.pdf",
                         "fileType": "pdf"}} for n in range(files)]


def _card_buttons(card: dict[str, Any], verb: str) -> list[dict[str, Any]]:
    """The buttons of a card (in its body's action sets too) that do `verb`."""
    found = [a for e in card["body"] if e.get("type") == "ActionSet" for a in e["actions"]]
    return [a for a in [*found, *card.get("actions", [])] if a["data"].get("roundtable") == verb]


def _card_read(card: dict[str, Any]) -> str:
    return card_text(Call("POST", "", None, {"attachments": [{"content": card}]}, 200))


def _text_blocks(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if node.get("type") == "TextBlock":
            yield str(node.get("text", ""))
        for value in node.values():
            yield from _text_blocks(value)
    elif isinstance(node, list):
        for item in node:
            yield from _text_blocks(item)


@contextmanager
def harness(platform: str, database: Database, database_url: str, tmp: str,
            tenant_of: Any, pacing: Callable[[], float] | None = None) -> Iterator[Harness]:
    """The bot on `platform`; `pacing` is the clock its confirmations are paced by. By
    default it is a spacing later at each reading, so no confirmation waits out a real second:
    the walks wait for what each answer brings before the next, so pacing would join next to
    nothing (a test of the pacing itself gives a clock it moves on, a HeldClock)."""
    if pacing is None:
        pacing = stepping(Confirmations.SPACING)
    if platform == "slack":
        stub = SlackStub().start()
        stub.add_user(FACILITATOR, "Fola Facilitator")
        for user in MEMBERS:
            stub.add_user(user, user[1:].title())
        stub.add_channel(CHANNEL, MEMBERS)
        stub.add_channel(DIGEST_CHANNEL, [FACILITATOR], name="digest")
        try:
            with run_bot(database, database_url, stub, pacing=pacing,
                         ROUNDTABLE_DATA_DIR=tmp) as running:
                yield SlackHarness(running)
        finally:
            stub.stop()
        stub.assert_within_limits()  # as the `stub` fixture does, once the walk went well
        return
    connector = ConnectorStub().start()
    tenant = tenant_of(connector)
    try:
        with run_teams(database, database_url, connector, tenant.facilitator, pacing=pacing,
                       ROUNDTABLE_DATA_DIR=tmp) as running:
            yield TeamsHarness(running, tenant)
    finally:
        connector.stop()


def leaders_tenant(connector: ConnectorStub) -> Tenant:
    """Fola, who facilitates, and the five members, in the team Leaders: the Teams side of
    the people the Slack stand-in knows."""
    facilitator = connector.add_person("Fola")
    members = [connector.add_person(name) for name in MEMBER_NAMES]
    return Tenant(facilitator, members, connector.add_team("Leaders", members))
