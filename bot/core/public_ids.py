"""How outputs name an answer: an opaque id per round, never the conversation or the time.

A chat answer's own id is its conversation and message (`D0123:1712345678.000100`): the
conversation is a stable id of one person, and the message id says exactly when they wrote.
Digests, exports, JSON, CSV and HTML name answers instead by an HMAC of the answer's row id
under the round's own key (`Round.secret`, kept in the database, never shown): stable within a
round, so a digest's "new since last" still works, but unrelated across rounds and to anything
on the platform. Only named rounds keep the ids a facilitator gave in an imported CSV.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

PREFIX = "ans-"
IMPORTED = frozenset({"import", "cli"})
"""Sources whose external ids were chosen by the facilitator (a CSV's `id` column)."""
DERIVED = "row:"
"""How an id an import made for a row without one begins: nobody chose it, so it stays opaque."""


def opaque_id(secret: str, reply_id: int) -> str:
    """`ans-` and 16 characters of base32: 80 bits of an HMAC-SHA256 of the row id."""
    mac = hmac.new(secret.encode(), f"reply:{reply_id}".encode(), hashlib.sha256).digest()
    return PREFIX + base64.b32encode(mac[:10]).decode().lower()


def public_reply_id(secret: str, anonymity: str, reply_id: int, external_id: str | None,
                    source: str) -> str:
    """The id every output names this answer by."""
    if (anonymity == "named" and source in IMPORTED and external_id
            and not external_id.startswith(DERIVED)):
        return external_id
    return opaque_id(secret, reply_id)
