"""Automatic archiving in the sync, against the lab's Dovecot: off by default; turned on in Email options >
General it archives new mail with known contacts (arriving, and sent), never mail on the Never archive
list, from unknown senders or between CRM users, a reply to an archived email to the same contact and
company, and nothing twice however often the sync runs."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sqlalchemy import select

from mailcore.models import Account, ArchivedEmail, User

from .helpers import connected, crm_company_id, crm_person, sync, text


def mail(sender: str, to: str, subject: str, **headers) -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    for name, value in headers.items():
        message[name.replace("_", "-")] = value
    message.set_content("Hej!")
    return message


def archived(app) -> dict[str, ArchivedEmail]:
    with app.extensions["mail"].sessions() as db:
        rows = list(db.scalars(select(ArchivedEmail)))
        db.expunge_all()
        return {row.subject: row for row in rows}


def test_automatic_archiving_of_known_contacts_replies_and_sent_mail(app, mailbox, lab):
    anna = crm_person(app, "Anna", "Berg", "anna@kund.example", company="Kund AB", domains=["kund.example"])
    crm_person(app, "Bob", "Smith", "bob@partner.example")
    inbox = connected(app, mailbox)
    with app.extensions["mail"].sessions() as db:
        account_id = db.scalar(select(Account.id))
        assert db.scalar(select(User.archive_automatically)) is False  # off by default
    options = inbox.get("/settings/email-options", htmx=True)
    assert "Archive email with known contacts automatically" in text(options) and "Never archive" in text(options)
    refused = inbox.post("/settings/email-options", {"archive_automatically": "y", "archive_visible": "me",
                                                     "never_archive": "inte en adress"})
    assert refused.status_code == 422 and "Not an email address or domain" in text(refused)
    assert inbox.post("/settings/email-options", {"archive_automatically": "y", "archive_visible": "me",
                                                  "mark_read_in_preview": "y", "save_sent_copy": "y",
                                                  "never_archive": "@partner.example"}).status_code == 204
    assert sync(app, account_id).state == "ok"
    assert archived(app) == {}  # the mail there when it was turned on stays as it was

    lab.append_many(mailbox.address, [
        mail("Anna Berg <anna@kund.example>", mailbox.address, "Ny beställning", Message_ID="<order@kund.example>"),
        mail("Bob Smith <bob@partner.example>", mailbox.address, "Aldrig arkiverad"),
        mail("Okänd <x@annat.example>", mailbox.address, "Okänd avsändare"),
        mail("Kalle Kollega <kalle@annat.example>", mailbox.address, "Re: Ny beställning",
             In_Reply_To="<order@kund.example>", References="<order@kund.example>")])
    sent = re.search(r'name="window"[^>]*value="([^"]*)"', inbox.get("/inbox/compose/", htmx=True)
                     .get_data(as_text=True)).group(1)
    assert inbox.post("/inbox/compose/", {"window": sent, "mode": "new", "to": "anna@kund.example",
                                          "subject": "Bekräftelse", "body": "Tack!"}).status_code == 204
    assert sync(app, account_id).state == "ok"
    found = archived(app)
    assert sorted(found) == ["Bekräftelse", "Ny beställning", "Re: Ny beställning"]
    kund = crm_company_id(app, "Kund AB")
    for subject in found:
        row = found[subject]
        assert (row.person_id, row.company_id, row.visible_to_all, row.automatic) == (anna, kund, False, True)
    assert found["Bekräftelse"].incoming is False and found["Ny beställning"].incoming is True

    assert sync(app, account_id).state == "ok"  # again: nothing twice
    with app.extensions["mail"].sessions() as db:
        for folder in db.scalars(select(Account).where(Account.id == account_id)).one().folders:
            if folder.archived_uid is not None:  # even looking at the new ones again
                folder.archived_uid = 3 if folder.role == "inbox" else 0
        db.commit()
    assert sync(app, account_id).state == "ok"
    assert sorted(archived(app)) == sorted(found) and len(archived(app)) == 3
