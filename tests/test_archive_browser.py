"""Archive email in a real Chromium, in Swedish and in English: the Archive menu of the open message (not
the Archive folder under Move), the Document dialog prefilled from the sender, another contact picked by
typing, Only me, Create; then the person card lists the email with who archived it, and it opens in the
safe preview (a sandboxed frame)."""

from __future__ import annotations

import os

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect
from sqlalchemy import select

from mailcore.crm import people
from mailcore.models import ArchivedEmail

from .browser import WatchedPages, sign_in, wait_for_htmx
from .helpers import connected

expect.set_options(timeout=10_000)
WORDS = {
    "en": {"user": "User name", "password": "Password", "sign_in": "Sign in", "archive": "Archive",
           "archive_email": "Archive email", "document": "Document", "contact": "Find a contact", "only_me": "Only me",
           "create": "Create", "done": "The email was archived.", "archived": "Archived emails", "move": "Move",
           "folder": "Archive"},
    "sv": {"user": "Användarnamn", "password": "Lösenord", "sign_in": "Logga in", "archive": "Arkivera",
           "archive_email": "Arkivera e-postmeddelande", "document": "Dokument", "contact": "Sök efter en kontakt",
           "only_me": "Endast mig", "create": "Skapa", "done": "E-postmeddelandet arkiverades.",
           "archived": "Arkiverade e-postmeddelanden", "move": "Flytta", "folder": "Arkiv"},
}
LOCALES = {"en": "en-GB", "sv": "sv-SE"}


@pytest.mark.parametrize("lang", ["sv", "en"])
def test_archive_email_from_the_open_message_to_a_contact_picked_by_typing(app, mailbox, base_url, chromium, lang,
                                                                           tmp_path):
    words = WORDS[lang]
    with app.extensions["mail"].sessions() as db:
        kund = people.save_company(db, name="Kund AB", domains=["kund.example"])
        people.save_person(db, people.Card("Anna", "Berg", emails=["anna@kund.example"]), company=kund)
        karin = people.save_person(db, people.Card("Karin", "Lund", emails=["karin@kund.example"]), company=kund).id
    client = connected(app, mailbox)
    client.post("/settings/personal", {"language": lang, "signature": ""})
    pages = WatchedPages(chromium)
    shots = os.environ.get("INKORG_SHOTS")
    try:
        page = pages.open(locale=LOCALES[lang], viewport={"width": 1280, "height": 800}, timezone_id="UTC")
        sign_in(page, base_url, mailbox.address, "crm-password-1", words)
        page.locator("#message-list .message a", has_text="Offert för våren").click()
        wait_for_htmx(page)
        menu = page.locator("#reading .archive-menu")
        menu.get_by_text(words["archive"], exact=True).click()
        # the CRM's Archive is not the folder: that one is under Move
        expect(menu.get_by_role("link", name=words["archive_email"])).to_be_visible()
        expect(menu.get_by_role("button", name=words["folder"], exact=True)).to_have_count(0)
        expect(page.locator("#reading .move-menu button[data-key=e]")).to_have_text(words["folder"])
        if shots:
            page.screenshot(path=f"{shots}/menu-{lang}.png")
        menu.get_by_role("link", name=words["archive_email"]).click()
        dialog = page.locator("dialog.document")
        expect(dialog.get_by_role("heading", name=words["document"])).to_be_visible()
        page.wait_for_function("() => document.querySelector('dialog:modal') !== null")
        expect(dialog.get_by_role("radio", name="Kund AB", exact=True)).to_be_checked()
        expect(dialog.get_by_role("radio", name="Anna Berg · Kund AB")).to_be_checked()
        dialog.get_by_label(words["contact"]).press_sequentially("Karin")
        dialog.get_by_role("radio", name="Karin Lund · Kund AB").check()
        dialog.get_by_role("radio", name=words["only_me"]).check()
        if shots:
            page.screenshot(path=f"{shots}/document-{lang}.png")
        dialog.get_by_role("button", name=words["create"], exact=True).click()
        expect(page.locator("#toast")).to_contain_text(words["done"])
        expect(page.locator("dialog.document")).to_have_count(0)

        page.goto(f"{base_url}/contacts/person/{karin}")
        history = page.locator("ul.archived")
        expect(page.get_by_role("heading", name=words["archived"])).to_be_visible()
        expect(history).to_contain_text("Offert för våren")
        expect(history).to_contain_text("Anna Andersson")
        history.get_by_role("link", name="Offert för våren").click()
        expect(page.locator("#archived-subject")).to_have_text("Offert för våren")
        expect(page.locator(".archived-email .body")).to_contain_text("Hej!")
        if shots:
            page.screenshot(path=f"{shots}/preview-{lang}.png")
    finally:
        pages.close()
    with app.extensions["mail"].sessions() as db:
        [kept] = db.scalars(select(ArchivedEmail))
        assert (kept.person_id, kept.company_id, kept.visible_to_all) == (karin, kund.id, False)


def test_send_and_archive_then_an_unknown_sender_through_add_contact(app, mailbox, base_url, chromium):
    """Send and archive: the compose form gives way to the Document dialog; then Archive email of an unknown
    sender opens Add contact, and Do not add contact leads on to the Document dialog."""
    words = WORDS["en"]
    with app.extensions["mail"].sessions() as db:
        kund = people.save_company(db, name="Kund AB", domains=["kund.example"])
        people.save_person(db, people.Card("Karin", "Lund", emails=["karin@kund.example"]), company=kund)
    connected(app, mailbox)
    pages = WatchedPages(chromium)
    try:
        page = pages.open(locale="en-GB", viewport={"width": 1280, "height": 800}, timezone_id="UTC")
        sign_in(page, base_url, mailbox.address, "crm-password-1", words)
        page.get_by_role("link", name="New", exact=True).click()
        compose = page.locator("dialog.compose")
        compose.get_by_label("To", exact=True).fill("karin@kund.example")
        compose.get_by_label("Subject", exact=True).fill("Offert")
        compose.get_by_role("button", name="Send and archive", exact=True).click()
        dialog = page.locator("dialog.document")
        expect(dialog.get_by_role("heading", name=words["document"])).to_be_visible()
        expect(page.locator("dialog.compose")).to_have_count(0)
        expect(dialog).to_contain_text("Your email was sent.")
        expect(dialog.get_by_role("radio", name="Karin Lund · Kund AB")).to_be_checked()
        dialog.get_by_role("button", name=words["create"], exact=True).click()
        expect(page.locator("#toast")).to_contain_text(words["done"])

        page.locator("#message-list .message a", has_text="Meeting notes").click()
        wait_for_htmx(page)
        page.locator("#reading .archive-menu summary").click()
        page.locator("#reading .archive-menu").get_by_role("link", name=words["archive_email"]).click()
        add = page.locator("dialog.add-contact")
        expect(add).to_be_visible()
        add.get_by_role("button", name="Do not add contact").click()
        dialog = page.locator("dialog.document")
        expect(dialog.get_by_role("heading", name=words["document"])).to_be_visible()
        dialog.get_by_role("button", name=words["create"], exact=True).click()
        expect(page.locator("#toast")).to_contain_text(words["done"])

        for subject in ("Offert för våren", "Återkoppling"):  # the multi-select bar
            page.locator("#message-list .message", has_text=subject).locator("input.pick").check()
        page.locator(".bulk-bar").get_by_role("button", name=words["archive_email"], exact=True).click()
        dialog = page.locator("dialog.document")
        expect(dialog).to_contain_text("and 1 more")
        dialog.get_by_role("button", name=words["create"], exact=True).click()
        expect(page.locator("#toast")).to_contain_text("2 emails were archived.")
    finally:
        pages.close()
    with app.extensions["mail"].sessions() as db:
        kept = {row.subject: row for row in db.scalars(select(ArchivedEmail))}
        assert sorted(kept) == ["Meeting notes", "Offert", "Offert för våren", "Återkoppling"]
        assert kept["Offert"].visible_to_all is True
