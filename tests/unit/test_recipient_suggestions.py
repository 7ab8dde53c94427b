"""Whom compose suggests, on a real (SQLite) database: the CRM's people with their names, whom the
user got mail from and mailed, each address once, and nothing of another user's mail or of Junk."""

from __future__ import annotations

import itertools
from datetime import datetime

from mailcore.compose.recipients import suggestions
from mailcore.models import Account, ArchivedEmail, Folder, Message, User

_users = itertools.count(1)


def _user(db) -> User:
    number = next(_users)
    user = User(email=f"suggest{number}@inkorg.test", name="Anna Andersson", password_hash="x")
    db.add(Account(user=user, address=user.email, imap_host="imap.inkorg.test", imap_port=993, imap_ssl=True,
                   imap_username=user.email, imap_password=b"sealed", smtp_host="smtp.inkorg.test",
                   smtp_port=465, smtp_ssl=True, smtp_username=user.email, smtp_password=b"sealed"))
    return user


def test_senders_recipients_and_archived_mail_once_each_with_names(app):
    with app.extensions["mail"].sessions() as db:
        user, other = _user(db), _user(db)
        db.flush()
        inbox, sent, junk = (Folder(account=user.account, name=name, role=role)
                             for name, role in (("INBOX", "inbox"), ("Sent", "sent"), ("Junk", "junk")))
        elsewhere = Folder(account=other.account, name="INBOX", role="inbox")
        db.add_all([inbox, sent, junk, elsewhere])
        db.flush()
        day = datetime(2026, 12, 1)

        def mail(folder, uid, name, address, raw=None):
            db.add(Message(folder_id=folder.id, uid=uid, date=day, sender_name=name, sender_address=address,
                           raw=raw))

        mail(inbox, 1, "", "bo@kund.example")
        mail(inbox, 2, "Bo Ek", "BO@kund.example")  # the same address: once, with the name
        mail(inbox, 3, "Anna", user.email)  # the user's own mail is not a suggestion
        mail(junk, 1, "Skräp", "spam@skrap.example")
        mail(elsewhere, 1, "Hemlig", "hemlig@annan.example")  # another user's correspondent
        attachment = b"x" * 100_000
        mail(sent, 1, "Anna", user.email, b"From: " + user.email.encode() + b"\r\nTo: \"Berg, Cia\" "
             b"<cia@kund.example>\r\nCc: dan@kund.example\r\nSubject: Offert\r\n\r\n" + attachment)
        db.add(ArchivedEmail(user_id=user.id, message_id="<a@x>", subject="Avtal",
                             recipients="eva@partner.example", sent_at=day, raw=b""))
        db.commit()
        pairs = suggestions(db, user)
    found = {address.lower(): name for name, address in pairs}
    assert len(found) == len(pairs) and found["bo@kund.example"] == "Bo Ek"  # once, with the name
    assert found["cia@kund.example"] == "Berg, Cia" and found["dan@kund.example"] == ""
    assert "eva@partner.example" in found
    assert user.email.lower() not in found and "spam@skrap.example" not in found and "hemlig@annan.example" not in found
