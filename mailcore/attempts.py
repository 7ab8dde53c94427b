"""Counting what a user may do only a few times in a while, across every web process.

Each attempt is a `ConnectionAttempt` row of one `AttemptKind`, kept for its kind's window: a
connection test of a password, a discovery of an address's settings, a verification link sent. A
kind counts and forgets only its own rows, so one kind's window never shortens another's.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from mailcore import errors
from mailcore.models import AttemptKind, ConnectionAttempt, utcnow


def count_attempt(db: Session, user_id: int, kind: AttemptKind, limit: int, window: timedelta) -> None:
    """Record one attempt of `kind` by the user, or raise RateLimited when `limit` of them were made
    within `window`; committed either way, so parallel requests count each other."""
    since = utcnow() - window
    db.execute(delete(ConnectionAttempt).where(ConnectionAttempt.kind == kind, ConnectionAttempt.at < since))
    made = db.scalar(select(func.count()).select_from(ConnectionAttempt).where(
        ConnectionAttempt.user_id == user_id, ConnectionAttempt.kind == kind, ConnectionAttempt.at >= since))
    if made >= limit:
        db.commit()
        raise errors.RateLimited()
    db.add(ConnectionAttempt(user_id=user_id, kind=kind))
    db.commit()
