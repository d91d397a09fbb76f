"""A private, throwaway PostgreSQL server for one test: one that can really be stopped.

The shared server on 127.0.0.1:5432 must never be stopped, so a test that needs a database
outage gets a server of its own: `initdb` into a fresh directory (trust auth, no fsync), a
free port on 127.0.0.1, its unix socket in its own data directory. `stop()` is a real stop
(the postmaster exits; connections are refused), `start()` brings it back on the same port
with the same data (the port stays bound, not listening, in between, so no other test is handed
it), and `cleanup()` stops it and removes its files.

PostgreSQL refuses to run as root. Run as root, the server runs as the `postgres` OS user
(through `runuser`), in a directory that user owns. pytest's tmp_path is under a directory only
root may enter (mode 0700), so as root the cluster lives in a directory of its own in the
system temp dir (removed at cleanup; its server log is copied into tmp_path first). Not root,
it lives under tmp_path and runs as the current user.

The `private_postgres` fixture gives a started, migrated server, or skips the test, visibly,
when the server binaries are missing or initdb cannot run.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Literal

import psycopg
import pytest

from storage.db import make_engine
from storage.migrate import upgrade
from tests.helpers import free_port

BINDIR_ENV = "ROUNDTABLE_TEST_PG_BINDIR"
"""Where the server binaries are, when neither pg_config nor /usr/lib/postgresql finds them."""
SERVER_USER = "postgres"
"""The OS user the server runs as when the tests run as root."""
DATABASE = "postgres"
START_TIMEOUT = 60
SOCKET_PATH_MAX = 100
"""A unix socket path must fit in sockaddr_un (107 bytes on Linux), `.s.PGSQL.NNNNN` included."""
SETTINGS = {
    "listen_addresses": "127.0.0.1",
    "fsync": "off",  # written to the OS at commit, never flushed to disk: survives a server
    # crash (stop "immediate"), not a machine's. synchronous_commit stays on: with it off, an
    # immediate stop loses the last commits.
    "full_page_writes": "off",
    "shared_buffers": "16MB",
    "max_connections": "100",
    "logging_collector": "off",
}

StopMode = Literal["immediate", "fast"]


class PostgresUnavailable(Exception):
    """No private server can be made here (binaries missing, initdb fails, no OS user)."""


def find_bindir() -> Path:
    """The directory of `initdb`, `pg_ctl` and `postgres`: $ROUNDTABLE_TEST_PG_BINDIR,
    `pg_config --bindir`, the newest /usr/lib/postgresql/*/bin, or where `initdb` is on PATH."""
    candidates: list[Path] = []
    if os.environ.get(BINDIR_ENV):
        candidates.append(Path(os.environ[BINDIR_ENV]))
    if pg_config := shutil.which("pg_config"):
        with suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                   timeout=10, check=True).stdout.strip()
            if found:
                candidates.append(Path(found))

    def version(path: str) -> tuple[int, ...]:
        return tuple(int(n) for n in re.findall(r"\d+", Path(path).parent.name))

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version,
                                           reverse=True)]
    if initdb := shutil.which("initdb"):
        candidates.append(Path(initdb).resolve().parent)
    for bindir in candidates:
        if _has_binaries(bindir):
            return bindir
    looked = ", ".join(str(c) for c in candidates) or "nowhere (no pg_config, no initdb on PATH)"
    raise PostgresUnavailable(
        f"PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; looked in {looked}; "
        f"set {BINDIR_ENV} to their directory")


def _has_binaries(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in ("initdb", "pg_ctl", "postgres"))



class PrivatePostgres:
    """One throwaway PostgreSQL server. Make it with `create()`; `start()`, `stop()`, `url`."""

    def __init__(self, root: Path, bindir: Path, *, run_as: str | None, own_root: bool,
                 log_copy: Path | None = None) -> None:
        self.root, self.bindir, self.run_as = root, bindir, run_as
        self.data = root / "data"
        self.log = root / "server.log"
        self.port = free_port()
        self.running = False
        self._started_before = False
        self._own_root = own_root
        self._log_copy = log_copy
        self._placeholder: socket.socket | None = None

    # --- making one ---------------------------------------------------------------------------

    @classmethod
    def create(cls, tmp_path: Path, bindir: Path | None = None) -> PrivatePostgres:
        """Find the binaries and initdb a new cluster (not started); PostgresUnavailable when
        either cannot be done here."""
        bindir = bindir or find_bindir()
        if not _has_binaries(bindir):
            raise PostgresUnavailable(f"no initdb, pg_ctl and postgres in {bindir}")
        run_as: str | None = None
        if os.geteuid() == 0:
            run_as = SERVER_USER
            if shutil.which("runuser") is None:
                raise PostgresUnavailable("running as root and `runuser` is missing, so the "
                                          "server cannot be run as another user")
            try:
                import pwd

                owner = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise PostgresUnavailable(
                    f"running as root and there is no {SERVER_USER!r} OS user to run the "
                    "server as (PostgreSQL refuses to run as root)") from None
            # pytest's tmp dirs are root's alone (0700): the server's user could not enter
            root = Path(tempfile.mkdtemp(prefix="roundtable-pg-"))
            os.chown(root, owner.pw_uid, owner.pw_gid)
            cluster = cls(root, bindir, run_as=run_as, own_root=True,
                          log_copy=tmp_path / "postgres-server.log")
        else:
            root = tmp_path / "postgres"
            root.mkdir(parents=True, exist_ok=True)
            cluster = cls(root, bindir, run_as=None, own_root=False)
        try:
            cluster.initdb()
        except PostgresUnavailable:
            cluster.cleanup()
            raise
        return cluster

    def initdb(self) -> None:
        try:
            result = self._run(
                [str(self.bindir / "initdb"), "-D", str(self.data), "--auth=trust",
                 f"--username={SERVER_USER}", "--encoding=UTF8", "--locale=C", "--no-sync"],
                timeout=120)
        except (OSError, subprocess.SubprocessError) as exc:
            raise PostgresUnavailable(f"initdb could not run: {exc}") from None
        if result.returncode != 0:
            raise PostgresUnavailable(
                f"initdb failed (exit {result.returncode}): {_last_lines(result.stderr)}")

    # --- running it ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its database (psycopg 3, TCP on 127.0.0.1)."""
        return f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/{DATABASE}"

    @property
    def conninfo(self) -> str:
        """The same database as a libpq connection string (for psycopg.connect)."""
        return f"host=127.0.0.1 port={self.port} user={SERVER_USER} dbname={DATABASE}"

    def start(self) -> None:
        """Start the server and return once it accepts connections. The first start moves to
        another free port if its port was taken meanwhile; later ones keep the port."""
        if self.running:
            return
        self._release_port()
        for _ in range(5):
            offset = self.log.stat().st_size if self.log.exists() else 0
            result = self._pg_ctl("start", "-l", str(self.log), "-o", self._options())
            if result.returncode == 0:
                break
            taken = "Address already in use" in self._log_since(offset)
            if not taken or self._started_before:
                raise RuntimeError(f"PostgreSQL did not start on port {self.port}: "
                                   f"{_last_lines(result.stderr + self._log_since(offset))}")
            self.port = free_port()
        else:
            raise RuntimeError("PostgreSQL found no free port in 5 tries")
        self.running = self._started_before = True

    def stop(self, mode: StopMode = "immediate") -> None:
        """Stop the server and return once it has exited (connections are refused from then
        on). `immediate` is a crash as far as PostgreSQL knows (the next start recovers from
        its WAL); `fast` disconnects clients and shuts down cleanly."""
        if not self.running:
            return
        result = self._pg_ctl("stop", "-m", mode)
        if result.returncode != 0 and self.accepts_connections():
            raise RuntimeError(f"PostgreSQL did not stop: {_last_lines(result.stderr)}")
        self.running = False
        self._hold_port()

    @contextmanager
    def down(self, mode: StopMode = "immediate") -> Iterator[None]:
        """Stopped for the duration of the block, started again after it (also on error)."""
        self.stop(mode)
        try:
            yield
        finally:
            self.start()

    def accepts_connections(self, timeout: float = 2.0) -> bool:
        """Whether a client can connect and run a query now (what the bot would see)."""
        try:
            with psycopg.connect(self.conninfo, connect_timeout=max(1, int(timeout))) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def cleanup(self) -> None:
        """Stop the server if it runs and remove its data (the server log is kept in
        tmp_path)."""
        try:
            self.stop("immediate")
        finally:
            if self._log_copy is not None and self.log.exists():
                with suppress(OSError):
                    shutil.copyfile(self.log, self._log_copy)
            self._release_port()
            shutil.rmtree(self.root if self._own_root else self.data, ignore_errors=True)

    # --- helpers ------------------------------------------------------------------------------

    def _hold_port(self) -> None:
        """While stopped, keep the port bound (not listening: connecting is still refused), so
        no other test is handed it and the next start finds it free. Best effort."""
        placeholder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        placeholder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # past TIME_WAIT
        try:
            placeholder.bind(("127.0.0.1", self.port))
        except OSError:
            placeholder.close()
            return
        self._placeholder = placeholder

    def _release_port(self) -> None:
        if self._placeholder is not None:
            self._placeholder.close()
            self._placeholder = None

    def _options(self) -> str:
        settings = {**SETTINGS, "port": str(self.port),
                    "unix_socket_directories": self._socket_dir()}
        return " ".join(f"-c {shlex.quote(f'{k}={v}')}" for k, v in settings.items())

    def _socket_dir(self) -> str:
        """Its own data directory; none (TCP only) when that path is too long for a socket."""
        return str(self.data) if len(str(self.data)) <= SOCKET_PATH_MAX - 16 else ""

    def _pg_ctl(self, action: str, *args: str) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.bindir / "pg_ctl"), action, "-D", str(self.data), "-w",
                          "-t", str(START_TIMEOUT), *args], timeout=START_TIMEOUT + 30)

    def _run(self, command: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        if self.run_as is not None:
            command = ["runuser", "-u", self.run_as, "--", *command]
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              env=env, cwd=self.root, stdin=subprocess.DEVNULL)

    def _log_since(self, offset: int) -> str:
        try:
            with self.log.open(encoding="utf-8", errors="replace") as log:
                log.seek(offset)
                return log.read()
        except OSError:
            return ""


def _last_lines(text: str, n: int = 5) -> str:
    return " | ".join(text.strip().splitlines()[-n:])


@pytest.fixture
def private_postgres(tmp_path: Path) -> Iterator[PrivatePostgres]:
    """A PostgreSQL server of this test's own, started and migrated (`.url`); skipped, with
    the reason, where no server can be made."""
    try:
        cluster = PrivatePostgres.create(tmp_path)
    except PostgresUnavailable as exc:
        pytest.skip(f"private PostgreSQL server unavailable: {exc}")
    try:
        cluster.start()
        engine = make_engine(cluster.url)
        try:
            upgrade(engine)
        finally:
            engine.dispose()
        yield cluster
    finally:
        cluster.cleanup()
