"""How a process logs: to stderr (systemd's journal, Docker's log driver, a Windows service
wrapper's log file), as readable lines or as JSON lines for a log collector, at the level
ROUNDTABLE_LOG_LEVEL names.

Logs hold no answer, no name, no token: Roundtable's own messages name rounds, deliveries and
counts, never people, and whatever the level, libraries that would log request bodies or SQL
parameters are kept quieter than that (`keep_logs_clean`). At DEBUG (or INFO, for SQLAlchemy,
whose engine logs every statement with its parameters once the root logger allows INFO) they
would write answers, names, user and conversation ids. Setting these levels again afterwards
(a logging configuration file) is the operator's choice, and puts people's words in the log.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

TEXT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
QUIET_UNLESS_DEBUG = ("alembic", "apscheduler.executors")
"""Loggers whose INFO lines say nothing an operator acts on (a migration check at every start,
each scheduled run); they speak at DEBUG."""


class JsonLines(logging.Formatter):
    """One JSON object a line: time (UTC, ISO 8601), level, logger, thread, message, and the
    traceback as one string when there is one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(
                timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "thread": record.threadName,
            "message": record.getMessage(),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def configure(level: str = "INFO", form: str = "text") -> None:
    """Send every log record of the process to stderr, in `form` ("text" or "json"),
    libraries' warnings (Python's `warnings`) among them."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonLines() if form == "json" else logging.Formatter(TEXT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.captureWarnings(True)  # else printed as plain text, between JSON lines
    for name in QUIET_UNLESS_DEBUG:
        logging.getLogger(name).setLevel(logging.DEBUG if level == "DEBUG" else logging.WARNING)
    keep_logs_clean()


QUIETER = {
    "sqlalchemy": logging.WARNING,  # statements and parameters: answers, names, ids
    "slack_sdk": logging.INFO,  # request and response bodies at DEBUG
    "slack_bolt": logging.INFO,  # payloads at DEBUG
    "urllib3": logging.INFO,
    "websockets": logging.INFO,  # Socket Mode frames at DEBUG
    "waitress": logging.INFO,
    "microsoft_teams": logging.INFO,  # each activity whole (words, names, ids) at DEBUG
    "httpcore": logging.INFO,  # response headers at DEBUG
    "httpx": logging.WARNING,  # each request's URL (a Teams chat's id) at INFO
}


def keep_logs_clean() -> None:
    """Raise the level of every logger above that could write people's words."""
    for name, level in QUIETER.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)
