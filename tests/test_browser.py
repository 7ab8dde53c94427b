"""The Set up email account flow in a real Chromium, against the real Dovecot and SMTP servers.

Every field is found by its visible label and every button by its name, the way a person finds them.
"""

from __future__ import annotations

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from .browser import WatchedPages, sign_in, wait_for_htmx
from .helpers import make_user

CRM_PASSWORD = "crm-password-1"
TIMEOUT = 15_000  # ms; a log-in reaches the real Dovecot, which delays failed logins

WORDS = {
    "en": {"user": "User name", "password": "Password", "sign_in": "Sign in",
           "dialog": "Set up email account", "account": "Email account", "next": "Next",
           "recognised": "Recognised provider:", "log_in": "Log in", "inbox": "INBOX",
           "advanced": "Advanced settings", "incoming": "Incoming email settings",
           "incoming_server": "Incoming e-mail server", "save": "Save",
           "personal": "Personal settings", "navigator": "Navigator"},
    "sv": {"user": "Användarnamn", "password": "Lösenord", "sign_in": "Logga in",
           "dialog": "Konfigurera e-postkonto", "account": "E-postkonto", "next": "Nästa",
           "recognised": "Igenkänd e-postleverantör:", "log_in": "Logga in", "inbox": "INKORG",
           "advanced": "Avancerade inställningar", "incoming": "Inställningar för inkommande e-post",
           "incoming_server": "Server för inkommande e-post", "save": "Spara",
           "personal": "Personliga inställningar", "navigator": "Navigator"},
}
BROWSER_LOCALE = {"en": "en-GB", "sv": "sv-SE"}



@pytest.fixture
def open_page(chromium):
    """open_page(lang) -> a fresh page (own cookies) whose console errors are checked at the end."""
    pages = WatchedPages(chromium, TIMEOUT)
    yield lambda lang="en": pages.open(locale=BROWSER_LOCALE[lang], viewport={"width": 1280, "height": 800})
    pages.close()


def setup_dialog(page, words: dict):
    """The open Set up email account dialog, after checking it is a real modal holding the focus."""
    dialog = page.get_by_role("dialog", name=words["dialog"])
    expect(dialog).to_be_visible(timeout=5_000)
    page.wait_for_function("() => document.querySelector('dialog:modal') !== null", timeout=3_000)
    assert page.evaluate("() => document.querySelectorAll('dialog:modal').length") == 1
    assert page.evaluate("() => document.querySelector('dialog:modal').contains(document.activeElement)")
    return dialog


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_set_up_and_see_the_inbox(app, base_url, open_page, mailbox, lang):
    words = WORDS[lang]
    make_user(app, mailbox.address, language=lang)
    page = open_page(lang)
    sign_in(page, base_url, mailbox.address, CRM_PASSWORD, words)

    dialog = setup_dialog(page, words)
    dialog.get_by_label(words["account"], exact=True).fill(mailbox.address)
    dialog.get_by_role("button", name=words["next"], exact=True).click()
    expect(dialog).to_contain_text(words["recognised"])
    expect(dialog).to_contain_text("Testmail")

    dialog.get_by_label(words["password"], exact=True).fill(mailbox.password)
    dialog.get_by_role("button", name=words["log_in"], exact=True).click()

    expect(page.get_by_role("heading", name=words["inbox"], exact=True)).to_be_visible()
    messages = page.get_by_role("list").filter(has_text="Meeting notes")
    expect(messages).to_contain_text("Offert för våren")
    expect(messages).to_contain_text("Meeting notes")
    expect(page.get_by_role("dialog")).to_have_count(0)
    # still the whole frame around the inbox, not the inbox alone
    expect(page.get_by_title(words["personal"], exact=True)).to_be_visible()
    expect(page.get_by_role("navigation", name=words["navigator"], exact=True)).to_be_visible()


def test_advanced_settings_swap_in_place_and_explain_a_wrong_password(app, base_url, open_page, mailbox, lab):
    words = WORDS["en"]
    make_user(app, mailbox.address, language="en")
    page = open_page("en")
    page.console_problems.allowed_statuses.add(422)  # the answer to a form that needs correcting
    sign_in(page, base_url, mailbox.address, CRM_PASSWORD, words)
    dialog = setup_dialog(page, words)
    dialog.get_by_label(words["account"], exact=True).fill(mailbox.address)

    page.evaluate("() => { window.__noReload = 'still here'; }")
    dialog.get_by_role("link", name=words["advanced"], exact=True).click()
    advanced = page.get_by_role("dialog", name=words["advanced"])
    expect(advanced).to_be_visible()
    wait_for_htmx(page)
    assert page.evaluate("() => window.__noReload") == "still here", "Advanced settings reloaded the page"

    incoming = advanced.get_by_role("group", name=words["incoming"], exact=True)
    server = incoming.get_by_label(words["incoming_server"], exact=True)
    server.fill(lab.hostname)
    incoming.get_by_label(words["user"], exact=True).fill(mailbox.address)
    incoming.get_by_label(words["password"], exact=True).fill("certainly-not-the-password")
    advanced.get_by_role("button", name=words["save"], exact=True).click()

    expect(incoming).to_contain_text("The user name or password was not accepted")
    wait_for_htmx(page)
    assert page.evaluate("() => window.__noReload") == "still here", "Save reloaded the page"
    expect(incoming.get_by_label(words["incoming_server"], exact=True)).to_have_value(lab.hostname)
    expect(incoming.get_by_label(words["password"], exact=True)).to_have_value("")


def test_the_dialog_stays_modal_after_each_step(app, base_url, open_page, mailbox):
    """Each step swapped in by htmx is again a modal holding the focus, not a plain open dialog."""
    words = WORDS["en"]
    make_user(app, mailbox.address, language="en")
    page = open_page("en")
    sign_in(page, base_url, mailbox.address, CRM_PASSWORD, words)
    dialog = setup_dialog(page, words)
    dialog.get_by_label(words["account"], exact=True).fill(mailbox.address)
    dialog.get_by_role("button", name=words["next"], exact=True).click()
    expect(dialog).to_contain_text(words["recognised"])
    wait_for_htmx(page)
    dialog = setup_dialog(page, words)

    dialog.get_by_role("link", name=words["advanced"], exact=True).click()
    expect(page.get_by_role("dialog", name=words["advanced"])).to_be_visible()
    wait_for_htmx(page)
    setup_dialog(page, {**words, "dialog": words["advanced"]})


def test_escape_closes_the_setup_dialog(app, base_url, open_page):
    words = WORDS["en"]
    make_user(app, "escape@inkorg.test", language="en")
    page = open_page("en")
    sign_in(page, base_url, "escape@inkorg.test", CRM_PASSWORD, words)
    setup_dialog(page, words)

    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.wait_for_function("() => document.querySelector('dialog') === null", timeout=5000)  # removed once closed
    opener = page.get_by_role("link", name=words["dialog"], exact=True).or_(
        page.get_by_role("button", name=words["dialog"], exact=True))
    expect(opener).to_be_visible()


def test_a_console_error_or_a_page_error_fails_the_watched_pages(chromium):
    """The check every browser test relies on: it cannot pass over an error in the page."""
    for script in ("console.error('broken')", "setTimeout(() => { throw new Error('uncaught'); })"):
        pages = WatchedPages(chromium)
        page = pages.open({422})
        page.set_content("<p>page</p>")
        page.evaluate(script)
        page.wait_for_timeout(100)
        with pytest.raises(AssertionError, match="errors in the browser console"):
            pages.close()
