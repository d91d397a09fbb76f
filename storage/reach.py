"""What a chat adapter keeps to reach a person, beside their participant row: for Teams, the
record of them from a roster or their own activities (name, email, time zone, Teams user id)
and the link from their 1:1 chat to their id. Forgetting someone deletes it and their data
shows it, whichever adapters the process doing so runs (a command line with no Teams set-up
forgets a Teams person all the same)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from storage.models import TeamsConversation, TeamsUser


def forget(session: Session, user_id: str) -> None:
    """Delete the record kept to reach `user_id`, and their chat's link to them. The chat's
    reference stays, nameless, so that the answer to forget-me, and to anything they write
    later, still reaches them. Entra object ids never equal another platform's ids, so
    nobody else's rows match."""
    session.execute(delete(TeamsUser).where(TeamsUser.aad_object_id == user_id))
    session.execute(update(TeamsConversation).where(TeamsConversation.aad_object_id == user_id)
                    .values(aad_object_id=None))


def held(session: Session, user_id: str) -> dict[str, Any] | None:
    """The record kept to reach `user_id` (None: none)."""
    row = session.get(TeamsUser, user_id)
    if row is None:
        return None
    return {"teams_user_id": row.user_id, "name": row.name, "email": row.email,
            "time_zone": row.timezone, "tenant": row.tenant_id, "service_url": row.service_url,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None}
