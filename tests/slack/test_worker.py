"""`roundtable worker`: the answers a server stores are handled and confirmed by the worker
process, and nothing is stored twice."""

from __future__ import annotations

import subprocess
from pathlib import Path

from sqlalchemy import select

from storage.models import Lease
from tests.helpers import ROUNDTABLE, cli_env
from tests.slack.conftest import MEMBERS, SECRET, Running
from tests.slack.test_round_loop import sent_to_everyone, start_round


def test_answers_stored_by_the_server_are_saved_and_confirmed_by_the_worker(
        running: Running, database_url: str, tmp_path: Path) -> None:
    start_round(running)
    sent_to_everyone(running)
    running.bot.inbox.handled_elsewhere.every = 0.05  # notice the worker at once
    env = cli_env(DATABASE_URL=database_url, SLACK_BOT_TOKEN="xoxb-test",
                  SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=running.stub.base_url)
    worker = subprocess.Popen([ROUNDTABLE, "worker"], env=env, cwd=tmp_path,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        running.wait_for(lambda: running.scalars(
            select(Lease).where(Lease.name.startswith("inbox-worker:"))), "the worker")
        user = MEMBERS[0]
        _, acked = running.slack.dm(user, "Protected time")
        assert acked.status == 200
        running.wait_for(lambda: running.replies(), "the answer")
        running.wait_for(lambda: [c for c in running.stub.posted("D" + user)
                                  if "Protected time" in str(c.params)], "its confirmation")
        assert [(r.prompt_id, r.text) for r in running.replies()] == [
            ("done-well", "Protected time")]
    finally:
        worker.terminate()
        _, errors = worker.communicate(timeout=60)
    assert "handling the inbox for the serving processes" in errors
    assert running.scalars(select(Lease).where(Lease.name.startswith("inbox-worker:"),
                                               Lease.holder.contains(str(worker.pid)))) \
        and all(lease.expires_at.year == 1970 for lease in running.scalars(
            select(Lease).where(Lease.name.startswith("inbox-worker:"))))
