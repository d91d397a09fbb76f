"""HTTPS_PROXY: every call to Slack (the Web API, response_url answers, the start-up check)
and to the LLM endpoint goes through the outbound proxy it names (issue 15, acceptance 5).
The proxy is a small counting one on loopback (tests/proxy_stub.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest
from sqlalchemy import select

from storage.database import Database
from storage.models import Delivery
from tests.helpers import SHUTDOWN_POLL, run_cli
from tests.proxy_stub import CountingProxy
from tests.slack.conftest import CHANNEL, FACILITATOR, MEMBERS, PACK, run_bot
from tests.slack_api_stub import SlackStub
from tests.test_imports import write_csv

THEMED = [{"id": f"R{i:02d}", "prompt_id": "done-well", "participant": f"p{i}",
           "role": "community pharmacist", "text": text} for i, text in enumerate((
    "Backfill funding let community pharmacists attend the planning meetings",
    "Paid locum cover so owners could leave the counter for a morning",
    "Funded cover for the pharmacy while its manager joined the board",
    "The vaccination hubs where sectors pooled their pharmacists",
    "Mutual aid in the oxygen shortage, staff lent between trusts",
    "Sharing the workforce across hospitals during the vaccine rollout",
    "A named lead for care homes who knew every pharmacist by name",
    "Weekly huddles with the PCN that actually finished on time",
))]
"""Answers enough for themes (fewer than five to a question are listed, not themed, and no
AI service is asked about them)."""


@pytest.fixture
def proxy() -> Iterator[CountingProxy]:
    running = CountingProxy().start()
    yield running
    running.stop()


def through_proxy(stub: SlackStub, proxy: CountingProxy) -> None:
    """Every call the stand-in answered came through the proxy, and nothing else did."""
    answered = sorted(f"/api/{c.method}" if c.method != "response_url" else
                      c.answer["path"] for c in stub.calls)
    assert sorted(proxy.paths()) == answered


def test_every_slack_call_of_a_serving_bot_goes_through_the_proxy(
        database: Database, database_url: str, stub: SlackStub, proxy: CountingProxy,
        tmp_path: Path) -> None:
    with run_bot(database, database_url, stub, ROUNDTABLE_DATA_DIR=str(tmp_path),
                 HTTPS_PROXY=proxy.url) as running:
        running.slack.command(FACILITATOR, f"start {PACK} to <#{CHANNEL}|leaders>")
        running.wait_for(lambda: len(running.scalars(select(Delivery).where(
            Delivery.state == "sent"))) == len(MEMBERS), "the questions to go out")
        running.wait_for(lambda: stub.calls_to("response_url"), "the command's answer")
    assert {"auth.test", "conversations.members", "users.info", "conversations.open",
            "chat.postMessage", "response_url"} <= {c.method for c in stub.calls}
    through_proxy(stub, proxy)


def test_the_command_line_and_its_start_up_check_go_through_the_proxy(
        stub: SlackStub, proxy: CountingProxy, tmp_path: Path) -> None:
    assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
    slack = {"SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": "s",
             "SLACK_API_URL": stub.base_url, "HTTPS_PROXY": proxy.url}
    started = run_cli("round", "start", PACK, "--to", f"{CHANNEL},UAMARA", cwd=tmp_path,
                      env=slack)
    assert started.returncode == 0, started.stderr
    stub.fail_next("auth.test", status=200, error="invalid_auth")
    refused = run_cli("worker", cwd=tmp_path, env=slack)  # refused: it stops at the check
    assert "SLACK_BOT_TOKEN was refused by Slack" in refused.stderr
    assert "/api/auth.test" in proxy.paths()
    through_proxy(stub, proxy)


def test_the_llm_endpoint_is_called_through_the_proxy(
        proxy: CountingProxy, tmp_path: Path) -> None:
    asked: list[str] = []

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            self.rfile.read(int(self.headers["Content-Length"]))
            asked.append(self.path)
            body = json.dumps({"choices": [{"message": {"content": "{}"}}]}).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Endpoint)
    Thread(target=server.serve_forever, args=(SHUTDOWN_POLL,), daemon=True).start()
    try:
        assert run_cli("db", "upgrade", cwd=tmp_path).returncode == 0
        path = write_csv(tmp_path / "room.csv", THEMED)
        imported = run_cli("import-replies", str(path), "--pack", PACK, cwd=tmp_path)
        round_id = imported.stdout.strip().splitlines()[-1]
        digest = run_cli("digest", "--round", round_id, "--format", "json", cwd=tmp_path, env={
            "ROUNDTABLE_LLM_URL": f"http://127.0.0.1:{server.server_address[1]}/v1",
            "ROUNDTABLE_LLM_MODEL": "m", "HTTPS_PROXY": proxy.url})
        assert digest.returncode == 0, digest.stderr
    finally:
        server.shutdown()
        server.server_close()
    assert asked and proxy.paths() == asked
