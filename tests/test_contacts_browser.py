"""An unknown sender in a real Chromium: the Unknown sender banner, the Add contact dialog with the
name and company guessed, and Create new company and contact, after which the pane and the list name
the sender with the company; in Swedish and in English."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect
from sqlalchemy import select

from mailcore.models import Person

from .browser import WatchedPages, sign_in, wait_for_htmx
from .helpers import connected

expect.set_options(timeout=10_000)
WORDS = {
    "en": {"user": "User name", "password": "Password", "sign_in": "Sign in", "banner": "Unknown sender",
           "add": "Add contact", "create": "Create new company and contact", "first": "First name",
           "last": "Last name", "company": "Company"},
    "sv": {"user": "Användarnamn", "password": "Lösenord", "sign_in": "Logga in", "banner": "Okänd avsändare",
           "add": "Lägg till kontakt", "create": "Skapa nytt företag och ny kontakt", "first": "Förnamn",
           "last": "Efternamn", "company": "Företag"},
}
LOCALES = {"en": "en-GB", "sv": "sv-SE"}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_unknown_sender_to_a_new_company_and_contact(app, mailbox, base_url, chromium, lang):
    words = WORDS[lang]
    client = connected(app, mailbox)
    client.post("/settings/personal", {"language": lang, "signature": ""})
    pages = WatchedPages(chromium)
    try:
        page = pages.open({422}, locale=LOCALES[lang], viewport={"width": 1280, "height": 800}, timezone_id="UTC")
        sign_in(page, base_url, mailbox.address, "crm-password-1", words)
        page.locator("#message-list .message a", has_text="Offert för våren").click()
        wait_for_htmx(page)
        banner = page.locator(".unknown-sender")
        expect(banner).to_contain_text(words["banner"])
        banner.get_by_role("link", name=words["add"]).click()
        dialog = page.locator("dialog.add-contact")
        expect(dialog).to_be_visible()
        page.wait_for_function("() => document.querySelector('dialog:modal') !== null")
        expect(dialog.get_by_role("heading", name=words["add"])).to_be_visible()
        expect(dialog.get_by_label(words["first"], exact=True)).to_have_value("Anna")
        expect(dialog.get_by_label(words["last"], exact=True)).to_have_value("Berg")
        company = dialog.get_by_label(words["company"], exact=True)
        expect(company).to_have_value("Kund")
        company.fill("Kund AB")
        dialog.get_by_role("button", name=words["create"]).click()
        wait_for_htmx(page)
        expect(page.locator("dialog.add-contact")).to_have_count(0)
        expect(page.locator(".unknown-sender")).to_have_count(0)
        sender = page.locator("#reading .from .party.known")
        expect(sender).to_contain_text("Anna Berg")
        expect(sender).to_contain_text("Kund AB")
        expect(page.locator("#message-list .message", has_text="Offert för våren")).to_contain_text("Kund AB")
        sender.locator("a").first.focus()
        expect(sender.locator(".peek")).to_be_visible()
    finally:
        pages.close()
    with app.extensions["mail"].sessions() as db:
        person = db.scalar(select(Person).where(Person.last_name == "Berg"))
        assert person.company.name == "Kund AB"
        assert [item.domain for item in person.company.domains] == ["kund.example"]


def test_a_suggested_company_and_do_not_add_contact(app, mailbox, base_url, chromium):
    """New contact here under This contact might work at, then Do not add contact for another sender."""
    with app.extensions["mail"].sessions() as db:
        from mailcore.crm import people

        people.save_company(db, name="Kund AB", domains=["kund.example"])
    connected(app, mailbox)
    words = WORDS["en"]
    pages = WatchedPages(chromium)
    try:
        page = pages.open({422}, locale="en-GB", viewport={"width": 390, "height": 844}, timezone_id="UTC")
        sign_in(page, base_url, mailbox.address, "crm-password-1", words)
        page.locator("#message-list .message a", has_text="Återkoppling").click()
        wait_for_htmx(page)
        page.locator(".unknown-sender").get_by_role("link", name=words["add"]).click()
        dialog = page.locator("dialog.add-contact")
        expect(dialog.get_by_text("This contact might work at")).to_be_visible()
        dialog.get_by_role("button", name="New contact at Kund AB").click()
        wait_for_htmx(page)
        expect(page.locator("#reading .from .party.known")).to_contain_text("Kund AB")
        page.goto(base_url + "/inbox/")
        page.locator("#message-list .message a", has_text="Meeting notes").click()
        wait_for_htmx(page)
        page.locator(".unknown-sender").get_by_role("link", name=words["add"]).click()
        page.locator("dialog.add-contact").get_by_role("button", name="Do not add contact").click()
        wait_for_htmx(page)
        expect(page.locator("#reading h2", has_text="Meeting notes")).to_be_visible()
        expect(page.locator(".unknown-sender")).to_have_count(0)
    finally:
        pages.close()
    with app.extensions["mail"].sessions() as db:
        person = db.scalar(select(Person).where(Person.first_name == "Åsa"))
        assert person.company.name == "Kund AB" and len(people.companies_for(db, "x@kund.example")) == 1


def test_contacts_finds_as_the_user_types(app, mailbox, base_url, chromium):
    from mailcore.crm import people

    with app.extensions["mail"].sessions() as db:
        company = people.save_company(db, name="Kund AB", domains=["kund.se"])
        people.save_person(db, people.Card("Karin", "Lund", "Inköpare", emails=["karin@kund.se"]), company=company)
    connected(app, mailbox)
    pages = WatchedPages(chromium)
    try:
        page = pages.open(locale="en-GB", viewport={"width": 1280, "height": 800}, timezone_id="UTC")
        sign_in(page, base_url, mailbox.address, "crm-password-1", WORDS["en"])
        page.get_by_role("navigation", name="Navigator").get_by_role("link", name="Contacts").click()
        page.wait_for_url("**/contacts/")
        page.get_by_label("Find a person or company by name, email address or domain").press_sequentially("kund.s")
        results = page.locator("#results")
        expect(results).to_contain_text("Karin Lund")
        expect(results).to_contain_text("Kund AB")
        expect(page).to_have_url(base_url + "/contacts/?q=kund.s")
        results.get_by_role("link", name="Karin Lund").click()
        expect(page.get_by_role("heading", name="Karin Lund")).to_be_visible()
        expect(page.locator(".facts")).to_contain_text("Inköpare")
    finally:
        pages.close()
