"""The administrator's page on signing in with Microsoft and Google (/inbox/oauth/help): a template of
the app, in the user's language, with the redirect URI this installation must register."""

from __future__ import annotations

import pytest

from tests.helpers import Browser, make_user, text

SETTINGS = ("OAUTH_MICROSOFT_CLIENT_ID", "OAUTH_MICROSOFT_CLIENT_SECRET", "OAUTH_MICROSOFT_TENANT",
            "OAUTH_GOOGLE_CLIENT_ID", "OAUTH_GOOGLE_CLIENT_SECRET", "MAIL_PROVIDERS_FILE", "EXTERNAL_URL")
WORDS = {
    "en": ["Signing in with Microsoft and Google", "Register exactly this redirect URI at the provider:",
           "Microsoft Entra ID (Microsoft 365 and Outlook.com)", "Google Cloud (Gmail and Google Workspace)",
           "An issuer of your own", "App registrations > New registration",
           "APIs & Services > OAuth consent screen"],
    "sv": ["Inloggning med Microsoft och Google", "Registrera exakt den här omdirigerings-URI:n hos leverantören:",
           "Microsoft Entra ID (Microsoft 365 och Outlook.com)", "Google Cloud (Gmail och Google Workspace)",
           "En egen inloggningstjänst", "App registrations > New registration",
           "APIs & Services > OAuth consent screen"],
}


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_the_page_says_what_to_register_in_the_users_language(app, lang):
    make_user(app, f"admin-{lang}@crm.example", language=lang)
    browser = Browser(app.test_client())
    browser.sign_in(f"admin-{lang}@crm.example", "crm-password-1")
    page = browser.get("/inbox/oauth/help")
    assert page.status_code == 200
    said = text(page)
    for words in [*WORDS[lang], *SETTINGS]:
        assert words in said, words
    other = WORDS["sv" if lang == "en" else "en"]
    assert not [words for words in other[:5] if words in said]  # nothing left in the other language
    assert "http://localhost/inbox/oauth/callback" in said  # the address this request came to
    assert "<code>OAUTH_GOOGLE_CLIENT_ID</code>" in page.get_data(as_text=True)  # markup of the catalog, not escaped

    fragment = browser.get("/inbox/oauth/help", htmx=True).get_data(as_text=True)
    assert "<html" not in fragment and "OAUTH_GOOGLE_CLIENT_ID" in fragment


def test_the_redirect_uri_is_external_url_when_set(app, monkeypatch):
    make_user(app, "admin-external@crm.example")
    monkeypatch.setitem(app.config, "EXTERNAL_URL", "https://crm.example.com/")
    browser = Browser(app.test_client())
    browser.sign_in("admin-external@crm.example", "crm-password-1")
    said = text(browser.get("/inbox/oauth/help"))
    assert "https://crm.example.com/inbox/oauth/callback" in said
    assert "http://localhost/inbox/oauth/callback" not in said


def test_only_a_signed_in_user_sees_it(app):
    response = app.test_client().get("/inbox/oauth/help")
    assert response.status_code in (302, 303) and "/signin" in response.headers["Location"]
