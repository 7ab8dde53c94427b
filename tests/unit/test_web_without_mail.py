"""The web app without any mail server: signed-out pages, the sign-in form's language, the user
commands. Each test has a database of its own (a copy of the migrated one, see conftest.py)."""

from __future__ import annotations

import pytest

from tests.helpers import Browser, text


@pytest.fixture
def app(fresh_app):
    """These tests add users and sessions: each on a fresh database, not the tier's shared one."""
    return fresh_app


def test_a_signed_in_user_without_an_account_is_offered_the_setup(signed_in):
    page = signed_in.get("/inbox/")
    assert page.status_code == 200 and "Set up email account" in text(page)


def test_signed_out_visitors_are_sent_to_sign_in(app):
    client = app.test_client()
    for url in ("/inbox/", "/settings/email-options", "/settings/contact-card", "/inbox/setup/advanced"):
        response = client.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/signin?next=")
    assert client.get("/signin?next=//evil.example/").status_code == 200


def test_wrong_sign_in_is_refused_in_the_users_language(app):
    client = Browser(app.test_client())
    page = client.get("/signin", headers={"Accept-Language": "sv"})
    import re

    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    response = client.client.post("/signin", data={"email": "nobody@x.example", "password": "x", "csrf_token": token},
                                  headers={"Accept-Language": "sv"})
    assert response.status_code == 422 and "Användarnamnet eller lösenordet är fel." in text(response)


def test_browser_language_is_used_before_sign_in(app):
    client = app.test_client()
    assert "Användarnamn" in text(client.get("/signin", headers={"Accept-Language": "sv-SE,sv;q=0.9"}))
    page = text(client.get("/signin", headers={"Accept-Language": "de"}))
    assert "User name" in page and "Sign in" in page


def test_cli_adds_and_lists_users(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["user", "add", "kim@crm.example", "--password", "long-enough-1",
                                 "--name", "Kim Karlsson", "--lang", "sv"])
    assert result.exit_code == 0 and "Created kim@crm.example" in result.output
    again = runner.invoke(args=["user", "add", "KIM@crm.example", "--password", "long-enough-1", "--name", "K"])
    assert again.exit_code != 0 and "already exists" in again.output
    short = runner.invoke(args=["user", "add", "x@crm.example", "--password", "short", "--name", "X"])
    assert short.exit_code != 0
    listed = runner.invoke(args=["user", "list"])
    assert "kim@crm.example\tKim Karlsson\tsv\t-" in listed.output
    browser = Browser(app.test_client())
    browser.sign_in("kim@crm.example", "long-enough-1")
    card = text(browser.get("/settings/contact-card"))
    assert "Kontaktkort" in card and "kim@crm.example" in card.split("E-postadresser")[1]
