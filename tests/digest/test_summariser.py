"""The optional summariser against a local stand-in of an OpenAI-compatible endpoint: it may
rename themes, never change a quote, and any failure leaves the offline digest as it was."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from bot.core.digest.model import AnswerView, DigestView
from bot.core.digest.summariser import Endpoint, summarise, summariser
from bot.core.digest.theme_views import Grouping, is_verbatim
from tests.digest.builders import view_of
from tests.helpers import SHUTDOWN_POLL

Reply = Callable[[dict[str, Any]], tuple[int, bytes, float]]
"""request JSON -> (status, body, seconds to wait before answering)."""


class StandIn:
    def __init__(self) -> None:
        self.reply: Reply = lambda _request: (500, b"", 0.0)
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []


@pytest.fixture
def endpoint() -> Iterator[tuple[StandIn, str]]:
    stand_in = StandIn()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stand_in.requests.append(body)
            stand_in.headers.append(dict(self.headers))
            status, payload, wait = stand_in.reply(body)
            time.sleep(wait)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(payload)
            except OSError:
                pass  # the client gave up (the timeout case)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, args=(SHUTDOWN_POLL,),
                              daemon=True)
    thread.start()
    yield stand_in, f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def one_theme(answers: Sequence[AnswerView], _question: str) -> Grouping:
    """All the answers in one theme: what these tests are about is the summariser, not where a
    borderline clustering of five answers falls (it can differ with a machine's floating-point
    arithmetic)."""
    ids = [a.reply_id for a in answers]
    return Grouping([("Covid vaccine rollout", "", ids, ids[:2])], [])


def offline() -> DigestView:
    return view_of(grouping=one_theme, answers={
        "done-well": [
            "Covid vaccine rollout: every sector on one rota.",
            "The covid vaccination sites run jointly by hospital and community pharmacists.",
            "Vaccine clinics during covid, mutual aid across sectors.",
            "Covid jabs in care homes with the PCN pharmacists.",
            "Covid vaccine hubs staffed by pharmacists from every sector.",
        ]
    })


def chat(content: str) -> bytes:
    message = {"role": "assistant", "content": content}
    return json.dumps({"choices": [{"message": message}]}).encode()


def test_it_takes_titles_and_summaries_and_only_verbatim_quotes(
    endpoint: tuple[StandIn, str],
) -> None:
    stand_in, url = endpoint
    before = offline()
    theme = before.prompts[0].themes[0]
    answers = {a.reply_id: a.text for a in before.prompts[0].answers}
    real = answers[theme.reply_ids[-1]]
    suggestion = {"themes": [{
        "n": 1,
        "title": "Covid vaccine rollout across every sector",
        "summary": "Hospital and community pharmacists run covid vaccination sites across "
                   "every sector.",
        "quotes": ["Vaccination was a triumph of teamwork!", real[5:40]],
    }]}
    fenced = "Here you are:\n```json\n" + json.dumps(suggestion) + "\n```"
    stand_in.reply = lambda _r: (200, chat(fenced), 0.0)
    after = summarise(before, Endpoint(url, "local-model", "secret-key", timeout=5))
    new = after.prompts[0].themes[0]
    assert new.title == "Covid vaccine rollout across every sector"
    assert new.summary.startswith("Hospital and community pharmacists")
    assert new.written_by_model
    assert [q.reply_id for q in new.quotes] == [theme.reply_ids[-1]]  # the invented one dropped
    for quote in new.quotes:
        assert is_verbatim(quote.text, answers[quote.reply_id])
    assert new.reply_ids == theme.reply_ids
    assert stand_in.requests[0]["model"] == "local-model"
    assert stand_in.headers[0]["Authorization"] == "Bearer secret-key"
    assert real in stand_in.requests[0]["messages"][1]["content"]
    assert after.prompts[0].answers[0].theme in (new.title, None)


@pytest.mark.parametrize(
    "garbage",
    [
        b"not json at all",
        chat("I think the themes are great."),
        chat('{"themes": "none"}'),
        json.dumps({"error": {"message": "model not found"}}).encode(),
    ],
)
def test_it_keeps_the_offline_digest_when_the_answer_is_garbage(
    endpoint: tuple[StandIn, str], garbage: bytes
) -> None:
    stand_in, url = endpoint
    stand_in.reply = lambda _r: (200, garbage, 0.0)
    before = offline()
    assert summarise(before, Endpoint(url, "m", timeout=5)) == before


def test_it_keeps_the_offline_digest_when_the_endpoint_errs_or_times_out(
    endpoint: tuple[StandIn, str],
) -> None:
    stand_in, url = endpoint
    before = offline()
    stand_in.reply = lambda _r: (503, b"{}", 0.0)
    assert summarise(before, Endpoint(url, "m", timeout=5)) == before
    stand_in.reply = lambda _r: (200, chat('{"themes": []}'), 3.0)
    assert summarise(before, Endpoint(url, "m", timeout=0.5)) == before


def test_it_keeps_the_offline_digest_when_nothing_listens() -> None:
    before = offline()
    assert summarise(before, Endpoint("http://127.0.0.1:9/v1", "m", timeout=2)) == before


def test_it_asks_once_for_the_same_themes_and_again_when_they_change(
    endpoint: tuple[StandIn, str],
) -> None:
    stand_in, url = endpoint
    titles = iter(["Covid vaccine rollout across every sector", "Every sector on one rota"])
    stand_in.reply = lambda _r: (200, chat(json.dumps(
        {"themes": [{"n": 1, "title": next(titles)}]})), 0.0)
    rewrite = summariser(Endpoint(url, "m", timeout=5))
    before = offline()
    first = rewrite(before).prompts[0].themes[0]
    assert first.title == "Covid vaccine rollout across every sector" and first.written_by_model
    assert rewrite(before).prompts[0].themes[0] == first
    assert len(stand_in.requests) == 1
    fewer = replace(before.prompts[0], themes=[replace(before.prompts[0].themes[0],
                                                       reply_ids=["R1", "R3"])])
    again = rewrite(replace(before, prompts=[fewer])).prompts[0].themes[0]
    assert again.title == "Every sector on one rota"
    assert len(stand_in.requests) == 2


def test_it_asks_again_after_a_failure(endpoint: tuple[StandIn, str]) -> None:
    stand_in, url = endpoint
    rewrite = summariser(Endpoint(url, "m", timeout=5))
    before = offline()
    stand_in.reply = lambda _r: (500, b"", 0.0)
    assert rewrite(before) == before
    stand_in.reply = lambda _r: (200, chat(json.dumps(
        {"themes": [{"n": 1, "title": "Covid vaccine rollout across every sector"}]})), 0.0)
    assert rewrite(before).prompts[0].themes[0].title == (
        "Covid vaccine rollout across every sector")
    assert len(stand_in.requests) == 2
