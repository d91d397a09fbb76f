"""Teams activities, checked and translated: where they came from (a conversation reference
to keep), and what they mean here: an answer written in the 1:1 chat (bot.core.incoming), a
card's submission, a command, or nothing to act on.

Shapes as Teams sends them: a message carries `text` (in a channel with `<at>…</at>` for the
bot's mention) and, with a file or a picture, `attachments`; a card's Action.Submit comes as a
message with `value` and no text, its Action.Execute as an `invoke` named
`adaptiveCard/action`; edits and deletions come as `messageUpdate` / `messageDelete` with the
original message's id. A reply that quotes an earlier message (Teams' "Reply" in a chat)
carries the quote as a `quotedReply` entity with a `<quoted messageId="…"/>` mark in its text,
or, from older clients, as a `<blockquote itemtype="http://schema.skype.com/Reply">` in its
HTML (in `text` or in a `text/html` attachment, the plain `text` then starting with the
quote's words run together).
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.core.incoming import Deleted, Edited, Incoming, Written
from bot.teams.markup import read_html
from bot.teams.references import Member, Reference, conversation_key

MENTION = re.compile(r"<at>([^<]*)</at>", re.IGNORECASE)
QUOTE_MARK = re.compile(r"<quoted\s+messageId=\"([^\"]*)\"\s*/>", re.IGNORECASE)
CARD_ACTION = "adaptiveCard/action"
OURS = "roundtable"
"""The key every card action of ours carries in its data (what it is: answer, skip, …)."""
ID_CHARS = 128
"""The longest activity id taken (an activity's own, and the replyToId naming the card a
button was on): Teams' are far shorter, and the inbox keys an event (and a reply its card's
answer) by the id and a prefix, within 200 characters, as `teams_sent` keeps a card's."""
ENTRA_ID_CHARS = 64
"""Entra object and tenant ids are GUIDs: 36 characters; they are stored within 64."""


class _Fields(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class Account(_Fields):
    id: str
    name: str | None = None
    aadObjectId: str | None = Field(None, max_length=ENTRA_ID_CHARS)
    email: str | None = None
    userPrincipalName: str | None = None


class Conversation(_Fields):
    id: str
    conversationType: str | None = None
    tenantId: str | None = Field(None, max_length=ENTRA_ID_CHARS)
    name: str | None = None
    isGroup: bool | None = None


class Activity(_Fields):
    """The fields of an activity the bot reads, each of its type when present."""

    type: str
    id: str | None = Field(None, max_length=ID_CHARS)
    serviceUrl: str | None = None
    channelId: str | None = None
    from_: Account | None = None
    conversation: Conversation | None = None
    recipient: Account | None = None
    text: str | None = None
    textFormat: str | None = None
    value: Any = None
    name: str | None = None
    localTimezone: str | None = None
    entities: list[dict[str, Any]] | None = None
    channelData: dict[str, Any] | None = None
    membersAdded: list[Account] | None = None
    action: str | None = None
    replyToId: str | None = Field(None, max_length=ID_CHARS)
    timestamp: str | None = Field(None, max_length=64)
    attachments: list[Any] | None = None


def parse(body: dict[str, Any]) -> Activity | None:
    """The activity's fields, or None when they are not of their types."""
    try:
        return Activity.model_validate({**body, "from_": body.get("from")})
    except ValidationError:
        return None


def problem(body: dict[str, Any]) -> str | None:
    """Why an authenticated activity cannot be acted on (answered 400), or None."""
    try:
        Activity.model_validate({**body, "from_": body.get("from")})
    except ValidationError as exc:
        return f"malformed activity: {str(exc).splitlines()[0]}"
    return None


def kind_of(activity: Activity) -> str:
    """personal, channel or groupChat."""
    conversation = activity.conversation
    kind = conversation.conversationType if conversation else None
    if kind in {"personal", "channel", "groupChat"}:
        return str(kind)
    return "groupChat" if conversation is not None and conversation.isGroup else "personal"


def _tenant_ids(activity: Activity) -> tuple[object, object]:
    """The tenant an activity's conversation names, and the one its channel data names."""
    data = activity.channelData or {}
    named = data.get("tenant")
    return (activity.conversation.tenantId if activity.conversation else None,
            named.get("id") if isinstance(named, dict) else None)


def tenant_of(activity: Activity) -> str | None:
    conversation, channel_data = _tenant_ids(activity)
    found = conversation or channel_data
    return str(found) if found else None


def tenants_named(activity: Activity) -> set[str]:
    """Every tenant an activity names: its conversation's and its channel data's."""
    return {str(t) for t in _tenant_ids(activity) if t is not None}


def from_tenant(activity: Activity, tenant: str) -> bool:
    """Whether the activity names `tenant` and no other (Entra ids, in any case)."""
    named = tenants_named(activity)
    return bool(named) and all(t.lower() == tenant.lower() for t in named)


def team_of(activity: Activity) -> tuple[str | None, str | None]:
    """The team (id, name) an activity came from, if any."""
    data = activity.channelData or {}
    team = data.get("team") if isinstance(data.get("team"), dict) else None
    if team and isinstance(team.get("id"), str):
        name = team.get("name")
        return team["id"], name if isinstance(name, str) else None
    return None, None


def reference(activity: Activity) -> Reference | None:
    """Where to answer this activity (and post to its conversation later)."""
    if activity.conversation is None or not activity.serviceUrl:
        return None
    kind = kind_of(activity)
    conversation_id = activity.conversation.id.split(";messageid=")[0]
    team_id, team_name = team_of(activity)
    data = activity.channelData or {}
    channel = data.get("channel") if isinstance(data.get("channel"), dict) else {}
    name = (channel or {}).get("name") or activity.conversation.name
    if kind == "channel" and not name:
        name = f"{team_name} (General)" if team_name else None
    person = activity.from_.aadObjectId if activity.from_ and kind == "personal" else None
    return Reference(conversation_key(conversation_id), conversation_id,
                     activity.serviceUrl.rstrip("/"), tenant_of(activity), kind,
                     str(name) if name else None, team_id, person)


def member(activity: Activity) -> Member | None:
    """The person who sent the activity (people only: bots have no Entra object id)."""
    who = activity.from_
    if who is None or not who.aadObjectId or not activity.serviceUrl:
        return None
    return Member(who.aadObjectId, who.id, activity.serviceUrl.rstrip("/"), tenant_of(activity),
                  who.name, who.email or who.userPrincipalName)


def timezone_of(activity: Activity) -> str | None:
    """The sender's time zone: `localTimezone`, or the clientInfo entity's."""
    if activity.localTimezone:
        return activity.localTimezone
    for entity in activity.entities or []:
        if entity.get("type") == "clientInfo" and isinstance(entity.get("timezone"), str):
            return str(entity["timezone"])
    return None


def words(activity: Activity, quote: Quoted | None = None) -> str:
    """What someone wrote: in a 1:1 chat word for word, a mention as the @name its writer
    saw (as Slack's are kept); in a channel (a command) without the bot's @mention. Text
    Teams marks as HTML (`textFormat: xml`) is read as it shows. A message it quotes is not
    their words: it is left out, however Teams carried it (`quote`: what `quoted` read of
    it, when the caller has it already)."""
    text = QUOTE_MARK.sub("", activity.text or "")
    if kind_of(activity) != "personal":
        text = MENTION.sub("", text)
    elif activity.textFormat == "xml":  # the name as HTML, read with the rest
        text = MENTION.sub(lambda m: "@" + m.group(1).strip(), text)
    else:
        text = MENTION.sub(lambda m: "@" + html.unescape(m.group(1)).strip(), text)
    if activity.textFormat == "xml":
        text = read_html(text).words
    else:  # the quote stands once before the words, however many ways Teams named it
        text = next((cut for shown in (quote or quoted(activity)).shown
                     if (cut := _after(text, shown)) is not text), text)
    return text.strip()


@dataclass(frozen=True)
class Quoted:
    """What a reply quotes: the quoted message's id, if Teams names it, and the words the
    quote shows (its sender's name, then its text), each way Teams carried them."""

    message_id: str | None = None
    shown: tuple[str, ...] = ()


def quoted(activity: Activity) -> Quoted:
    """The message `activity` quotes (Teams' "Reply" in a chat); nothing when it quotes none."""
    # A reply quotes one message: the first of each way it can be carried is read, so
    # that a message made of quotes costs no more to read than any other.
    ids: list[str] = []
    shown: list[str] = []
    data = next((e.get("quotedReply") for e in activity.entities or []
                 if e.get("type") == "quotedReply"), None)
    if isinstance(data, dict):
        ids.append(str(data.get("messageId") or ""))
        shown.append(" ".join(str(data.get(k) or "") for k in ("senderName", "preview")))
    ids += QUOTE_MARK.findall(activity.text or "")[:1]
    page = next((str(a.get("content")) for a in activity.attachments or []
                 if isinstance(a, dict) and a.get("content")
                 and str(a.get("contentType") or "").startswith("text/html")), "")
    for html_text in (activity.text or "", page):
        for quote in read_html(html_text).quotes[:1]:
            ids.append(quote.message_id or "")
            shown.append(quote.shown)
    return Quoted(next((i for i in ids if 0 < len(i) <= ID_CHARS), None),
                  tuple(s for s in shown if s.strip()))


def _after(text: str, shown: str) -> str:
    """`text` less the quote's words at its start, where Teams ran them together before the
    reply's own (spaces aside); `text` itself when it does not start with them."""
    wanted = [c for c in shown if not c.isspace()]
    matched = 0
    for at, char in enumerate(text):
        if char.isspace():
            continue
        if char != wanted[matched]:
            return text
        matched += 1
        if matched == len(wanted):
            return text[at + 1:]
    return text


def files_in(activity: Activity) -> int:
    """How many files and pictures a message carries. Teams also attaches the message's own
    words as `text/html` (when formatted, or around a picture), which is not a file; nor is a
    card."""
    return sum(1 for a in activity.attachments or []
               if isinstance(a, dict) and not str(a.get("contentType") or "").startswith(
                   ("text/html", "application/vnd.microsoft.card.")))


def is_from_bot(activity: Activity) -> bool:
    """Sent by a bot: the Bot Connector gives bots ids that start 28: (people's, 29:)."""
    return activity.from_ is not None and activity.from_.id.startswith("28:")


def is_from_person(activity: Activity) -> bool:
    who = activity.from_
    return who is not None and bool(who.aadObjectId) and not is_from_bot(activity)


def incoming(activity: Activity, key: str) -> Incoming | None:
    """An answer, an edit or a deletion written in the 1:1 chat; None for anything else."""
    if kind_of(activity) != "personal" or not is_from_person(activity) or not activity.id:
        return None
    author = str(activity.from_.aadObjectId)  # type: ignore[union-attr]
    quote = quoted(activity)
    thread = quote.message_id  # the card or answer it replies to
    if activity.type == "message" and activity.value is None:
        text, files = words(activity, quote), files_in(activity)
        return Written(key, author, text, activity.id, thread, files) if text or files else None
    if activity.type == "messageUpdate":
        return Edited(key, author, activity.id, words(activity, quote), thread,
                      files_in(activity), restored=_restored(activity))
    if activity.type == "messageDelete":
        return Deleted(key, author, activity.id)
    return None


def _restored(activity: Activity) -> bool:
    """A message brought back after its deletion (Undo): an update Teams marks so."""
    return (activity.channelData or {}).get("eventType") == "undeleteMessage"


def event_id(activity: Activity) -> str:
    """The id the inbox keeps an event under: a redelivered activity has the same. An edit,
    a deletion and a message brought back keep the id of the message they change, so theirs
    names when they were sent (and an edit its text and the files it carries, if any): a
    message may be edited back to earlier words, or deleted, brought back and deleted
    again."""
    when = f"\0{activity.timestamp}" if activity.timestamp else ""
    if activity.type == "messageUpdate":
        files = files_in(activity)
        edited = words(activity) + (f"\0{files}" if files else "") + when
        digest = hashlib.sha256(edited.encode()).hexdigest()[:16]
        return f"edit:{activity.id}:{digest}"
    if activity.type == "messageDelete":
        if not when:
            return f"delete:{activity.id}"
        return f"delete:{activity.id}:{hashlib.sha256(when.encode()).hexdigest()[:16]}"
    return f"message:{activity.id}"


@dataclass(frozen=True)
class CardAction:
    """A card of ours submitted: what for (`verb`), and its data and inputs."""

    verb: str
    data: dict[str, Any]
    execute: bool
    """Action.Execute (an invoke answered with a card), else Action.Submit (a message)."""


def card_action(activity: Activity) -> CardAction | None:
    if activity.type == "invoke" and activity.name == CARD_ACTION:
        value = activity.value if isinstance(activity.value, dict) else {}
        action = value.get("action") if isinstance(value.get("action"), dict) else {}
        data = (action or {}).get("data")
        if isinstance(data, dict) and isinstance(data.get(OURS), str):
            return CardAction(str(data[OURS]), data, execute=True)
        return None
    if activity.type == "message" and isinstance(activity.value, dict) and isinstance(
            activity.value.get(OURS), str):
        return CardAction(str(activity.value[OURS]), activity.value, execute=False)
    return None


def bot_added(activity: Activity, bot_id: str | None) -> bool:
    """The app was just added to a team, a chat or someone's personal scope."""
    if activity.type == "installationUpdate":
        return activity.action in (None, "add", "add-upgrade")
    ours = {bot_id, activity.recipient.id if activity.recipient else None} - {None}
    return activity.type == "conversationUpdate" and any(
        m.id in ours for m in activity.membersAdded or [])
