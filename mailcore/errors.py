"""Failures a user can act on. Each class is mapped once, in the web layer, to a translated sentence."""

from __future__ import annotations

INCOMING = "incoming"
OUTGOING = "outgoing"


class MailError(Exception):
    """A failure of one side of an account (incoming IMAP or outgoing SMTP).

    `detail` is text from the server, shown verbatim to the user where it helps (never a password).
    `code` names the kind of failure for storage (an account's last error): stable across renames.
    """

    code = "protocol-failure"

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

    code = "host-not-found"


class HostNotAllowed(MailError):
    """The server's address is private or reserved and not in MAIL_ALLOWED_NETWORKS."""

    code = "host-not-allowed"


class PortNotAllowed(MailError):
    """The port is not one a mail server uses."""

    code = "port-not-allowed"


class ConnectionRefused(MailError):
    """Nothing listens at that host and port."""

    code = "connection-refused"


class ConnectionTimedOut(MailError):
    """The server did not answer in time."""

    code = "timed-out"


class TlsCertificateUntrusted(MailError):
    """The certificate is self-signed, expired or from an unknown authority."""

    code = "certificate-untrusted"


class TlsCertificateWrongName(MailError):
    """The certificate is valid but for another server name."""

    code = "certificate-wrong-name"


class TlsFailed(MailError):
    """No encrypted connection could be made (often: SSL On for a STARTTLS port or the reverse)."""

    code = "tls-failed"


class StartTlsNotOffered(MailError):
    """SSL Off requires STARTTLS, and the server does not offer it."""

    code = "starttls-not-offered"


class AuthenticationFailed(MailError):
    """Wrong user name or password."""

    code = "authentication-failed"


class ProviderAlert(MailError):
    """The provider refused the login with a message of its own ([ALERT]), such as a demand for
    an app password or a browser sign-in."""

    code = "provider-alert"


class Pop3Only(MailError):
    """The server speaks POP3; the inbox supports IMAP only."""

    code = "pop3-only"


class WrongProtocol(MailError):
    """The server answered, but not as the expected kind of mail server."""

    code = "wrong-protocol"


class ProtocolFailure(MailError):
    """The server broke off or answered something the inbox cannot use."""

    code = "protocol-failure"


class NoInbox(MailError):
    """Login worked but INBOX could not be opened."""

    code = "no-inbox"


class RateLimited(MailError):
    """Too many connection tests in a short time."""

    code = "rate-limited"


class ServerBusy(MailError):
    """The user's earlier requests to their mail server are still running: as many as may run at once."""

    code = "server-busy"


class RecipientRefused(MailError):
    """The outgoing server refused one or more recipients."""

    code = "recipient-refused"


class SecretUnreadable(MailError):
    """A stored password cannot be decrypted: the installation's encryption key changed, or the
    ciphertext was moved to another row. The user must log in to the account again."""

    code = "secret-unreadable"


class SignInAgain(MailError):
    """The provider no longer accepts the account's OAuth sign-in (revoked, password changed, consent
    withdrawn, tenant policy): only signing in again at the provider helps."""

    code = "sign-in-again"


class SignInServiceFailed(MailError):
    """The provider's sign-in service (OAuth) could not be reached or gave no usable answer."""

    code = "sign-in-service-failed"


def kind_of(code: str | None) -> type[MailError]:
    """The error class stored under `code` (ProtocolFailure for an unknown or retired one)."""
    return _BY_CODE.get(code or "", ProtocolFailure)


_BY_CODE = {cls.code: cls for cls in MailError.__subclasses__()}
