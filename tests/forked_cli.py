"""`roundtable` runs for tests, each a process of its own, without paying the imports each time.

The console script calls `bot.cli.main` in a new interpreter: about a second of CPU goes to
importing the application before any command runs, and the suite runs the command a few
hundred times. Here one process per test worker imports the application once and then forks a
child per run: the child takes the run's folder, environment (whole, as given) and standard
streams, and calls `bot.cli.main` with the run's arguments; it then exits as the console
script would, waiting for its threads. A run sees what the console script's process sees, less
the imports; tests of the script itself (`roundtable --help`, the demo) start the real one.

The parent talks to the forking process over two pipes of its own (not its standard streams,
which each child takes over): one JSON line per run, answered by the child's pid and then its
exit status.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path
from typing import IO, Any

PRELOADED = ("bot.cli", "bot.app.roundtable", "bot.app.facilitation", "bot.app.review",
             "bot.app.personal_data", "bot.slack.app", "bot.teams.app",
             "bot.core.digest.build", "bot.core.digest.themes", "scipy.cluster.hierarchy",
             "storage.migrate", "matplotlib.pyplot")
"""What the forking process imports once (what most commands import; the theme engine's own
imports are deferred until a digest is built, which most runs here do). It also loads the
packaged sentence model and wordfreq's English counts once (a run given a model of its own
loads that one instead)."""


class ForkingCli:
    """The parent's end: starts the forking process on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        self._requests: IO[str] | None = None
        self._replies: IO[str] | None = None

    def run(self, args: list[str], *, cwd: Path | None, env: dict[str, str],
            input: str | None, timeout: float) -> subprocess.CompletedProcess[str]:
        with self._lock, tempfile.TemporaryDirectory(prefix="roundtable-run-") as folder:
            streams = {name: os.path.join(folder, name) for name in ("stdin", "stdout", "stderr")}
            Path(streams["stdin"]).write_text(input or "")
            request = {"args": args, "cwd": str(cwd or Path.cwd()), "env": env, **streams}
            code = self._ask(request, timeout, [Path(sys.executable).with_name("roundtable"),
                                                *args])
            return subprocess.CompletedProcess(
                args, code, Path(streams["stdout"]).read_text(errors="replace"),
                Path(streams["stderr"]).read_text(errors="replace"))

    def _ask(self, request: dict[str, Any], timeout: float, argv: list[Any]) -> int:
        requests, replies = self._start()
        requests.write(json.dumps(request) + "\n")
        requests.flush()
        pid = int(replies.readline())
        done = threading.Event()
        timer = threading.Timer(timeout, lambda: done.is_set() or _kill(pid))
        timer.start()
        try:
            line = replies.readline()
        finally:
            done.set()
            timer.cancel()
        if not line:
            self._process = None
            raise RuntimeError("the forking process for `roundtable` runs stopped")
        status = json.loads(line)
        if status.get("killed"):
            raise subprocess.TimeoutExpired([str(a) for a in argv], timeout)
        return int(status["code"])

    def _start(self) -> tuple[IO[str], IO[str]]:
        if self._process is not None and self._process.poll() is None:
            assert self._requests is not None and self._replies is not None
            return self._requests, self._replies
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        self._process = subprocess.Popen(
            [sys.executable, __file__, str(request_read), str(reply_write)],
            pass_fds=(request_read, reply_write), stdin=subprocess.DEVNULL)
        os.close(request_read)
        os.close(reply_write)
        self._requests = os.fdopen(request_write, "w")
        self._replies = os.fdopen(reply_read, "r")
        atexit.register(self._stop)
        return self._requests, self._replies

    def _stop(self) -> None:
        if self._requests is not None:
            self._requests.close()  # the forking process ends at the end of its requests
        if self._process is not None:
            self._process.wait(10)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, 9)
    except ProcessLookupError:
        pass


def _child(request: dict[str, Any]) -> None:
    """In the forked child: become the run, then run the command (never returns)."""
    os.setsid()  # like a process of its own: a signal to the parent's group does not reach it
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    for fd, name, flags in ((0, "stdin", os.O_RDONLY),
                            (1, "stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC),
                            (2, "stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)):
        opened = os.open(request[name], flags, 0o600)
        os.dup2(opened, fd)
        os.close(opened)
    sys.argv = [str(Path(sys.executable).with_name("roundtable")), *request["args"]]
    from bot.cli import main

    main()  # ends in SystemExit, which ends this process as the console script's ends
    sys.exit(0)


def _serve(requests_fd: int, replies_fd: int) -> None:
    import gc
    import importlib

    for name in PRELOADED:
        importlib.import_module(name)
    from wordfreq import zipf_frequency

    from bot.core.digest.embeddings import ModelUnavailable, default_encoder

    zipf_frequency("digest", "en")  # its import and counts were over a second of each digest
    try:
        default_encoder()
    except ModelUnavailable:
        pass  # the runs say so themselves
    requests = os.fdopen(requests_fd, "r")
    replies = os.fdopen(replies_fd, "w")
    for line in requests:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        # What the imports made is the child's too, copied on write. Frozen, the child's
        # collections skip it (gc.freeze's documented use before a fork): unfrozen, the
        # interpreter's end in each child walked the whole heap, copying every page of it,
        # and took half a second of CPU for a command that ran in a tenth of one.
        gc.freeze()
        pid = os.fork()
        if pid == 0:
            requests.close()
            replies.close()
            _child(request)
        replies.write(f"{pid}\n")
        replies.flush()
        _, status = os.waitpid(pid, 0)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == 9
        replies.write(json.dumps({"code": os.waitstatus_to_exitcode(status),
                                  "killed": killed}) + "\n")
        replies.flush()


if __name__ == "__main__":
    del sys.path[0]  # this folder: the application's modules come from where it is installed
    _serve(int(sys.argv[1]), int(sys.argv[2]))
