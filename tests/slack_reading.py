"""Slack messages as a reader sees them, for tests to read: mrkdwn and plain text as written,
rich text in mrkdwn's notation (*bold*, _italic_, `code`, a quote's lines after ">"), so a
test can say what is shown without spelling out Block Kit's JSON."""

from __future__ import annotations

import json
from typing import Any

MARKS = (("code", "`"), ("italic", "_"), ("bold", "*"))


def as_read(node: Any) -> str:
    """Every text of a message, call parameters or block tree, one paragraph a line."""
    if isinstance(node, str) and node.startswith("[{"):  # blocks as the Web API form sent them
        node = json.loads(node)
    if isinstance(node, list):
        return "\n".join(text for item in node if (text := as_read(item)))
    if not isinstance(node, dict):
        return ""
    kind = node.get("type")
    if kind == "rich_text":
        return "\n".join(_paragraph(p) for p in node.get("elements") or [])
    if kind in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
        return str(node["text"])
    return "\n".join(text for key, value in node.items()
                     if (key != "text" or isinstance(value, dict)) and (text := as_read(value)))


def _paragraph(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "rich_text_list":
        return "\n".join("• " + _paragraph(item) for item in element.get("elements") or [])
    shown = "".join(_styled(part) for part in element.get("elements") or [])
    if kind == "rich_text_quote":
        return "\n".join(">" + line for line in shown.split("\n"))
    return shown


def _styled(part: dict[str, Any]) -> str:
    text = str(part.get("text", ""))
    lead = text[:len(text) - len(text.lstrip("\n"))]
    text = text[len(lead):]
    for style, mark in MARKS:
        if (part.get("style") or {}).get(style):
            text = f"{mark}{text}{mark}"
    return lead + text
