"""Signing in with OAuth 2.0 in a real Chromium, in Swedish and English: the app, the local issuer's
sign-in page, Dovecot's oauth2 passdb and the SMTP server's XOAUTH2, all on loopback.

Chromium does not trust the lab's CA, so its contexts ignore certificate errors for the issuer's
page; the app itself verifies the issuer against MAIL_CA_BUNDLE as always.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

pytest.importorskip("playwright.sync_api")
from playwright.sync_api import expect
from sqlalchemy import select

from localmail.browser import LocalOnly
from mailcore.models import Account, OAuthGrant

from .browser import WatchedPages, serve, sign_in, wait_for_htmx
from .helpers import Browser, make_user, wait_until_access_tokens_expire

CRM_PASSWORD = "crm-password-1"
LANGS = ["en", "sv"]
WORDS = {
    "en": {"user": "User name", "password": "Password", "sign_in": "Sign in", "dialog": "Set up email account",
           "account": "Email account", "next": "Next", "inbox": "INBOX", "with": "Sign in with Testmail ID",
           "again": "Sign in again", "why": "Why is the email list not updated?", "refresh": "Refresh",
           "new": "New", "to": "To", "subject": "Subject", "message": "Message", "send": "Send",
           "remove": "Remove account", "advanced": "Advanced settings", "log_in": "Log in",
           "state": "This sign-in has expired, was already used or was not started here",
           "identity": "You signed in at Testmail ID as", "rejected": "Testmail ID did not accept the sign-in",
           "not_set_up": "Signing in with Google has not been set up on this installation.",
           "help": "How to set up signing in with Microsoft and Google"},
    "sv": {"user": "Användarnamn", "password": "Lösenord", "sign_in": "Logga in", "dialog": "Konfigurera e-postkonto",
           "account": "E-postkonto", "next": "Nästa", "inbox": "INKORG", "with": "Logga in med Testmail ID",
           "again": "Logga in igen", "why": "Varför uppdateras inte e-postlistan?", "refresh": "Uppdatera",
           "new": "Nytt e-postmeddelande", "to": "Till", "subject": "Ämne", "message": "Meddelande", "send": "Skicka",
           "remove": "Ta bort konto", "advanced": "Avancerade inställningar", "log_in": "Logga in",
           "state": "Den här inloggningen har gått ut, har redan använts eller påbörjades inte här",
           "identity": "Du loggade in hos Testmail ID som", "rejected": "Testmail ID godkände inte inloggningen",
           "not_set_up": "Inloggning med Google har inte konfigurerats i den här installationen.",
           "help": "Så konfigurerar du inloggning med Microsoft och Google"},
}
BROWSER_LOCALE = {"en": "en-GB", "sv": "sv-SE"}



@pytest.fixture
def open_page(chromium):
    pages, locals_ = WatchedPages(chromium), []

    def open_(lang: str):
        page = pages.open({403, 422},  # refusals are answers, not page errors
                          locale=BROWSER_LOCALE[lang], viewport={"width": 1280, "height": 800},
                          ignore_https_errors=True)
        locals_.append(LocalOnly(page.context))  # the sign-in at the issuer included: nothing leaves the machine
        return page

    yield open_
    pages.close()
    leaving = [url for local in locals_ for url in local.blocked]
    assert not leaving, f"requests that would have left the machine: {leaving[:5]}"


def to_sign_in_button(page, base_url, mailbox, lang):
    words = WORDS[lang]
    sign_in(page, base_url, mailbox.address, CRM_PASSWORD, words)
    dialog = page.get_by_role("dialog", name=words["dialog"])
    dialog.get_by_label(words["account"], exact=True).fill(mailbox.address)
    dialog.get_by_role("button", name=words["next"], exact=True).click()
    expect(dialog.get_by_role("button", name=words["with"], exact=True)).to_be_visible()
    expect(dialog.get_by_label(words["password"], exact=True)).to_have_count(0)
    return dialog


def at_provider(page, email: str, password: str, allow: bool = True) -> None:
    """The local issuer's own sign-in page (English only: it stands for Microsoft's or Google's)."""
    page.wait_for_url("**/realms/mail/authorize**")
    expect(page.get_by_role("heading", name="Local sign-in")).to_be_visible()
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Allow" if allow else "Deny").click()


def held_callback(page) -> dict:
    """Stops the browser at the provider's redirect back (Playwright does not route a redirect's
    target, so the provider's answer itself is caught); the callback URL it would have loaded."""
    caught: dict = {}

    def hold(route):
        if route.request.method != "POST":
            route.continue_()
            return
        answer = route.fetch(max_redirects=0)
        caught["url"] = answer.headers["location"]
        route.fulfill(status=200, body="held", content_type="text/plain")

    page.route(_is_authorize, hold)
    return caught


def _is_authorize(url: str) -> bool:
    return urlsplit(url).path.endswith("/realms/mail/authorize")


def with_state(url: str, state: str) -> str:
    parts = urlsplit(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    query["state"] = state
    return f"{parts.scheme}://{parts.netloc}{parts.path}?{urlencode(query)}"


def grants(app) -> list[OAuthGrant]:
    with app.extensions["mail"].sessions() as db:
        return list(db.scalars(select(OAuthGrant)))


@pytest.mark.parametrize("lang", LANGS)
def test_from_the_address_to_the_inbox(app, base_url, open_page, lab, issuer, oauth_mailbox, lang):
    make_user(app, oauth_mailbox.address, language=lang)
    page = open_page(lang)
    dialog = to_sign_in_button(page, base_url, oauth_mailbox, lang)
    dialog.get_by_role("button", name=WORDS[lang]["with"], exact=True).click()
    at_provider(page, oauth_mailbox.address, oauth_mailbox.password)
    page.wait_for_url(f"{base_url}/inbox/")
    expect(page.get_by_role("heading", name=WORDS[lang]["inbox"], exact=True)).to_be_visible()
    expect(page.get_by_text("Avtal för hösten")).to_be_visible()
    expect(page.get_by_text("Quarterly figures")).to_be_visible()
    expect(page.get_by_role("dialog")).to_have_count(0)
    connected = {"en": "Your email account %s is connected.", "sv": "Ditt e-postkonto %s är anslutet."}[lang]
    expect(page.locator("#toast")).to_have_text(connected % oauth_mailbox.address)


@pytest.mark.parametrize("lang", LANGS)
def test_an_expiring_token_is_renewed_unnoticed_also_by_the_sync_worker(app_config, open_page, lab, issuer,
                                                                        oauth_mailbox, lang):
    from app import create_app

    app = create_app(dict(app_config, SYNC_MODE="embedded", OAUTH_REFRESH_MARGIN=0.5))
    installation = app.extensions["mail"]
    installation.start_workers()  # the sync worker threads, the scheduler and the IDLE watcher
    issuer.access_lifetime = 3
    make_user(app, oauth_mailbox.address, language=lang)
    page = open_page(lang)
    try:
        with serve(app) as base_url:
            dialog = to_sign_in_button(page, base_url, oauth_mailbox, lang)
            dialog.get_by_role("button", name=WORDS[lang]["with"], exact=True).click()
            at_provider(page, oauth_mailbox.address, oauth_mailbox.password)
            expect(page.get_by_text("Avtal för hösten")).to_be_visible()
            refreshes = len(issuer.grants_of("refresh_token"))
            wait_until_access_tokens_expire(app)  # the access token has expired; the page is still open
            lab.append(oauth_mailbox.address, _message(oauth_mailbox.address, "Ny efter utgången token"))
            # the IDLE watcher sees it, a worker syncs with a renewed token, the list shows it by itself
            expect(page.get_by_text("Ny efter utgången token")).to_be_visible(timeout=20_000)
            renewals = issuer.grants_of("refresh_token")[refreshes:]
            assert renewals and all(outcome == "ok" for _, outcome in renewals)
            expect(page.get_by_text(WORDS[lang]["why"])).to_have_count(0)
    finally:
        installation.runner.stop()


@pytest.mark.parametrize("lang", LANGS)
def test_a_revoked_sign_in_asks_to_sign_in_again_and_that_works(app, base_url, open_page, lab, issuer,
                                                                oauth_mailbox, lang):
    words = WORDS[lang]
    make_user(app, oauth_mailbox.address, language=lang)
    page = open_page(lang)
    dialog = to_sign_in_button(page, base_url, oauth_mailbox, lang)
    dialog.get_by_role("button", name=words["with"], exact=True).click()
    at_provider(page, oauth_mailbox.address, oauth_mailbox.password)
    expect(page.get_by_text("Avtal för hösten")).to_be_visible()

    issuer.revoke(oauth_mailbox.address)  # consent withdrawn at the provider
    other_tab = Browser(app.test_client())
    other_tab.sign_in(oauth_mailbox.address, CRM_PASSWORD)
    other_tab.post("/inbox/refresh")  # a sync elsewhere finds out; this page's poll shows it, no reload
    banner = page.get_by_role("alert").filter(has_text=words["why"])
    expect(banner).to_be_visible(timeout=15_000)
    expect(page.get_by_text("Avtal för hösten")).to_be_visible()
    requests_before = len(issuer.token_requests)
    page.get_by_role("button", name=words["refresh"], exact=True).click()
    wait_for_htmx(page)
    assert len(issuer.token_requests) == requests_before  # nothing tries the provider again

    banner.get_by_role("button", name=words["again"], exact=True).click()
    at_provider(page, oauth_mailbox.address, oauth_mailbox.password)
    page.wait_for_url(f"{base_url}/inbox/")
    expect(page.get_by_text(words["why"])).to_have_count(0)
    expect(page.get_by_text("Avtal för hösten")).to_be_visible()


@pytest.mark.parametrize("lang", LANGS)
def test_forged_replayed_and_foreign_sign_ins_are_refused(app, base_url, open_page, lab, issuer, oauth_mailbox,
                                                          lang):
    words = WORDS[lang]
    other = f"intruder.{lang}@oauth.inkorg.test"
    issuer.add_user(other, "intruder-pw")
    make_user(app, oauth_mailbox.address, language=lang)
    page = open_page(lang)
    dialog = to_sign_in_button(page, base_url, oauth_mailbox, lang)

    # an identity that is not the typed address
    dialog.get_by_role("button", name=words["with"], exact=True).click()
    at_provider(page, other, "intruder-pw")
    dialog = page.get_by_role("dialog", name=words["dialog"])
    expect(dialog).to_contain_text(f"{words['identity']} {other}")

    # a tampered state: refused before any token request
    caught = held_callback(page)
    dialog.get_by_role("button", name=words["with"], exact=True).click()
    at_provider(page, oauth_mailbox.address, oauth_mailbox.password)
    page.wait_for_function("() => document.body.innerText.includes('held')")
    page.unroute(_is_authorize)
    before = len(issuer.token_requests)
    page.goto(with_state(caught["url"], "forged-state"))
    expect(page.get_by_role("dialog", name=words["dialog"])).to_contain_text(words["state"])
    assert len(issuer.token_requests) == before

    # a wrong PKCE verifier: the first sign-in's code with a second sign-in's state (and so its verifier)
    page.goto(base_url + "/inbox/")
    dialog = page.get_by_role("dialog", name=words["dialog"])
    dialog.get_by_label(words["account"], exact=True).fill(oauth_mailbox.address)
    dialog.get_by_role("button", name=words["next"], exact=True).click()
    dialog.get_by_role("button", name=words["with"], exact=True).click()
    page.wait_for_url("**/realms/mail/authorize**")
    second_state = parse_qs(urlsplit(page.url).query)["state"][0]
    caught = held_callback(page)
    page.go_back()
    page.goto(base_url + "/inbox/")
    dialog = page.get_by_role("dialog", name=words["dialog"])
    dialog.get_by_label(words["account"], exact=True).fill(oauth_mailbox.address)
    dialog.get_by_role("button", name=words["next"], exact=True).click()
    dialog.get_by_role("button", name=words["with"], exact=True).click()
    at_provider(page, oauth_mailbox.address, oauth_mailbox.password)
    page.wait_for_function("() => document.body.innerText.includes('held')")
    page.unroute(_is_authorize)
    first_callback = caught["url"]
    page.goto(with_state(first_callback, second_state))
    refused = page.get_by_role("dialog", name=words["dialog"])
    expect(refused).to_contain_text(words["rejected"])
    expect(refused).to_contain_text("Code challenge failed")
    assert issuer.token_requests[-1] == ("authorization_code", "invalid_grant")

    # the right callback connects; loaded a second time (a replayed code), it is refused
    page.goto(first_callback)
    page.wait_for_url(f"{base_url}/inbox/")
    expect(page.get_by_text("Avtal för hösten")).to_be_visible()
    page.goto(first_callback)
    expect(page.get_by_role("dialog", name=words["dialog"])).to_contain_text(words["state"])
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(Account)).address == oauth_mailbox.address


@pytest.mark.parametrize("lang", LANGS)
def test_a_provider_without_a_client_says_what_the_administrator_must_do(app, base_url, open_page, lang):
    words = WORDS[lang]
    address = f"kim.{lang}@gmail.com"
    make_user(app, address, language=lang)
    page = open_page(lang)
    sign_in(page, base_url, address, CRM_PASSWORD, words)
    dialog = page.get_by_role("dialog", name=words["dialog"])
    dialog.get_by_label(words["account"], exact=True).fill(address)
    dialog.get_by_role("button", name=words["next"], exact=True).click()
    expect(dialog).to_contain_text(words["not_set_up"])
    expect(dialog).to_contain_text("OAUTH_GOOGLE_CLIENT_ID")
    expect(dialog.get_by_role("link", name=words["help"])).to_be_visible()
    expect(dialog.get_by_label(words["password"], exact=True)).to_be_visible()  # an app password still works
    expect(dialog.get_by_role("button", name=words["log_in"], exact=True)).to_be_visible()
    expect(dialog.get_by_role("link", name=words["advanced"], exact=True)).to_be_visible()


@pytest.mark.parametrize("lang", LANGS)
def test_sending_goes_over_xoauth2(app, base_url, open_page, lab, issuer, oauth_mailbox, lang):
    words = WORDS[lang]
    make_user(app, oauth_mailbox.address, language=lang)
    page = open_page(lang)
    dialog = to_sign_in_button(page, base_url, oauth_mailbox, lang)
    dialog.get_by_role("button", name=words["with"], exact=True).click()
    at_provider(page, oauth_mailbox.address, oauth_mailbox.password)
    expect(page.get_by_text("Avtal för hösten")).to_be_visible()
    lab.received.clear()
    page.get_by_role("link", name=words["new"], exact=True).click()
    compose = page.get_by_role("dialog")
    compose.get_by_label(words["to"], exact=True).fill("kund@example.com")
    subject = f"Offert via XOAUTH2 ({lang})"
    compose.get_by_label(words["subject"], exact=True).fill(subject)
    compose.get_by_label(words["message"], exact=True).fill("Hej!")
    compose.get_by_role("button", name=words["send"], exact=True).click()
    expect(page.get_by_role("dialog")).to_have_count(0)
    sent = [m for m in lab.received if subject.encode() in m.data]
    assert sent and sent[0].auth_mechanism == "XOAUTH2" and sent[0].auth_user == oauth_mailbox.address


@pytest.mark.parametrize("lang", LANGS)
def test_removing_the_account_deletes_its_tokens(app, base_url, open_page, lab, issuer, oauth_mailbox, lang):
    words = WORDS[lang]
    make_user(app, oauth_mailbox.address, language=lang)
    page = open_page(lang)
    dialog = to_sign_in_button(page, base_url, oauth_mailbox, lang)
    dialog.get_by_role("button", name=words["with"], exact=True).click()
    at_provider(page, oauth_mailbox.address, oauth_mailbox.password)
    expect(page.get_by_text("Avtal för hösten")).to_be_visible()
    assert len(grants(app)) == 1
    page.goto(base_url + "/settings/email-account/remove")
    page.get_by_role("dialog", name=words["remove"]).get_by_role("button", name=words["remove"]).click()
    expect(page.get_by_role("dialog", name=words["dialog"])).to_be_visible()  # back to setting one up
    assert grants(app) == []


def _message(address: str, subject: str):
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Eva <eva@kund.example>", address, subject
    message.set_content("Hej igen!")
    return message
