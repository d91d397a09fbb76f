"""How fast Roundtable takes answers from Slack, beside a bare Bolt app that only acknowledges.

Usage: python bench/ingest.py [--rate 100] [--seconds 10] [--burst 1500] [--people 100]
                              [--rounds 3]

Both apps run as their own processes under waitress (8 threads) on this machine, against the
Slack stand-in of the tests (tests/slack_api_stub.py) in this process; Roundtable on a fresh
SQLite file. Roundtable runs as a production user would run it under load: `roundtable serve`
(which stores each answer before acknowledging it) and `roundtable worker` (which handles the
stored answers and confirms them); the bare app stays one process. A round of the seed pack is
started for `--people` participants through `/roundtable start`, then, in the same run:

1. burst, `roundtable serve` alone (before the worker starts, it handles what it stores
   itself): `--burst` events from 16 concurrent senders as fast as they go.
2. paced, with the worker: signed `message.im` answer events at `--rate` a second for
   `--seconds`; prints the 50th and 99th percentile acknowledgement time (HTTP response), and
   how long until every answer was stored.
3. bursts, with the worker, in `--rounds` pairs: `--burst` events from 16 concurrent senders
   to the bare app, then `--burst` more to Roundtable (a pair sees the same drift in this
   machine's speed, which moves bare figures by a third from one run to the next).

Bursts print events acknowledged a second (bare) and, for Roundtable, acknowledged a second
and answers stored a second (from the first send until the last answer is in the replies
table), and stored/s as a share of the bare app's acks/s in the same pair; the target is
judged on the median pair.

Targets on a 2-core machine with SQLite: p99 acknowledgement under 100 ms at 100 answers a
second, and answers stored a second at least 60% of the bare app's acknowledgements a second.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import http.client
import json
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SECRET = "bench-signing-secret"
FACILITATOR = "UFACILITATOR"
CHANNEL = "CBENCH"
SENDERS = 16
WORKER_NOTICED = 6.0
"""Seconds for `roundtable serve` to notice the worker (it asks every 5 s) and stop handling."""


def daytime_zone() -> str:
    """A fixed-offset zone where it is now mid-day, so quiet hours never hold the bench up."""
    now = datetime.now(UTC)
    for offset in range(-12, 15):
        name = f"Etc/GMT{'+' if offset <= 0 else '-'}{abs(offset)}"
        if 10 <= now.astimezone(ZoneInfo(name)).hour < 15:
            return name
    return "Etc/GMT"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sign(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), f"v0:{ts}:".encode() + body, hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


class Sender:
    """Signed POSTs to one app over per-thread keep-alive connections."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.local = threading.local()

    def post(self, body: bytes, content_type: str) -> tuple[int, float]:
        headers = {"Content-Type": content_type, **sign(body)}
        for attempt in range(2):
            conn = getattr(self.local, "conn", None)
            if conn is None:
                conn = self.local.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                                    timeout=30)
            started = time.perf_counter()
            try:
                conn.request("POST", "/slack/events", body=body, headers=headers)
                response = conn.getresponse()
                response.read()
                return response.status, time.perf_counter() - started
            except (ConnectionError, http.client.HTTPException):
                self.local.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def answer_event(n: int, people: list[str]) -> bytes:
    user = people[n % len(people)]
    ts = f"{1_900_000_000 + n}.000100"
    return json.dumps({
        "token": "t", "team_id": "TBENCH", "api_app_id": "ABENCH", "type": "event_callback",
        "event_id": f"EvBench{n:08d}", "event_time": int(time.time()),
        "authorizations": [{"team_id": "TBENCH", "user_id": "UROUNDTABLE", "is_bot": True}],
        "event": {"type": "message", "channel": "D" + user, "channel_type": "im", "user": user,
                  "text": f"Answer number {n}: protected time and clear purpose.", "ts": ts,
                  "event_ts": ts},
    }).encode()


def wait_until(check: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise SystemExit(f"timed out waiting for {what}")


def wait_healthy(port: int, path: str = "/healthz") -> None:
    def up() -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET" if path == "/healthz" else "POST", path)
            conn.getresponse().read()
            return True
        except OSError:
            return False

    wait_until(up, 30, f"the server on port {port}")


def paced(sender: Sender, events: list[bytes], rate: float) -> tuple[list[float], float]:
    """Send at `rate` a second (open loop): the acknowledgement time of each, and the seconds
    from the first send to the last acknowledgement."""
    times: list[float] = []
    lock = threading.Lock()

    def one(body: bytes) -> None:
        status, took = sender.post(body, "application/json")
        if status != 200:
            raise SystemExit(f"answer refused: HTTP {status}")
        with lock:
            times.append(took)

    start = time.perf_counter()
    with ThreadPoolExecutor(SENDERS * 2) as pool:
        for i, body in enumerate(events):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pool.submit(one, body)
    return times, time.perf_counter() - start


def burst(sender: Sender, events: list[bytes]) -> float:
    """Send as fast as SENDERS threads go; seconds until the last acknowledgement."""
    start = time.perf_counter()
    with ThreadPoolExecutor(SENDERS) as pool:
        statuses = list(pool.map(lambda b: sender.post(b, "application/json")[0], events))
    if set(statuses) != {200}:
        raise SystemExit(f"unexpected statuses {set(statuses)}")
    return time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


def bare_server(port: int) -> None:
    """A Bolt app that only acknowledges, under the same server."""
    import waitress
    from slack_bolt import App
    from slack_bolt.adapter.wsgi import SlackRequestHandler
    from slack_sdk import WebClient

    app = App(client=WebClient(token="xoxb-bench", base_url=os.environ["SLACK_API_URL"]),
              signing_secret=SECRET)

    @app.event("message")
    def ignore() -> None:
        return

    waitress.serve(SlackRequestHandler(app), host="127.0.0.1", port=port, threads=8,
                   _quiet=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rate", type=float, default=100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--burst", type=int, default=1500)
    parser.add_argument("--people", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3, help="pairs of bursts (bare, ours)")
    parser.add_argument("--bare-server", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        bare_server(args.bare_server)
        return

    from sqlalchemy import create_engine

    from storage.migrate import upgrade
    from tests.slack_api_stub import SlackStub

    stub = SlackStub().start()
    zone = daytime_zone()
    people = [f"UP{i:04d}" for i in range(args.people)]
    stub.add_user(FACILITATOR, "Facilitator", tz=zone)
    for user in people:
        stub.add_user(user, user, tz=zone)
    stub.add_channel(CHANNEL, people)
    folder = Path(tempfile.mkdtemp(prefix="roundtable-bench-"))
    db_file = folder / "bench.db"
    engine = create_engine(f"sqlite:///{db_file}")
    upgrade(engine)
    engine.dispose()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{db_file}", "SLACK_BOT_TOKEN": "xoxb-bench",
           "SLACK_SIGNING_SECRET": SECRET, "SLACK_API_URL": stub.base_url,
           "ROUNDTABLE_FACILITATORS": FACILITATOR, "PYTHONPATH": str(ROOT)}
    ours_port, bare_port = free_port(), free_port()
    log = open(folder / "servers.log", "w")  # noqa: SIM115 - closed at the end
    servers = [
        subprocess.Popen([sys.executable, "-m", "bot.cli", "serve"], cwd=folder,
                         env={**env, "PORT": str(ours_port)}, stdout=log, stderr=log),
        subprocess.Popen([sys.executable, str(Path(__file__)), "--bare-server", str(bare_port)],
                         env=env, stdout=log, stderr=log),
    ]
    try:
        wait_healthy(ours_port)
        wait_healthy(bare_port, "/slack/events")
        ours, bare = Sender(ours_port), Sender(bare_port)
        start = urlencode({"command": "/roundtable", "user_id": FACILITATOR,
                           "channel_id": CHANNEL, "team_id": "TBENCH",
                           "text": f"start sel-pharmacy-leadership to <#{CHANNEL}|bench>",
                           "response_url": stub.response_url("start")}).encode()
        ours.post(start, "application/x-www-form-urlencoded")
        db = sqlite3.connect(db_file, timeout=30)

        def count(sql: str) -> int:
            return int(db.execute(sql).fetchone()[0])

        wait_until(lambda: count("SELECT count(*) FROM deliveries WHERE state='sent'")
                   == len(people), 120, "the questions to go out")

        paced_n = int(args.rate * args.seconds)
        events = [answer_event(n, people)
                  for n in range(paced_n + (1 + args.rounds) * args.burst)]
        paced_events = events[args.burst:args.burst + paced_n]
        bare_ack, bare_paced = paced(bare, paced_events, args.rate)

        def stored_burst(sent_before: int) -> tuple[float, float]:
            sent_at = time.perf_counter()
            acked = burst(ours, events[sent_before:sent_before + args.burst])
            wait_until(lambda: count("SELECT count(*) FROM replies") >= sent_before + args.burst,
                       300, "the burst to be stored")
            return acked, time.perf_counter() - sent_at

        alone_ack_seconds, alone_seconds = stored_burst(0)
        servers.append(subprocess.Popen([sys.executable, "-m", "bot.cli", "worker"], cwd=folder,
                                        env=env, stdout=log, stderr=log))
        wait_until(lambda: count("SELECT count(*) FROM leases WHERE name LIKE "
                                 "'inbox-worker:%'") > 0, 30, "the worker to start")
        time.sleep(WORKER_NOTICED)
        sent_at = time.perf_counter()
        ours_ack, _ = paced(ours, paced_events, args.rate)
        wait_until(lambda: count("SELECT count(*) FROM replies") >= args.burst + paced_n, 120,
                   "the paced answers to be stored")
        paced_store = time.perf_counter() - sent_at
        # Bursts in pairs, bare then Roundtable: this machine's speed drifts from one second
        # to the next, and a pair sees the same drift.
        pairs: list[tuple[float, float, float]] = []
        for k in range(args.rounds):
            bare_seconds = burst(bare, events[args.burst + paced_n:][:args.burst])
            pairs.append((bare_seconds, *stored_burst(args.burst * (1 + k) + paced_n)))
        duplicates = count("SELECT count(*) - count(DISTINCT external_id) FROM replies")
        confirmed = sum(1 for call in stub.calls_to("chat.postMessage")
                        if call.params.get("channel", "").startswith("DUP"))
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(30)
        stub.stop()
        log.close()

    def ms(values: list[float], q: float) -> str:
        return f"{percentile(values, q) * 1000:6.1f} ms"

    bare_paced_rate, ours_paced_rate = paced_n / bare_paced, paced_n / paced_store
    print(f"paced: {paced_n} answer events offered at {args.rate:g}/s, SQLite, "
          f"{args.people} people")
    print(f"  bare Bolt                    ack p50 {ms(bare_ack, 50)}  p99 {ms(bare_ack, 99)}  "
          f"max {max(bare_ack) * 1000:6.1f} ms  {bare_paced_rate:6.1f} acknowledged/s")
    print(f"  Roundtable (serve + worker)  ack p50 {ms(ours_ack, 50)}  p99 {ms(ours_ack, 99)}  "
          f"max {max(ours_ack) * 1000:6.1f} ms  {ours_paced_rate:6.1f} answers stored/s "
          f"({ours_paced_rate / bare_paced_rate:.0%} of bare; mean ack "
          f"{statistics.mean(ours_ack) * 1000:.1f} ms)")
    alone_rate = args.burst / alone_seconds
    print(f"saturation: {args.burst} events from {SENDERS} concurrent senders, as fast as "
          f"they go; {args.rounds} pairs of bursts, bare then Roundtable (serve + worker)")
    shares = []
    for k, (bare_seconds, ours_ack_seconds, ours_seconds) in enumerate(pairs, start=1):
        bare_rate, ours_rate = args.burst / bare_seconds, args.burst / ours_seconds
        shares.append(ours_rate / bare_rate)
        print(f"  pair {k}: bare Bolt {bare_rate:7.1f} acknowledged/s; Roundtable "
              f"{args.burst / ours_ack_seconds:7.1f} acknowledged/s, {ours_rate:7.1f} answers "
              f"stored/s ({shares[-1]:.0%} of bare)")
    share = statistics.median(shares)
    print(f"  Roundtable, serve alone (before the worker): {alone_rate:7.1f} answers stored/s")
    print(f"  median share of bare: {share:.0%}")
    print(f"  duplicates stored: {duplicates}; confirmation messages posted: {confirmed}")
    p99_ok = percentile(ours_ack, 99) < 0.100
    kept_up = ours_paced_rate >= 0.6 * bare_paced_rate
    print(f"targets at {args.rate:g}/s: p99 ack < 100 ms: {'met' if p99_ok else 'NOT met'}; "
          f"answers stored/s >= 60% of bare: {'met' if kept_up else 'NOT met'}; "
          f"at saturation (median): {'met' if share >= 0.6 else 'NOT met'}")


if __name__ == "__main__":
    main()
