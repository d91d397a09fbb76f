"""How fast a round's questions reach everyone, beside the floor Slack's rate limit sets.

Usage: python bench/fanout.py [--people 2000] [--rate 50] [--database sqlite|URL]

A round of the seed pack is started for `--people` participants (one message a person: the
intro with the first question; later questions follow each person's answers). The outbox sender
(the same code `roundtable serve` runs, 8 deliveries in flight) sends it through the real Slack
gateway to the Slack stand-in of the tests, which refuses chat.postMessage beyond `--rate` a
second (429, Retry-After: 1), as Slack does. The stand-in runs in a process of its own, so
its CPU is not counted against the sender's. Prints the time taken beside the floor (messages /
rate), their ratio, how many messages were missing or repeated (judged from the stand-in's
record, by the metadata each message carries), how many posts Slack refused (429), and the
sending process's CPU time per message (all its threads: claims, records, HTTP).
Target (issue 4): within 1.15x of the floor, none missing, none repeated.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, select  # noqa: E402

from bot.core.people import Person  # noqa: E402
from bot.core.ports import utcnow  # noqa: E402
from bot.core.rounds import RoundRequest, start_round  # noqa: E402
from bot.core.sending import send_due  # noqa: E402
from bot.slack.gateway import SlackGateway, make_client  # noqa: E402
from storage.database import Database  # noqa: E402
from storage.db import make_engine, make_session_factory, transaction  # noqa: E402
from storage.migrate import upgrade  # noqa: E402
from storage.models import Delivery  # noqa: E402
from tests.helpers import seed_pack  # noqa: E402
from tests.outbox.fanout import PACK_MESSAGES, StubProcess, working_zone  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=2000)
    parser.add_argument("--rate", type=int, default=50, help="chat.postMessage a second")
    parser.add_argument("--database", default="sqlite", help="sqlite, or a PostgreSQL URL")
    args = parser.parse_args()

    url = args.database
    if url == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='roundtable-fanout-')}/fanout.db"
    engine = make_engine(url)
    upgrade(engine)
    database = Database(engine, make_session_factory(engine))
    stub = StubProcess(args.people, args.rate)
    base_url = stub.start()
    with transaction(database.sessions) as session:
        # people whose working day it is now (quiet hours would hold the messages back)
        everyone = [Person(u, timezone=working_zone()) for u in stub.users]
        start_round(session, RoundRequest(seed_pack(), everyone, platform="slack"), utcnow())
    gateway = SlackGateway(make_client("xoxb-bench", base_url), lambda r: "")

    load = os.getloadavg()[0]
    began, cpu = time.perf_counter(), time.process_time()
    while pending(database):
        if not send_due(database.sessions, {"slack": gateway}, utcnow, "UTC"):
            time.sleep(0.1)  # what is left waits for a Retry-After
    elapsed = time.perf_counter() - began
    cpu = time.process_time() - cpu
    report = stub.finish([seed_pack().prompts[0].id])

    messages = args.people * PACK_MESSAGES
    floor = messages / args.rate
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python "
          f"{platform.python_version()}, {engine.dialect.name}; load average "
          f"{load:.2f} before, {os.getloadavg()[0]:.2f} after")
    print(f"people: {args.people}, messages: {messages}, Slack limit: {args.rate}/s")
    print(f"time: {elapsed:.1f} s, floor: {floor:.1f} s, ratio: {elapsed / floor:.3f} "
          f"(target <= 1.15)")
    print(f"missing: {report.missing}, repeated: {report.repeated}, 429s answered: "
          f"{report.refused}")
    print(f"sender CPU: {cpu:.1f} s, {1000 * cpu / max(report.posted, 1):.2f} ms a message "
          f"({report.posted} posted); the stand-in's process: {report.cpu_seconds:.1f} s")


def pending(database: Database) -> int:
    with database.sessions() as session:
        return session.scalar(select(func.count()).select_from(Delivery)
                              .where(Delivery.state == "pending")) or 0


if __name__ == "__main__":
    main()
