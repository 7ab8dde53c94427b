"""The setup guide (shared/seeds: "Konfigurera inkorgen"), sentence by sentence, in Swedish and English,
in a real Chromium against the real Dovecot and SMTP servers.

Everything is found by its accessible name, in the words of the guide (localmail.screens.WORDS, from
wording.md). A test fails on any console error and on any request that would leave the machine.
On every screen the guide shows, axe-core finds no serious or critical violation; every dialog works
with the keyboard alone.
"""

from __future__ import annotations

import re
import time

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect

from localmail.browser import LocalOnly
from localmail.screens import WORDS

from .axe import serious_violations
from .browser import ConsoleProblems, sign_in, wait_for_htmx
from .helpers import MAIL_DOMAIN, make_user

CRM_PASSWORD = "crm-password-1"
TIMEOUT = 15_000  # ms; a log-in reaches the real Dovecot, which delays failed logins
BROWSER_LOCALE = {"en": "en-GB", "sv": "sv-SE"}
LANGS = pytest.mark.parametrize("lang", ["sv", "en"])
GUIDE_ADVICE = {
    "en": "Some email providers, such as Gmail, block login attempts from unknown apps.",
    "sv": "Vissa e-postleverantörer, till exempel Gmail, blockerar inloggningsförsök från okända appar.",
}



class Reader:
    """A person reading the guide in one language: a page, the guide's words, and what to check."""

    def __init__(self, page, lang: str):
        self.page, self.lang, self.w = page, lang, WORDS[lang]
        self.screens: dict[str, list[str]] = {}

    def accessible(self, screen: str) -> None:
        """Remember axe's serious and critical violations on this screen (asserted at the end)."""
        wait_for_htmx(self.page)
        self.screens[screen] = serious_violations(self.page)

    def dialog(self, name: str):
        dialog = self.page.get_by_role("dialog", name=name, exact=True)
        expect(dialog).to_be_visible()
        self.page.wait_for_function("() => document.querySelector('dialog:modal') !== null")
        return dialog


@pytest.fixture
def reader(chromium, app, base_url):
    """reader(lang, email) -> a Reader signed in as a new CRM user whose contact card starts with email.
    It asks for base_url so the server stops only after its pages closed (a poll in flight is not cut off)."""
    made = []

    def open_(lang: str, email: str) -> Reader:
        make_user(app, email, language=lang)
        context = chromium.new_context(locale=BROWSER_LOCALE[lang], viewport={"width": 1280, "height": 800})
        context.set_default_timeout(TIMEOUT)
        local = LocalOnly(context)
        page = context.new_page()
        console = ConsoleProblems(page)
        console.allowed_statuses.add(422)  # a form to correct comes back with 422, by design
        made.append((context, local, console))
        return Reader(page, lang)

    yield open_
    for context, _local, _console in made:
        context.close()
    problems = [m for _c, _l, console in made for m in console.messages]
    problems += [f"request left the machine: {url}" for _c, local, _w in made for url in local.blocked]
    assert not problems, "\n".join(problems)


def assert_accessible(reader: Reader) -> None:
    bad = {screen: found for screen, found in reader.screens.items() if found}
    assert not bad, f"[{reader.lang}] axe found serious or critical violations:\n" + "\n".join(
        f"{screen}: {line}" for screen, found in bad.items() for line in found)


def connect(reader: Reader, base_url: str, mailbox) -> None:
    """Steps 1 to 5 of the guide, for a provider the app knows (signing in has opened the inbox)."""
    page, w = reader.page, reader.w
    setup = reader.dialog(w["setup"])
    setup.get_by_label(w["account"], exact=True).fill(mailbox.address)
    setup.get_by_role("button", name=w["next"], exact=True).click()
    setup.get_by_label(w["password"], exact=True).fill(mailbox.password)
    setup.get_by_role("button", name=w["log_in"], exact=True).click()
    expect(page.get_by_role("heading", name=w["inbox"], exact=True)).to_be_visible()


# --- "Innan du börjar" and "Konfigurera e-postkonto" --------------------------------------------


@LANGS
def test_before_you_begin_and_set_up_the_account(reader, base_url, mailbox, lang):
    r = reader(lang, mailbox.address)
    page, w = r.page, r.w
    sign_in(page, base_url, mailbox.address, CRM_PASSWORD, w)

    # "the email address you use with the inbox must be the first one registered on your contact card"
    # (signing in opens the inbox, and its setup dialog: close it to look at the card first)
    r.dialog(w["setup"])
    page.keyboard.press("Escape")
    page.get_by_role("navigation", name="Navigator").get_by_role("link", name=w["contact_card"]).click()
    expect(page.get_by_text(w["card_rule"])).to_be_visible()
    first = page.locator("ol.emails > li").first
    expect(first).to_contain_text(mailbox.address)
    r.accessible("contact card")

    # 1. "Click the Inbox icon in the navigator. Set up email account appears the first time."
    page.get_by_role("navigation", name="Navigator").get_by_role("link", name=w["inbox_nav"]).click()
    setup = r.dialog(w["setup"])
    r.accessible("Set up email account")
    # 2. "In the Email account field, enter the address of the account."
    setup.get_by_label(w["account"], exact=True).fill(mailbox.address)
    r.accessible("Set up email account, address typed")
    # 3. "... Otherwise click Next: the app tries to fill in the details for you."
    setup.get_by_role("button", name=w["next"], exact=True).click()
    expect(setup.get_by_text(re.compile(r"\b993\b|:\d+"))).not_to_have_count(0)
    # 4. "In the Password field, enter your password."
    setup.get_by_label(w["password"], exact=True).fill(mailbox.password)
    # 5. "Click Log in. If the provider is recognised, the settings are made and the inbox synchronises."
    setup.get_by_role("button", name=w["log_in"], exact=True).click()
    expect(page.get_by_role("heading", name=w["inbox"], exact=True)).to_be_visible()
    messages = page.get_by_role("list", name=re.compile("Messages|Meddelanden"))
    expect(messages.get_by_role("listitem")).to_have_count(3)
    r.accessible("inbox list")

    # the list is announced with its rows, the unread ones as unread, the open one as current
    unread = "Unread" if lang == "en" else "Oläst"
    offert = messages.get_by_role("link", name=re.compile("Offert för våren"))
    expect(offert).to_have_accessible_name(re.compile(unread))
    expect(messages.get_by_role("link", name=re.compile("Meeting notes"))).not_to_have_accessible_name(
        re.compile(unread))
    offert.click()
    reading = page.get_by_role("article", name=re.compile("Offert för våren"))
    expect(reading.get_by_text("Hej!")).to_be_visible()
    wait_for_htmx(page)
    expect(offert).to_have_attribute("aria-current", "true")
    r.accessible("inbox preview")
    reading.get_by_label(re.compile("Tasks|Uppgifter")).click()
    expect(reading.get_by_role("button", name=w["mark_toggle"])).to_be_visible()
    r.accessible("task menu")
    assert_accessible(r)


# --- "Om systemet inte hittar rätt uppgifter ... öppnas dialogrutan Avancerade inställningar" -------
# A refused password is the one case where the app now differs from the guide: it is said beside the
# password field, on the password step, where it can be typed again; Advanced settings, one click
# away, opens filled in with what was found.


@LANGS
def test_a_wrong_password_is_said_on_its_step_and_advanced_settings_opens_filled_in(reader, base_url, mailbox, lang):
    r = reader(lang, mailbox.address)
    page, w = r.page, r.w
    sign_in(page, base_url, mailbox.address, CRM_PASSWORD, w)
    setup = r.dialog(w["setup"])
    setup.get_by_label(w["account"], exact=True).fill(mailbox.address)
    setup.get_by_role("button", name=w["next"], exact=True).click()
    setup.get_by_label(w["password"], exact=True).fill("not-the-password")
    setup.get_by_role("button", name=w["log_in"], exact=True).click()

    expect(setup.get_by_label(w["password"], exact=True)).to_have_attribute("aria-invalid", "true")
    expect(setup.get_by_label(w["password"], exact=True)).to_be_focused()
    r.accessible("the password step with a refused password")
    setup.get_by_role("link", name=w["advanced"], exact=True).click()
    advanced = r.dialog(w["advanced"])
    incoming = advanced.get_by_role("group", name=w["incoming"], exact=True)
    # "User name: your full email address", "SSL: On/Off"
    expect(incoming.get_by_label(w["user"], exact=True)).to_have_value(mailbox.address)
    expect(incoming.get_by_role("radio", name=w["on"], exact=True)).to_be_checked()
    # "Enter or check the details for the incoming and outgoing servers."
    incoming.get_by_label(w["password"], exact=True).fill(mailbox.password)
    advanced.get_by_role("button", name=w["save"], exact=True).click()
    expect(page.get_by_role("heading", name=w["inbox"], exact=True)).to_be_visible()
    assert_accessible(r)


# --- "Så lägger du till serverinformation manuellt" -----------------------------------------------


@LANGS
def test_server_details_added_by_hand(reader, base_url, lab, lang):
    address = f"manual-{lang}@unlisted.{MAIL_DOMAIN}"  # no provider list, no DNS: nothing to find
    lab.add_user(address, "manual-password-1")
    r = reader(lang, address)
    page, w = r.page, r.w
    sign_in(page, base_url, address, CRM_PASSWORD, w)
    setup = r.dialog(w["setup"])
    setup.get_by_label(w["account"], exact=True).fill(address)
    # 3. "To enter the incoming and outgoing details yourself, click Advanced settings."
    setup.get_by_role("link", name=w["advanced"], exact=True).click()
    advanced = r.dialog(w["advanced"])
    incoming = advanced.get_by_role("group", name=w["incoming"], exact=True)
    outgoing = advanced.get_by_role("group", name=w["outgoing"], exact=True)
    incoming.get_by_label(w["imap_host"], exact=True).fill(lab.hostname)
    incoming.get_by_label("Port", exact=True).fill(str(lab.imap_tls_port))
    # "User name: your full email address"; "Password: the password for your email account"
    incoming.get_by_label(w["user"], exact=True).fill(address)
    incoming.get_by_label(w["password"], exact=True).fill("manual-password-1")
    # "SSL: On/Off, depends on your email provider's settings"
    incoming.get_by_role("radio", name=w["on"], exact=True).check()
    outgoing.get_by_label(w["smtp_host"], exact=True).fill(lab.hostname)
    outgoing.get_by_label("Port", exact=True).fill(str(lab.smtp_tls_port))
    outgoing.get_by_role("radio", name=w["on"], exact=True).check()
    r.accessible("Advanced settings filled in")
    advanced.get_by_role("button", name=w["save"], exact=True).click()
    expect(page.get_by_role("heading", name=w["inbox"], exact=True)).to_be_visible()
    assert_accessible(r)


# --- "Ändra e-postkonfigurationen" and the tip ---------------------------------------------------


@LANGS
def test_change_or_remove_the_account_from_email_options(reader, base_url, mailbox, lang):
    r = reader(lang, mailbox.address)
    page, w = r.page, r.w
    sign_in(page, base_url, mailbox.address, CRM_PASSWORD, w)
    connect(r, base_url, mailbox)
    # 1. "click the profile icon in the upper right corner and choose Email options"
    #    (the tip: Personal settings > Email options)
    page.get_by_title(w["personal"], exact=True).click()
    page.get_by_role("navigation", name=w["personal"]).get_by_role("link", name=w["options"], exact=True).click()
    options = r.dialog(w["options"])
    expect(options.get_by_role("tab", name=w["general"], exact=True)).to_have_attribute("aria-selected", "true")
    r.accessible("Email options, General")
    # 2. "Choose the Email account tab and click the Edit/remove button."
    options.get_by_role("tab", name=w["account_tab"], exact=True).click()
    options = r.dialog(w["options"])
    expect(options.get_by_role("tab", name=w["account_tab"], exact=True)).to_have_attribute("aria-selected", "true")
    r.accessible("Email options, Email account")
    options.get_by_role("link", name=w["edit"], exact=True).click()
    advanced = r.dialog(w["edit_account"])
    expect(advanced.get_by_role("group", name=w["incoming"], exact=True).get_by_label(
        w["user"], exact=True)).to_have_value(mailbox.address)
    r.accessible("Advanced settings, editing")
    assert_accessible(r)


# --- "Varför uppdateras inte e-postlistan?" ------------------------------------------------------


@LANGS
def test_why_the_email_list_is_not_updated(reader, base_url, mailbox, lab, lang):
    r = reader(lang, mailbox.address)
    page, w = r.page, r.w
    sign_in(page, base_url, mailbox.address, CRM_PASSWORD, w)
    connect(r, base_url, mailbox)
    lab.set_password(mailbox.address, "changed-elsewhere-1")  # as when the provider blocks the app
    with page.expect_response(lambda response: "/inbox/refresh" in response.url):
        page.get_by_role("button", name=w["refresh"], exact=True).click()
    page.reload()
    banner = page.get_by_role("alert").filter(has=page.get_by_role("heading", name=w["not_updated"]))
    expect(banner).to_be_visible()
    expect(banner).to_contain_text(GUIDE_ADVICE[lang])
    r.accessible("inbox with the sync problem")
    assert_accessible(r)


# --- every dialog with the keyboard alone -------------------------------------------------------


def focused(page) -> str:
    """The focused element as a person hears it: its accessible name, else its label, else its text."""
    return page.evaluate("""() => {
        const e = document.activeElement;
        if (!e || e === document.body) return "";
        const label = e.getAttribute("aria-label") || (e.labels && e.labels[0] && e.labels[0].textContent);
        return (label || e.textContent || e.value || "").trim();
    }""")


def has_focus(page, *names: str, seconds: float = 5.0) -> bool:
    """Whether the focus comes to one of `names` (focus may move a moment after a dialog opens)."""
    deadline = time.monotonic() + seconds
    while focused(page) not in names:
        if time.monotonic() > deadline:
            return False
        page.wait_for_timeout(50)
    return True


def tab_until(page, name: str, limit: int = 15) -> None:
    wait_for_htmx(page)  # a tab's content may still be on its way
    for _ in range(limit):
        if has_focus(page, name, seconds=0.3):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"{name!r} was not reached with Tab; focus is on {focused(page)!r}")


@LANGS
def test_dialogs_work_with_the_keyboard_alone(reader, base_url, mailbox, lang):
    r = reader(lang, mailbox.address)
    page, w = r.page, r.w
    sign_in(page, base_url, mailbox.address, CRM_PASSWORD, w)

    # Set up email account: the address field first, then Advanced settings, then Next; Esc closes
    setup = r.dialog(w["setup"])
    assert has_focus(page, w["account"]), focused(page)
    page.keyboard.press("Tab")
    assert has_focus(page, w["advanced"]), focused(page)
    page.keyboard.press("Tab")
    assert has_focus(page, w["next"]), focused(page)
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    page.keyboard.press("Shift+Tab")
    assert has_focus(page, "Close", "Stäng"), focused(page)
    page.keyboard.press("Escape")
    expect(setup).to_have_count(0)

    # opened again from the page's button, by keyboard; Esc gives the focus back to that button
    opener = page.get_by_role("main").get_by_role("link", name=w["setup"], exact=True)
    opener.focus()
    page.keyboard.press("Enter")
    setup = r.dialog(w["setup"])
    assert has_focus(page, w["account"]), focused(page)
    expect(setup.get_by_label(w["account"], exact=True)).to_have_value(mailbox.address)  # the CRM address
    page.keyboard.press("Enter")  # Next
    expect(setup.get_by_label(w["password"], exact=True)).to_be_focused()
    page.keyboard.type(mailbox.password)
    page.keyboard.press("Enter")  # Log in
    expect(page.get_by_role("heading", name=w["inbox"], exact=True)).to_be_visible()
    wait_for_htmx(page)

    # Email options from the profile menu, by keyboard; Esc returns to the profile icon
    profile = page.get_by_title(w["personal"], exact=True)
    profile.focus()
    page.keyboard.press("Enter")
    tab_until(page, w["options"])
    page.keyboard.press("Enter")
    options = r.dialog(w["options"])
    tab_until(page, w["account_tab"])
    page.keyboard.press("Enter")
    expect(options.get_by_role("tab", name=w["account_tab"], exact=True)).to_have_attribute("aria-selected", "true")
    tab_until(page, w["edit"])
    page.keyboard.press("Enter")
    advanced = r.dialog(w["edit_account"])
    page.keyboard.press("Escape")
    expect(advanced).to_have_count(0)
    expect(profile).to_be_focused()

    # New email: opened from New, Esc closes it and the focus is back on New
    new = page.get_by_role("link", name=w["new"], exact=True)
    new.focus()
    page.keyboard.press("Enter")
    compose = r.dialog(w["new_email"])
    with page.expect_response(lambda answer: "closing=1" in answer.url):  # closing saves the (empty) draft
        page.keyboard.press("Escape")
    expect(compose).to_have_count(0)
    expect(new).to_be_focused()
