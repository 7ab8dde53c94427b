"""The installation's own sender (SYSTEM_MAIL_URL): mail that must not pass through a user's account.

    smtps://user:password@smtp.example.com:465    implicit TLS
    smtp://user:password@smtp.example.com:587     STARTTLS, required

User name and password are percent-encoded and may be left out for a relay that needs no login.
The session opens as the users' do (mailcore.connect.smtp_session): certificates verified the same
way (system store plus MAIL_CA_BUNDLE), every answer within MAIL_DEADLINE. The host is the
operator's choice, so the network rule for users' servers does not apply to it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from mailcore.compose.message import transmit
from mailcore.connect import MailEnvironment, smtp_session
from mailcore.settings import ServerSettings


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

    def send(self, message: EmailMessage, env: MailEnvironment) -> None:
        """Send over verified TLS, within the installation's timeout and deadline; a MailError (outgoing
        side) when it cannot be done."""
        server = ServerSettings(self.host, self.port, self.implicit_tls, self.username)
        with smtp_session(server, self.password if self.username else None, env, network_rule=False) as smtp:
            transmit(smtp, message, parseaddr(self.sender)[1], None, server)
