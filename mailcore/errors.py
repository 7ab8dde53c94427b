"""Failures a user can act on. Each class is mapped once, in the web layer, to a translated sentence."""

from __future__ import annotations

INCOMING = "incoming"
OUTGOING = "outgoing"


class MailError(Exception):
    """A failure of one side of an account (incoming IMAP or outgoing SMTP).

    `detail` is text from the server, shown verbatim to the user where it helps (never a password).
    """

    def __init__(self, detail: str = "", *, side: str | None = None, host: str = "", port: int = 0):
        super().__init__(detail or self.__class__.__name__)
        self.detail = detail
        self.side = side
        self.host = host
        self.port = port

    def on(self, side: str, host: str, port: int) -> MailError:
        self.side, self.host, self.port = side, host, port
        return self


class HostNotFound(MailError):
    """The server name does not resolve."""


class HostNotAllowed(MailError):
    """The server's address is private or reserved and not in MAIL_ALLOWED_NETWORKS."""


class PortNotAllowed(MailError):
    """The port is not one a mail server uses."""


class ConnectionRefused(MailError):
    """Nothing listens at that host and port."""


class ConnectionTimedOut(MailError):
    """The server did not answer in time."""


class TlsCertificateUntrusted(MailError):
    """The certificate is self-signed, expired or from an unknown authority."""


class TlsCertificateWrongName(MailError):
    """The certificate is valid but for another server name."""


class TlsFailed(MailError):
    """No encrypted connection could be made (often: SSL On for a STARTTLS port or the reverse)."""


class StartTlsNotOffered(MailError):
    """SSL Off requires STARTTLS, and the server does not offer it."""


class AuthenticationFailed(MailError):
    """Wrong user name or password."""


class ProviderAlert(MailError):
    """The provider refused the login with a message of its own ([ALERT]), such as a demand for
    an app password or a browser sign-in."""


class Pop3Only(MailError):
    """The server speaks POP3; the inbox supports IMAP only."""


class WrongProtocol(MailError):
    """The server answered, but not as the expected kind of mail server."""


class ProtocolFailure(MailError):
    """The server broke off or answered something the inbox cannot use."""


class NoInbox(MailError):
    """Login worked but INBOX could not be opened."""


class RateLimited(MailError):
    """Too many connection tests in a short time."""


class RecipientRefused(MailError):
    """The outgoing server refused one or more recipients."""
