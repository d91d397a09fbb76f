"""Errors the core raises; each message is fit to show the person who caused it."""

from __future__ import annotations


class RoundtableError(Exception):
    """A request the core refuses; nothing was changed."""


class NotFound(RoundtableError):
    pass


class RoundClosed(RoundtableError):
    pass


class InvalidAnswer(RoundtableError):
    pass
