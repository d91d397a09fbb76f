"""The processes: `roundtable serve` (HTTP or a socket, for every platform set up), `roundtable
worker` and `roundtable scheduler`; how each is wired and stopped.

A serving process answers `GET /healthz` and each platform's endpoints on one port (waitress:
a threaded WSGI server that behaves the same on Linux and Windows and caps request size).
"""

from __future__ import annotations

import json
import logging
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any, Protocol

from bot.app.database import open_database
from bot.app.health import health
from bot.app.logs import configure as configure_logging
from bot.app.platforms import Platform, WsgiApp
from bot.app.roundtable import Roundtable, assemble
from bot.app.supervisor import Supervisor
from bot.config import Settings
from bot.core.errors import RoundtableError
from storage.database import Database

log = logging.getLogger(__name__)
HEALTH_PATH = "/healthz"
THREADS = 8
"""Request threads: each only checks, stores and acknowledges (or hands a command to its
platform's listeners), so a few keep up with any platform's rate."""
MAX_BODY = 256 * 1024
"""The largest request any platform sends us (a form of long answers) is well under this."""

class Served(Platform, Protocol):
    """A platform with its ways in: what a serving process needs of it."""

    def endpoints(self, app: Roundtable) -> Mapping[str, WsgiApp]:
        """The HTTP paths this platform's requests arrive on, and what answers them."""
        ...

    def socket(self, app: Roundtable) -> Callable[[], None] | None:
        """A connection the platform opens to us instead (Slack's Socket Mode): a call that
        runs until the process stops; None when the platform has none."""
        ...

    def check(self, *, socket: bool = False) -> None:
        """Make sure the platform answers and accepts our credentials (those of its socket
        too, with `socket`) before a process starts; a RoundtableError naming the setting to
        fix when it does not."""
        ...


PlatformsFor = Callable[[Settings, Database], Sequence[Served]]
"""The platforms set up in these settings (made by the command line, which knows them)."""
StartResponse = Callable[..., Any]


class Endpoints:
    """The WSGI application: /healthz, and each platform's paths."""

    def __init__(self, app: Roundtable, routes: Mapping[str, WsgiApp]) -> None:
        self.app, self.routes = app, dict(routes)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse
                 ) -> Iterable[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "")
        if path == HEALTH_PATH:
            if method not in ("GET", "HEAD"):
                return answer(start_response, 405, "use GET")
            report = health(self.app)
            return answer(start_response, 200 if report.ok else 503,
                          json.dumps(report.as_json()), "application/json")
        route = self.routes.get(path)
        if route is None:
            return answer(start_response, 404, "not found")
        return route(environ, start_response)


PHRASES = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found",
           405: "Method Not Allowed", 411: "Length Required", 413: "Payload Too Large",
           503: "Service Unavailable"}


def answer(start_response: StartResponse, status: int, text: str,
           content_type: str = "text/plain; charset=utf-8") -> list[bytes]:
    body = text.encode()
    start_response(f"{status} {PHRASES.get(status, '')}", [
        ("Content-Type", content_type), ("Content-Length", str(len(body)))])
    return [body]


def endpoints(app: Roundtable, platforms: Sequence[Served]) -> Endpoints:
    routes: dict[str, WsgiApp] = {}
    for platform in platforms:
        routes.update(platform.endpoints(app))
    return Endpoints(app, routes)


def serve(settings: Settings, platforms_for: PlatformsFor, *, socket: bool = False,
          scheduler: bool = True) -> None:
    """Run until stopped: HTTP on settings.port under waitress, or the platforms' sockets.

    With `scheduler`, this process also competes for the scheduler's lease."""
    configure_logging(settings.log_level, settings.log_format)
    database = open_database(settings)
    _stop_on_sigterm()
    served = platforms_for(settings, database)
    for platform in served:
        platform.check(socket=socket)
    app = assemble(settings, database, served)
    runners = [r for p in served if (r := p.socket(app)) is not None] if socket else []
    if socket and not runners:
        raise RoundtableError("no platform set up here can connect by socket")
    # Listening comes before starting: a port taken ends the process before it sends anything.
    server = None if socket else _listen(endpoints(app, served), settings.host, settings.port,
                                         "PORT", threads=THREADS,
                                         max_request_body_size=MAX_BODY)
    app.start(schedule=scheduler)
    supervisor = _supervisor(settings)
    try:
        if server is None:
            supervisor.ready(app)
            runners[0]()  # Slack's Socket Mode; one socket platform at a time for now
        else:
            server.print_listen("Serving on http://{}:{}")
            supervisor.ready(app)  # listening now
            server.run()
    finally:
        supervisor.stopping()
        app.stop()
        database.dispose()


def _supervisor(settings: Settings) -> Supervisor:
    every = settings.watchdog_usec
    return Supervisor(settings.notify_socket,
                      timedelta(microseconds=every) if every else None)


def run_worker(settings: Settings, platforms_for: PlatformsFor) -> None:
    """Handle the answers, edits and deletions that serving processes stored, and confirm
    them (`roundtable worker`); it also sends what is due, as every process does. While it
    runs, the serving processes only store and acknowledge; when it stops, they handle
    again."""
    _run_without_requests(settings, platforms_for, worker=True)


def run_scheduler(settings: Settings, platforms_for: PlatformsFor) -> None:
    """Only the schedule (digests, reminders, closing, the outbox): `roundtable scheduler`.
    Its inbox also handles any events a stopped server left stored."""
    _run_without_requests(settings, platforms_for, worker=False)


def _run_without_requests(settings: Settings, platforms_for: PlatformsFor, *, worker: bool
                          ) -> None:
    configure_logging(settings.log_level, settings.log_format)
    database = open_database(settings)
    _stop_on_sigterm()
    served = platforms_for(settings, database)
    for platform in served:
        platform.check()
    app = assemble(settings, database, served)
    health_server = (_HealthOnly(app, settings.host, settings.health_port)
                     if settings.health_port else None)
    app.start(worker=worker, schedule=not worker)
    supervisor = _supervisor(settings)
    # From here a SIGTERM, even one that lands while READY=1 is being said, ends in the
    # finally: STOPPING=1 said, the leases given up.
    try:
        if health_server is not None:
            health_server.start()  # answers only once there are loops to report on
        supervisor.ready(app)
        log.info("%s%s", "handling the inbox for the serving processes" if worker
                 else "running the schedule when this process holds its lease",
                 f"; GET /healthz on port {settings.health_port}" if settings.health_port else "")
        # Not one endless wait: a SIGTERM that lands on another thread only flags the main
        # thread, which acts on it (raising SystemExit) when it next wakes.
        while True:
            time.sleep(1.0)
    finally:
        supervisor.stopping()
        if health_server is not None:
            health_server.close()
        app.stop()
        database.dispose()


class _HealthOnly:
    """`GET /healthz` on `port` for a process that takes no requests (worker, scheduler), so
    its supervisor can watch it as it watches `serve`: the port taken when made, served from a
    thread of its own once started, closed from the main thread when the process stops."""

    def __init__(self, app: Roundtable, host: str, port: int) -> None:
        self._server = _listen(Endpoints(app, {}), host, port, "ROUNDTABLE_HEALTH_PORT",
                               threads=1)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, name="roundtable-health", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            self._server.run()
        except Exception:
            # Closing the socket under the loop's poll raises there; only a failure while
            # open is news (and goes to the log, as a JSON line where logs are JSON).
            if not self._closing.is_set():
                log.exception("GET /healthz stopped answering")

    def close(self) -> None:
        self._closing.set()
        self._server.close()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)


def _listen(wsgi: Any, host: str, port: int, setting: str, **options: Any) -> Any:
    """A waitress server bound to `host` (ROUNDTABLE_HOST) and `port`; an address or port
    that cannot be had is a RoundtableError naming the setting that chose it."""
    import errno
    import socket

    import waitress

    try:
        return waitress.create_server(wsgi, host=host, port=port, ident="roundtable",
                                      **options)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise RoundtableError(
                f"{setting}: port {port} is in use already: another process listens there "
                "(give each process on this machine a port of its own)") from None
        if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
            raise RoundtableError(
                f"ROUNDTABLE_HOST: cannot listen on {host} ({exc.strerror or exc}): give an "
                "address of this machine, 127.0.0.1 or 0.0.0.0") from None
        raise RoundtableError(f"{setting}: cannot listen on port {port} "
                              f"({exc.strerror or exc})") from None


def _stop_on_sigterm() -> None:
    """Turn SIGTERM into a clean exit, so the leases are given up for a successor."""
    def stop(_signum: int, _frame: object) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
