"""The sync lease on a real (SQLite) database: kept however long a sync runs, free soon after its
holder stops renewing it, and never two holders at once."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from mailcore.models import Account, User
from mailcore.sync.engine import LeaseLost, _Lease

SHORT = timedelta(seconds=0.4)  # renewed every 0.1 s


@pytest.fixture
def account_id(app):
    with app.extensions["mail"].sessions() as db:
        user = User(email=f"lease{time.monotonic_ns()}@inkorg.test", name="Lasse Lind", password_hash="x")
        account = Account(user=user, address=user.email, imap_host="imap.inkorg.test", imap_port=993,
                          imap_ssl=True, imap_username=user.email, imap_password=b"sealed",
                          smtp_host="smtp.inkorg.test", smtp_port=465, smtp_ssl=True,
                          smtp_username=user.email, smtp_password=b"sealed")
        db.add(account)
        db.commit()
        return account.id


def test_a_lease_is_kept_while_its_sync_runs_longer_than_the_lease(app, account_id):
    sessions = app.extensions["mail"].sessions
    first = _Lease(sessions, account_id, SHORT)
    assert first.acquire()
    try:
        time.sleep(SHORT.total_seconds() * 3)  # one folder taking three times the lease
        first.check()
        assert not _Lease(sessions, account_id, SHORT).acquire()
    finally:
        first.release()
    second = _Lease(sessions, account_id, SHORT)
    assert second.acquire()
    second.release()


def test_a_holder_that_stops_renewing_frees_the_account_within_the_lease(app, account_id):
    """As a worker killed with -9: its renewals stop, and the lease runs out after its length."""
    sessions = app.extensions["mail"].sessions
    dead = _Lease(sessions, account_id, SHORT)
    assert dead.acquire()
    dead._stop.set()  # what kill -9 does to its renewals
    dead._renewer.join()
    assert not _Lease(sessions, account_id, SHORT).acquire()
    time.sleep(SHORT.total_seconds() + 0.1)
    taker = _Lease(sessions, account_id, SHORT)
    assert taker.acquire()
    taker.release()


def test_a_lease_taken_over_stops_its_sync(app, account_id):
    sessions = app.extensions["mail"].sessions
    lease = _Lease(sessions, account_id, SHORT)
    assert lease.acquire()
    with sessions() as db:
        db.execute(update(Account).where(Account.id == account_id).values(sync_owner="elsewhere:1:x"))
        db.commit()
    time.sleep(SHORT.total_seconds() / 2)  # the next renewal finds another owner
    with pytest.raises(LeaseLost):
        lease.check()
    lease.release()
    with sessions() as db:  # the release takes only its own lease
        assert db.get(Account, account_id).sync_owner == "elsewhere:1:x"
