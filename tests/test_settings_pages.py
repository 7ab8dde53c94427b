"""Personal settings and the account's dialogs in a real Chromium against the real Dovecot: the page
ends in a navigation, the edit dialog is titled for what it does, and removing the account is
confirmed where the user lands."""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

expect.set_options(timeout=10_000)


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_personal_settings_navigation_edit_dialog_and_removal_confirmed(inbox_page, base_url, lang):
    w = {"en": {"nav": "More settings", "options": "Email options", "tab": "Email account",
                "edit": "Edit/remove", "title": "Edit email account", "remove": "Remove account",
                "removed": "The email account was removed.", "setup": "Set up email account"},
         "sv": {"nav": "Fler inställningar", "options": "Alternativ för e-post", "tab": "E-postkonto",
                "edit": "Redigera/ta bort", "title": "Redigera e-postkonto", "remove": "Ta bort konto",
                "removed": "E-postkontot togs bort.", "setup": "Konfigurera e-postkonto"}}[lang]
    page = inbox_page(lang)
    page.goto(base_url + "/settings/personal")
    nav = page.get_by_role("navigation", name=w["nav"])
    expect(nav.get_by_role("link")).to_have_count(4)  # Email options, Contact card, Templates, Inbox
    expect(nav.get_by_role("link").first).to_contain_text(w["options"])
    expect(page.locator("main ul.links")).to_have_count(0)  # no bare bullet list
    nav.get_by_role("link").first.click()
    options = page.get_by_role("dialog", name=w["options"])
    options.get_by_role("tab", name=w["tab"], exact=True).click()
    options = page.get_by_role("dialog", name=w["options"])
    options.get_by_role("link", name=w["edit"], exact=True).click()
    edit = page.get_by_role("dialog", name=w["title"])
    expect(edit).to_be_visible()
    edit.get_by_role("link", name=w["remove"], exact=True).click()
    page.get_by_role("dialog", name=w["remove"]).get_by_role("button", name=w["remove"], exact=True).click()
    expect(page.locator("#toast")).to_contain_text(w["removed"])
    expect(page.get_by_role("dialog", name=w["setup"])).to_be_visible()
    if lang == "en":  # once is enough to see it go, as every confirmation does
        expect(page.locator("#toast")).to_be_empty()
