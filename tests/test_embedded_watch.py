"""The one IDLE watcher, run by the embedded runner in a thread of the web process, against the real
Dovecot: it takes the account's watch lease, a change made by another IMAP client shows within
seconds, and stopping gives the lease back."""

from __future__ import annotations

import time

from mailcore.models import Account
from mailcore.sync.jobs import SyncJob, ThreadRunner

from .helpers import connect_account, on_server, stored


def eventually(check, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def account(app, account_id: int) -> Account:
    with app.extensions["mail"].sessions() as db:
        return db.get(Account, account_id)


def test_the_embedded_runner_sees_another_clients_change_through_its_watcher(app, lab, mailbox):
    account_id = connect_account(app, lab, mailbox)
    mail = app.extensions["mail"]
    mail.run_job(SyncJob(account_id))
    synced_before = account(app, account_id).last_sync_at
    unread = [uid for uid, (seen, _flagged, _subject) in stored(app, account_id).items() if not seen]
    assert unread, "the mailbox has unread messages to mark"
    runner = ThreadRunner(mail, workers=1, tick=0.2).start()
    try:
        assert eventually(lambda: account_id in runner.watcher.watched, 15), "the account was never watched"
        assert account(app, account_id).watch_owner == runner.watcher.owner  # the watch lease, as `sync watch`
        # a newly watched account is synced once (what came while nobody watched); after that, only
        # IDLE can bring a change: the periodic sync is minutes away
        assert eventually(lambda: account(app, account_id).last_sync_at != synced_before, 15)
        assert eventually(lambda: account(app, account_id).sync_owner is None, 15)
        lab.set_flags(mailbox.address, "INBOX", unread[:1], [b"\\Seen"])  # in another mail client
        assert eventually(lambda: stored(app, account_id)[unread[0]][0], 10), "the change did not arrive"
        assert stored(app, account_id) == on_server(lab, mailbox.address)
    finally:
        runner.stop()
    assert account(app, account_id).watch_owner is None  # given back, so another process need not wait


def test_an_account_connected_while_the_runner_runs_is_watched_within_seconds(app, lab, mailbox):
    mail = app.extensions["mail"]
    runner = ThreadRunner(mail, workers=1, tick=0.2).start()
    try:
        assert eventually(lambda: runner.watcher.renewed_at > float("-inf"), 10)  # its first claim found nothing
        account_id = connect_account(app, lab, mailbox)
        mail.run_job(SyncJob(account_id))
        connected_at = time.monotonic()
        assert eventually(lambda: account_id in runner.watcher.watched, 15)
        assert time.monotonic() - connected_at < 8  # not a whole third of the 45 s lease
    finally:
        runner.stop()
