"""Three aiosmtpd servers: implicit TLS, STARTTLS-required, and no TLS at all."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import ssl
import threading
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from .users import UserTable


def _not_login_data_deprecation(record: logging.LogRecord) -> bool:
    return "login_data is deprecated" not in record.getMessage()


# aiosmtpd 1.4 logs this on every successful AUTH, from its own code.
logging.getLogger("mail.log").addFilter(_not_login_data_deprecation)


@dataclass(frozen=True)
class ReceivedMessage:
    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    auth_user: str | None
    auth_mechanism: str | None = None


class _Recorder:
    """Authenticator and mail log for all three listeners; lists are shared with the MailLab."""

    def __init__(self, users: UserTable, introspection_url: str | None = None) -> None:
        self.users = users
        self.introspection_url = introspection_url
        self.received: list[ReceivedMessage] = []
        self.auth_attempts: list[tuple[str, bool]] = []
        self.on_received: Callable[[ReceivedMessage], None] | None = None  # e.g. delivery to the lab's mailboxes
        self._lock = threading.Lock()

    def record(self, session: Session, envelope: Envelope) -> str:
        data = envelope.original_content or b""
        auth_user, mechanism = None, None
        if isinstance(session.auth_data, LoginPassword):
            auth_user = session.auth_data.login.decode("utf-8", "replace")
            mechanism = "PASSWORD"
        elif isinstance(session.auth_data, TokenLogin):
            auth_user, mechanism = session.auth_data.user, session.auth_data.mechanism
        message = ReceivedMessage(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            data=data,
            auth_user=auth_user,
            auth_mechanism=mechanism,
        )
        with self._lock:
            self.received.append(message)
        if self.on_received is not None:
            self.on_received(message)
        return "250 2.0.0 OK: queued"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8", "replace")
        outcome, alert = self.users.check(login, auth_data.password.decode("utf-8", "replace"))
        with self._lock:
            self.auth_attempts.append((login, outcome == "ok"))
        if outcome == "ok":
            return AuthResult(success=True, auth_data=auth_data)
        # handled=False makes aiosmtpd send the reply; handled=True would leave the client waiting.
        message = f"535 5.7.8 {alert}" if alert else None
        return AuthResult(success=False, handled=False, message=message)


    def introspect(self, token: str) -> dict:
        """RFC 7662, as Dovecot's oauth2 passdb asks (a form POST, no client credentials)."""
        body = urllib.parse.urlencode({"token": token, "client_id": "", "client_secret": ""}).encode()
        try:
            with urllib.request.urlopen(self.introspection_url, body, timeout=5) as answer:
                return json.loads(answer.read())
        except (OSError, ValueError):
            return {"active": False}

    async def check_token(self, server: SMTP, mechanism: str, blob: bytes) -> AuthResult:
        """XOAUTH2 ("user=..^Aauth=Bearer ..^A^A") or OAUTHBEARER ("n,a=...,^Aauth=Bearer ..^A^A")."""
        text = blob.decode("utf-8", "replace")
        fields = dict(part.split("=", 1) for part in text.split("\x01") if "=" in part)
        user = fields.get("user", "")
        if mechanism == "OAUTHBEARER":
            user = next((p[2:] for p in text.split("\x01")[0].split(",") if p.startswith("a=")), "")
        token = fields.get("auth", "").removeprefix("Bearer ").strip()
        answer = await asyncio.get_running_loop().run_in_executor(None, self.introspect, token) \
            if token and self.introspection_url else {"active": False}
        ok = answer.get("active") is True and str(answer.get("email", "")).lower() == user.lower() and bool(user)
        with self._lock:
            self.auth_attempts.append((user, ok))
        if ok:
            return AuthResult(success=True, auth_data=TokenLogin(user, mechanism))
        # As Gmail does: a 334 challenge with the reason, the client's empty answer, then 535.
        reason = json.dumps({"status": "401", "schemes": "bearer", "scope": "mail"})
        await server.challenge_auth(reason)
        return AuthResult(success=False, handled=False, message="535 5.7.8 Username and Password not accepted")


@dataclass(frozen=True)
class TokenLogin:
    user: str
    mechanism: str


REFUSED_LOCAL_PART = "no-such-user"
DROP_LOCAL_PART = "drop-during-data"


class _Handler:
    """Per-listener handler: records mail, and optionally insists on AUTH before MAIL."""

    def __init__(self, recorder: _Recorder, auth_required: bool) -> None:
        self.recorder = recorder
        self.auth_required = auth_required

    async def auth_XOAUTH2(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self.recorder.check_token(server, "XOAUTH2", await _initial(server, args))

    async def auth_OAUTHBEARER(self, server: SMTP, args: list[str]) -> AuthResult:
        return await self.recorder.check_token(server, "OAUTHBEARER", await _initial(server, args))

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # Done here rather than with aiosmtpd's auth_required, which warns on implicit TLS.
        if self.auth_required and not session.authenticated:
            return "530 5.7.0 Authentication required"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, rcpt_options: list[str],
    ) -> str:
        # A user table of one: this local part does not exist here, as on any real server.
        if address.lower().startswith(REFUSED_LOCAL_PART + "@"):
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        # A fault no well-behaved server produces on request: the connection dropped during DATA.
        if any(r.lower().startswith(DROP_LOCAL_PART + "@") for r in envelope.rcpt_tos):
            server.transport.abort()
            return "421 4.4.2 connection dropped"
        return self.recorder.record(session, envelope)


async def _initial(server: SMTP, args: list[str]) -> bytes:
    """The initial response from the AUTH line, or asked for with an empty challenge."""
    if len(args) > 1:
        try:
            return base64.b64decode(args[1], validate=True)
        except ValueError:
            return b""
    answer = await server.challenge_auth("")
    return answer if isinstance(answer, bytes) else b""


class SmtpServers:
    def __init__(
        self,
        host: str,
        hostname: str,
        ports: tuple[int, int, int],
        tls: ssl.SSLContext,
        users: UserTable,
        introspection_url: str | None = None,
    ) -> None:
        self.recorder = _Recorder(users, introspection_url)
        tls_port, starttls_port, plain_port = ports
        common: dict[str, Any] = dict(
            hostname=host,
            server_hostname=hostname,
            authenticator=self.recorder.authenticate,
        )
        if introspection_url is None:  # AUTH offers only what can be checked
            common["auth_exclude_mechanism"] = ["XOAUTH2", "OAUTHBEARER"]
        self._controllers = [
            # On an implicit-TLS socket aiosmtpd does not count the session as TLS,
            # so AUTH is only offered with auth_require_tls=False.
            Controller(
                _Handler(self.recorder, auth_required=True),
                port=tls_port,
                ssl_context=tls,
                auth_require_tls=False,
                **common,
            ),
            Controller(
                _Handler(self.recorder, auth_required=True),
                port=starttls_port,
                tls_context=tls,
                require_starttls=True,
                **common,
            ),
            # Offers AUTH in the clear on purpose: a careful client must refuse to use it.
            Controller(
                _Handler(self.recorder, auth_required=False),
                port=plain_port,
                auth_require_tls=False,
                **common,
            ),
        ]

        self._started: list[Controller] = []

    def start(self) -> None:
        for controller in self._controllers:
            controller.start()
            self._started.append(controller)

    def stop(self) -> None:
        while self._started:
            self._started.pop().stop()
