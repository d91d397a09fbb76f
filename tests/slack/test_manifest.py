"""manifest.yml names every event, scope and command the code uses, and nothing it does not."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from bot.slack.listeners.events import SUBSCRIBED

ROOT = Path(__file__).resolve().parents[2]
SLACK_CODE = sorted((ROOT / "bot" / "slack").rglob("*.py"))

SCOPES_OF_METHOD = {
    "chat_postMessage": {"chat:write"},
    "chat_update": {"chat:write"},
    "chat_delete": {"chat:write"},  # forget-me: the bot's own confirmations
    "conversations_open": {"im:write"},
    "conversations_members": {"channels:read", "groups:read"},
    "conversations_info": {"channels:read", "groups:read"},  # a channel mentioned in an answer
    # recovery: questions in DMs (issue 4's outbox), digests in their channel and its thread
    "conversations_history": {"im:history", "channels:history", "groups:history"},
    "conversations_replies": {"im:history", "channels:history", "groups:history"},
    "usergroups_users_list": {"usergroups:read"},
    "usergroups_list": {"usergroups:read"},  # a user group mentioned in an answer
    "users_info": {"users:read"},
    "users_list": {"users:read"},
    "views_publish": set(),
    "views_open": set(),
    "views_update": set(),
    "files_upload_v2": {"files:write"},
    "files_delete": {"files:write"},  # my-data's file, taken down by forget-me and retention
    "auth_test": set(),
    "apps_connections_open": set(),  # the app-level token's scope (connections:write)
}
"""Each Web API method the code calls, and the bot scopes it needs (from Slack's method docs)."""
SCOPES_OF_EVENT = {"message.im": {"im:history"}, "app_home_opened": set()}


def _manifest() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "manifest.yml").read_text(encoding="utf-8"))


def _source() -> str:
    return "\n".join(path.read_text(encoding="utf-8") for path in SLACK_CODE)


def test_it_subscribes_to_exactly_the_events_it_listens_for() -> None:
    manifest = _manifest()
    listened = set(re.findall(r'@bolt\.event\("([a-z_]+)"[,)]', _source()))
    assert listened == {"message", "app_home_opened"}
    assert set(manifest["settings"]["event_subscriptions"]["bot_events"]) == set(SUBSCRIBED)
    # a `message` listener in DMs needs the message.im subscription, and nothing else
    assert {e.split(".")[0] for e in SUBSCRIBED} == listened


def test_it_asks_for_every_scope_the_code_needs_and_no_more() -> None:
    manifest = _manifest()
    source = _source()
    # `checking`: the gateway's client for recovery reads, which does not wait out 429s
    called = set(re.findall(r"(?:client|checking)\.([a-z]+_[A-Za-z_0-9]+)", source))
    unknown = called - set(SCOPES_OF_METHOD)
    assert not unknown, f"add these methods to SCOPES_OF_METHOD: {unknown}"
    needed = set().union(*(SCOPES_OF_METHOD[m] for m in called))
    needed |= set().union(*(SCOPES_OF_EVENT[e] for e in SUBSCRIBED))
    if re.search(r"@bolt\.command\(", source):
        needed.add("commands")
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == needed


def test_it_declares_the_slash_command_with_escaping_and_interactivity() -> None:
    manifest = _manifest()
    commands = manifest["features"]["slash_commands"]
    from bot.slack.listeners.commands import COMMAND

    assert re.findall(r"@bolt\.command\((\w+)\)", _source()) == ["COMMAND"]
    assert [c["command"] for c in commands] == [COMMAND]
    assert commands[0]["should_escape"] is True
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    home = manifest["features"]["app_home"]
    assert home["home_tab_enabled"] and home["messages_tab_enabled"]
    assert not home["messages_tab_read_only_enabled"]
    urls = {commands[0]["url"], manifest["settings"]["interactivity"]["request_url"],
            manifest["settings"]["event_subscriptions"]["request_url"]}
    assert len(urls) == 1 and urls.pop().endswith("/slack/events")
