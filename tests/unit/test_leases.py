"""The one lease helper (mailcore/leases.py) on a real (SQLite) database: a lease is taken only when
free, renewed and given back only by its holder, taken over once it has run out; the claim of due
accounts gives each account to one scheduler; attempt kinds are counted apart."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from mailcore import errors, leases
from mailcore.attempts import count_attempt
from mailcore.models import Account, AttemptKind, ConnectionAttempt, SyncState, User, utcnow
from mailcore.sync.engine import claim_due

SHORT = timedelta(seconds=0.3)


def new_account(app, **values) -> int:
    with app.extensions["mail"].sessions() as db:
        user = User(email=f"lease{time.monotonic_ns()}@inkorg.test", name="Lisa Lund", password_hash="x")
        account = Account(user=user, address=user.email, imap_host="imap.inkorg.test", imap_port=993,
                          imap_ssl=True, imap_username=user.email, imap_password=b"sealed",
                          smtp_host="smtp.inkorg.test", smtp_port=465, smtp_ssl=True,
                          smtp_username=user.email, smtp_password=b"sealed", **values)
        db.add(account)
        db.commit()
        return account.id


def run(app, operation):
    with app.extensions["mail"].sessions() as db:
        result = operation(db)
        db.commit()
    return result


def row(app, account_id: int) -> Account:
    with app.extensions["mail"].sessions() as db:
        return db.get(Account, account_id)


def test_holders_are_named_host_pid_and_apart():
    first, second = leases.holder_name(), leases.holder_name()
    host, pid, _ = first.split(":")
    assert pid.isdigit() and host and first != second and len(first) <= 64


def test_a_lease_is_taken_once_renewed_by_its_holder_and_taken_over_after_it_ran_out(app):
    account_id = new_account(app)
    first, second = leases.RowLease(leases.WATCH, SHORT), leases.RowLease(leases.WATCH, SHORT)
    assert run(app, lambda db: first.take(db, account_id))
    assert not run(app, lambda db: second.take(db, account_id))  # held: the second holder waits
    assert run(app, lambda db: second.renew(db, Account.id == account_id)) == set()  # not its lease
    assert run(app, lambda db: first.renew(db, Account.id == account_id)) == {account_id}
    assert row(app, account_id).watch_owner == first.owner
    deadline = time.monotonic() + 5
    while not run(app, lambda db: second.take(db, account_id)):  # free once the lease has run out
        assert time.monotonic() < deadline, "the lease never ran out"
        time.sleep(0.05)
    assert time.monotonic() < deadline
    assert row(app, account_id).watch_owner == second.owner
    assert run(app, lambda db: first.renew(db, Account.id == account_id)) == set()  # taken over: lost
    run(app, lambda db: first.release(db, Account.id == account_id))  # gives back only its own
    assert row(app, account_id).watch_owner == second.owner
    run(app, lambda db: second.release(db, Account.id == account_id))
    assert row(app, account_id).watch_owner is None and row(app, account_id).watch_lease_until is None


def test_two_leases_of_one_row_are_apart(app):
    """The sync lease and the watch lease live in columns of their own: holding one takes nothing
    of the other."""
    account_id = new_account(app)
    assert run(app, lambda db: leases.RowLease(leases.SYNC, SHORT).take(db, account_id))
    assert run(app, lambda db: leases.RowLease(leases.WATCH, SHORT).take(db, account_id))


def test_a_claim_takes_only_free_rows_each_once(app):
    ids = [new_account(app, sync_state=SyncState.OK) for _ in range(3)]
    other = leases.RowLease(leases.WATCH, timedelta(minutes=5))
    assert run(app, lambda db: other.take(db, ids[0]))
    mine = leases.RowLease(leases.WATCH, timedelta(minutes=5))
    claimed = run(app, lambda db: mine.claim(db, 1000, Account.id.in_(ids)))
    assert sorted(claimed) == ids[1:]
    assert run(app, lambda db: leases.RowLease(leases.WATCH, SHORT).claim(db, 1000, Account.id.in_(ids))) == []


def test_due_accounts_are_claimed_once_and_never_one_waiting_for_sign_in(app):
    past = utcnow() - timedelta(minutes=1)
    due = new_account(app, next_sync_at=past, sync_state=SyncState.OK)
    never = new_account(app)  # never synced
    waiting = new_account(app, next_sync_at=past, sync_state=SyncState.SIGN_IN)
    later = new_account(app, next_sync_at=utcnow() + timedelta(minutes=5), sync_state=SyncState.OK)
    sessions = app.extensions["mail"].sessions
    first = set(claim_due(sessions))
    assert {due, never} <= first and not {waiting, later} & first
    assert not {due, never} & set(claim_due(sessions))  # the second scheduler finds them claimed
    assert row(app, due).next_sync_at.replace(tzinfo=None) > utcnow().replace(tzinfo=None)
    leases.make_due(sessions, due)  # a claim not sent on is given back
    assert due in claim_due(sessions)


def test_a_lease_without_an_owner_is_never_renewed_or_given_back(app):
    claim = leases.RowLease(leases.DUE, SHORT)
    with pytest.raises(TypeError):
        run(app, lambda db: claim.renew(db))
    with pytest.raises(TypeError):
        run(app, lambda db: claim.release(db))


def test_each_attempt_kind_counts_and_forgets_only_its_own(app):
    with app.extensions["mail"].sessions() as db:
        user = User(email=f"attempts{time.monotonic_ns()}@inkorg.test", name="Åsa Ek", password_hash="x")
        db.add(user)
        db.commit()
        user_id = user.id
        for _ in range(2):
            count_attempt(db, user_id, AttemptKind.VERIFICATION, 2, timedelta(hours=1))
        with pytest.raises(errors.RateLimited):
            count_attempt(db, user_id, AttemptKind.VERIFICATION, 2, timedelta(hours=1))
        db.execute(update(ConnectionAttempt).where(ConnectionAttempt.user_id == user_id)
                   .values(at=utcnow() - timedelta(minutes=10)))  # older than a short window
        db.commit()
        # a kind with a window of a minute forgets its old rows, and only its own
        count_attempt(db, user_id, AttemptKind.DISCOVERY, 6, timedelta(minutes=1))
        count_attempt(db, user_id, AttemptKind.LOGIN, 10, timedelta(minutes=1))
        kinds = dict(db.execute(select(ConnectionAttempt.kind, func.count()).where(
            ConnectionAttempt.user_id == user_id).group_by(ConnectionAttempt.kind)).all())
        assert kinds == {"verification": 2, "discovery": 1, "login": 1}  # the stored strings stay
        with pytest.raises(errors.RateLimited):  # still counted within their own hour
            count_attempt(db, user_id, AttemptKind.VERIFICATION, 2, timedelta(hours=1))
