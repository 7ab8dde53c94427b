"""Each mail failure, said once in words a user understands."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask_babel import gettext as _

from mailcore import errors
from mailcore.discovery.providers import Provider


@dataclass
class Explanation:
    message: str
    server_text: str = ""  # the provider's own words, shown quoted
    advice: list[str] = field(default_factory=list)
    link: tuple[str, str] | None = None  # (address, words) of a page that helps
    unreachable: bool = False  # the server did not answer: nothing was refused


def troubleshooting_advice() -> str:
    return _("Some email providers, such as Gmail, block login attempts from unknown apps. Check your "
             "inbox for a message from your provider about an unauthorized login attempt, and follow "
             "its instructions to allow access.")


def imap_only() -> str:
    return _("The inbox supports IMAP accounts only, not POP3.")


def gmail_hint() -> str:
    return _("Gmail: use an app password instead of your regular password.")


def provider_note(provider: Provider | None) -> str | None:
    """Advice a recognised provider needs before Log in."""
    note = provider.note if provider else None
    if note == "app-password":
        if provider.id == "gmail" or provider.id.startswith("google"):
            return gmail_hint()
        return _("%(provider)s: if you use two-step verification, use an app password instead of your "
                 "regular password.", provider=provider.name)
    if note == "enable-imap":
        return _("%(provider)s: turn on IMAP access in your account's settings on the provider's website "
                 "first.", provider=provider.name)
    if note == "bridge":
        return _("%(provider)s: the Proton Mail Bridge must be running on this server; use the "
                 "password the Bridge shows, not your account password.", provider=provider.name)
    if note == "oauth":
        return _("%(provider)s accepts signing in only on its own page, not a password here: choose OAuth 2.0 "
                 "under Authentication in Advanced settings.", provider=provider.name)
    return None


def explain(exc: errors.MailError, provider: Provider | None = None) -> Explanation:
    host, port = exc.host, exc.port
    incoming = exc.side == errors.INCOMING
    match exc:
        case errors.HostNotFound():
            return Explanation(_("The server %(host)s was not found. Check the spelling of the server name.",
                                 host=host))
        case errors.HostNotAllowed():
            return Explanation(_("%(host)s points to a private or reserved network address, which this "
                                 "installation does not connect to. Use your provider's public server name.",
                                 host=host))
        case errors.PortNotAllowed():
            return Explanation(_("Port %(port)s is not a mail server port. Use 993 or 143 for incoming "
                                 "email and 465 or 587 for outgoing email.", port=port))
        case errors.ConnectionRefused():
            return Explanation(_("%(host)s refused the connection on port %(port)s. Check the server name "
                                 "and the port.", host=host, port=port))
        case errors.ConnectionTimedOut():
            return Explanation(_("%(host)s did not answer on port %(port)s in time. Check the server name "
                                 "and the port, or try again later.", host=host, port=port))
        case errors.TlsCertificateWrongName():
            return Explanation(_("The server's certificate is not valid for the name %(host)s. Use the "
                                 "server name exactly as your provider gives it.", host=host),
                               server_text=exc.detail)
        case errors.TlsCertificateUntrusted():
            return Explanation(_("The server's certificate is not trusted (it may be self-signed or "
                                 "expired), so the connection was stopped to protect your password."),
                               server_text=exc.detail)
        case errors.TlsFailed():
            return Explanation(_("No encrypted connection could be made to %(host)s on port %(port)s. "
                                 "Check the SSL setting: On for port %(tls)s, Off for port %(starttls)s.",
                                 host=host, port=port, tls=993 if incoming else 465,
                                 starttls=143 if incoming else 587))
        case errors.StartTlsNotOffered():
            return Explanation(_("The server does not offer encryption (STARTTLS) on port %(port)s, so "
                                 "your password would be sent unprotected. Turn SSL On and use port "
                                 "%(tls)s.", port=port, tls=993 if incoming else 465))
        case errors.ProviderAlert():
            advice = [troubleshooting_advice()]
            if (provider and provider.id == "gmail") or "app" in exc.detail.lower() or "password" in exc.detail.lower():
                advice.append(gmail_hint())
            return Explanation(_("Your email provider refused the login with this message:"),
                               server_text=exc.detail, advice=advice)
        case errors.AuthenticationFailed():
            advice = [text for text in (provider_note(provider),) if text]
            return Explanation(_("The user name or password was not accepted. Check both; the user name "
                                 "is usually your full email address."), server_text=exc.detail,
                               advice=advice)
        case errors.Pop3Only():
            return Explanation(imap_only() + " " + _("%(host)s answered as a POP3 server. Ask your provider "
                                                       "for the IMAP server's name.", host=host))
        case errors.WrongProtocol():
            if incoming:
                return Explanation(_("%(host)s answered on port %(port)s as an outgoing (SMTP) server, not "
                                     "as an incoming (IMAP) server.", host=host, port=port))
            return Explanation(_("%(host)s did not answer on port %(port)s as an outgoing (SMTP) server.",
                                 host=host, port=port), server_text=exc.detail)
        case errors.NoInbox():
            return Explanation(_("Login worked, but the folder INBOX could not be opened."),
                               server_text=exc.detail)
        case errors.RecipientRefused():
            return Explanation(_("The outgoing server refused these recipients: %(who)s. Check the addresses.",
                                 who=exc.detail))
        case errors.RateLimited():
            return Explanation(_("Too many attempts in a short time. Wait a few minutes and try again."))
        case errors.ServerBusy():
            return Explanation(_("Your email server is still busy with your earlier requests. Wait a moment and "
                                 "try again."))
        case errors.SignInAgain():
            return Explanation(_("Your email provider no longer accepts the inbox's sign-in: access may have been "
                                 "withdrawn, your password changed, or your organisation's rules changed. Sign in "
                                 "again to go on."))
        case errors.SignInServiceFailed():
            return Explanation(_("The inbox could not renew its access at your email provider's sign-in service. "
                                 "It tries again in a while."), server_text=exc.detail)
        case errors.SecretUnreadable():
            return Explanation(_("The stored password for this email account can no longer be read, so "
                                 "the inbox cannot log in. Log in to the account again under Email options."))
        case _:
            return Explanation(_("The server broke off the connection. Check the server name, the port "
                                 "and the SSL setting."), server_text=exc.detail)


def explain_state(account) -> Explanation | None:
    """The account's last recorded failure, explained; None when the last login worked."""
    if not account.last_error_kind:
        return None
    kind = errors.kind_of(account.last_error_kind)
    side = account.last_error_side or errors.INCOMING
    incoming = side == errors.INCOMING
    host, port = (account.imap_host, account.imap_port) if incoming else (account.smtp_host, account.smtp_port)
    if kind in (errors.ConnectionRefused, errors.ConnectionTimedOut):  # it worked before: not a question of ports
        return Explanation(_("Cannot reach %(host)s. Try again when it answers.", host=host), unreachable=True)
    explained = explain(kind(account.last_error_detail or "", side=side, host=host, port=port))
    gmail = (account.provider_id or "") == "gmail" or (account.provider_id or "").startswith("google")
    if kind is errors.AuthenticationFailed and gmail and account.imap_auth != "oauth2":
        explained.advice.append(gmail_hint())  # only Gmail's refusal of a password speaks of app passwords
    elif kind is errors.ProviderAlert:
        explained.advice = [text for text in explained.advice if text != gmail_hint() or gmail]
    return explained


def explain_provider_signin(exc, provider: str, address: str = "") -> Explanation:
    """Why signing in at the provider (OAuth) did not connect the account. `exc` is a ProviderSigninRefused."""
    match exc.reason:
        case "state":
            return Explanation(_("This sign-in has expired, was already used or was not started here, so nothing "
                                 "was connected. Start again."))
        case "denied":
            return Explanation(_("Signing in at %(provider)s was cancelled, so the account was not connected.",
                                 provider=provider), server_text=exc.detail)
        case "identity":
            return Explanation(_("You signed in at %(provider)s as %(identity)s, not as %(address)s. Sign in with "
                                 "the account of %(address)s.", provider=provider, identity=exc.identity,
                                 address=address))
        case "id-token":
            return Explanation(_("The answer from %(provider)s could not be verified, so the account was not "
                                 "connected.", provider=provider), server_text=exc.detail)
        case "unreachable":
            return Explanation(_("The sign-in service of %(provider)s could not be reached. Try again later; if it "
                                 "keeps failing, ask your administrator to check this installation's connection to "
                                 "it.", provider=provider), server_text=exc.detail)
        case _:
            return Explanation(_("%(provider)s did not accept the sign-in, so the account was not connected. Try "
                                 "again.", provider=provider), server_text=exc.detail)


def not_configured(exc, help_url: str) -> Explanation:
    """The provider signs in with OAuth, and this installation has no client for it (a NotConfigured)."""
    spec = exc.spec
    if exc.settings:
        message = _("Signing in with %(provider)s has not been set up on this installation. Your administrator must "
                    "register the inbox with %(provider)s and set %(settings)s.", provider=spec.label,
                    settings=", ".join(exc.settings))
    else:
        message = _("Signing in with %(provider)s has not been set up on this installation. Your administrator must "
                    "give this provider's entry in MAIL_PROVIDERS_FILE a client_id.", provider=spec.label)
    return Explanation(message, link=(help_url, _("How to set up signing in with Microsoft and Google")))
