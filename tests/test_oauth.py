"""Connecting with OAuth 2.0: the local issuer (Authlib), Dovecot's oauth2 passdb and the SMTP server's
XOAUTH2, all on loopback. The provider's sign-in page is filled by a plain HTTP client here; the
same flows in Chromium are in test_oauth_browser.py."""

from __future__ import annotations

import html
import logging
import os
import re
import threading
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from sqlalchemy import select

from mailcore.models import Account, OAuthFlow, OAuthGrant, SyncState, utcnow
from mailcore.settings import Bearer
from mailcore.sync.engine import claim_due

from .helpers import ROOT, Browser, make_user, rows, server_flags, text, wait_until_access_tokens_expire


def signed_in(app, mailbox) -> Browser:
    make_user(app, mailbox.address)
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    return browser


def start(browser: Browser, address: str, again: bool = False) -> str:
    """Next, then Sign in with ...: the provider's sign-in URL the browser is sent to."""
    if not again:
        step = browser.post("/inbox/setup/next", {"address": address})
        assert "Sign in with Testmail ID" in text(step), text(step)
        assert 'name="password"' not in step.get_data(as_text=True)
    response = browser.post("/inbox/oauth/start", {"address": address, **({"again": "1"} if again else {})},
                            htmx=False)
    assert response.status_code == 200, text(response)
    found = re.search(r'http-equiv="refresh" content="0; url=([^"]+)"', response.get_data(as_text=True))
    return html.unescape(found.group(1))


def at_provider(lab, url: str, email: str, password: str, decision: str = "allow") -> str:
    """What a person does on the provider's page; where the provider sends the browser back."""
    with requests.Session() as http:
        http.trust_env, http.verify = False, str(lab.ca_bundle)
        page = http.get(url, timeout=10)
        assert page.status_code == 200 and "Local sign-in" in page.text
        answer = http.post(url, data={"email": email, "password": password, "decision": decision},
                           allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text
    return answer.headers["Location"]


def back(browser: Browser, location: str):
    parts = urlsplit(location)
    assert parts.path == "/inbox/oauth/callback"
    return browser.get(f"{parts.path}?{parts.query}")


def connect(browser, lab, mailbox):
    response = back(browser, at_provider(lab, start(browser, mailbox.address), mailbox.address, mailbox.password))
    assert response.status_code == 303 and response.headers["Location"].endswith("/inbox/"), text(response)
    return response


def grant_of(app, address) -> OAuthGrant | None:
    with app.extensions["mail"].sessions() as db:
        account = db.scalar(select(Account).where(Account.address == address))
        return db.scalar(select(OAuthGrant).where(OAuthGrant.account_id == account.id)) if account else None


def account_of(app, address) -> Account | None:
    with app.extensions["mail"].sessions() as db:
        return db.scalar(select(Account).where(Account.address == address))


def test_sign_in_connects_the_account_and_syncs(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    url = start(browser, oauth_mailbox.address)
    query = parse_qs(urlsplit(url).query)
    assert url.startswith(issuer.issuer + "/authorize")
    assert query["code_challenge_method"] == ["S256"] and len(query["code_challenge"][0]) == 43
    assert query["redirect_uri"] == ["http://localhost/inbox/oauth/callback"]
    assert query["scope"] == ["openid email offline_access"] and query["login_hint"] == [oauth_mailbox.address]
    assert query["nonce"] and query["state"]
    connect_response = back(browser, at_provider(lab, url, oauth_mailbox.address, oauth_mailbox.password))
    assert connect_response.status_code == 303
    inbox = text(browser.get("/inbox/"))
    assert "Avtal för hösten" in inbox and "Quarterly figures" in inbox
    account = account_of(app, oauth_mailbox.address)
    assert (account.imap_auth, account.smtp_auth, account.imap_password, account.smtp_password) == (
        "oauth2", "oauth2", b"", b"")
    grant = grant_of(app, oauth_mailbox.address)
    assert grant.provider_id == "testid" and grant.refresh_token and grant.access_token
    issued = [t for t in issuer.tokens if t.user.email == oauth_mailbox.address]
    assert issued and issued[-1].refresh_token.encode() not in grant.refresh_token
    assert ("authorization_code", "ok") in issuer.token_requests


def test_the_redirect_uri_is_exactly_the_external_url(app_config, lab, issuer, oauth_mailbox):
    from app import create_app

    app = create_app(dict(app_config, EXTERNAL_URL="https://crm.example.com/"))
    browser = signed_in(app, oauth_mailbox)
    query = parse_qs(urlsplit(start(browser, oauth_mailbox.address)).query)
    assert query["redirect_uri"] == ["https://crm.example.com/inbox/oauth/callback"]


def test_a_tampered_state_is_refused_before_any_token_request(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    location = at_provider(lab, start(browser, oauth_mailbox.address), oauth_mailbox.address, oauth_mailbox.password)
    before = len(issuer.token_requests)
    tampered = location.replace("state=", "state=x")
    response = back(browser, tampered)
    assert response.status_code == 403
    assert "This sign-in has expired, was already used or was not started here" in text(response)
    assert len(issuer.token_requests) == before and account_of(app, oauth_mailbox.address) is None


def test_a_state_from_another_browser_session_is_refused(app, lab, issuer, oauth_mailbox):
    attacker = signed_in(app, oauth_mailbox)
    location = at_provider(lab, start(attacker, oauth_mailbox.address), oauth_mailbox.address, oauth_mailbox.password)
    victim = Browser(app.test_client())
    victim.sign_in(oauth_mailbox.address, "crm-password-1")  # same CRM user, another session
    assert back(victim, location).status_code == 403
    assert account_of(app, oauth_mailbox.address) is None


def test_a_replayed_code_is_refused(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    location = at_provider(lab, start(browser, oauth_mailbox.address), oauth_mailbox.address, oauth_mailbox.password)
    assert back(browser, location).status_code == 303
    again = back(browser, location)  # the same callback a second time: its state is spent
    assert again.status_code == 403 and "already used" in text(again)
    # the code again, under a fresh state of this session: the provider refuses it
    fresh = parse_qs(urlsplit(start(browser, oauth_mailbox.address)).query)["state"][0]
    code = parse_qs(urlsplit(location).query)["code"][0]
    refused = browser.get(f"/inbox/oauth/callback?code={code}&state={fresh}")
    assert refused.status_code == 403 and "did not accept the sign-in" in text(refused)
    assert issuer.token_requests[-1] == ("authorization_code", "invalid_grant")


def test_an_old_session_cookie_cannot_replay_a_sign_in(app, lab, issuer, oauth_mailbox):
    """The state is spent in the database, not only in the (client-side) session cookie."""
    browser = signed_in(app, oauth_mailbox)
    location = at_provider(lab, start(browser, oauth_mailbox.address), oauth_mailbox.address, oauth_mailbox.password)
    cookie = browser.client.get_cookie("session").value  # the session as it was, state and all
    assert back(browser, location).status_code == 303
    browser.client.set_cookie("session", cookie)
    replayed = back(browser, location)
    assert replayed.status_code == 403 and "already used" in text(replayed)


def test_a_wrong_pkce_verifier_is_refused(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    first = start(browser, oauth_mailbox.address)
    second_state = parse_qs(urlsplit(start(browser, oauth_mailbox.address)).query)["state"][0]
    code = parse_qs(urlsplit(at_provider(lab, first, oauth_mailbox.address, oauth_mailbox.password)).query)["code"][0]
    # the code of the first sign-in with the second one's state: the second one's verifier goes with it
    refused = browser.get(f"/inbox/oauth/callback?code={code}&state={second_state}")
    assert refused.status_code == 403 and "did not accept the sign-in" in text(refused)
    assert "Code challenge failed" in text(refused)
    assert issuer.token_requests[-1] == ("authorization_code", "invalid_grant")
    assert account_of(app, oauth_mailbox.address) is None


def test_another_identity_than_the_typed_address_is_refused(app, lab, issuer, oauth_mailbox):
    other = "someone.else@oauth.inkorg.test"
    issuer.add_user(other, "other-pw")
    browser = signed_in(app, oauth_mailbox)
    response = back(browser, at_provider(lab, start(browser, oauth_mailbox.address), other, "other-pw"))
    assert response.status_code == 403
    assert f"You signed in at Testmail ID as {other}, not as {oauth_mailbox.address}." in text(response)
    assert account_of(app, oauth_mailbox.address) is None


def test_cancelling_at_the_provider_is_said(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    response = back(browser, at_provider(lab, start(browser, oauth_mailbox.address), "", "", decision="deny"))
    assert response.status_code == 403 and "Signing in at Testmail ID was cancelled" in text(response)


@pytest.mark.parametrize("lang, words", [
    ("en", ["Signing in with Google has not been set up on this installation.", "OAUTH_GOOGLE_CLIENT_ID",
            "Gmail: use an app password instead of your regular password.", "Log in", "Advanced settings"]),
    ("sv", ["Inloggning med Google har inte konfigurerats i den här installationen.", "OAUTH_GOOGLE_CLIENT_ID",
            "Gmail: använd ett applösenord i stället för ditt vanliga lösenord.", "Logga in",
            "Avancerade inställningar"]),
])
def test_a_provider_without_a_client_says_what_to_configure(app, lang, words):
    make_user(app, "kim@gmail.com", language=lang)
    browser = Browser(app.test_client())
    browser.sign_in("kim@gmail.com", "crm-password-1")
    step = browser.post("/inbox/setup/next", {"address": "kim@gmail.com"})
    for expected in words:
        assert expected in text(step)
    assert 'name="password"' in step.get_data(as_text=True)  # Gmail still takes an app password
    assert '/inbox/oauth/help' in step.get_data(as_text=True)
    assert "OAUTH_GOOGLE_CLIENT_ID" in text(browser.get("/inbox/oauth/help"))


def test_microsoft_without_a_client_offers_no_password_field(app):
    make_user(app, "kim@outlook.com")
    browser = Browser(app.test_client())
    browser.sign_in("kim@outlook.com", "crm-password-1")
    step = browser.post("/inbox/setup/next", {"address": "kim@outlook.com"})
    assert "Signing in with Microsoft has not been set up" in text(step)
    assert "OAUTH_MICROSOFT_CLIENT_ID, OAUTH_MICROSOFT_CLIENT_SECRET" in text(step)
    assert 'name="password"' not in step.get_data(as_text=True) and "Log in" not in text(step)


def test_configured_providers_offer_their_sign_in_button(app_config):
    from app import create_app

    app = create_app(dict(app_config, OAUTH_GOOGLE_CLIENT_ID="g-client", OAUTH_MICROSOFT_CLIENT_ID="m-client"))
    for address, button in (("kim@gmail.com", "Sign in with Google"), ("kim@hotmail.com", "Sign in with Microsoft")):
        make_user(app, address)
        browser = Browser(app.test_client())
        browser.sign_in(address, "crm-password-1")
        step = browser.post("/inbox/setup/next", {"address": address})
        assert button in text(step) and 'name="password"' not in step.get_data(as_text=True)


@pytest.mark.parametrize("mx, button", [("firma-test.mail.protection.outlook.com", "Sign in with Microsoft"),
                                        ("aspmx.l.google.com", "Sign in with Google")])
def test_a_company_domain_is_recognised_by_its_mx(app_config, mx, button):
    from app import create_app
    from localmail.dns import LocalDns

    dns = LocalDns({"firma.test": [("MX", 0, mx)]})
    try:
        app = create_app(dict(app_config, MAIL_DNS_SERVER=dns.address, OAUTH_MICROSOFT_CLIENT_ID="m-client",
                              OAUTH_GOOGLE_CLIENT_ID="g-client"))
        make_user(app, "kim@firma.test")
        browser = Browser(app.test_client())
        browser.sign_in("kim@firma.test", "crm-password-1")
        step = text(browser.post("/inbox/setup/next", {"address": "kim@firma.test"}))
    finally:
        dns.stop()
    assert "Recognised provider from the domain's mail servers:" in step and button in step


def test_an_access_token_that_expires_is_refreshed_without_the_user_noticing(app_config, lab, issuer, oauth_mailbox):
    from app import create_app

    app = create_app(dict(app_config, OAUTH_REFRESH_MARGIN=0.5))
    issuer.access_lifetime = 2
    browser = signed_in(app, oauth_mailbox)
    connect(browser, lab, oauth_mailbox)
    first = grant_of(app, oauth_mailbox.address)
    wait_until_access_tokens_expire(app)
    lab.append(oauth_mailbox.address, _message(oauth_mailbox.address, "Efter förnyelsen"))
    assert "Efter förnyelsen" in text(browser.post("/inbox/refresh"))  # an inline sync, with a new token
    second = grant_of(app, oauth_mailbox.address)
    assert second.generation == first.generation + 1
    assert second.refresh_token != first.refresh_token  # rotated, and stored
    assert issuer.grants_of("refresh_token") and issuer.grants_of("refresh_token")[-1] == ("refresh_token", "ok")
    assert account_of(app, oauth_mailbox.address).sync_state == SyncState.OK


def test_a_refused_access_token_is_refreshed_once_and_tried_again(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    connect(browser, lab, oauth_mailbox)
    refreshes = len(issuer.grants_of("refresh_token"))
    issuer.expire_access_tokens(oauth_mailbox.address)  # the stored expiry still says an hour
    lab.append(oauth_mailbox.address, _message(oauth_mailbox.address, "Trots återkallad token"))
    assert "Trots återkallad token" in text(browser.post("/inbox/refresh"))
    assert len(issuer.grants_of("refresh_token")) == refreshes + 1


def test_a_revoked_refresh_token_means_sign_in_again_and_no_retry_loop(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    connect(browser, lab, oauth_mailbox)
    account_id = account_of(app, oauth_mailbox.address).id
    issuer.revoke(oauth_mailbox.address)
    browser.post("/inbox/refresh")
    page = text(browser.get("/inbox/"))
    assert "Why is the email list not updated?" in page and "Sign in again" in page
    assert "no longer accepts the inbox's sign-in" in page and "Edit/remove" not in page
    account = account_of(app, oauth_mailbox.address)
    assert account.sync_state == SyncState.SIGN_IN
    assert grant_of(app, oauth_mailbox.address).refresh_token is None
    with app.extensions["mail"].sessions() as db:  # an hour later, when a back-off would have ended
        db.get(Account, account_id).next_sync_at = utcnow() - timedelta(minutes=1)
        db.commit()
    assert account_id not in claim_due(app.extensions["mail"].sessions)
    requests_before = len(issuer.token_requests)
    browser.post("/inbox/refresh")  # asking again reaches nobody
    assert len(issuer.token_requests) == requests_before
    # Sign in again: the same account, its mail kept, a new grant
    location = at_provider(lab, start(browser, oauth_mailbox.address, again=True), oauth_mailbox.address,
                           oauth_mailbox.password)
    assert back(browser, location).status_code == 303
    renewed = account_of(app, oauth_mailbox.address)
    assert renewed.id == account_id and renewed.sync_state == SyncState.OK
    page = text(browser.get("/inbox/"))
    assert "Sign in again" not in page and "Avtal för hösten" in page


def test_sending_uses_xoauth2_and_the_sent_copy_lands(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    connect(browser, lab, oauth_mailbox)
    lab.received.clear()
    response = browser.post("/inbox/compose/", {"to": "kund@example.com", "subject": "Offert via OAuth",
                                                 "body": "Hej!"})
    assert response.status_code == 204, text(response)
    sent = [m for m in lab.received if b"Offert via OAuth" in m.data]
    assert sent and sent[0].auth_user == oauth_mailbox.address and sent[0].auth_mechanism == "XOAUTH2"
    assert "Offert via OAuth" in server_flags(lab, oauth_mailbox.address, "Sent")  # APPEND over XOAUTH2


def test_reading_and_marking_work_as_on_a_password_account(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    connect(browser, lab, oauth_mailbox)
    message = rows(app)["Avtal för hösten"]
    assert message.body_text is None
    assert "Hej!" in text(browser.get(f"/inbox/?message={message.id}"))
    assert "Hej!" in rows(app)["Avtal för hösten"].body_text  # fetched from the server over XOAUTH2
    assert browser.post("/inbox/messages/seen", {"ids": message.id, "seen": "1"}).status_code == 200
    assert b"\\Seen" in server_flags(lab, oauth_mailbox.address)["Avtal för hösten"]


def test_advanced_settings_with_oauth_sign_in_at_the_servers_provider(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    form = {"address": oauth_mailbox.address, "imap_host": lab.hostname, "imap_port": lab.imap_tls_port,
            "imap_username": oauth_mailbox.address, "imap_ssl": "on", "imap_auth": "oauth2",
            "smtp_same_login": "y", "smtp_host": lab.hostname, "smtp_port": lab.smtp_tls_port, "smtp_ssl": "on",
            "smtp_auth": "oauth2"}
    response = browser.post("/inbox/setup/advanced", form)
    assert response.status_code == 204 and response.headers["HX-Redirect"].startswith(issuer.issuer)
    location = at_provider(lab, response.headers["HX-Redirect"], oauth_mailbox.address, oauth_mailbox.password)
    assert back(browser, location).status_code == 303
    account = account_of(app, oauth_mailbox.address)
    assert (account.imap_auth, account.smtp_auth, account.smtp_port) == ("oauth2", "oauth2", lab.smtp_tls_port)
    edit = browser.get("/inbox/setup/advanced", htmx=True).get_data(as_text=True)
    assert _checked(edit, "imap_auth", "oauth2") and _checked(edit, "smtp_auth", "oauth2")


def test_removing_the_account_deletes_its_tokens(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    connect(browser, lab, oauth_mailbox)
    assert grant_of(app, oauth_mailbox.address) is not None
    assert browser.post("/settings/email-account/remove").status_code == 204
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(OAuthGrant)) is None and db.scalar(select(Account)) is None


def test_refreshes_of_one_account_are_serialised(app_config, lab, issuer, oauth_mailbox):
    from app import create_app

    app = create_app(dict(app_config, OAUTH_REFRESH_MARGIN=0.5))
    issuer.access_lifetime = 1
    browser = signed_in(app, oauth_mailbox)
    connect(browser, lab, oauth_mailbox)
    wait_until_access_tokens_expire(app)
    account_id = account_of(app, oauth_mailbox.address).id
    keeper = app.extensions["mail"].tokens
    issuer.access_lifetime = 3600
    before = len(issuer.grants_of("refresh_token"))
    got, problems = [], []

    def use():
        try:
            got.append(keeper.access_token(account_id))
        except Exception as exc:  # reported below
            problems.append(exc)

    workers = [threading.Thread(target=use) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert not problems and len(set(got)) == 1  # one new token, shared
    assert issuer.grants_of("refresh_token")[before:] == [("refresh_token", "ok")]  # one refresh, not six


_REFRESH_IN_A_PROCESS = """
import json, os, sys
sys.path.insert(0, os.environ["ROOT"])
from app import create_app
app = create_app(json.loads(os.environ["CONFIG"]))
print(app.extensions["mail"].tokens.access_token(int(os.environ["ACCOUNT"])), flush=True)
"""


def test_refreshes_are_serialised_across_processes(app_config, lab, issuer, oauth_mailbox):
    import json
    import subprocess
    import sys


    config = dict(app_config, OAUTH_REFRESH_MARGIN=0.5)
    from app import create_app

    app = create_app(config)
    issuer.access_lifetime = 1
    browser = signed_in(app, oauth_mailbox)
    connect(browser, lab, oauth_mailbox)
    issuer.access_lifetime = 3600
    wait_until_access_tokens_expire(app)
    before = len(issuer.grants_of("refresh_token"))
    environment = dict(os.environ, ROOT=str(ROOT), CONFIG=json.dumps(config),
                       ACCOUNT=str(account_of(app, oauth_mailbox.address).id))
    workers = [subprocess.Popen([sys.executable, "-c", _REFRESH_IN_A_PROCESS], env=environment,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    answers = [worker.communicate(timeout=60) for worker in workers]
    assert all(worker.returncode == 0 for worker in workers), [err[-500:] for _, err in answers]
    assert len({out.strip() for out, _ in answers}) == 1  # one new token, shared by all three
    assert issuer.grants_of("refresh_token")[before:] == [("refresh_token", "ok")]


def test_tokens_never_reach_a_response_a_log_or_the_database_file(app, app_config, lab, issuer, oauth_mailbox,
                                                                   caplog):
    caplog.set_level(logging.DEBUG)
    browser = signed_in(app, oauth_mailbox)
    bodies = [connect(browser, lab, oauth_mailbox)]
    issuer.expire_access_tokens(oauth_mailbox.address)
    bodies.append(browser.post("/inbox/refresh"))  # refreshes
    issuer.revoke(oauth_mailbox.address)
    bodies.append(browser.post("/inbox/refresh"))  # the refusal, explained
    for url in ("/inbox/", "/inbox/setup/advanced", "/settings/email-options?tab=account"):
        bodies.append(browser.get(url))
        bodies.append(browser.get(url, htmx=True))
    secrets_ = [t.access_token for t in issuer.tokens if t.user.email == oauth_mailbox.address]
    secrets_ += [t.refresh_token for t in issuer.tokens if t.user.email == oauth_mailbox.address and t.refresh_token]
    assert len(secrets_) >= 3
    for secret in secrets_:
        for response in bodies:
            assert secret not in response.get_data(as_text=True)
        for record in caplog.records:
            if record.name.startswith(("authlib.oauth2.rfc6749.grants", "authlib.oidc.core.grants")):
                continue  # the local issuer's own log (Authlib's server side), not this app's
            assert secret not in record.getMessage()
    database = app_config["DATABASE_URL"].removeprefix("sqlite:///")
    app.extensions["mail"].engine.dispose()
    raw = b"".join(open(path, "rb").read() for path in (database, database + "-wal") if os.path.exists(path))
    for secret in secrets_:
        assert secret.encode() not in raw


def test_a_sign_in_under_way_is_kept_sealed_and_expires(app, lab, issuer, oauth_mailbox):
    browser = signed_in(app, oauth_mailbox)
    url = start(browser, oauth_mailbox.address)
    state = parse_qs(urlsplit(url).query)["state"][0]
    with app.extensions["mail"].sessions() as db:
        flow = db.scalar(select(OAuthFlow))
        assert state.encode() not in flow.payload and b"verifier" not in flow.payload


def _message(address: str, subject: str):
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "Eva <eva@kund.example>", address, subject
    message.set_content("Hej igen!")
    return message


def _checked(page: str, name: str, value: str) -> bool:
    select = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
    return bool(select) and bool(re.search(rf'<option selected value="{value}"', select.group(1)))


def test_oauthbearer_where_xoauth2_is_not_offered(lab, issuer, oauth_mailbox):
    """Dovecot and the SMTP server offer both mechanisms; here the client is shown only OAUTHBEARER
    (a stand-in for a server that offers nothing else), and the real servers check the token."""
    import smtplib

    from localmail.oauth_server import IssuedToken
    from mailcore.connect import MailClient, _smtp_log_in
    from mailcore.settings import ServerSettings

    token = IssuedToken("bearer-only-token", None, "inkorg-test", "openid", issuer.users[oauth_mailbox.address], 60)
    issuer.tokens.append(token)

    class OnlyBearer(MailClient):
        def capabilities(self):
            return tuple(c for c in super().capabilities() if c != b"AUTH=XOAUTH2")

    server = ServerSettings(lab.hostname, lab.imap_tls_port, True, oauth_mailbox.address)
    client = OnlyBearer(server, lab.host, lab.imap_tls_context(), 5, 30)
    client.token_login(oauth_mailbox.address, token.access_token)
    assert client.select_folder("INBOX")[b"EXISTS"] == 2
    client.logout()

    with smtplib.SMTP_SSL(lab.host, lab.smtp_tls_port, context=lab.imap_tls_context(), timeout=5) as smtp:
        smtp.ehlo()
        smtp.esmtp_features["auth"] = "OAUTHBEARER PLAIN"
        _smtp_log_in(smtp, oauth_mailbox.address, Bearer(token.access_token))
    assert lab.smtp_auth_attempts[-1] == (oauth_mailbox.address, True)


@pytest.mark.parametrize("email_verified", [True, None])
def test_a_sign_in_verifies_the_card_address_only_when_the_provider_says_the_email_is_verified(
        app, lab, issuer, oauth_mailbox, email_verified):
    """Signing in at the provider connects the account either way; the contact card's address counts as
    proven only when the id_token says the email is verified, else the mailed link proves it."""
    from mailcore import services
    from mailcore.models import ContactEmail

    issuer.users[oauth_mailbox.address.lower()].email_verified = email_verified
    make_user(app, f"crm-{oauth_mailbox.address}")
    with app.extensions["mail"].sessions() as db:
        services.add_contact_email(db, services.user_by_email(db, f"crm-{oauth_mailbox.address}"),
                                   oauth_mailbox.address)
    browser = Browser(app.test_client())
    browser.sign_in(f"crm-{oauth_mailbox.address}", "crm-password-1")
    connect(browser, lab, oauth_mailbox)
    assert account_of(app, oauth_mailbox.address).imap_auth == "oauth2"
    with app.extensions["mail"].sessions() as db:
        card = db.scalar(select(ContactEmail).where(ContactEmail.address == oauth_mailbox.address))
        assert (card.verified_at is not None) is bool(email_verified)
