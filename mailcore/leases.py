"""Leases in database rows: one holder at a time, across threads, processes and machines.

A lease is a pair of columns on a row: who holds it (`owner`, named by `holder_name`) and until
when (`until`). Taking one is a single UPDATE whose condition is "free" (nobody's, or run out), so
of two takers at once the database gives each row to one. A holder renews only rows still in its
name and gives back only its own; one that stops renewing (killed with -9) frees its rows when the
lease runs out. The leases of this app, each in its own columns:

- `SYNC`: one sync per account (the sync engine, renewed by a thread beside the sync, `KeptLease`);
- `WATCH`: one IDLE watcher per account (`mailcore.sync.watch`);
- `REFRESH`: one OAuth token refresh per grant (`mailcore.oauth.tokens`);
- `DUE`: the claim of an account whose periodic sync is due, so that two schedulers never send
  it twice; it has no owner column, the account's next sync time is the lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from mailcore.models import Account, OAuthGrant, utcnow

log = logging.getLogger(__name__)


def holder_name() -> str:
    """A lease holder's name, unique to it: `host:pid:random`, so an operator sees where it runs."""
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@dataclass(frozen=True)
class LeaseColumns:
    """Where a lease lives: the rows' key column, the `until` column and the `owner` column (None
    for a claim that no one gives back: it simply runs out)."""

    key: InstrumentedAttribute
    until: InstrumentedAttribute
    owner: InstrumentedAttribute | None = None

    def free(self, now: datetime) -> ColumnElement[bool]:
        vacant = [self.until.is_(None), self.until <= now]
        if self.owner is not None:
            vacant.append(self.owner.is_(None))
        return or_(*vacant)

    def held_by(self, owner: str) -> ColumnElement[bool]:
        if self.owner is None:
            raise TypeError("a lease without an owner column cannot be renewed or given back")
        return self.owner == owner


SYNC = LeaseColumns(Account.id, Account.sync_lease_until, Account.sync_owner)
WATCH = LeaseColumns(Account.id, Account.watch_lease_until, Account.watch_owner)
REFRESH = LeaseColumns(OAuthGrant.id, OAuthGrant.refresh_until, OAuthGrant.refresh_owner)
DUE = LeaseColumns(Account.id, Account.next_sync_at)


@dataclass
class RowLease:
    """Take, renew and give back one kind of lease on rows, in one holder's name. Each call runs in
    the session it is given and leaves the commit to the caller, who may do more in the same
    transaction."""

    columns: LeaseColumns
    length: timedelta
    owner: str = ""

    def __post_init__(self) -> None:
        self.owner = self.owner or holder_name()

    def _values(self, until: datetime) -> dict[str, Any]:
        values = {self.columns.until.key: until}
        if self.columns.owner is not None:
            values[self.columns.owner.key] = self.owner
        return values

    def take(self, db: Session, key: Any) -> bool:
        """The row `key`, if its lease is free."""
        now = utcnow()
        columns = self.columns
        taken = db.execute(update(columns.key.class_).where(columns.key == key, columns.free(now))
                           .values(**self._values(now + self.length))
                           .execution_options(synchronize_session=False)).rowcount
        return taken == 1

    def claim(self, db: Session, limit: int, *where: ColumnElement[bool],
              order_by: Iterable[Any] = ()) -> list[Any]:
        """Up to `limit` free rows that match `where`, first by `order_by`: their keys."""
        now = utcnow()
        columns = self.columns
        free = columns.free(now)
        some = (select(columns.key).where(free, *where).order_by(*order_by, columns.key).limit(limit)
                .scalar_subquery())
        # the condition again in the UPDATE: of two holders claiming at once, one gets each row
        return list(db.scalars(update(columns.key.class_).where(columns.key.in_(some), free, *where)
                               .values(**self._values(now + self.length)).returning(columns.key)
                               .execution_options(synchronize_session=False)))

    def renew(self, db: Session, *where: ColumnElement[bool]) -> set[Any]:
        """Renew this holder's rows that match `where`: the keys of those still in its name."""
        columns = self.columns
        return set(db.scalars(update(columns.key.class_).where(columns.held_by(self.owner), *where)
                              .values(**self._values(utcnow() + self.length)).returning(columns.key)
                              .execution_options(synchronize_session=False)))

    def release(self, db: Session, *where: ColumnElement[bool]) -> None:
        """Give back this holder's rows that match `where` (every one when none is given)."""
        columns = self.columns
        db.execute(update(columns.key.class_).where(columns.held_by(self.owner), *where)
                   .values({columns.owner.key: None, columns.until.key: None})
                   .execution_options(synchronize_session=False))


class KeptLease:
    """One row's lease, held for as long as some work runs, however long: a thread of its own
    renews it every quarter of its length. When it cannot (the row is in another holder's name, or
    the database does not answer until the lease is close to running out), the lease counts as
    `lost`, and the work should stop before another holder may start."""

    def __init__(self, sessions: sessionmaker[Session], columns: LeaseColumns, key: Any, length: timedelta):
        self.sessions, self.key = sessions, key
        self.row = RowLease(columns, length)
        self.owner = self.row.owner
        self.until = utcnow()
        self.lost = False
        self._stop = threading.Event()
        self._renewer: threading.Thread | None = None

    def acquire(self) -> bool:
        now = utcnow()
        with self.sessions() as db:
            taken = self.row.take(db, self.key)
            db.commit()
        if not taken:
            return False
        self.until = now + self.row.length
        self._renewer = threading.Thread(target=self._keep, name=f"lease-{self.key}", daemon=True)
        self._renewer.start()
        return True

    def _keep(self) -> None:
        every = self.row.length.total_seconds() / 4
        while not self._stop.wait(every):
            now = utcnow()
            try:
                with self.sessions() as db:
                    kept: bool | None = bool(self.row.renew(db, self.row.columns.key == self.key))
                    db.commit()
            except SQLAlchemyError:
                log.warning("could not renew the lease on row %s", self.key, exc_info=True)
                kept = None
            if kept:
                self.until = now + self.row.length
            elif kept is False or utcnow() + timedelta(seconds=every) >= self.until:
                self.lost = True  # taken over, or about to run out: stop before another holder may start
                return

    def release(self) -> None:
        self._stop.set()
        if self._renewer is not None:
            self._renewer.join()
        with self.sessions() as db:
            self.row.release(db, self.row.columns.key == self.key)
            db.commit()


def make_due(sessions: sessionmaker[Session], account_id: int) -> None:
    """Ask for the account's sync through the database: due now, for whichever scheduler claims it
    next (a claim not sent on is given back this way too)."""
    with sessions() as db:
        db.execute(update(Account).where(Account.id == account_id).values(next_sync_at=utcnow()))
        db.commit()

