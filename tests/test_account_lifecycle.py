"""Editing, removing and living with a connected account; isolation between users; secrets."""

from __future__ import annotations

import logging
import re

from sqlalchemy import select

from mailcore.models import Account, ConnectionAttempt, User

from .helpers import Browser, account_of, advanced_form, make_user, text


def connect(browser, mailbox):
    response = browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password})
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/inbox/", text(response)


def test_email_options_tabs(browser, mailbox, lab):
    connect(browser, mailbox)
    general = browser.get("/settings/email-options", htmx=True)
    words = text(general)
    for expected in ("Email options", "General", "Email account", "Show inline images",
                     "Mark as read in preview", "Save copy of sent email", "OK"):
        assert expected in words
    assert "<html" not in general.get_data(as_text=True)  # a fragment for htmx
    account = text(browser.get("/settings/email-options?tab=account", htmx=True))
    assert mailbox.address in account and "Edit/remove" in account
    assert f"{lab.hostname}:{lab.imap_tls_port}" in account and "Last successful login" in account


def test_general_options_are_saved_per_user(browser, app, mailbox):
    browser.post("/settings/email-options", {"show_inline_images": "y", "save_sent_copy": "y"})
    with app.extensions["mail"].sessions() as db:
        user = db.scalar(select(User).where(User.email == mailbox.address))
        assert (user.show_inline_images, user.mark_read_in_preview, user.save_sent_copy) == (True, False, True)
    page = browser.get("/settings/email-options").get_data(as_text=True)
    assert re.search(r'<input checked id="show_inline_images"', page)
    assert re.search(r'<input id="mark_read_in_preview"', page)


def test_language_choice_under_personal_settings(browser):
    page = text(browser.get("/settings/personal"))
    assert "Personal settings" in page and "Svenska" in page and "English" in page
    assert browser.post("/settings/personal", {"language": "sv"}).status_code == 204
    page = text(browser.get("/settings/personal"))
    assert "Personliga inställningar" in page and "Alternativ för e-post" in page
    assert browser.post("/settings/personal", {"language": "de"}).status_code == 422
    assert "Personliga inställningar" in text(browser.get("/settings/personal"))


def test_edit_keeps_the_stored_password_when_left_blank(browser, mailbox, lab, app):
    connect(browser, mailbox)
    form = browser.get("/inbox/setup/advanced", htmx=True)
    html = form.get_data(as_text=True)
    assert f'value="{mailbox.address}"' in html and "Remove account" in text(form)
    assert mailbox.password not in html
    response = browser.post("/inbox/setup/advanced", advanced_form(lab, mailbox, imap_password=""))
    assert response.status_code == 200 and response.headers["HX-Push-Url"] == "/inbox/", text(response)
    assert "Offert för våren" in text(browser.get("/inbox/"))


def test_a_stored_password_never_follows_a_changed_server(browser, mailbox, lab, app):
    """Whoever holds a session must not aim the stored password at a server of their choosing."""
    connect(browser, mailbox)
    attempts = len(lab.smtp_auth_attempts)
    moved = advanced_form(lab, mailbox, imap_password="", smtp_same_login=None, smtp_username=mailbox.address,
                          smtp_port=lab.smtp_starttls_port, smtp_ssl="off")
    response = browser.post("/inbox/setup/advanced", moved)
    assert response.status_code == 422
    assert "The server settings have changed, so enter the password again." in text(response)
    assert len(lab.smtp_auth_attempts) == attempts  # nothing was sent anywhere
    assert account_of(app, mailbox.address).smtp_port == lab.smtp_tls_port
    again = browser.post("/inbox/setup/advanced", dict(moved, smtp_password=mailbox.password))
    assert again.status_code == 200 and again.headers["HX-Push-Url"] == "/inbox/", text(again)
    assert account_of(app, mailbox.address).smtp_port == lab.smtp_starttls_port


def test_remove_asks_then_forgets_the_account_but_not_the_mailbox(browser, mailbox, lab, app):
    connect(browser, mailbox)
    confirm = text(browser.get("/settings/email-account/remove", htmx=True))
    assert "Remove account" in confirm and "is not touched" in confirm
    assert account_of(app, mailbox.address) is not None
    assert browser.post("/settings/email-account/remove").status_code == 204
    assert account_of(app, mailbox.address) is None
    with app.extensions["mail"].sessions() as db:
        assert db.scalar(select(Account)) is None
    assert "Set up email account" in text(browser.get("/inbox/"))
    connect(browser, mailbox)  # the mailbox at the provider is untouched
    assert "Offert för våren" in text(browser.get("/inbox/"))


def test_a_later_login_failure_shows_the_banner(browser, mailbox, lab, app):
    connect(browser, mailbox)
    lab.set_password(mailbox.address, "changed-elsewhere-1")
    try:
        browser.post("/inbox/refresh")  # the next sync meets the changed password
        page = text(browser.get("/inbox/"))
    finally:
        lab.set_password(mailbox.address, mailbox.password)
    assert "Why is the email list not updated?" in page
    assert "user name or password was not accepted" in page
    assert "block login attempts from unknown apps" in page and "Edit/remove" in page
    state = text(browser.get("/settings/email-options?tab=account", htmx=True))
    assert "Last error" in state and "user name or password was not accepted" in state


def test_every_change_needs_the_csrf_token(browser, mailbox, lab, app):
    for url, data in (("/inbox/setup/next", {"address": mailbox.address}),
                      ("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password}),
                      ("/inbox/setup/advanced", advanced_form(lab, mailbox)),
                      ("/settings/email-options", {"show_inline_images": "y"}),
                      ("/settings/personal", {"language": "sv"}),
                      ("/settings/contact-card", {"address": "x@example.com"}),
                      ("/settings/email-account/remove", {}),
                      ("/signout", {})):
        response = browser.post(url, data, csrf=False)
        assert response.status_code == 400, url
        assert "The form has expired" in text(response)
    assert account_of(app, mailbox.address) is None


def test_another_users_data_is_invisible(app, lab, mailbox):
    make_user(app, mailbox.address)
    owner = Browser(app.test_client())
    owner.sign_in(mailbox.address, "crm-password-1")
    connect(owner, mailbox)
    owner.post("/settings/contact-card", {"address": "second@crm.example"})

    make_user(app, "mallory@crm.example", name="Mallory")
    other = Browser(app.test_client())
    other.sign_in("mallory@crm.example", "crm-password-1")
    assert "Set up email account" in text(other.get("/inbox/"))
    options = text(other.get("/settings/email-options?tab=account", htmx=True))
    assert mailbox.address not in options and "No email account is connected yet." in options
    assert mailbox.address not in other.get("/inbox/setup/advanced").get_data(as_text=True)
    with app.extensions["mail"].sessions() as db:
        owners = db.scalar(select(User).where(User.email == mailbox.address)).contact_emails
    for item in owners:
        for change in ("up", "down", "remove"):
            assert other.post(f"/settings/contact-card/{item.id}/{change}").status_code == 404
    assert other.post("/settings/email-account/remove").status_code == 204
    assert account_of(app, mailbox.address) is not None


def test_passwords_never_reach_a_response_a_log_or_the_database_file(app, app_config, lab, mailbox, caplog):
    caplog.set_level(logging.DEBUG)
    make_user(app, mailbox.address)
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    bodies = []
    bodies.append(browser.post("/inbox/setup/login", {"address": mailbox.address, "password": "wrong-pw-XYZ"}))
    bodies.append(browser.post("/inbox/setup/advanced", advanced_form(lab, mailbox, imap_port=lab.closed_port)))
    bodies.append(browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password}))
    for url in ("/inbox/", "/inbox/setup/advanced", "/settings/email-options?tab=account"):
        bodies.append(browser.get(url))
        bodies.append(browser.get(url, htmx=True))
    for secret in (mailbox.password, "wrong-pw-XYZ", "crm-password-1"):
        for response in bodies:
            assert secret not in response.get_data(as_text=True)
        for record in caplog.records:
            assert secret not in record.getMessage()
    database = app_config["DATABASE_URL"].removeprefix("sqlite:///")
    engine = app.extensions["mail"].engine
    engine.dispose()
    raw = b"".join(open(path, "rb").read() for path in (database, database + "-wal") if _exists(path))
    assert mailbox.password.encode() not in raw and b"crm-password-1" not in raw


def _exists(path: str) -> bool:
    import os

    return os.path.exists(path)


def test_connection_tests_are_rate_limited_per_user(app_config, lab, mailbox):
    from app import create_app

    app = create_app(dict(app_config, MAIL_TESTS_PER_5_MINUTES=2))
    make_user(app, mailbox.address)
    browser = Browser(app.test_client())
    browser.sign_in(mailbox.address, "crm-password-1")
    for _ in range(2):
        assert "not accepted" in text(browser.post("/inbox/setup/login",
                                                   {"address": mailbox.address, "password": "wrong"}))
    third = text(browser.post("/inbox/setup/login", {"address": mailbox.address, "password": mailbox.password}))
    assert "Too many attempts in a short time" in third
    assert account_of(app, mailbox.address) is None
    with app.extensions["mail"].sessions() as db:
        assert db.query(ConnectionAttempt).filter_by(kind="login").count() == 2


def test_session_cookie_flags(app, mailbox):
    make_user(app, mailbox.address)
    browser = Browser(app.test_client())
    response = browser.sign_in(mailbox.address, "crm-password-1")
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    secure = Browser(app.test_client())
    page = secure.client.get("/signin", base_url="https://inkorg.example")
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = secure.client.post("/signin", base_url="https://inkorg.example",
                                  headers={"Referer": "https://inkorg.example/signin"},
                                  data={"email": mailbox.address, "password": "crm-password-1", "csrf_token": token})
    assert "Secure" in response.headers["Set-Cookie"]

