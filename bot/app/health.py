"""Whether this process can do its job, for `GET /healthz` and `status`.

The one thing a serving process must never stop doing is taking answers: it can while the
inbox's database answers, or else while the spool can keep them. So /healthz answers 200
when answers can be taken and every loop the process needs is running, and 503 otherwise.
The body says what holds: the database, the inbox, the spool, each loop.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from bot.app.roundtable import Roundtable
from bot.core.said import Code, Said, said
from storage.db import database_answers
from storage.leases import sending_alive

NO_SENDER = said("No Roundtable service is running here: the questions go out when ",
                 Code("roundtable serve"), " starts.")
"""Said beside a round started from the command line when nothing would send its questions."""


@dataclass(frozen=True)
class Health:
    ok: bool
    checks: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, **self.checks}


def health(app: Roundtable) -> Health:
    database = database_answers(app.database.engine)
    inbox = database if app.database.inbox is None else database_answers(
        app.database.inbox_engine)
    spool_ok = app.spool is not None and _writable(app.spool.folder)
    spooled = app.spool.waiting() if app.spool is not None else 0
    loops = {loop.name: loop.state() for loop in app.loops}
    # a process whose loops have not started yet takes no answers and sends nothing
    loops_ok = bool(app.loops) and all(loop.healthy for loop in app.loops)
    takes_answers = inbox or spool_ok
    return Health(loops_ok and takes_answers, {
        "database": "ok" if database else "does not answer",
        "inbox": "ok" if inbox else "does not answer",
        "spool": {"events": spooled, "writable": spool_ok},
        "loops": loops,
    })


def unsent_warning(app: Roundtable) -> Said | None:
    """NO_SENDER when no live process sends the questions due (a round started now would
    wait for one), else None."""
    return None if sending_alive(app.database.sessions, app.clock()) else NO_SENDER


def _writable(folder: os.PathLike[str]) -> bool:
    path = os.fspath(folder)
    while not os.path.exists(path):  # created at the first spooled event
        parent = os.path.dirname(path)
        if parent == path:
            return False
        path = parent
    return os.access(path, os.W_OK)
