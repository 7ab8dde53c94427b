"""Every mail failure explained in Swedish and in English, naming the server where it has one, and
read back from the stable code an account stores."""

from __future__ import annotations

import pytest
from flask_babel import force_locale

from blueprints.explain import explain, explain_state
from mailcore import errors
from mailcore.discovery.providers import ProviderList
from mailcore.models import Account

HOST, PORT = "mail.exempel.se", 2525


def every_error() -> list[type[errors.MailError]]:
    found, todo = [], [errors.MailError]
    while todo:
        for cls in todo.pop().__subclasses__():
            found.append(cls)
            todo.append(cls)
    return sorted(found, key=lambda cls: cls.__name__)


ERRORS = every_error()
# what each explanation must name so the user knows which setting to fix
NAMES_HOST = {errors.HostNotFound, errors.HostNotAllowed, errors.ConnectionRefused, errors.ConnectionTimedOut,
              errors.TlsCertificateWrongName, errors.TlsFailed, errors.Pop3Only, errors.WrongProtocol}
NAMES_PORT = {errors.PortNotAllowed, errors.ConnectionRefused, errors.ConnectionTimedOut, errors.TlsFailed,
              errors.StartTlsNotOffered, errors.WrongProtocol}


@pytest.fixture
def request_context(app):
    with app.test_request_context():
        yield


def explained(exc: errors.MailError, locale: str, provider=None):
    with force_locale(locale):
        return explain(exc, provider)


def test_every_error_class_is_here():
    assert len(ERRORS) >= 18 and errors.SecretUnreadable in ERRORS


@pytest.mark.parametrize("side", [errors.INCOMING, errors.OUTGOING])
@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_every_error_is_explained_in_swedish_and_english(request_context, cls, side):
    exc = cls("server says no", side=side, host=HOST, port=PORT)
    swedish, english = explained(exc, "sv").message, explained(exc, "en").message
    assert swedish.strip() and english.strip()
    assert swedish != english, f"{cls.__name__} is not translated"
    for text in (swedish, english):
        assert (HOST in text) is (cls in NAMES_HOST), text
        assert (str(PORT) in text) is (cls in NAMES_PORT), text


@pytest.mark.parametrize("cls", [c for c in ERRORS if c is not errors.ProtocolFailure], ids=lambda cls: cls.__name__)
def test_no_error_falls_through_to_the_generic_explanation(request_context, cls):
    generic = explained(errors.ProtocolFailure(host=HOST, port=PORT), "en").message
    assert explained(cls(host=HOST, port=PORT), "en").message != generic


@pytest.mark.parametrize("side,tls,starttls", [(errors.INCOMING, "993", "143"), (errors.OUTGOING, "465", "587")])
def test_tls_advice_names_the_ports_of_the_side_that_failed(request_context, side, tls, starttls):
    text = explained(errors.TlsFailed(side=side, host=HOST, port=PORT), "sv").message
    assert f"På för port {tls}, Av för port {starttls}" in text


def test_the_providers_own_words_are_shown_and_gmail_users_get_the_app_password_hint(request_context):
    gmail = ProviderList.load().by_id("gmail")
    alert = explained(errors.ProviderAlert("Please log in via your web browser"), "sv", gmail)
    assert alert.server_text == "Please log in via your web browser"
    assert any("Gmail" in advice and "applösenord" in advice for advice in alert.advice), alert.advice
    login = explained(errors.AuthenticationFailed("Invalid credentials"), "en", gmail)
    assert login.server_text == "Invalid credentials"
    assert login.advice == ["Gmail: use an app password instead of your regular password."]
    assert explained(errors.AuthenticationFailed("no"), "en").advice == []


# --- stored codes ----------------------------------------------------------------------------------


def test_every_error_has_its_own_stable_code():
    codes = [cls.code for cls in ERRORS]
    assert len(set(codes)) == len(codes), sorted(codes)
    assert all(code and code == code.strip().lower() and " " not in code for code in codes)


@pytest.mark.parametrize("cls", ERRORS, ids=lambda cls: cls.__name__)
def test_a_stored_code_reads_back_as_its_error(cls):
    assert errors.kind_of(cls.code) is cls


@pytest.mark.parametrize("code", [None, "", "no-such-code", "AuthenticationFailed", "MailError"])
def test_an_unknown_stored_code_reads_back_as_the_generic_failure(code):
    assert errors.kind_of(code) is errors.ProtocolFailure


def _account(kind: str | None, side: str | None) -> Account:
    return Account(last_error_kind=kind, last_error_side=side,
                   last_error_detail="5.7.8 Username and Password not accepted",
                   imap_host="imap.exempel.se", imap_port=993, smtp_host="smtp.exempel.se", smtp_port=465)


@pytest.mark.parametrize("kind,side,words", [
    ("authentication-failed", errors.INCOMING, "Användarnamnet eller lösenordet godtogs inte."),
    # a server that worked before and does not answer now: no talk of ports (those are for setting up)
    ("connection-refused", errors.INCOMING, "Kan inte nå imap.exempel.se. Försök igen när servern svarar."),
    ("connection-refused", errors.OUTGOING, "Kan inte nå smtp.exempel.se. Försök igen när servern svarar."),
    ("connection-refused", None, "Kan inte nå imap.exempel.se."),
    ("timed-out", errors.OUTGOING, "Kan inte nå smtp.exempel.se."),
    ("tls-failed", errors.INCOMING, "Kontrollera inställningen SSL: På för port 993, Av för port 143."),
    ("secret-unreadable", errors.INCOMING, "Logga in på kontot igen under Alternativ för e-post."),
    ("no-such-code", errors.INCOMING, "Servern bröt anslutningen."),
])
def test_an_accounts_stored_failure_is_explained_for_its_side(request_context, kind, side, words):
    with force_locale("sv"):
        explanation = explain_state(_account(kind, side))
    assert words in explanation.message


def test_an_account_whose_last_login_worked_has_nothing_to_explain(request_context):
    assert explain_state(_account(None, None)) is None
