"""The Set up email account flow against the real Dovecot and SMTP servers."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mailcore.models import Account, User

from .helpers import POP_DOMAIN, STARTTLS_DOMAIN, Browser, account_of, advanced_form, make_user, text


def test_first_visit_opens_the_setup_dialog(browser):
    page = browser.get("/inbox/")
    words = text(page)
    assert page.status_code == 200
    assert "<dialog" in page.get_data(as_text=True)
    for expected in ("Set up email account", "Email account", "Advanced settings", "Next"):
        assert expected in words


def test_next_and_log_in_show_the_real_inbox(browser, mailbox, app):
    step = browser.post("/inbox/setup/next", {"address": mailbox.address})
    words = text(step)
    assert step.status_code == 200
    assert "Recognised provider: Testmail" in words
    assert "Password" in words and "Log in" in words
    assert "To send email" not in words  # the address is first on the contact card

    done = browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    assert done.status_code == 200, text(done)  # the inbox itself, in place of the page, at /inbox/
    assert (done.headers["HX-Retarget"], done.headers["HX-Reswap"], done.headers["HX-Push-Url"]) == (
        "body", "innerHTML", "/inbox/")
    assert "Offert för våren" in text(done) and 'class="modal setup"' not in done.get_data(as_text=True)

    inbox = text(browser.get("/inbox/"))
    assert "INBOX" in inbox and "2 new" in inbox
    assert "Offert för våren" in inbox and "Anna Berg" in inbox
    assert "Åsa Öberg" in inbox  # an ISO-8859-1 encoded name, decoded
    account = account_of(app, mailbox.address)
    assert account.settings_source == "provider" and account.provider_id == "testmail"
    assert mailbox.password.encode() not in account.imap_password


def test_the_whole_flow_in_swedish(app, mailbox):
    make_user(app, mailbox.address, language="sv")
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    first = text(browser.get("/inbox/"))
    for expected in ("Konfigurera e-postkonto", "E-postkonto", "Avancerade inställningar", "Nästa", "Inkorg"):
        assert expected in first
    step = text(browser.post("/inbox/setup/next", {"address": mailbox.address}))
    assert "Igenkänd e-postleverantör: Testmail" in step
    assert "Lösenord" in step and "Logga in" in step
    browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    inbox = text(browser.get("/inbox/"))
    assert "INKORG" in inbox and "2 nya" in inbox and "Offert för våren" in inbox


def test_advanced_settings_with_starttls(browser, lab, mailbox, app):
    form = browser.get("/inbox/setup/advanced?address=" + mailbox.address, htmx=True)
    words = text(form)
    for expected in ("Advanced settings", "Incoming email settings", "Outgoing email settings",
                     "Incoming e-mail server", "Outgoing e-mail server", "User name", "Password", "SSL",
                     "On", "Off", "your full email address", "the password for your email account",
                     "depends on your email provider's settings", "Save"):
        assert expected in words
    assert f'value="{lab.imap_tls_port}"' in form.get_data(as_text=True)  # pre-filled from the provider
    response = browser.post("/inbox/setup/advanced", advanced_form(
        lab, mailbox, imap_port=lab.imap_starttls_port, imap_ssl="off",
        smtp_port=lab.smtp_starttls_port, smtp_ssl="off"))
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/inbox/", text(response)
    account = account_of(app, mailbox.address)
    assert (account.imap_port, account.imap_ssl, account.smtp_port, account.smtp_ssl) == (
        lab.imap_starttls_port, False, lab.smtp_starttls_port, False)
    assert "Offert för våren" in text(browser.get("/inbox/"))


def test_provider_with_starttls_settings(browser, lab, app):
    address = f"someone@{STARTTLS_DOMAIN}"
    lab.add_user(address, "starttls-pw-1")
    step = text(browser.post("/inbox/setup/next", {"address": address}))
    assert f"{lab.hostname}:{lab.imap_starttls_port} · SSL Off" in step
    done = browser.post("/inbox/setup/login", {"address": address, "password": "starttls-pw-1"})
    assert done.status_code == 200


# Each failure ends in Advanced settings, pre-filled, with the reason next to the side it concerns.
FAILURES = [
    ("host not found", "incoming", dict(imap_host="no-such-host.invalid"), "was not found"),
    ("refused", "incoming", dict(imap_port="closed"), "refused the connection"),
    ("timeout", "incoming", dict(imap_port="tarpit"), "did not answer on port"),
    ("untrusted certificate", "incoming", dict(imap_port="untrusted"), "certificate is not trusted"),
    ("wrong certificate name", "incoming", dict(imap_host="127.0.0.1"), "not valid for the name 127.0.0.1"),
    ("wrong password", "incoming", dict(imap_password="wrong", smtp_same_login=None,
                                        smtp_username="self", smtp_password="self"),
     "user name or password was not accepted"),
    ("pop3 only", "incoming", dict(imap_port="pop3", imap_ssl="off"), "supports IMAP accounts only, not POP3"),
    ("no starttls", "incoming", dict(imap_port="plain", imap_ssl="off"), "does not offer encryption (STARTTLS)"),
    ("ssl on a starttls port", "incoming", dict(imap_port="starttls"), "No encrypted connection could be made"),
    ("smtp on the imap side", "incoming", dict(imap_port="smtp", imap_ssl="on"), "as an outgoing (SMTP) server"),
    ("smtp wrong password", "outgoing", dict(smtp_same_login=None, smtp_username="self", smtp_password="nope"),
     "user name or password was not accepted"),
    ("smtp no starttls", "outgoing", dict(smtp_port="smtp_plain", smtp_ssl="off"),
     "does not offer encryption (STARTTLS)"),
    ("smtp refused", "outgoing", dict(smtp_port="closed"), "refused the connection"),
    ("port not allowed", "incoming", dict(imap_port="8080"), "Port 8080 is not a mail server port"),
]


def _resolve(lab, mailbox, changes: dict) -> dict:
    ports = {"closed": lab.closed_port, "tarpit": lab.tarpit_port, "untrusted": lab.imap_untrusted_tls_port,
             "pop3": lab.pop3_port, "plain": lab.imap_plain_only_port, "starttls": lab.imap_starttls_port,
             "smtp": lab.smtp_tls_port, "smtp_plain": lab.smtp_no_starttls_port}
    resolved = {}
    for key, value in changes.items():
        if isinstance(value, str) and value in ports and key.endswith("_port"):
            value = ports[value]
        if value == "self":
            value = mailbox.address if key.endswith("username") else mailbox.password
        resolved[key] = value
    return resolved


@pytest.mark.parametrize("name,side,changes,message", FAILURES, ids=[f[0] for f in FAILURES])
def test_failures_explained_in_advanced_settings(app, browser, lab, mailbox, name, side, changes, message):
    if name == "timeout":
        app.extensions["mail"].env = type(app.extensions["mail"].env)(
            app.extensions["mail"].env.policy, app.extensions["mail"].env.ca_bundle, 1.0)
    data = advanced_form(lab, mailbox, **_resolve(lab, mailbox, changes))
    response = browser.post("/inbox/setup/advanced", data)
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    section = html.split('id="incoming-problem"' if side == "incoming" else 'id="outgoing-problem"', 1)
    assert len(section) == 2, f"no problem shown on the {side} side: {text(response)}"
    shown = text(response)
    assert message in shown
    assert "Advanced settings" in shown
    assert f'value="{data["imap_host"]}"' in html  # what the user typed is kept
    assert mailbox.password not in html  # except the password
    assert account_of(app, mailbox.address) is None


def test_a_wrong_password_keeps_the_password_step_and_says_so_beside_the_field(browser, mailbox, lab, app):
    response = browser.post("/inbox/setup/login", {"address": mailbox.address, "password": "not-it"})
    words = text(response)
    assert response.status_code == 422
    assert "user name or password was not accepted" in words
    html = response.get_data(as_text=True)
    assert '<h2 id="dialog-title">Set up email account</h2>' in html  # the password step, not Advanced settings
    assert 'name="imap_host"' not in html
    assert 'id="password-error"' in html and 'aria-invalid="true"' in html  # beside the field, and said to it
    assert "Log in" in words and "not-it" not in html
    assert account_of(app, mailbox.address) is None


def test_a_log_in_the_servers_refuse_lands_in_advanced_settings_prefilled(browser, mailbox, lab, app):
    lab.stop_imap()
    try:
        response = browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    finally:
        lab.start_imap()
    words = text(response)
    assert response.status_code == 422
    assert "Advanced settings" in words and "Incoming email settings" in words
    html = response.get_data(as_text=True)
    assert f'value="{lab.hostname}"' in html and f'value="{lab.imap_tls_port}"' in html
    assert mailbox.password not in html


def test_provider_alert_shows_the_providers_words_and_the_guides_advice(browser, lab, app):
    address = "blocked@inkorg.test"
    alert = "Application-specific password required: see https://support.example/apppasswords"
    lab.add_user(address, "right-password-1", alert=alert)
    response = browser.post("/inbox/setup/login", {"address": address, "password": "right-password-1"})
    words = text(response)
    assert "Your email provider refused the login with this message:" in words
    assert alert in words
    assert "block login attempts from unknown apps" in words
    assert "Gmail: use an app password instead of your regular password." in words


def test_pop3_only_provider_says_imap_only(browser):
    words = text(browser.post("/inbox/setup/next", {"address": f"kim@{POP_DOMAIN}"}))
    assert "The inbox supports IMAP accounts only, not POP3." in words
    assert "Log in" not in words.split("Advanced settings")[-1]


def test_invalid_address_rerenders_the_first_step(browser):
    response = browser.post("/inbox/setup/next", {"address": "not an address"})
    assert response.status_code == 422
    assert "Enter a whole email address" in text(response)
    assert 'value="not an address"' in response.get_data(as_text=True)


def test_an_address_nothing_is_found_for_opens_advanced_settings(browser):
    response = browser.post("/inbox/setup/next", {"address": "pat@unknown-company.example"})
    words = text(response)
    assert "Advanced settings" in words and "could not be found" in words
    html = response.get_data(as_text=True)
    assert 'value="imap.unknown-company.example"' in html and 'value="smtp.unknown-company.example"' in html


def test_host_outside_allowed_networks_is_refused_before_connecting(app_config, lab, mailbox):
    import socket

    from app import create_app

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    config = dict(app_config, MAIL_ALLOWED_NETWORKS="",
                  MAIL_ALLOWED_PORTS=f"{app_config['MAIL_ALLOWED_PORTS']} {listener.getsockname()[1]}")
    app = create_app(config)
    make_user(app, mailbox.address)
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    data = advanced_form(lab, mailbox, imap_port=listener.getsockname()[1], smtp_port=listener.getsockname()[1])
    words = text(browser.post("/inbox/setup/advanced", data))
    assert "points to a private or reserved network address" in words
    with pytest.raises(TimeoutError):
        listener.accept()  # nobody knocked
    listener.close()


def test_contact_card_warning_until_the_address_is_first(app, lab, mailbox):
    make_user(app, "anna@crm.example")
    browser = Browser(app.test_client())
    browser.sign_in("anna@crm.example", "crm-password-1")
    sentence = "To send email, the address must be the same as the first email address on your contact card."
    step = browser.post("/inbox/setup/next", {"address": mailbox.address})
    assert sentence in text(step) and 'href="/settings/contact-card"' in step.get_data(as_text=True)
    browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    assert sentence in text(browser.get("/inbox/"))  # receiving works, with the warning

    browser.post("/settings/contact-card", {"address": mailbox.address})
    card = text(browser.get("/settings/contact-card")).split("Email addresses")[1]
    assert card.index("anna@crm.example") < card.index(mailbox.address)
    with app.extensions["mail"].sessions() as db:
        second = db.scalar(select(User).where(User.email == "anna@crm.example")).contact_emails[1].id
    assert browser.post(f"/settings/contact-card/{second}/up").status_code == 204
    card = text(browser.get("/settings/contact-card")).split("Email addresses")[1]
    assert card.index(mailbox.address) < card.index("anna@crm.example")
    assert sentence not in text(browser.get("/inbox/"))


def test_setting_up_again_replaces_the_account(browser, lab, mailbox, app):
    browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    first_id = account_of(app, mailbox.address).id
    browser.post("/inbox/setup/advanced", advanced_form(
        lab, mailbox, imap_port=lab.imap_starttls_port, imap_ssl="off"))
    with app.extensions["mail"].sessions() as db:
        assert db.query(Account).count() == 1
    assert account_of(app, mailbox.address).id != first_id
