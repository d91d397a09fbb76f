"""Slack's payloads, checked before anything acts on them, and translated into what the
application handles (bot.core.incoming).

A request whose signature is right may still be malformed (a field of the wrong type, a
form's metadata that is not ours): `problem` says so before Bolt sees it, and the endpoint
answers 400, which Slack does not retry. `translate` turns a direct-message event into an
answer, an edit or a deletion, or None for what concerns nobody here (bots, Slackbot,
channel joins); the files a message shares are counted, never kept. A message's text reaches
the core as its reader saw it (bot.slack.mrkdwn `to_plain`), never in Slack's encoding;
`mentioned` says which of its mentions came without the name the reader saw, for the adapter
to look up (bot.slack.mentions) and hand back as `names`.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, TypeVar
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
)

from bot.core.incoming import Deleted, Edited, Incoming, Written
from bot.slack.mrkdwn import Names, Unnamed, to_plain, unnamed
from storage.models import row_id

SLACKBOT = "USLACKBOT"
ANSWER_SUBTYPES = {None, "thread_broadcast", "file_share", "me_message"}
"""Message subtypes that are a person writing: plain, sent to the channel too, with a file,
and `/me`."""
OUR_FORMS = ("answer_submit",)
OUR_BUTTONS = ("answer_open", "question_skip")
QUOTE_BUTTONS = ("answer_dont_quote",)


SlackId = Annotated[str, StringConstraints(max_length=64)]
"""A user's, conversation's or workspace's id (Slack's are about eleven characters): bounded,
since the bot repeats ids in what it stores and in the buttons it posts."""
Timestamp = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,12}\.[0-9]{1,9}$")]
"""A message's id in its conversation, as Slack writes every one ("1700000000.123456")."""


class MessageFields(BaseModel):
    """The fields of a message event that the bot reads: each, when present, of its type."""

    model_config = ConfigDict(extra="allow")
    type: str | None = None
    subtype: str | None = None
    channel: SlackId | None = None
    channel_type: str | None = None
    user: SlackId | None = None
    text: str | None = None
    ts: Timestamp | None = None
    thread_ts: Timestamp | None = None
    deleted_ts: Timestamp | None = None
    event_ts: Timestamp | None = None
    bot_id: str | None = None
    tab: str | None = None
    hidden: bool | None = None
    files: list[Any] | None = None
    """What a `file_share` message shares (files, pictures): never kept, only counted."""
    message: MessageFields | None = None
    previous_message: MessageFields | list[Any] | None = None
    """A list (empty) in the tombstone Slack sends again when a thread empties."""


class User(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: SlackId


class Named(BaseModel):
    """A workspace, conversation or user as a payload names it by object (`{"id": …}`)."""

    model_config = ConfigDict(extra="allow")
    id: SlackId | None = None


def _web_address(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError("not a web address")
    _ = parts.port  # ValueError when it is no port number
    return value


class Envelope(BaseModel):
    """What Bolt reads of every payload, whatever its kind, before any listener is chosen
    (the workspace, user and conversation it concerns, where to answer): each, when present,
    of the shape Slack sends, since Bolt assumes it and fails on another."""

    model_config = ConfigDict(extra="allow")
    type: str | None = None
    team: SlackId | Named | None = None
    enterprise: SlackId | Named | None = None
    user: SlackId | Named | None = None
    channel: SlackId | Named | None = None
    container: dict[str, Any] | None = None
    message: dict[str, Any] | None = None
    view: dict[str, Any] | None = None
    authorizations: list[Named] | None = None
    response_url: Annotated[str, AfterValidator(_web_address)] | None = None
    response_urls: list[dict[str, Any]] | None = None


class Action(BaseModel):
    model_config = ConfigDict(extra="allow")
    action_id: str
    block_id: str | None = None


class Actions(BaseModel):
    """What Bolt reads of a button press to route it, and the listeners to answer it."""

    model_config = ConfigDict(extra="allow")
    user: User
    trigger_id: str
    actions: list[Action] = Field(min_length=1)


class View(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    callback_id: str
    state: dict[str, dict[str, Any]] | None = None


class ViewSubmission(BaseModel):
    """What Bolt reads of a form's submission to route it, and the listeners to answer it."""

    model_config = ConfigDict(extra="allow")
    user: User
    view: View


class SlashCommand(BaseModel):
    model_config = ConfigDict(extra="allow")
    command: str
    user_id: str


def _row(value: Any) -> int:
    found = row_id(value)
    if found is None:
        raise ValueError("not the id of a row")
    return found


RowId = Annotated[int, BeforeValidator(_row)]
"""The id of a row (a round, a digest) as our buttons and forms carry it: a whole number a
database here could hold (storage.models.row_id, as Teams reads its cards)."""
UNREADABLE = "that form could not be read; please open it again"
UNREADABLE_BUTTON = "that button could not be read; please ask again"


Key = Annotated[str, StringConstraints(max_length=200, pattern=r"^[^\x00-\x1f]*$")]
"""A question's, answer's or message's id as our buttons and forms carry it: text no
database refuses (PostgreSQL refuses a NUL in any query)."""


class Target(BaseModel):
    """What our buttons and forms carry: which question of which round."""

    round: RowId
    prompt: Key


class DraftTarget(BaseModel):
    """What a draft digest's Approve button carries: the round, and the draft."""

    model_config = ConfigDict(extra="allow")
    round: RowId
    digest: RowId


class DraftQuestion(DraftTarget):
    """What a draft's Edit buttons and edit form carry: one question of it too (and, the
    form, when its draft was built: bot.app.review_form.seen_in)."""

    prompt: Key = Field(max_length=100)


Draft = TypeVar("Draft", bound=DraftTarget)


class AnswerTarget(BaseModel):
    """What "don't quote me" carries: the answer's own id."""

    answer: Key


def problem(body: dict[str, Any]) -> str | None:
    """Why a signed payload cannot be acted on, or None."""
    kind = body.get("type")
    if _nul_outside_words(body, ()):
        return "a NUL character outside what a person wrote"
    try:
        Envelope.model_validate(body)
        if kind == "event_callback":
            event = body.get("event")
            if not isinstance(event, dict):
                return "event is not an object"
            MessageFields.model_validate(event)
        elif kind == "view_submission":
            view = body.get("view")
            if not isinstance(view, dict):
                return "view is not an object"
            ViewSubmission.model_validate(body)
            if view.get("callback_id") in OUR_FORMS:
                target(view.get("private_metadata"))
        elif kind == "block_actions":
            for action in Actions.model_validate(body).actions:
                if action.action_id in OUR_BUTTONS:
                    target(action.model_extra and action.model_extra.get("value"))
                if action.action_id in QUOTE_BUTTONS:
                    answer_target(action.model_extra and action.model_extra.get("value"))
        elif kind is None and "ssl_check" not in body:
            SlashCommand.model_validate(body)
    except (ValidationError, ValueError) as exc:
        return f"malformed {kind if isinstance(kind, str) else 'payload'}: " \
            f"{str(exc).splitlines()[0]}"
    return None


def _nul_outside_words(node: Any, path: tuple[str, ...]) -> bool:
    """Whether a NUL character stands anywhere but in a person's words: a message's text (in
    its blocks too; not a slash command's `text`, which names people and rounds) or what
    they typed in a form (`state.values.<block>.<action>.value`), where it is dropped when
    stored (storage.models.Words). Anywhere else it is in an id or a value of ours, which
    PostgreSQL would refuse in every query that names it."""
    if isinstance(node, str):
        words = (len(path) > 1 and path[-1] == "text") or (
            len(path) >= 5 and path[-5:-3] == ("state", "values") and path[-1] == "value")
        return "\x00" in node and not words
    if isinstance(node, dict):
        return any(_nul_outside_words(v, (*path, str(k))) for k, v in node.items())
    if isinstance(node, list):
        return any(_nul_outside_words(v, path) for v in node)
    return False


def target(value: Any) -> Target:
    """The round and question a button or form of ours names (ValueError when it does not)."""
    if not isinstance(value, str):
        raise ValueError("no target")
    return Target.model_validate(json.loads(value))


class DeletionTarget(BaseModel):
    """What the buttons of `delete`'s question carry: the round, and the question's id."""

    round: RowId
    asked: Key = Field(max_length=64)


def deletion_target(value: Any) -> tuple[int, str | None]:
    """The round (and the question's id) a Delete or Cancel button names; a Delete button of
    an earlier version carries the round alone (ValueError when it names neither)."""
    text = str(value or "")
    if text.isascii() and text.isdigit():
        round_id = row_id(int(text))
        if round_id is None:
            raise ValueError(UNREADABLE_BUTTON)
        return round_id, None
    try:
        found = DeletionTarget.model_validate_json(text)
    except ValidationError as exc:
        raise ValueError(UNREADABLE_BUTTON) from exc
    return found.round, found.asked


def draft_target(value: Any, kind: type[Draft], unreadable: str = UNREADABLE_BUTTON) -> Draft:
    """What a draft's button or edit form names (`kind`); ValueError saying `unreadable` when
    it names no round, draft or question."""
    try:
        return kind.model_validate_json(str(value))
    except ValidationError as exc:
        raise ValueError(unreadable) from exc


class Chosen(BaseModel):
    """An option a form's select or radio buttons send back: our value for it."""

    model_config = ConfigDict(extra="allow")
    value: str = Field(max_length=150)


class FormInput(BaseModel):
    """One input of a form as Slack sends it back (`view.state.values[block][action]`),
    each part, when present, of the type its element sends."""

    model_config = ConfigDict(extra="allow")
    selected_option: Chosen | None = None
    selected_options: list[Chosen] | None = None
    selected_conversation: str | None = None
    selected_users: list[str] | None = None
    value: str | None = None


FORM_INPUTS = TypeAdapter(dict[str, dict[str, FormInput]])


def form_inputs(values: Any) -> dict[str, dict[str, FormInput]]:
    """A submitted form's `state.values`; ValueError when an input is not what our forms
    send (a text for a list of people, a number for a channel)."""
    try:
        return FORM_INPUTS.validate_python(values or {})
    except ValidationError as exc:
        raise ValueError(UNREADABLE) from exc


def answer_target(value: Any) -> str:
    """The answer a "don't quote me" button names (ValueError when it does not)."""
    if not isinstance(value, str):
        raise ValueError("no answer")
    return AnswerTarget.model_validate(json.loads(value)).answer


def translate(event: dict[str, Any], names: Names | None = None) -> Incoming | None:
    """A message event in a direct conversation with the bot, as what the application handles
    (None when it concerns nobody here, or cannot be read); mentions with no label shown as
    `names` has them (bot.slack.mrkdwn.to_plain)."""
    try:
        fields = MessageFields.model_validate(event)
    except ValidationError:
        return None
    if fields.channel_type != "im" or not fields.channel or _from_bot(fields):
        return None
    channel = fields.channel
    previous = fields.previous_message if isinstance(fields.previous_message,
                                                     MessageFields) else None
    if fields.subtype == "message_changed":
        return _changed(channel, fields.message, previous, names)
    if fields.subtype == "message_deleted":
        if previous is None or not previous.user or not fields.deleted_ts:
            return None
        return Deleted(channel, previous.user, fields.deleted_ts)
    if fields.subtype in ANSWER_SUBTYPES and fields.user and fields.ts \
            and fields.user != SLACKBOT:
        thread = fields.thread_ts if fields.thread_ts != fields.ts else None
        return Written(channel, fields.user, to_plain(fields.text or "", names), fields.ts,
                       thread, files=len(fields.files or []))
    return None


def mentioned(event: dict[str, Any], incoming: Incoming | None) -> Unnamed:
    """The mentions without a label in the words `translate` read from this event into
    `incoming`: a new message's or an edit's (none when it read no words from it)."""
    if isinstance(incoming, Edited):
        return unnamed(str((event.get("message") or {}).get("text") or ""))
    if isinstance(incoming, Written):
        return unnamed(str(event.get("text") or ""))
    return Unnamed()


def _changed(channel: str, changed: MessageFields | None,
             previous: MessageFields | None, names: Names | None) -> Incoming | None:
    if changed is None or not changed.ts:
        return None
    if changed.subtype == "tombstone":
        # Deleting a message that has thread replies leaves a tombstone in its place
        # ("This message was deleted.", by Slackbot): the person deleted their message. When
        # its thread empties too, Slack sends the tombstone again with no previous message;
        # in a direct conversation only its person writes, so the answer's author stands.
        return Deleted(channel, previous.user if previous is not None else None, changed.ts)
    if _from_bot(changed) or not changed.user or changed.user == SLACKBOT:
        return None
    thread = changed.thread_ts if changed.thread_ts != changed.ts else None
    return Edited(channel, changed.user, changed.ts, to_plain(changed.text or "", names), thread,
                  files=len(changed.files or []))


def _from_bot(message: MessageFields) -> bool:
    extra = message.model_extra or {}
    return bool(message.bot_id or message.subtype == "bot_message" or extra.get("bot_profile"))
