"""Sending from the CRM through the real SMTP server, with copies in the real Dovecot."""

from __future__ import annotations

import email
import email.policy
import io
import re

import pytest
from sqlalchemy import func, select

from mailcore.models import ArchivedEmail, ArchivedEmailLink, Message

from .helpers import Browser, connected, make_user, received, server_flags, text


@pytest.fixture
def writer(app, lab, mailbox):
    browser = connected(app, mailbox)
    lab.received.clear()
    return browser


def test_a_new_email_is_sent_and_filed_in_sent(writer, lab, mailbox):
    response = writer.post("/inbox/compose/", {
        "to": "Kund AB <kund@example.test>", "cc": "chef@example.test", "bcc": "arkiv@example.test",
        "subject": "Offert 2026 – våren", "body": "Hej!\n\nHär kommer offerten.\n",
        "attachments": (io.BytesIO(b"col1,col2\n1,2\n"), "../../secret/offert.csv")},
        content_type="multipart/form-data")
    assert response.status_code == 204, text(response)
    [sent] = received(lab, "Offert 2026 – våren")
    assert sorted(sent.rcpt_tos) == ["arkiv@example.test", "chef@example.test", "kund@example.test"]
    parsed = email.message_from_bytes(sent.data, policy=email.policy.default)
    assert parsed["From"] == f"Anna Andersson <{mailbox.address}>" and "Bcc" not in parsed
    assert parsed.get_body(("plain",)).get_content().replace("\r\n", "\n").startswith("Hej!\n\nHär kommer offerten.")
    [attachment] = list(parsed.iter_attachments())
    assert attachment.get_filename() == "offert.csv" and attachment.get_content() == "col1,col2\n1,2\n"
    assert sent.data.count(b"\r\n.\r\n") == 0  # the end of data is the server's, not in the message
    flags = server_flags(lab, mailbox.address, "Sent")
    assert b"\\Seen" in flags["Offert 2026 – våren"]


def test_sending_is_refused_unless_the_address_is_first_on_the_contact_card(app, lab, mailbox):
    make_user(app, "anna@crm.example")
    browser = Browser(app.test_client())
    browser.sign_in("anna@crm.example", "crm-password-1")
    browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    lab.received.clear()
    response = browser.post("/inbox/compose/", {"to": "kund@example.test", "subject": "Inte skickat",
                                                "body": "Viktig text som inte får försvinna"})
    words = text(response)
    assert response.status_code == 422
    assert "To send email, the address must be the same as the first email address on your contact card." in words
    assert "Viktig text som inte får försvinna" in response.get_data(as_text=True)
    assert 'value="Inte skickat"' in response.get_data(as_text=True)
    assert 'href="/settings/contact-card"' in response.get_data(as_text=True)
    assert lab.received == []


@pytest.mark.parametrize("field,value,message", [
    ("subject", "Hej\r\nBcc: evil@evil.test", "line break"),
    ("to", "alice@x.example)<bob@y.example>", "not valid"),
    ("to", "a@x.example>\r\nRCPT TO:<evil@y.example>", "not valid"),
    ("to", "Bob <bob@y.example> <carl@z.example>", "not valid"),
    ("to", "not-an-address", "not valid"),
    ("to", "", "at least one recipient"),
])
def test_hostile_input_is_refused_and_nothing_is_sent(writer, lab, field, value, message):
    data = {"to": "kund@example.test", "subject": "Test", "body": "text"}
    data[field] = value
    response = writer.post("/inbox/compose/", data)
    assert response.status_code == 422 and message in text(response)
    assert lab.received == []


def test_a_body_with_end_of_data_lookalikes_arrives_whole(writer, lab):
    body = "rad ett\r\n.\r\nrad två\n.\nrad tre\rslut\r\n..\r\n"
    assert writer.post("/inbox/compose/", {"to": "kund@example.test", "subject": "Punkter",
                                           "body": body}).status_code == 204
    [sent] = received(lab, "Punkter")
    text_part = email.message_from_bytes(sent.data, policy=email.policy.default).get_body(("plain",)).get_content()
    assert text_part.splitlines() == ["rad ett", ".", "rad två", ".", "rad tre", "slut", ".."]


def test_reply_reply_all_and_forward(writer, app, lab, mailbox):
    from email.message import EmailMessage

    original = EmailMessage()
    original["From"] = "Kund <kund@example.test>"
    original["To"] = f"{mailbox.address}, kollega@example.test"
    original["Cc"] = "chef@example.test"
    original["Subject"] = "=?utf-8?q?Fr=C3=A5ga_om_leverans?="
    original["Message-ID"] = "<orig-1@example.test>"
    original.set_content("När kommer leveransen?")
    original.add_attachment(b"PDFDATA", maintype="application", subtype="pdf", filename="order.pdf")
    lab.append(mailbox.address, original)
    writer.post("/inbox/refresh")
    with app.extensions["mail"].sessions() as db:
        message_id = db.scalar(select(Message.id).where(Message.subject == "Fråga om leverans"))
    reply = writer.get(f"/inbox/compose/?mode=reply&of={message_id}", htmx=True).get_data(as_text=True)
    assert 'value="Re: Fråga om leverans"' in reply and "kund@example.test" in reply
    assert "&gt; När kommer leveransen?" in reply and 'value="&lt;orig-1@example.test&gt;"' in reply
    everyone = writer.get(f"/inbox/compose/?mode=all&of={message_id}", htmx=True).get_data(as_text=True)
    assert "kollega@example.test" in everyone and "chef@example.test" in everyone
    assert f'value="{mailbox.address}' not in everyone.split('name="cc"')[1][:300]
    forward = writer.get(f"/inbox/compose/?mode=forward&of={message_id}", htmx=True).get_data(as_text=True)
    assert 'value="Fwd: Fråga om leverans"' in forward and "order.pdf" in forward

    assert writer.post("/inbox/compose/", {
        "to": "kund@example.test", "subject": "Re: Fråga om leverans", "body": "På fredag.",
        "in_reply_to": "<orig-1@example.test>", "references": "<orig-1@example.test>"}).status_code == 204
    [answer] = received(lab, "Re: Fråga om leverans")
    parsed = email.message_from_bytes(answer.data, policy=email.policy.default)
    assert parsed["In-Reply-To"] == "<orig-1@example.test>" and "<orig-1@example.test>" in parsed["References"]

    assert writer.post("/inbox/compose/", {
        "to": "lager@example.test", "subject": "Fwd: Fråga om leverans", "body": "Se nedan",
        "window": regex_value(forward, "window")}).status_code == 204
    [forwarded] = received(lab, "Fwd: Fråga om leverans")
    names = [a.get_filename() for a in email.message_from_bytes(forwarded.data, policy=email.policy.default)
             .iter_attachments()]
    assert names == ["order.pdf"]


def test_a_refused_login_keeps_the_form_and_says_what_failed(writer, lab, mailbox):
    lab.set_password(mailbox.address, "changed-elsewhere-3")
    try:
        response = writer.post("/inbox/compose/", {"to": "kund@example.test", "subject": "Stannar kvar",
                                                   "body": "Texten finns kvar"})
    finally:
        lab.set_password(mailbox.address, mailbox.password)
    assert response.status_code == 422
    assert "The email was not sent." in text(response) and "not accepted" in text(response)
    assert "Texten finns kvar" in response.get_data(as_text=True)


def test_send_and_archive_links_the_email_to_contact_cards(writer, app, lab, mailbox):
    make_user(app, "kollega@crm.example", name="Kollega")
    sent = writer.post("/inbox/compose/", {"to": "kollega@crm.example", "subject": "Arkiverat",
                                           "body": "Sparas i CRM", "archive": "1"})
    assert sent.status_code == 200 and "Document" in text(sent)  # sent; the Document dialog follows
    with app.extensions["mail"].sessions() as db:
        archived = db.scalar(select(ArchivedEmail).where(ArchivedEmail.subject == "Arkiverat"))
        assert archived is not None and "kollega@crm.example" in archived.recipients
        assert db.scalar(select(ArchivedEmailLink).where(ArchivedEmailLink.archived_email_id == archived.id))


def test_a_refused_recipient_is_named_and_the_form_kept(writer, lab):
    response = writer.post("/inbox/compose/", {"to": "kund@example.test, no-such-user@example.test",
                                                "subject": "Två mottagare", "body": "Behålls"})
    assert response.status_code == 422
    assert "refused these recipients: no-such-user@example.test" in text(response)
    assert "Behålls" in response.get_data(as_text=True)


def test_a_connection_dropped_during_data_is_said(writer, lab):
    response = writer.post("/inbox/compose/", {"to": "drop-during-data@example.test",
                                                "subject": "Avbrutet", "body": "Behålls också"})
    assert response.status_code == 422
    assert "The email was not sent." in text(response) and "Behålls också" in response.get_data(as_text=True)
    assert received(lab, "Avbrutet") == []


def test_a_reply_to_a_subject_with_encoded_line_breaks_is_safe(writer, app, lab, mailbox):
    lab.append(mailbox.address, b"From: Kund <kund@example.test>\r\nTo: " + mailbox.address.encode()
               + b"\r\nSubject: =?utf-8?q?Hej=0D=0ABcc=3A_evil=40evil=2Etest?=\r\nMessage-ID: <crlf@x.test>"
               b"\r\n\r\nText\r\n")
    writer.post("/inbox/refresh")
    with app.extensions["mail"].sessions() as db:
        message_id = db.scalar(select(Message.id).where(Message.subject.like("Hej%")))
    page = writer.get(f"/inbox/compose/?mode=reply&of={message_id}", htmx=True).get_data(as_text=True)
    subject = regex_value(page, "subject")
    assert "\r" not in subject and "\n" not in subject and subject.startswith("Re: Hej")
    assert writer.post("/inbox/compose/", {"to": "kund@example.test", "subject": subject, "body": "svar",
                                           "in_reply_to": "<crlf@x.test>"}).status_code == 204
    [sent] = received(lab, subject)
    assert sent.rcpt_tos == ["kund@example.test"]


def regex_value(html: str, name: str) -> str:
    import html as htmllib

    return htmllib.unescape(re.search(rf'name="{name}"[^>]*value="([^"]*)"', html).group(1))


def new_window(writer) -> str:
    """A new email's window, made by a POST (an attachment posted with no file), as its form gets it."""
    answer = writer.post("/inbox/compose/attachments", {"window": ""}, content_type="multipart/form-data")
    return regex_value(answer.get_data(as_text=True), "window")


def test_the_form_in_swedish(app, lab, mailbox):
    make_user(app, mailbox.address, language="sv")
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    words = text(browser.get("/inbox/compose/", htmx=True))
    for expected in ("Nytt e-postmeddelande", "Till", "Kopia/Hemlig kopia", "Ämne", "Skicka", "Skicka och arkivera"):
        assert expected in words


def test_archived_emails_are_visible_from_the_recipients_contact_card(writer, app, lab):
    make_user(app, "mottagare@crm.example", name="Mottagare")
    writer.post("/inbox/compose/", {"to": "mottagare@crm.example", "subject": "Syns på kortet", "body": "x",
                                    "archive": "1"})
    card_owner = Browser(app.test_client())
    card_owner.sign_in("mottagare@crm.example", "crm-password-1")
    card = text(card_owner.get("/settings/contact-card"))
    assert "Archived emails" in card and "Syns på kortet" in card


def test_drafts_are_saved_replaced_and_removed_when_sent(writer, lab, mailbox):
    window = new_window(writer)
    first = writer.post("/inbox/compose/draft", {"to": "kund@example.test", "subject": "Utkast ett", "body": "a",
                                                  "window": window})
    assert "Draft saved." in text(first)
    assert list(server_flags(lab, mailbox.address, "Drafts")) == ["Utkast ett"]
    writer.post("/inbox/compose/draft", {"to": "kund@example.test", "subject": "Utkast två", "body": "ab",
                                         "window": window, "saved": regex_value(first.get_data(as_text=True), "saved")})
    drafts = server_flags(lab, mailbox.address, "Drafts")
    assert list(drafts) == ["Utkast två"] and b"\\Draft" in drafts["Utkast två"]
    lab.set_password(mailbox.address, "changed-elsewhere-4")
    try:  # a failed send keeps the draft
        assert writer.post("/inbox/compose/", {"to": "kund@example.test", "subject": "Utkast två", "body": "ab",
                                               "window": window}).status_code == 422
    finally:
        lab.set_password(mailbox.address, mailbox.password)
    assert list(server_flags(lab, mailbox.address, "Drafts")) == ["Utkast två"]
    assert writer.post("/inbox/compose/", {"to": "kund@example.test", "subject": "Utkast två", "body": "ab",
                                           "window": window}).status_code == 204
    assert server_flags(lab, mailbox.address, "Drafts") == {}
    # a save that arrives after Send (the form's last autosave, or its close) leaves no draft behind
    late = writer.post("/inbox/compose/draft?closing=1", {"to": "kund@example.test", "subject": "Sent, then saved",
                                                          "body": "late", "window": window})
    assert late.status_code == 204
    assert server_flags(lab, mailbox.address, "Drafts") == {}


def test_no_second_copy_where_the_provider_files_sent_mail(writer, app, lab, mailbox):
    from mailcore.models import Account

    with app.extensions["mail"].sessions() as db:
        account = db.scalar(select(Account))
        account.provider_id = "gmail"  # Gmail files what its SMTP server sends in Sent by itself
        db.commit()
    writer.post("/inbox/compose/", {"to": "kund@example.test", "subject": "Ingen kopia", "body": "x"})
    assert received(lab, "Ingen kopia")
    assert "Ingen kopia" not in server_flags(lab, mailbox.address, "Sent")


def test_signature_is_inserted(writer):
    writer.post("/settings/personal", {"language": "en", "signature": "Anna Andersson\nSäljare"})
    page = writer.get("/inbox/compose/", htmx=True).get_data(as_text=True)
    assert "-- \nAnna Andersson\nSäljare" in page


def test_compose_needs_csrf_and_an_own_account(app, writer, lab):
    assert writer.post("/inbox/compose/", {"to": "kund@example.test", "subject": "x", "body": "y"},
                       csrf=False).status_code == 400
    make_user(app, "utan@crm.example", name="Utan konto")
    other = Browser(app.test_client())
    other.sign_in("utan@crm.example", "crm-password-1")
    assert other.post("/inbox/compose/", {"to": "kund@example.test", "subject": "x", "body": "y"}).status_code == 404
    assert lab.received == []


def test_a_compose_window_and_its_uploads_belong_to_their_user(writer, app, lab, mailbox):
    """Another user with the key of this user's window cannot send its attachments, remove them or save
    over its draft."""
    window = new_window(writer)
    listed = writer.post("/inbox/compose/attachments", {
        "window": window, "attachments": (io.BytesIO(b"hemlig offert"), "offert.txt")},
        content_type="multipart/form-data").get_data(as_text=True)
    upload_id = re.search(r"/inbox/compose/attachments/(\d+)/remove", listed).group(1)

    other_mailbox = "other@" + mailbox.address.split("@")[1]
    lab.add_user(other_mailbox, "other-mail-pw-1")
    from .helpers import Mailbox

    other = connected(app, Mailbox(other_mailbox, "other-mail-pw-1"), name="Other User")
    lab.received.clear()
    for url, data in ((f"/inbox/compose/attachments/{upload_id}/remove", {"window": window}),
                      ("/inbox/compose/", {"window": window, "to": "thief@example.test", "subject": "x", "body": "y"}),
                      ("/inbox/compose/draft", {"window": window, "to": "thief@example.test", "subject": "x"}),
                      ("/inbox/compose/discard", {"window": window})):
        assert other.post(url, data).status_code == 404, url
    assert lab.received == []
    assert writer.post("/inbox/compose/", {"window": window, "to": "kund@example.test", "subject": "Min offert",
                                           "body": "y"}).status_code == 204
    [sent] = received(lab, "Min offert")
    parsed = email.message_from_bytes(sent.data, policy=email.policy.default)
    assert [a.get_filename() for a in parsed.iter_attachments()] == ["offert.txt"]


def test_undo_reaches_only_the_users_own_folders(writer, app, lab, mailbox):
    from mailcore.models import Folder

    with app.extensions["mail"].sessions() as db:
        mine = {f.name: f.id for f in db.scalars(select(Folder))}
    other_mailbox = "undo-other@" + mailbox.address.split("@")[1]
    lab.add_user(other_mailbox, "other-mail-pw-2")
    from .helpers import Mailbox

    other = connected(app, Mailbox(other_mailbox, "other-mail-pw-2"), name="Other User")
    uid = server_uid(lab, mailbox.address, "INBOX")
    response = other.post("/inbox/messages/undo", {"moved_to": mine["INBOX"], "home": mine["Trash"], "uids": uid})
    assert response.status_code == 404
    assert len(server_flags(lab, mailbox.address, "INBOX")) == 3


def server_uid(lab, address: str, folder: str) -> int:
    with lab.imap(address) as client:
        client.select_folder(folder, readonly=True)
        return client.search(["ALL"])[0]


def test_only_a_message_in_drafts_opens_as_a_draft(writer, app):
    with app.extensions["mail"].sessions() as db:
        inbox_message = db.scalar(select(Message.id).where(Message.subject == "Meeting notes"))
    assert writer.get(f"/inbox/compose/?draft={inbox_message}", htmx=True).status_code == 404


def test_attachments_over_the_limit_are_refused_and_kept_listed(writer, app, lab, monkeypatch):
    from mailcore.compose import message as compose

    monkeypatch.setattr(compose, "MAX_ATTACHMENTS_BYTES", 1000)  # a small limit instead of 20 MB of test data
    form = writer.get("/inbox/compose/", htmx=True).get_data(as_text=True)
    assert regex_value(form, "window") == ""  # a new email's window is made by its first POST
    first = writer.post("/inbox/compose/attachments",
                        {"window": "", "attachments": (io.BytesIO(b"a" * 600), "a.txt")},
                        content_type="multipart/form-data")
    assert first.status_code == 200 and "a.txt" in text(first)
    window = regex_value(first.get_data(as_text=True), "window")  # which the form carries from now on
    second = writer.post("/inbox/compose/attachments",
                         {"window": window, "attachments": (io.BytesIO(b"b" * 600), "b.txt")},
                         content_type="multipart/form-data")
    assert second.status_code == 422 and "larger than" in text(second)
    assert "a.txt" in text(second) and "b.txt" not in text(second)


def test_send_removes_the_draft_a_save_put_there_while_it_was_sending(writer, app, lab, mailbox):
    """The send request read the window before a save finished; the save's draft still goes."""
    from mailcore.compose import drafts
    from mailcore.compose import message as composing
    from mailcore.models import Account, ComposeWindow
    from mailcore.reading.mailbox import special_folder

    key = new_window(writer)
    writer.post("/inbox/compose/draft", {"window": key, "to": "kund@example.test", "subject": "Första sparningen"})
    installation = app.extensions["mail"]
    sending, saving = installation.sessions(), installation.sessions()
    try:
        stale = sending.scalar(select(ComposeWindow).where(ComposeWindow.key == key))  # as the send request read it
        window = saving.scalar(select(ComposeWindow).where(ComposeWindow.key == key))
        account = saving.scalar(select(Account))
        message = composing.draft_message("Anna", mailbox.address, composing.Draft(subject="Andra sparningen"))
        drafts.save(installation.account(saving, account), window, message, special_folder(saving, account, "drafts"))
        assert list(server_flags(lab, mailbox.address, "Drafts")) == ["Andra sparningen"]
        account = sending.scalar(select(Account))
        drafts.sent(installation.account(sending, account), stale, special_folder(sending, account, "drafts"))
    finally:
        sending.close()
        saving.close()
    assert server_flags(lab, mailbox.address, "Drafts") == {}


def test_uploads_are_deleted_after_send_and_discard_and_expire_after_a_day(writer, app, lab):
    from datetime import timedelta

    from sqlalchemy import func, update

    from mailcore.models import ComposeWindow, PendingUpload, UploadChunk, utcnow

    def uploads_left() -> tuple[int, int]:
        with app.extensions["mail"].sessions() as db:
            return (db.scalar(select(func.count()).select_from(PendingUpload)),
                    db.scalar(select(func.count()).select_from(UploadChunk)))

    def window_with_a_file() -> str:
        key = new_window(writer)
        writer.post("/inbox/compose/attachments",
                    {"window": key, "attachments": (io.BytesIO(b"x" * 600_000), "big.bin")},
                    content_type="multipart/form-data")
        return key

    sent = window_with_a_file()
    assert uploads_left() == (1, 3)  # 600 kB in 256 kB chunks
    writer.post("/inbox/compose/", {"window": sent, "to": "kund@example.test", "subject": "Med fil", "body": "x"})
    assert uploads_left() == (0, 0)
    discarded = window_with_a_file()
    assert writer.post("/inbox/compose/discard", {"window": discarded}).status_code == 204
    assert uploads_left() == (0, 0)
    left = window_with_a_file()
    with app.extensions["mail"].sessions() as db:
        db.execute(update(ComposeWindow).where(ComposeWindow.key == left)
                   .values(created_at=utcnow() - timedelta(days=2)))
        db.execute(update(PendingUpload).values(created_at=utcnow() - timedelta(days=2)))
        db.commit()
    writer.get("/inbox/compose/", htmx=True)  # any new compose form clears what closed tabs left
    assert uploads_left() == (0, 0)


def _forwardable(app, lab, mailbox, writer, subject: str, attachment: bytes) -> int:
    from email.message import EmailMessage

    original = EmailMessage()
    original["From"], original["To"], original["Subject"] = "Kund <kund@example.test>", mailbox.address, subject
    original.set_content("Se bilagan.")
    original.add_attachment(attachment, maintype="application", subtype="octet-stream", filename="data.bin")
    lab.append(mailbox.address, original)
    writer.post("/inbox/refresh")
    with app.extensions["mail"].sessions() as db:
        return db.scalar(select(Message.id).where(Message.subject == subject))


def test_opening_a_forward_again_reuses_its_window_and_copies_attachments_only_at_send(writer, app, lab, mailbox):
    """Five openings of the same forward are one window whose attachment is a reference to the original,
    not a copy; Send copies it into the email; opening a new email by GET stores nothing."""
    from mailcore.models import ComposeWindow, PendingUpload, UploadChunk

    message_id = _forwardable(app, lab, mailbox, writer, "Forward me", b"z" * 50_000)
    with app.extensions["mail"].sessions() as db:
        before = db.scalar(select(func.count()).select_from(ComposeWindow))
    keys = {regex_value(writer.get(f"/inbox/compose/?mode=forward&of={message_id}", htmx=True).get_data(as_text=True),
                        "window") for _ in range(5)}
    writer.get("/inbox/compose/", htmx=True)
    with app.extensions["mail"].sessions() as db:
        assert len(keys) == 1 and db.scalar(select(func.count()).select_from(ComposeWindow)) == before + 1
        [upload] = db.scalars(select(PendingUpload)).all()
        assert (upload.forward_of, upload.filename, upload.size) == (message_id, "data.bin", 50_000)
        assert db.scalar(select(func.count()).select_from(UploadChunk)) == 0
    assert writer.post("/inbox/compose/", {"to": "lager@example.test", "subject": "Fwd: Forward me", "body": "Här",
                                           "window": keys.pop()}).status_code == 204
    [sent] = received(lab, "Fwd: Forward me")
    [part] = email.message_from_bytes(sent.data, policy=email.policy.default).iter_attachments()
    assert part.get_filename() == "data.bin" and part.get_content() == b"z" * 50_000


def test_a_user_has_a_cap_on_open_windows_and_kept_uploads(writer, app, lab, mailbox):
    """Past COMPOSE_WINDOWS_PER_USER open windows and UPLOAD_QUOTA_MB of unsent attachments (all windows
    together), the user is told why, and nothing more is kept."""
    app.config.update(COMPOSE_WINDOWS_PER_USER=2, UPLOAD_QUOTA_MB=1000 / 2**20)  # 1000 bytes
    first = writer.post("/inbox/compose/attachments", {"window": "", "attachments": (io.BytesIO(b"a" * 600), "a.txt")},
                        content_type="multipart/form-data")
    assert first.status_code == 200 and "a.txt" in text(first)
    second = writer.post("/inbox/compose/attachments", {"window": "", "attachments": (io.BytesIO(b"b" * 600), "b.txt")},
                         content_type="multipart/form-data")
    assert second.status_code == 422 and "unsent emails would take more than" in text(second)
    third = writer.get(f"/inbox/compose/?mode=reply&of={_forwardable(app, lab, mailbox, writer, 'Svar', b'x')}",
                       htmx=True)
    assert third.status_code == 422 and "You have 2 emails open that are not sent" in text(third)
