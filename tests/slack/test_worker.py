"""`roundtable worker`: the answers a server stores are handled and confirmed by the worker
process, and nothing is stored twice."""

from __future__ import annotations

import ctypes
import platform
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import Lease
from tests.helpers import ROUNDTABLE, cli_env
from tests.slack.conftest import MEMBERS, SECRET, Running
from tests.slack.test_round_loop import sent_to_everyone, start_round

# On both databases: how each locks and fails is tested here (two processes sharing the database).
pytestmark = pytest.mark.each_database


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
        terminate_through_another_thread(worker)
        try:
            _, errors = worker.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            worker.kill()  # no orphan left polling a database that is about to go
            raise
    assert "handling the inbox for the serving processes" in errors
    # it gave its leases up (deleted: a process's own leases are not left behind)
    assert running.scalars(select(Lease).where(Lease.holder.contains(f":{worker.pid}:"))) == []


TGKILL = {"x86_64": 234, "aarch64": 131}.get(platform.machine())
"""The tgkill system call's number, to send a signal to one thread of a process (Linux)."""


def terminate_through_another_thread(process: subprocess.Popen[str]) -> None:
    """SIGTERM as the kernel may deliver it: to a thread other than the main one. The main
    thread must still act on it (it once waited forever and never did). Elsewhere than Linux
    on these machines, a plain SIGTERM."""
    tasks = Path(f"/proc/{process.pid}/task")
    others = [int(t.name) for t in tasks.iterdir() if int(t.name) != process.pid] \
        if TGKILL is not None and tasks.is_dir() else []
    if not others:
        process.terminate()
        return
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.syscall(TGKILL, process.pid, others[0], 15) != 0:
        raise OSError(ctypes.get_errno(), "tgkill failed")
