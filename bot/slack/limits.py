"""Block Kit's limits, checked before anything is sent (slack_sdk does not count blocks)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

MESSAGE_BLOCKS = 50
VIEW_BLOCKS = 100
SECTION_TEXT = 3000
RICH_TEXT = 3000
"""Our own cap on the text of one rich_text block (Slack documents none): a section's."""
MESSAGE_TEXT = 40_000
HEADER_TEXT = 150
BUTTON_TEXT = 75
BUTTON_VALUE = 2000
OPTION_TEXT = 75
OPTION_VALUE = 150
SELECT_OPTIONS = 100
CHECKBOX_OPTIONS = 10
CONTEXT_ELEMENTS = 10
VIEW_TITLE = 24
PRIVATE_METADATA = 3000
ID_LENGTH = 255


class LimitError(ValueError):
    """A message or view that Slack would refuse or cut."""


def message_problems(text: str | None, blocks: Sequence[Mapping[str, Any]] | None) -> list[str]:
    """Every way this message breaks Block Kit's limits (empty when it fits)."""
    problems: list[str] = []
    if not text:
        problems.append("a message needs `text` as well as blocks")
    elif len(text) > MESSAGE_TEXT:
        problems.append(f"text is {len(text)} characters (limit {MESSAGE_TEXT})")
    if blocks is not None and len(blocks) > MESSAGE_BLOCKS:
        problems.append(f"{len(blocks)} blocks in a message (limit {MESSAGE_BLOCKS})")
    problems += list(_block_problems(blocks or []))
    return problems


def view_problems(view: Mapping[str, Any]) -> list[str]:
    """Every way this modal or Home tab breaks Block Kit's limits."""
    blocks = view.get("blocks") or []
    problems = list(_block_problems(blocks))
    if len(blocks) > VIEW_BLOCKS:
        problems.append(f"{len(blocks)} blocks in a view (limit {VIEW_BLOCKS})")
    title = (view.get("title") or {}).get("text", "")
    if len(title) > VIEW_TITLE:
        problems.append(f"view title is {len(title)} characters (limit {VIEW_TITLE})")
    if len(view.get("private_metadata") or "") > PRIVATE_METADATA:
        problems.append("private_metadata over 3,000 characters")
    return problems


def check_message(text: str | None, blocks: Sequence[Mapping[str, Any]] | None) -> None:
    problems = message_problems(text, blocks)
    if problems:
        raise LimitError("; ".join(problems))


def check_view(view: Mapping[str, Any]) -> None:
    problems = view_problems(view)
    if problems:
        raise LimitError("; ".join(problems))


def _block_problems(blocks: Sequence[Mapping[str, Any]]) -> Iterator[str]:
    for block in blocks:
        kind = block.get("type")
        for key in ("block_id", "action_id"):
            if len(block.get(key) or "") > ID_LENGTH:
                yield f"{key} over {ID_LENGTH} characters"
        if kind == "section":
            if len((block.get("text") or {}).get("text", "")) > SECTION_TEXT:
                yield f"section text over {SECTION_TEXT} characters"
            for field in block.get("fields") or []:
                if len(field.get("text", "")) > 2000:
                    yield "section field over 2,000 characters"
        if kind == "rich_text" and _rich_text_length(block) > RICH_TEXT:
            yield f"rich text over {RICH_TEXT} characters"
        if kind == "header" and len(block["text"]["text"]) > HEADER_TEXT:
            yield f"header over {HEADER_TEXT} characters"
        if kind == "context" and len(block.get("elements") or []) > CONTEXT_ELEMENTS:
            yield f"context with over {CONTEXT_ELEMENTS} elements"
        elements = list(block.get("elements") or []) if kind != "rich_text" else []
        for name in ("accessory", "element"):
            if block.get(name):
                elements.append(block[name])
        for element in elements:
            yield from _element_problems(element)


def _element_problems(element: Mapping[str, Any]) -> Iterator[str]:
    kind = element.get("type")
    if kind == "button":
        if len(element["text"]["text"]) > BUTTON_TEXT:
            yield f"button text over {BUTTON_TEXT} characters"
        if len(element.get("value") or "") > BUTTON_VALUE:
            yield f"button value over {BUTTON_VALUE} characters"
    if kind in ("context", "mrkdwn", "plain_text") and len(element.get("text", "")) > SECTION_TEXT:
        yield f"text element over {SECTION_TEXT} characters"
    options = element.get("options") or []
    if kind in ("checkboxes", "radio_buttons") and len(options) > CHECKBOX_OPTIONS:
        yield f"{kind} with over {CHECKBOX_OPTIONS} options"
    if len(options) > SELECT_OPTIONS:
        yield f"select with over {SELECT_OPTIONS} options"
    for option in options:
        if len(option["text"]["text"]) > OPTION_TEXT:
            yield f"option text over {OPTION_TEXT} characters"
        if len(option.get("value", "")) > OPTION_VALUE:
            yield f"option value over {OPTION_VALUE} characters"


def _rich_text_length(node: Any) -> int:
    if isinstance(node, Mapping):
        own = len(node["text"]) if node.get("type") == "text" else 0
        return own + sum(_rich_text_length(child) for child in node.get("elements") or [])
    return 0
