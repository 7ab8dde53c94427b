"""Each failure of the incoming server said by what happened (refused: not answering; a TLS handshake:
SSL and ports; a refused login: the password, and app passwords for Gmail alone), and a sent mail's
copy that could not be put in Sent kept until the server answers, then filed once."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update

from localmail.waits import eventually
from mailcore.envelope import as_utc
from mailcore.models import Account, UnfiledSentCopy
from mailcore.sync import sentcopies
from mailcore.sync.jobs import SyncJob, ThreadRunner

from .helpers import connect_account, connected, received, text


@pytest.fixture
def inbox(app, lab, mailbox):
    lab.received.clear()
    return connected(app, mailbox)


def _set(app, **values) -> None:
    with app.extensions["mail"].sessions() as db:
        db.execute(update(Account).values(**values))
        db.commit()


def _status_line(html: str) -> str:
    start = html.index('class="server-status" role="status">')
    return html[start:html.index("</div>", start)]


def test_each_failure_speaks_of_what_happened(app, lab, inbox, mailbox):
    _set(app, imap_port=lab.closed_port)  # nothing listens: the server is not answering
    answer = inbox.post("/inbox/refresh")
    refused = answer.get_data(as_text=True)
    line = _status_line(refused)
    assert f"Cannot reach {lab.hostname}. Trying again in" in line and ">30</span> s." in line
    assert "Try again" in line and 'hx-swap-oob="morph"' in refused
    for word in ("SSL", "port", "password", "Gmail", "Why is the email list not updated?"):
        assert word not in text(answer)
    assert "Offert för våren" in text(answer)  # what is stored is still listed
    tab = text(inbox.get("/settings/email-options?tab=account", htmx=True))
    assert f"Cannot reach {lab.hostname}. Try again when it answers." in tab and "refused" not in tab

    _set(app, imap_port=lab.imap_starttls_port, imap_ssl=True)  # TLS spoken to a plain port: the handshake fails
    tls = text(inbox.post("/inbox/refresh"))
    assert "Check the SSL setting: On for port 993, Off for port 143." in tls
    assert "Cannot reach" not in tls and "password" not in tls and "Gmail" not in tls

    _set(app, imap_port=lab.imap_tls_port)
    lab.set_password(mailbox.address, "changed-elsewhere-9")
    try:
        refused_login = text(inbox.post("/inbox/refresh"))
        _set(app, provider_id="gmail")
        gmail = text(inbox.get("/inbox/", htmx=False))
    finally:
        lab.set_password(mailbox.address, mailbox.password)
    assert "The user name or password was not accepted." in refused_login
    assert "SSL" not in refused_login and "app password" not in refused_login  # not Gmail: no app passwords
    assert "Gmail: use an app password instead of your regular password." in gmail

    _set(app, smtp_port=lab.closed_port, provider_id=None)  # the outgoing server does not answer
    unsent = inbox.post("/inbox/compose/", {"to": "kund@example.test", "subject": "Stannar", "body": "Hej!"})
    assert unsent.status_code == 422
    assert f"The email was not sent. Cannot reach {lab.hostname}. Try again when it answers." in text(unsent)
    assert "port" not in text(unsent) and "Hej!" in unsent.get_data(as_text=True)  # nothing typed is lost

    back = inbox.post("/inbox/refresh").get_data(as_text=True)
    assert _status_line(back).strip().endswith('role="status">') and "Why is the email list" not in back


def test_a_copy_that_could_not_be_filed_is_kept_and_filed_once(app, lab, inbox, mailbox):
    _set(app, imap_port=lab.closed_port)
    sent = inbox.post("/inbox/compose/", {"to": "kund@example.test", "subject": "Kopian som vantar", "body": "Hej!"})
    assert sent.status_code == 204
    assert "The copy could not be put in Sent yet" in sent.headers["HX-Trigger"]
    [out] = received(lab, "Kopian som vantar")  # the mail went out
    with app.extensions["mail"].sessions() as db:
        [kept] = db.scalars(select(UnfiledSentCopy)).all()
        assert kept.message_id and kept.message_id in out.data.decode()
        assert db.scalar(select(Account.sync_state)) == "unreachable"  # the inbox shows it at once
    # the account set up again (the same mailbox, its server answering): the copy goes with it, and the
    # sync that follows files it
    again = inbox.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    assert again.status_code == 200, text(again)
    assert copies_in_sent(lab, mailbox.address, "Kopian som vantar") == 1
    with app.extensions["mail"].sessions() as db:
        assert db.scalars(select(UnfiledSentCopy)).all() == []
        assert db.scalar(select(Account.sync_state)) == "ok"
        # as if a sync had filed it and stopped before it could forget the copy: not filed again
        sentcopies.keep(db, db.scalar(select(Account)), kept.raw, kept.message_id)
        db.commit()
    inbox.post("/inbox/refresh")
    inbox.post("/inbox/refresh")
    assert copies_in_sent(lab, mailbox.address, "Kopian som vantar") == 1
    with app.extensions["mail"].sessions() as db:
        assert db.scalars(select(UnfiledSentCopy)).all() == []


def copies_in_sent(lab, address: str, subject: str) -> int:
    with lab.imap(address) as client:
        client.select_folder("Sent", readonly=True)
        return len(client.search(["SUBJECT", subject]))


def test_the_watcher_finds_a_stopped_server_without_anyone_asking(app, lab, mailbox):
    """Embedded: the IDLE connection drops as Dovecot stops, a sync follows at once and sets the state
    the list's poll shows; the next sync that reaches the server clears it."""
    account_id = connect_account(app, lab, mailbox)
    mail = app.extensions["mail"]
    mail.run_job(SyncJob(account_id))
    with mail.sessions() as db:
        synced_before = db.get(Account, account_id).last_sync_at
    runner = ThreadRunner(mail, workers=1, tick=0.2).start()

    def account() -> Account:
        with mail.sessions() as db:
            return db.get(Account, account_id)

    def state() -> str:
        return account().sync_state

    try:
        assert eventually(lambda: account_id in runner.watcher.watched, 15), "the account was never watched"
        # the sync of a newly watched account is done: from now on nothing syncs unless something asks
        assert eventually(lambda: account().last_sync_at != synced_before and account().sync_owner is None, 15)
        lab.stop_imap()
        try:
            assert eventually(lambda: state() == "unreachable", 15), state()
            failed = account()
            wait = (as_utc(failed.next_sync_at) - as_utc(failed.last_error_at)).total_seconds()
            assert 29 <= wait <= 31  # tried again in 30 s
        finally:
            lab.start_imap()
        mail.request_sync(account_id)  # Try again
        assert eventually(lambda: state() == "ok", 15), state()
    finally:
        runner.stop()
