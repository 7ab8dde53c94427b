"""The first sync against the real Dovecot: the list from five header lines says what ENVELOPE said,
previews come after the whole list, newest first, and survive a cut; the paperclip is checked when a
message is opened; Save shows the newest messages before any sync has run."""

from __future__ import annotations

import re
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import func, select

from localmail.proxy import FaultProxy
from mailcore.envelope import as_utc, decode_header
from mailcore.models import Folder, Message
from mailcore.sync.engine import AccountSync
from mailcore.sync.summaries import preview_items, previews_of

from .helpers import Browser, connect_account, make_user, message, on_server, stored, text

ROW = re.compile(r'<li class="message[ "]')


def rows(app, account_id: int, folder: str = "INBOX") -> dict[int, Message]:
    with app.extensions["mail"].sessions() as db:
        found = db.scalars(select(Message).join(Folder).where(Folder.account_id == account_id, Folder.name == folder))
        return {m.uid: m for m in found}


def what_envelope_says(lab, address: str) -> dict[int, dict]:
    """The list fields as the sync made them from ENVELOPE, INTERNALDATE and PREVIEW until now."""
    with lab.imap(address, timeout=60) as client:
        client.select_folder("INBOX", readonly=True)
        fetched = client.fetch(client.search(["ALL"]), ["ENVELOPE", "INTERNALDATE", "PREVIEW"])
    said = {}
    for uid, data in fetched.items():
        envelope = data[b"ENVELOPE"]
        first = next((a[0] for a in (envelope.from_, envelope.sender) if a), None)
        mailbox, host = (decode_header(first.mailbox, 200), decode_header(first.host, 200)) if first else ("", "")
        said[uid] = {
            "sender_name": decode_header(first.name, 300) if first else "",
            "sender_address": f"{mailbox}@{host}" if mailbox and host else mailbox,
            "subject": decode_header(envelope.subject),
            "date": as_utc(envelope.date) if envelope.date else as_utc(data[b"INTERNALDATE"]),
            "preview": decode_header(data.get(b"PREVIEW"), 300),
        }
    return said


def test_the_list_says_what_envelope_said_for_awkward_and_ordinary_mail(app, lab, mailbox):
    names = {uid: name for name, uid in lab.load_awkward(mailbox.address).items()}
    lab.bulk_load(mailbox.address, 200, seed=21)
    account_id = connect_account(app, lab, mailbox)
    assert AccountSync(app.extensions["mail"], batch=100, first_batch=20).run(account_id).state == "ok"

    listed, said = rows(app, account_id), what_envelope_says(lab, mailbox.address)
    assert listed.keys() == said.keys() and len(listed) == 3 + len(names) + 200
    differences = {}
    for uid, expected in said.items():
        got = {key: getattr(listed[uid], key) for key in expected}
        if got != expected:
            differences[names.get(uid, uid)] = (got, expected)
    # Dovecot's ENVELOPE stops at the NUL (0x80 on the wire) and invents a domain; the header says more
    nul = differences.pop("nul-in-display-name")
    assert (nul[0]["sender_name"], nul[0]["sender_address"]) == ("Nul Byte", "nul@example.com")
    assert nul[1]["sender_address"] == "Nul@MISSING_DOMAIN"
    assert differences == {}
    assert not any(m.preview is None for m in listed.values())

    by_name = {names[uid]: m for uid, m in listed.items() if uid in names}
    assert by_name["raw-8bit-no-charset"].subject == "Räksmörgås på fredag"
    assert by_name["rfc2047-latin1-q"].sender_name == "Åsa Öberg"
    assert by_name["rfc2047-mixed-words"].subject == "SV: Årsmöte i föreningen 2025"
    assert len(by_name["long-subject-20k"].subject) == 1000
    assert (by_name["zero-bytes"].subject, by_name["zero-bytes"].sender_address) == ("", "")
    assert by_name["unparsable-date"].date > datetime(2020, 1, 1)  # its arrival, not 1970


def test_previews_follow_the_whole_list_newest_first(app, lab, mailbox):
    lab.bulk_load(mailbox.address, 450, seed=22)
    lab.bulk_load(mailbox.address, 130, folder="Archive", seed=23)
    account_id = connect_account(app, lab, mailbox)
    mail = app.extensions["mail"]
    moments = []

    def look(_folder) -> None:  # after every committed batch: how far each folder has come
        with mail.sessions() as db:
            state = {}
            for folder in db.scalars(select(Folder).where(Folder.account_id == account_id, Folder.total > 0)):
                uids = dict(db.execute(select(Message.uid, Message.preview.is_not(None))
                                       .where(Message.folder_id == folder.id)).all())
                state[folder.name] = (folder.server_total, uids)
            moments.append(state)

    assert AccountSync(mail, batch=100, first_batch=20, on_batch=look).run(account_id).state == "ok"
    whole = [all(total == len(uids) for total, uids in state.values()) and len(state) == 2 for state in moments]
    first_whole = whole.index(True)
    assert all(whole[first_whole:])
    for state in moments[:first_whole]:  # while lists grow, only first batches have their previews
        for _total, uids in state.values():
            assert sum(uids.values()) <= 20
    for state in moments:  # a preview is never fetched before a newer message's
        for _total, uids in state.values():
            done = [uid for uid, has in uids.items() if has]
            waiting = [uid for uid, has in uids.items() if not has]
            assert not done or not waiting or min(done) > max(waiting)
    assert moments[-1]["INBOX"][1] and all(moments[-1]["INBOX"][1].values())
    assert len(moments) > 6 + 2  # list batches of both folders, then preview batches


def test_previews_cut_off_midway_are_fetched_by_the_next_sync(app_config, lab, mailbox):
    from app import create_app

    lab.bulk_load(mailbox.address, 400, seed=24)
    proxy = FaultProxy("127.0.0.1", lab.imap_tls_port)
    try:
        app = create_app(dict(app_config, MAIL_ALLOWED_PORTS=f"{app_config['MAIL_ALLOWED_PORTS']} {proxy.port}"))
        account_id = connect_account(app, lab, mailbox, port=proxy.port)
        mail = app.extensions["mail"]
        cut = []

        def cut_in_the_preview_pass(folder) -> None:
            with mail.sessions() as db:
                filled = db.scalar(select(func.count()).where(Message.folder_id == folder.id,
                                                              Message.preview.is_not(None)))
            if folder.complete and filled > 20 and not cut:  # the first preview batch after the list
                cut.append(proxy.cut_all_now())

        first = AccountSync(mail, batch=100, first_batch=20, on_batch=cut_in_the_preview_pass).run(account_id)
        assert cut == [1] and first.state == "unreachable"
        listed = rows(app, account_id)
        assert len(listed) == 403  # the list is whole
        assert 20 < sum(1 for m in listed.values() if m.preview is not None) < 403
        assert AccountSync(mail, batch=100, first_batch=20).run(account_id).state == "ok"
    finally:
        proxy.stop()
    said = what_envelope_says(lab, mailbox.address)
    assert {uid: m.preview for uid, m in rows(app, account_id).items()} == {
        uid: fields["preview"] for uid, fields in said.items()}


def test_previews_from_the_first_text_bytes_where_a_server_has_no_preview(lab, mailbox):
    """What the sync asks a server without PREVIEW, asked of Dovecot, agrees with Dovecot's own."""
    lab.bulk_load(mailbox.address, 60, seed=25)
    with lab.imap(mailbox.address) as client:
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["ALL"])
        ours = previews_of(client.fetch(uids, preview_items(server_previews=False)).items())
        theirs = {uid: decode_header(data[b"PREVIEW"], 300) for uid, data in client.fetch(uids, ["PREVIEW"]).items()}
    assert ours.keys() == theirs.keys()
    for uid in uids:
        assert ours[uid][:60] == theirs[uid][:60], uid


def _mixed_without_files() -> EmailMessage:
    item = message("Två textdelar, ingen fil")
    item.make_mixed()
    extra = EmailMessage()
    extra.set_content("Andra delen, också text")
    item.attach(extra)
    return item


def _signed_with_a_file() -> EmailMessage:
    item = message("Signerat med bilaga")
    item.add_attachment(b"%PDF-1.4 avtal", maintype="application", subtype="pdf", filename="avtal.pdf")
    item.set_type("multipart/signed")  # the Content-Type says nothing of the file inside
    return item


def test_the_paperclip_is_corrected_when_a_message_is_opened(app, lab, mailbox):
    lab.append(mailbox.address, _mixed_without_files())
    lab.append(mailbox.address, _signed_with_a_file())
    make_user(app, mailbox.address)
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    with app.extensions["mail"].sessions() as db:
        by_subject = {m.subject: m for m in db.scalars(select(Message))}
        guessed = {s: by_subject[s].has_attachments for s in ("Två textdelar, ingen fil", "Signerat med bilaga")}
        version = db.scalar(select(Folder.version).where(Folder.role == "inbox"))
    assert guessed == {"Två textdelar, ingen fil": True, "Signerat med bilaga": False}  # from Content-Type alone

    for subject in guessed:
        assert browser.get(f"/inbox/message/{by_subject[subject].id}", htmx=True).status_code == 200
    with app.extensions["mail"].sessions() as db:
        checked = {s: db.get(Message, by_subject[s].id).has_attachments for s in guessed}
        assert db.scalar(select(Folder.version).where(Folder.role == "inbox")) > version  # the list redraws
    assert checked == {"Två textdelar, ingen fil": False, "Signerat med bilaga": True}
    html = browser.get("/inbox/").get_data(as_text=True)
    clipped = re.findall(r'<svg class="clip"[^>]*>.*?</svg>([^<]*)</span>', html)
    assert "Signerat med bilaga" in clipped and "Två textdelar, ingen fil" not in clipped


def test_save_shows_the_newest_messages_before_any_sync(app_config, lab, mailbox):
    from app import create_app

    lab.bulk_load(mailbox.address, 120, seed=26)
    app = create_app(dict(app_config, SYNC_MODE="external"))  # nothing syncs unless asked of a worker
    make_user(app, mailbox.address)
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    saved = browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    assert saved.status_code == 200
    assert "Synchronising: 50 of 123 messages" in text(saved)  # the first page, in the answer to Save

    server = on_server(lab, mailbox.address)
    newest = sorted(server, reverse=True)[:50]
    with app.extensions["mail"].sessions() as db:
        inbox = db.scalar(select(Folder).where(Folder.role == "inbox"))
        assert (inbox.total, inbox.server_total, inbox.complete) == (50, 123, False)
        assert sorted(db.scalars(select(Message.uid)), reverse=True) == newest
        assert db.scalar(select(func.count()).where(Message.preview.is_(None))) == 0  # with their previews
        account_id = inbox.account_id
    page = browser.get("/inbox/")
    assert len(ROW.findall(page.get_data(as_text=True))) == 50
    assert "Synchronising: 50 of 123 messages" in text(page)
    assert server[newest[0]][2] in text(page)

    assert AccountSync(app.extensions["mail"]).run(account_id).fetched == 73  # the rest, nothing twice
    assert stored(app, account_id) == server
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(func.count(Message.id))) == 123
