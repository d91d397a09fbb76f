"""Acceptance 4 of issue 12: a language model that returns names, mentions, quotation marks,
links and invented claims gets none of it into any output; what it may write is labelled."""

from __future__ import annotations

import io
import json
import re
from typing import Any

import pytest
from docx import Document

from bot.config import ConfigError, load_settings
from bot.core.digest.model import DigestView
from bot.core.digest.render_csv import render_csv
from bot.core.digest.render_docx import render_docx
from bot.core.digest.render_html import render_html
from bot.core.digest.render_md import render_md
from bot.core.digest.render_text import render_text
from bot.core.digest.summariser import Endpoint, summarise
from bot.core.digest.synthesis import BY_MODEL
from bot.slack.digest_blocks import digest_messages
from bot.teams.digest_cards import digest_cards
from tests.digest.test_summariser import StandIn, chat, endpoint, offline

__all__ = ["endpoint"]  # the stand-in's fixture, used here too

HOSTILE = [
    {"title": "Dave Smith bullied me at Boots",
     "summary": "Dave Smith bullied staff at Boots, said the chief pharmacist."},
    {"title": "\"Covid vaccine\" said the chief",
     "summary": "“Every sector on one rota” said the chief pharmacist."},
    {"title": "<@U0123ABCD> covid vaccine <!channel>",
     "summary": "@channel covid vaccine hubs, ask <@U0123ABCD>."},
    {"title": "Covid vaccine https://evil.example/x",
     "summary": "See www.evil.example or [the site](https://evil.example/x) for covid."},
    {"title": "Pharmacists were bullied by managers",
     "summary": "Managers ignored pharmacists and the board lied about the rollout."},
]
LEAKS = ("Dave", "Smith", "Boots", "bullied", "U0123ABCD", "@channel", "<!channel", "evil.",
         "the chief", "lied", "ignored", "Managers", "Covid vaccine\\\"", "“Every sector")
GROUNDED = {"title": "Covid vaccine rollout across every sector",
            "summary": "Hospital and community pharmacists run covid vaccination sites across "
                       "every sector."}


def every_format(view: DigestView) -> dict[str, str]:
    word = Document(io.BytesIO(render_docx(view)))
    return {
        "slack": json.dumps([m.blocks for m in digest_messages(view, charts=False)]),
        "teams": json.dumps(digest_cards(view)),
        "markdown": render_md(view),
        "html": render_html(view, charts=False),
        "word": "\n".join(p.text for p in word.paragraphs),
        "csv": render_csv(view),
        "json": json.dumps(view.to_json(), ensure_ascii=False),
        "text": render_text(view),
    }


def answering(stand_in: StandIn, suggestion: dict[str, Any]) -> None:
    def reply(request: dict[str, Any]) -> tuple[int, bytes, float]:
        themes = re.findall(r"^Theme (\d+)", request["messages"][1]["content"], re.M)
        payload = {"themes": [{"n": int(n), **suggestion} for n in themes]}
        return 200, chat(json.dumps(payload)), 0.0
    stand_in.reply = reply


def test_it_lets_no_name_mention_quotation_link_or_invented_claim_reach_any_output(
        endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    before = offline()
    titles = [t.title for t in before.prompts[0].themes]
    for suggestion in HOSTILE:
        answering(stand_in, suggestion)
        after = summarise(before, Endpoint(url, "m", timeout=5))
        assert [t.title for t in after.prompts[0].themes] == titles, suggestion
        assert not any(t.written_by_model for t in after.prompts[0].themes)
        for name, out in every_format(after).items():
            leaked = [leak for leak in LEAKS if leak in out]
            assert leaked == [], (name, suggestion["title"], leaked)
            assert "language model" not in out, name


def test_it_labels_a_headline_the_model_wrote_in_every_format(
        endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    answering(stand_in, GROUNDED)
    after = summarise(offline(), Endpoint(url, "m", timeout=5))
    theme = after.prompts[0].themes[0]
    assert (theme.title, theme.summary) == (GROUNDED["title"], GROUNDED["summary"])
    assert theme.written_by_model
    for name, out in every_format(after).items():
        assert GROUNDED["title"] in out, name
        assert "written by a language model" in out or (
            name == "json" and '"written_by_model": true' in out), name
    assert BY_MODEL in every_format(after)["csv"]


@pytest.mark.parametrize("url", ["http://llm.example.org/v1", "ftp://127.0.0.1/v1",
                                 "http://10.0.0.5:11434/v1"])
def test_it_refuses_an_llm_url_that_is_not_https_unless_on_this_machine(
        url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUNDTABLE_LLM_URL", url)
    with pytest.raises(ConfigError) as refused:
        load_settings()
    message = str(refused.value)
    assert message.startswith("ROUNDTABLE_LLM_URL: must start with https://")
    assert "\n" not in message


@pytest.mark.parametrize("url", ["https://llm.example.org/v1", "http://127.0.0.1:11434/v1",
                                 "http://localhost:11434/v1", "http://[::1]:8080/v1"])
def test_it_takes_https_or_a_loopback_llm_url(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ROUNDTABLE_LLM_URL", url)
    assert load_settings().llm_url == url
