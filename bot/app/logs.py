"""Logs hold no answer, no name, no token: whatever the level, libraries that would log
request bodies or SQL parameters are kept quieter than that.

At DEBUG (or INFO, for SQLAlchemy, whose engine logs every statement with its parameters once
the root logger allows INFO) these libraries write what passes through them: answers, names,
user and conversation ids, the bot token's requests. Roundtable's own messages name rounds,
deliveries and counts, never people. Setting these levels again after `keep_logs_clean` (a
logging configuration file) is the operator's choice, and puts people's words in the log.
"""

from __future__ import annotations

import logging

QUIETER = {
    "sqlalchemy": logging.WARNING,  # statements and parameters: answers, names, ids
    "slack_sdk": logging.INFO,  # request and response bodies at DEBUG
    "slack_bolt": logging.INFO,  # payloads at DEBUG
    "urllib3": logging.INFO,
    "websockets": logging.INFO,  # Socket Mode frames at DEBUG
    "waitress": logging.INFO,
}


def keep_logs_clean() -> None:
    """Raise the level of every logger above that could write people's words."""
    for name, level in QUIETER.items():
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET or logger.level < level:
            logger.setLevel(level)
