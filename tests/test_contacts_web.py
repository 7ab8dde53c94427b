"""Contacts in the web app: the Contacts page, person and company cards (edit, merge), and the reading
pane's known and unknown senders with the Add contact dialog. The inbox's mail comes from the lab's
Dovecot; persons and companies are rows in the app's database."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mailcore import services
from mailcore.crm import people
from mailcore.models import Company, Message, Person, User

from .helpers import Browser, connected, make_user, statements, text


def sessions(app):
    return app.extensions["mail"].sessions()


def add_person(app, first: str, last: str, *emails: str, company: str | None = None, domains=(),
               title: str = "", phone: str = "") -> int:
    with sessions(app) as db:
        found = people.company_named(db, company) if company else None
        if company and found is None:
            found = people.save_company(db, name=company, domains=list(domains))
        person = people.save_person(db, people.Card(first, last, title, phone, list(emails)), company=found)
        return person.id


def company_id(app, name: str) -> int:
    with sessions(app) as db:
        return people.company_named(db, name).id


def signed_in(app, email_address: str = "anna@crm.example", language: str = "en") -> Browser:
    make_user(app, email_address, name="Anna Andersson", language=language)
    browser = Browser(app.test_client())
    browser.sign_in(email_address, "crm-password-1")
    return browser


def message_id(app, subject: str) -> tuple[int, int]:
    with sessions(app) as db:
        found = db.scalar(select(Message).where(Message.subject == subject))
        return found.id, found.folder_id


# --- the Contacts page ------------------------------------------------------------------------


def test_contacts_is_in_the_navigator_and_finds_by_name_address_and_domain(app):
    add_person(app, "Karin", "Lund", "karin@kund.se", company="Kund AB", domains=["kund.se"])
    add_person(app, "Olle", "Berg", "olle@annat.se")
    browser = signed_in(app)
    page = browser.get("/contacts/")
    assert page.status_code == 200
    assert re.search(r'<nav class="navigator".*href="/contacts/"[^>]*>.*Contacts', page.get_data(as_text=True), re.S)
    assert 'hx-trigger="input changed delay:200ms, search"' in page.get_data(as_text=True)
    for typed in ("karin", "Lund", "karin@kund", "kund.se"):
        found = text(browser.get(f"/contacts/?q={typed}", headers={"HX-Target": "results"}, htmx=True))
        assert "Karin Lund" in found and "Olle Berg" not in found, typed
    found = browser.get("/contacts/?q=kund", headers={"HX-Target": "results"}, htmx=True)
    assert "Kund AB" in text(found) and "<nav" not in found.get_data(as_text=True)  # only the results
    assert f'/contacts/company/{company_id(app, "Kund AB")}' in found.get_data(as_text=True)
    assert "No person or company matches zzz." in text(browser.get("/contacts/?q=zzz"))


def test_contacts_says_when_it_shows_only_the_first_found(app):
    for number in range(21):
        add_person(app, "Test", f"Person{number:02}", f"p{number}@many.se")
    browser = signed_in(app)
    found = text(browser.get("/contacts/?q=many.se"))
    assert "Only the first 20 are shown: type more to narrow the search." in found
    assert "Test Person19" in found and "Test Person20" not in found


def test_contacts_needs_a_signed_in_user(app):
    assert Browser(app.test_client()).get("/contacts/").status_code in (302, 303)


# --- person and company cards -----------------------------------------------------------------


def test_the_person_card_shows_addresses_and_company_and_the_company_card_its_domains_and_persons(app):
    karin = add_person(app, "Karin", "Lund", "karin@kund.se", "k.lund@kund.se", company="Kund AB",
                       domains=["kund.se"], title="Inköpare", phone="+46 8 123 45")
    browser = signed_in(app)
    card = text(browser.get(f"/contacts/person/{karin}"))
    for shown in ("Karin Lund", "Inköpare", "Kund AB", "+46 8 123 45", "karin@kund.se", "k.lund@kund.se"):
        assert shown in card
    company = text(browser.get(f"/contacts/company/{company_id(app, 'Kund AB')}"))
    assert "kund.se" in company and "Karin Lund" in company
    assert browser.get("/contacts/person/999999").status_code == 404
    assert browser.get("/contacts/company/999999").status_code == 404


def test_editing_a_person(app):
    karin = add_person(app, "Karin", "Lund", "karin@kund.se")
    browser = signed_in(app)
    assert 'name="first_name"' in browser.get(f"/contacts/person/{karin}/edit", htmx=True).get_data(as_text=True)
    answer = browser.post(f"/contacts/person/{karin}/edit", {
        "first_name": "Karin", "last_name": "Lund-Ek", "title": "VD", "phone": "08-1",
        "company": "Nytt Bolag", "emails": "karin@kund.se\nkarin@nytt.se"})
    assert answer.status_code == 204 and f"/contacts/person/{karin}" in answer.headers["HX-Location"]
    plain = browser.post(f"/contacts/person/{karin}/edit", {"first_name": "Karin", "last_name": "Lund-Ek",
                                                              "title": "VD", "phone": "08-1", "company": "Nytt Bolag",
                                                              "emails": "karin@kund.se\nkarin@nytt.se"}, htmx=False)
    assert plain.status_code == 303 and plain.headers["Location"].endswith(f"/contacts/person/{karin}")  # no script
    with sessions(app) as db:
        person = db.get(Person, karin)
        assert (person.name, person.title, person.company.name) == ("Karin Lund-Ek", "VD", "Nytt Bolag")
        assert [item.address for item in person.emails] == ["karin@kund.se", "karin@nytt.se"]


def test_bad_input_on_a_person_is_refused_translated_and_nothing_typed_is_lost(app):
    karin = add_person(app, "Karin", "Lund", "karin@kund.se")
    browser = signed_in(app, "sv-user@crm.example", language="sv")
    answer = browser.post(f"/contacts/person/{karin}/edit", {
        "first_name": "", "last_name": "", "title": "Säljchef", "emails": "karin@kund.se\ninte en adress"})
    assert answer.status_code == 422
    said = text(answer)
    assert "Ange ett förnamn eller ett efternamn." in said and "Inte en e-postadress: inte en adress" in said
    assert "Säljchef" in answer.get_data(as_text=True) and "inte en adress" in answer.get_data(as_text=True)
    with sessions(app) as db:
        assert db.get(Person, karin).title == ""


def test_changes_need_the_csrf_token(app):
    karin = add_person(app, "Karin", "Lund", "karin@kund.se", company="Kund AB", domains=["kund.se"])
    olle = add_person(app, "Olle", "Berg", "olle@kund.se")
    browser = signed_in(app)
    for url, data in ((f"/contacts/person/{karin}/edit", {"first_name": "X"}),
                      (f"/contacts/company/{company_id(app, 'Kund AB')}/edit", {"name": "X"}),
                      (f"/contacts/person/{karin}/merge", {"other": olle}),
                      ("/contacts/add", {"address": "new@kund.se", "first_name": "X"}),
                      (f"/contacts/add/to/{karin}", {"address": "new@kund.se"}),
                      ("/contacts/add/not", {"address": "new@kund.se"})):
        assert browser.post(url, data, csrf=False).status_code == 400, url
    with sessions(app) as db:
        assert db.get(Person, karin).first_name == "Karin" and db.get(Person, olle) is not None
        assert db.scalar(select(Company).where(Company.name == "X")) is None


def test_a_users_own_card_is_seen_by_colleagues_and_changed_only_by_its_user(app):
    signed_in(app, "bo@crm.example")
    browser = signed_in(app)
    with sessions(app) as db:
        bo_user = db.scalar(select(User).where(User.email == "bo@crm.example"))
        services.add_contact_email(db, bo_user, "bo.privat@crm.example")
        bo = bo_user.person_id
        mine = db.scalar(select(User).where(User.email == "anna@crm.example")).person_id
    assert "only they change it" in text(browser.get(f"/contacts/person/{bo}"))
    card = text(browser.get(f"/contacts/person/{bo}"))
    assert "bo@crm.example" in card and "bo.privat@crm.example" not in card  # not verified: only Bo sees it
    assert browser.post(f"/contacts/person/{bo}/edit", {"first_name": "X", "last_name": "Y"}).status_code == 403
    assert browser.post(f"/contacts/person/{bo}/merge", {"other": mine}).status_code == 403
    own = browser.get(f"/contacts/person/{mine}/edit", htmx=True)
    assert "/settings/contact-card" in own.headers["HX-Location"]


def test_editing_a_company_refuses_free_mail(app):
    add_person(app, "Karin", "Lund", "karin@kund.se", company="Kund AB", domains=["kund.se"])
    kund = company_id(app, "Kund AB")
    browser = signed_in(app)
    answer = browser.post(f"/contacts/company/{kund}/edit", {"name": "Kund AB", "domains": "kund.se\ngmail.com"})
    assert answer.status_code == 422 and "gmail.com is a free email domain" in text(answer)
    assert "gmail.com" in answer.get_data(as_text=True)  # what was typed stays in the form
    assert browser.post(f"/contacts/company/{kund}/edit", {"name": ""}).status_code == 422
    answer = browser.post(f"/contacts/company/{kund}/edit", {"name": "Kund Sverige AB", "domains": "kund.se\nkund.com",
                                                              "web": "kund.se"})
    assert answer.status_code == 204
    assert "kund.com" in text(browser.get(f"/contacts/company/{kund}"))


def test_merging_two_persons(app):
    karin = add_person(app, "Karin", "Lund", "karin@kund.se", company="Kund AB", domains=["kund.se"])
    other = add_person(app, "K.", "Lund", "k.lund@gmail.com", phone="070-1")
    browser = signed_in(app)
    picking = text(browser.get(f"/contacts/person/{karin}/merge?q=lund", htmx=True))
    assert "K. Lund" in picking
    confirm = text(browser.get(f"/contacts/person/{karin}/merge?other={other}", htmx=True))
    assert "k.lund@gmail.com" in confirm and "Merge" in confirm
    assert browser.get(f"/contacts/person/{karin}/merge?other={karin}").status_code == 404
    assert browser.post(f"/contacts/person/{karin}/merge", {"other": other}).status_code == 204
    with sessions(app) as db:
        assert db.get(Person, other) is None
        kept = db.get(Person, karin)
        assert [item.address for item in kept.emails] == ["karin@kund.se", "k.lund@gmail.com"] and kept.phone == "070-1"
    assert browser.post(f"/contacts/person/{karin}/merge", {"other": 999999}).status_code == 404


# --- the reading pane and the list --------------------------------------------------------------


@pytest.fixture
def inbox(app, mailbox) -> Browser:
    return connected(app, mailbox)


def test_an_unknown_sender_gets_the_banner_and_add_contact_creates_company_and_contact(app, inbox):
    anna, folder = message_id(app, "Offert för våren")
    pane = inbox.get(f"/inbox/message/{anna}", htmx=True)
    assert "Unknown sender" in text(pane) and "Add contact" in text(pane)
    dialog = inbox.get(f"/contacts/add?address=anna@kund.example&name=Anna+Berg&message={anna}", htmx=True)
    page = dialog.get_data(as_text=True)
    assert "Add contact" in text(dialog) and "Create new company and contact" in text(dialog)
    assert "Do not add contact" in text(dialog)
    for name, value in (("first_name", "Anna"), ("last_name", "Berg"), ("company_name", "Kund")):
        assert re.search(rf'name="{name}"[^>]*value="{value}"', page), name
    answer = inbox.post("/contacts/add", {"address": "anna@kund.example", "first_name": "Anna", "last_name": "Berg",
                                          "company_name": "Kund AB", "message": anna})
    assert answer.status_code == 204 and f"message={anna}" in answer.headers["HX-Location"]
    with sessions(app) as db:
        person = db.scalar(select(Person).where(Person.last_name == "Berg"))
        assert person.company.name == "Kund AB" and [d.domain for d in person.company.domains] == ["kund.example"]
    pane = text(inbox.get(f"/inbox/message/{anna}", htmx=True))
    assert "Unknown sender" not in pane and "Anna Berg" in pane and "Kund AB" in pane
    # Åsa writes from the same domain: Kund AB is suggested for her
    dialog = text(inbox.get("/contacts/add?address=asa@kund.example&name=%C3%85sa+%C3%96berg", htmx=True))
    assert "This contact might work at" in dialog and "Kund AB" in dialog
    # the list names the company beside Anna
    listing = inbox.get(f"/inbox/?folder={folder}").get_data(as_text=True)
    assert re.search(r'Anna Berg\s*<span class="sender-company">Kund AB</span>', listing)


def test_no_company_is_suggested_or_created_for_free_mail(app, inbox):
    add_person(app, "Gunnel", "Ek", "gunnel@gmail.com", company="Gmail-kunden", domains=[])
    dialog = inbox.get("/contacts/add?address=per.olsson@gmail.com", htmx=True)
    assert "This contact might work at" not in text(dialog)
    assert re.search(r'name="company_name"[^>]*value=""', dialog.get_data(as_text=True)) or \
        'name="company_name" type="text" value=""' in dialog.get_data(as_text=True)
    answer = inbox.post("/contacts/add", {"address": "per.olsson@gmail.com", "first_name": "Per",
                                          "last_name": "Olsson", "company_name": "Olssons"})
    assert answer.status_code == 204
    with sessions(app) as db:
        assert people.company_named(db, "Olssons").domains == []


def test_add_contact_refuses_bad_input_and_adds_to_an_existing_person(app, inbox):
    karin = add_person(app, "Karin", "Lund", "karin@kund.se")
    answer = inbox.post("/contacts/add", {"address": "bob@partner.example", "first_name": "", "last_name": "",
                                          "company_name": "Partner"})
    assert answer.status_code == 422 and "Enter a first name or a last name." in text(answer)
    assert 'value="Partner"' in answer.get_data(as_text=True)
    assert inbox.post("/contacts/add", {"address": "not an address", "first_name": "X"}).status_code == 422
    found = text(inbox.get("/contacts/add/find?address=bob@partner.example&q=karin", htmx=True))
    assert "Karin Lund" in found
    assert inbox.post(f"/contacts/add/to/{karin}", {"address": "bob@partner.example"}).status_code == 204
    with sessions(app) as db:
        assert [item.address for item in db.get(Person, karin).emails] == ["karin@kund.se", "bob@partner.example"]
    assert inbox.post("/contacts/add/to/999999", {"address": "bob@partner.example"}).status_code == 404
    bob, _folder = message_id(app, "Meeting notes")
    pane = text(inbox.get(f"/inbox/message/{bob}", htmx=True))
    assert "Karin Lund" in pane and "Unknown sender" not in pane


def test_do_not_add_contact_is_remembered_for_the_user(app, inbox):
    bob, _folder = message_id(app, "Meeting notes")
    assert inbox.post("/contacts/add/not", {"address": "Bob@Partner.example", "message": bob}).status_code == 204
    assert "Unknown sender" not in text(inbox.get(f"/inbox/message/{bob}", htmx=True))
    anna, _folder = message_id(app, "Offert för våren")
    assert "Unknown sender" in text(inbox.get(f"/inbox/message/{anna}", htmx=True))
    assert inbox.post("/contacts/add/not", {"address": "anna@kund.example", "message": 999999}).status_code == 404
    assert "Unknown sender" in text(inbox.get(f"/inbox/message/{anna}", htmx=True))  # refused: nothing changed


def test_several_persons_on_an_address_are_listed_to_pick_from(app, inbox):
    one = add_person(app, "Bob", "Smith", "bob@partner.example", company="Partner", domains=["partner.example"])
    two = add_person(app, "Robert", "Smith", "bob@partner.example")
    bob, _folder = message_id(app, "Meeting notes")
    pane = inbox.get(f"/inbox/message/{bob}", htmx=True)
    assert "This contact could be" in text(pane)
    html = pane.get_data(as_text=True)
    assert f"/contacts/person/{one}" in html and f"/contacts/person/{two}" in html


def test_a_known_sender_has_a_small_card_and_unknown_recipients_open_add_contact(app, inbox, lab, mailbox):
    from email.message import EmailMessage

    karin = add_person(app, "Karin", "Lund", "karin@kund.se", company="Kund AB", domains=["kund.se"],
                       title="Inköpare", phone="+46 8 123 45")
    message = EmailMessage()
    message["From"], message["To"] = "Karin Lund <karin@kund.se>", f"{mailbox.address}, Ny Person <ny@annat.example>"
    message["Cc"], message["Subject"] = "okand@annat.example", "Med kopia"
    message.set_content("Hej!")
    lab.append(mailbox.address, message)
    inbox.post("/inbox/refresh", {})
    found, _folder = message_id(app, "Med kopia")
    pane = inbox.get(f"/inbox/message/{found}", htmx=True).get_data(as_text=True)
    peek = re.search(r'<span class="peek" role="tooltip"[^>]*>(.*?)</span></span>', pane, re.S).group(1)
    for shown in ("Karin Lund", "Inköpare", "Kund AB", "+46 8 123 45"):
        assert shown in peek
    assert f'href="/contacts/person/{karin}"' in pane
    assert "Unknown sender" not in pane
    assert "/contacts/add?address=ny@annat.example&amp;name=Ny+Person&amp;message=" in pane
    assert "/contacts/add?address=okand@annat.example&amp;message=" in pane
    assert "Anna Andersson" in pane  # the reader's own address, by the name on their card


def test_recognising_a_list_page_and_a_message_is_one_query_each(app, inbox):
    add_person(app, "Anna", "Berg", "anna@kund.example", company="Kund AB", domains=["kund.example"])
    anna, folder = message_id(app, "Offert för våren")
    with statements(app) as seen:
        inbox.get(f"/inbox/?folder={folder}")
        assert sum("FROM contact_emails JOIN persons" in s for s in seen) == 1
        seen.clear()
        inbox.get(f"/inbox/message/{anna}", htmx=True)
        assert sum("FROM contact_emails JOIN persons" in s for s in seen) == 1


def test_the_cards_list_the_users_own_archived_emails_to_the_person(app):
    from mailcore.models import ArchivedEmail, ArchivedEmailLink, PersonEmail

    karin = add_person(app, "Karin", "Lund", "karin@kund.se", company="Kund AB", domains=["kund.se"])
    browser = signed_in(app)
    colleague = signed_in(app, "bo@crm.example")
    with sessions(app) as db:
        address = db.scalar(select(PersonEmail).where(PersonEmail.person_id == karin))
        for user_email, subject in (("anna@crm.example", "Offert till Karin"), ("bo@crm.example", "Bos eget")):
            owner = db.scalar(select(User).where(User.email == user_email))
            archived = ArchivedEmail(user_id=owner.id, message_id=f"<{subject}@x>", subject=subject,
                                     recipients="karin@kund.se", raw=b"")
            db.add(archived)
            db.flush()
            db.add(ArchivedEmailLink(archived_email_id=archived.id, contact_email_id=address.id))
        db.commit()
    card = text(browser.get(f"/contacts/person/{karin}"))
    assert "Archived emails" in card and "Offert till Karin" in card and "Bos eget" not in card
    company = text(browser.get(f"/contacts/company/{company_id(app, 'Kund AB')}"))
    assert "Offert till Karin" in company and "Bos eget" not in company
    assert "Bos eget" in text(colleague.get(f"/contacts/person/{karin}"))
