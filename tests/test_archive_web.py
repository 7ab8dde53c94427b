"""Archive email in the web app, against the lab's Dovecot and SMTP: the Document dialog prefilled from the
sender (or the recipients of mail the user sent), the whole message kept in the CRM (deleting it from the
mailbox loses nothing), archiving twice, one attachment alone, the messages picked in the list, Add
contact first for an unknown sender, Send and archive; and the contact's history, where another user's
private archive is never shown, by list or by guessed address."""

from __future__ import annotations

import re
from email.message import EmailMessage

from sqlalchemy import delete, func, select

from mailcore.models import ArchivedEmail, Message

from .helpers import Browser, connected, crm_company_id, crm_person, make_user, message_row, text


def archived_rows(app) -> list[ArchivedEmail]:
    with app.extensions["mail"].sessions() as db:
        rows = list(db.scalars(select(ArchivedEmail).order_by(ArchivedEmail.id)))
        db.expunge_all()
        return rows


def colleague(app, language: str = "en") -> Browser:
    make_user(app, "bo@crm.example", name="Bo Ek", language=language)
    browser = Browser(app.test_client())
    browser.sign_in("bo@crm.example", "crm-password-1")
    return browser


def create(browser: Browser, **form) -> object:
    answer = browser.post("/contacts/archive", form)
    assert answer.status_code == 204, text(answer)
    return answer


def test_archive_email_keeps_the_whole_message_for_the_card_even_when_deleted_from_the_mailbox(app, mailbox, lab):
    karin = crm_person(app, "Anna", "Berg", "anna@kund.example", company="Kund AB", domains=["kund.example"])
    kund = crm_company_id(app, "Kund AB")
    inbox = connected(app, mailbox)
    anna, folder = message_row(app, "Offert för våren")
    pane = inbox.get(f"/inbox/message/{anna}", htmx=True).get_data(as_text=True)
    assert 'class="archive-menu popup"' in pane and f"/contacts/archive?message={anna}" in pane
    assert re.search(r'<details class="move-menu popup">', pane)  # the Archive folder stays under Move

    dialog = inbox.get(f"/contacts/archive?message={anna}", htmx=True)
    page = dialog.get_data(as_text=True)
    assert "Document" in text(dialog) and "Visible for" in text(dialog) and "Create" in text(dialog)
    assert f'name="person" value="{karin}" checked' in page and f'name="company" value="{kund}" checked' in page
    assert 'name="visible" value="all" checked' in page

    answer = create(inbox, ids=str(anna), person=str(karin), company=str(kund), visible="all")
    assert "The email was archived." in answer.headers["HX-Trigger"]
    [kept] = archived_rows(app)
    assert (kept.person_id, kept.company_id, kept.visible_to_all, kept.incoming) == (karin, kund, True, True)
    assert kept.subject == "Offert för våren" and "anna@kund.example" in kept.sender

    # archiving it again changes its links, nothing is stored twice
    create(inbox, ids=str(anna), person="", company=str(kund), visible="me")
    [again] = archived_rows(app)
    assert (again.id, again.person_id, again.company_id, again.visible_to_all) == (kept.id, None, kund, False)
    create(inbox, ids=str(anna), person=str(karin), company=str(kund), visible="all")

    # gone from the mailbox and from the app's copy of it: the CRM still has it whole
    assert inbox.post("/inbox/messages/delete", {"ids": str(anna), "folder": str(folder)}).status_code == 200
    with app.extensions["mail"].sessions() as db:
        db.execute(delete(Message).where(Message.id == anna))
        db.commit()
    card = inbox.get(f"/contacts/person/{karin}").get_data(as_text=True)
    assert "Archived emails" in card and "Offert för våren" in card and "Archived by Anna Andersson" in card
    assert f"/contacts/archived/{kept.id}" in card
    assert "Offert för våren" in text(inbox.get(f"/contacts/company/{kund}"))
    preview = inbox.get(f"/contacts/archived/{kept.id}")
    assert preview.status_code == 200 and "Hej!" in text(preview) and "Anna Berg" in text(preview)


def test_another_users_private_archive_is_never_shown_by_list_or_by_address(app, mailbox):
    karin = crm_person(app, "Anna", "Berg", "anna@kund.example", company="Kund AB", domains=["kund.example"])
    kund = crm_company_id(app, "Kund AB")
    inbox = connected(app, mailbox)
    anna, _ = message_row(app, "Offert för våren")
    bob, _ = message_row(app, "Meeting notes")
    create(inbox, ids=str(anna), person=str(karin), company=str(kund), visible="me")
    create(inbox, ids=str(bob), person=str(karin), company=str(kund), visible="all")
    private, shared = archived_rows(app)
    other = colleague(app)
    for url in (f"/contacts/person/{karin}", f"/contacts/company/{kund}"):
        seen = text(other.get(url))
        assert "Meeting notes" in seen and "Offert för våren" not in seen, url
        assert "Offert för våren" in text(inbox.get(url)), url
    assert other.get(f"/contacts/archived/{private.id}").status_code == 404
    assert other.get(f"/contacts/archived/{private.id}/attachment/0").status_code == 404
    assert other.get(f"/contacts/archived/{shared.id}").status_code == 200
    # nor changed through Send and archive's dialog, nor another's message archived by its id
    assert other.post("/contacts/archive", {"archived": str(private.id), "person": "", "company": "",
                                            "visible": "all"}).status_code == 404
    assert other.post("/contacts/archive", {"ids": str(anna), "visible": "all"}).status_code == 404
    assert archived_rows(app)[0].visible_to_all is False
    assert inbox.post("/contacts/archive", {"ids": str(anna), "visible": "all"}, csrf=False).status_code == 400


def test_an_attachment_alone_and_the_messages_picked_in_the_list(app, mailbox, lab):
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Anna Berg <anna@kund.example>", mailbox.address, "Avtal"
    message.set_content("Se bilagan.")
    message.add_attachment(b"%PDF-1.4 avtal", maintype="application", subtype="pdf", filename="avtal.pdf")
    lab.append(mailbox.address, message)
    karin = crm_person(app, "Anna", "Berg", "anna@kund.example", company="Kund AB", domains=["kund.example"])
    inbox = connected(app, mailbox)
    avtal, _ = message_row(app, "Avtal")
    pane = inbox.get(f"/inbox/message/{avtal}", htmx=True).get_data(as_text=True)
    assert f"/contacts/archive?message={avtal}&amp;attachment=" in pane
    dialog = text(inbox.get(f"/contacts/archive?message={avtal}&attachment=2", htmx=True))
    assert "avtal.pdf" in dialog
    answer = create(inbox, ids=str(avtal), attachment="2", person=str(karin), company="", visible="all")
    assert "The attachment was archived." in answer.headers["HX-Trigger"]
    [attachment] = archived_rows(app)
    assert (attachment.filename, attachment.company_id) == ("avtal.pdf", crm_company_id(app, "Kund AB"))
    download = inbox.get(f"/contacts/archived/{attachment.id}")
    assert download.data == b"%PDF-1.4 avtal" and "attachment" in download.headers["Content-Disposition"]

    picked = [str(message_row(app, subject)[0]) for subject in ("Meeting notes", "Återkoppling")]
    dialog = inbox.post("/contacts/archive/picked", {"ids": picked})
    assert dialog.status_code == 200 and "and 1 more" in text(dialog)
    answer = create(inbox, ids=picked, person="", company="", visible="all")
    assert "2 emails were archived." in answer.headers["HX-Trigger"]
    assert len(archived_rows(app)) == 3


def test_an_unknown_sender_goes_through_add_contact_first(app, mailbox):
    inbox = connected(app, mailbox, )
    anna, _ = message_row(app, "Offert för våren")
    first = inbox.get(f"/contacts/archive?message={anna}", htmx=True).get_data(as_text=True)
    assert "Add contact" in first and 'name="then" value="archive"' in first
    answer = inbox.post("/contacts/add", {"address": "anna@kund.example", "first_name": "Anna", "last_name": "Berg",
                                          "company_name": "Kund AB", "message": str(anna), "then": "archive"})
    assert answer.status_code == 200 and answer.headers["HX-Retarget"] == "#modal"
    page = answer.get_data(as_text=True)
    assert "Document" in text(answer) and re.search(r'name="person" value="\d+" checked', page)
    assert re.search(r'name="company" value="\d+" checked> Kund AB', page)

    bob, _ = message_row(app, "Meeting notes")
    declined = inbox.post("/contacts/add/not", {"address": "bob@partner.example", "message": str(bob),
                                                "then": "archive"})
    assert "Document" in text(declined) and 'name="person" value="" checked' in declined.get_data(as_text=True)
    assert "Add contact" not in text(inbox.get(f"/contacts/archive?message={bob}", htmx=True))


def test_send_and_archive_opens_the_document_dialog_prefilled_from_the_recipients(app, mailbox, lab):
    karin = crm_person(app, "Karin", "Lund", "karin@kund.example", company="Kund AB", domains=["kund.example"])
    inbox = connected(app, mailbox)
    window = re.search(r'name="window"[^>]*value="([^"]*)"',
                       inbox.get("/inbox/compose/", htmx=True).get_data(as_text=True)).group(1)
    answer = inbox.post("/inbox/compose/", {"window": window, "mode": "new", "to": "karin@kund.example",
                                      "subject": "Offert", "body": "Här är offerten.", "archive": "1"})
    assert answer.status_code == 200 and answer.headers["HX-Retarget"] == "#modal", text(answer)
    page = answer.get_data(as_text=True)
    assert "Your email was sent." in text(answer) and f'name="person" value="{karin}" checked' in page
    [sent] = archived_rows(app)
    assert sent.incoming is False and sent.visible_to_all is False
    create(inbox, archived=str(sent.id), person=str(karin), company=str(crm_company_id(app, "Kund AB")), visible="all")
    [sent] = archived_rows(app)
    assert (sent.person_id, sent.visible_to_all) == (karin, True)
    card = text(colleague(app).get(f"/contacts/person/{karin}"))
    assert "Offert" in card and "Sent" in card
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(func.count()).select_from(ArchivedEmail)) == 1


def test_the_preview_of_an_archived_email_runs_nothing_and_fetches_nothing(app):
    from mailcore.models import User

    browser = Browser(app.test_client())
    make_user(app, "anna@crm.example", name="Anna Andersson")
    browser.sign_in("anna@crm.example", "crm-password-1")
    hostile = (b"From: x@kund.example\r\nSubject: Elak\r\nMIME-Version: 1.0\r\nContent-Type: text/html\r\n\r\n"
               b"<p onclick=\"alert(1)\">Hej</p><script>alert(2)</script><img src=\"https://tracker.example/p.gif\">")
    with app.extensions["mail"].sessions() as db:
        owner = db.scalar(select(User).where(User.email == "anna@crm.example"))
        row = ArchivedEmail(user_id=owner.id, message_id="<elak@x>", subject="Elak", recipients="", raw=hostile,
                            incoming=True, visible_to_all=False)
        db.add(row)
        db.commit()
        archived_id = row.id
    page = browser.get(f"/contacts/archived/{archived_id}").get_data(as_text=True)
    frame = re.search(r'<iframe class="body-frame" sandbox="allow-popups allow-popups-to-escape-sandbox"'
                      r'[^>]*srcdoc="([^"]*)"', page)
    assert frame is not None
    assert "alert" not in page and "tracker.example" not in page and "Hej" in frame.group(1)
