"""Slack messages as a reader sees them, for tests to read: mrkdwn and plain text as written,
rich text in mrkdwn's notation (*bold*, _italic_, `code`, a quote's lines after ">"), so a
test can say what is shown without spelling out Block Kit's JSON. Mentions, channel links and
links read as Slack shows them: @name, #channel, @here, a link's label."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tests.slack_api_stub import SlackStub

MARKS = (("code", "`"), ("italic", "_"), ("bold", "*"))
MRKDWN_REFERENCE = re.compile(r"<([^<>|]+)(?:\|([^<>]*))?>")
"""mrkdwn's <@U…>, <#C…|name>, <!here>, <!subteam^S…>, <https://…|label>."""


def as_read(node: Any, workspace: SlackStub | None = None) -> str:
    """Every text of a message, call parameters or block tree, one paragraph a line; people,
    channels and user groups named as `workspace` (the stand-in) knows them, else by id."""
    if isinstance(node, str) and node.startswith("[{"):  # blocks as the Web API form sent them
        node = json.loads(node)
    if isinstance(node, list):
        return "\n".join(text for item in node if (text := as_read(item, workspace)))
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "rich_text":
        return "\n".join(_paragraph(p, workspace) for p in node.get("elements") or [])
    if kind == "mrkdwn" and isinstance(node.get("text"), str):
        return _mrkdwn(str(node["text"]), workspace)
    if kind == "plain_text" and isinstance(node.get("text"), str):
        return str(node["text"])
    return "\n".join(text for key, value in node.items()
                     if (key != "text" or isinstance(value, dict))
                     and (text := as_read(value, workspace)))


def _paragraph(element: dict[str, Any], workspace: SlackStub | None) -> str:
    kind = element.get("type")
    if kind == "rich_text_list":
        return "\n".join("• " + _paragraph(item, workspace)
                         for item in element.get("elements") or [])
    shown = "".join(_styled(part, workspace) for part in element.get("elements") or [])
    if kind == "rich_text_quote":
        return "\n".join(">" + line for line in shown.split("\n"))
    return shown


def _styled(part: dict[str, Any], workspace: SlackStub | None) -> str:
    text = _part_text(part, workspace)
    lead = text[:len(text) - len(text.lstrip("\n"))]
    text = text[len(lead):]
    for style, mark in MARKS:
        if (part.get("style") or {}).get(style):
            text = f"{mark}{text}{mark}"
    return lead + text


def _part_text(part: dict[str, Any], workspace: SlackStub | None) -> str:
    """What a rich text element shows: its text, or the name Slack puts in a mention's place."""
    kind = part.get("type")
    if kind == "user":
        return "@" + _user(str(part.get("user_id")), workspace)
    if kind == "channel":
        return "#" + _channel(str(part.get("channel_id")), workspace)
    if kind == "usergroup":
        return "@" + _group(str(part.get("usergroup_id")), workspace)
    if kind == "broadcast":
        return "@" + str(part.get("range"))
    if kind == "link":
        return str(part.get("text") or part.get("url", ""))
    if kind == "emoji":
        return f":{part.get('name')}:"
    if kind == "date":
        return str(part.get("fallback", ""))
    return str(part.get("text", ""))


def _mrkdwn(text: str, workspace: SlackStub | None) -> str:
    """mrkdwn as written, but for its mentions and links, which read as Slack shows them."""
    def shown(match: re.Match[str]) -> str:
        target, label = match.group(1), match.group(2)
        if target.startswith("@"):
            return "@" + _user(target[1:], workspace)
        if target.startswith("#"):
            return "#" + (_channel(target[1:], workspace) if workspace or not label else label)
        if target.startswith("!subteam^"):
            group = target.removeprefix("!subteam^")
            return (label if label and not workspace else "@" + _group(group, workspace))
        if target.startswith("!date^"):
            return label or ""
        if target.startswith("!"):
            return "@" + target[1:]
        return label or target
    return MRKDWN_REFERENCE.sub(shown, text)


def _user(user_id: str, workspace: SlackStub | None) -> str:
    user = workspace.users.get(user_id) if workspace else None
    if user is None:
        return user_id
    return str(user["profile"]["display_name"] or user["real_name"])


def _channel(channel_id: str, workspace: SlackStub | None) -> str:
    if workspace is None:
        return channel_id
    return workspace.channel_names.get(channel_id, channel_id.lower())


def _group(group_id: str, workspace: SlackStub | None) -> str:
    return workspace.handles.get(group_id, group_id) if workspace else group_id
