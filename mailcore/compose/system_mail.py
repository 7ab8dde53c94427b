"""The installation's own sender (SYSTEM_MAIL_URL): mail that must not pass through a user's account.

    smtps://user:password@smtp.example.com:465    implicit TLS
    smtp://user:password@smtp.example.com:587     STARTTLS, required

User name and password are percent-encoded and may be left out for a relay that needs no login.
Certificates are verified like the users' servers' (system store plus MAIL_CA_BUNDLE). The host is
the operator's choice, so the network rule for users' servers does not apply to it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from mailcore import errors


@dataclass(frozen=True)
class SystemMail:
    host: str
    port: int
    implicit_tls: bool
    sender: str  # the From header, e.g. "Inkorg <no-reply@example.com>"
    username: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_url(cls, url: str | None, sender: str | None = None) -> SystemMail | None:
        """None when no URL is configured; ValueError for one that cannot work."""
        if not url:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("smtps", "smtp") or not parts.hostname:
            raise ValueError("SYSTEM_MAIL_URL is smtps://user:password@host:465 or smtp://user:password@host:587")
        username = unquote(parts.username or "")
        sender = sender or (username if "@" in username else "")
        if not parseaddr(sender)[1]:
            raise ValueError("SYSTEM_MAIL_FROM is needed: the address system mail comes from")
        implicit = parts.scheme == "smtps"
        return cls(parts.hostname, parts.port or (465 if implicit else 587), implicit, sender, username,
                   unquote(parts.password or ""))

    def send(self, message: EmailMessage, context: ssl.SSLContext, timeout: float) -> None:
        """Send over verified TLS; a MailError (outgoing side) when it cannot be done."""
        smtp: smtplib.SMTP | None = None
        try:
            if self.implicit_tls:
                smtp = smtplib.SMTP_SSL(self.host, self.port, timeout=timeout, context=context)
            else:
                smtp = smtplib.SMTP(self.host, self.port, timeout=timeout)
                smtp.ehlo()
                if not smtp.has_extn("starttls"):
                    raise errors.StartTlsNotOffered()
                smtp.starttls(context=context)
            smtp.ehlo()
            if self.username:
                smtp.login(self.username, self.password)
            refused = smtp.send_message(message, from_addr=parseaddr(self.sender)[1])
            if refused:
                raise errors.RecipientRefused(", ".join(refused))
        except errors.MailError as exc:
            raise exc.on(errors.OUTGOING, self.host, self.port) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise errors.AuthenticationFailed(str(exc.smtp_code)).on(errors.OUTGOING, self.host, self.port) from None
        except (smtplib.SMTPException, OSError) as exc:  # ssl.SSLError is an OSError
            raise errors.ProtocolFailure(type(exc).__name__).on(errors.OUTGOING, self.host, self.port) from None
        finally:
            if smtp is not None:
                try:
                    smtp.quit()
                except (smtplib.SMTPException, OSError):
                    smtp.close()
