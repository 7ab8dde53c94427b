"""IMAP and SMTP sessions: for checking an account's settings, and for everything done with its
mail afterwards (through mailcore.account.MailAccount).

Every connection goes to the one address the network policy approved, with certificates always
verified and passwords sent only over TLS (implicit, or STARTTLS that is then required). Every
answer must arrive within a wall-clock deadline, and no literal may exceed MAX_LITERAL.
"""

from __future__ import annotations

import imaplib
import io
import logging
import os
import smtplib
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Any

from imapclient import IMAPClient, imap4, tls
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import _parse_untagged_response

from mailcore import errors
from mailcore.config import Settings
from mailcore.deadline import Deadline
from mailcore.imapsets import copied_uids
from mailcore.netpolicy import NetworkPolicy
from mailcore.settings import AccountSettings, Bearer, Credentials, Secret, ServerSettings
from mailcore.sync.fetchparse import parse_fetch

# imaplib's debug output would carry protocol lines; keep it out of every log.
logging.getLogger("imapclient.imaplib").setLevel(logging.WARNING)
logging.getLogger("imapclient").setLevel(logging.WARNING)


@dataclass(frozen=True)
class MailEnvironment:
    """What a connection needs to know about the installation."""

    policy: NetworkPolicy
    ca_bundle: Path | None = None
    timeout: float = Settings.mail_timeout  # for each read and each connection step
    deadline: float = Settings.mail_deadline  # for each command's whole answer, however slowly it trickles in
    budget_at: float | None = None  # the monotonic time by which a request a person waits on must be done

    def tls_context(self) -> ssl.SSLContext:
        return self._tls_context

    def until(self, at: float) -> MailEnvironment:
        """The same environment for a request a person waits on: every connection, command and answer
        ends by the monotonic time `at`, whatever each would get on its own."""
        bound = replace(self, budget_at=at)
        bound.__dict__["_tls_context"] = self.tls_context()  # shared: built once per installation
        return bound

    def answer_deadline(self) -> Deadline:
        """The deadline of each answer: `deadline` seconds from each command, within the request's budget."""
        return Deadline(self.deadline, cap=self.budget_at)

    def step_timeout(self) -> float:
        """The timeout of one connection step, within the request's budget; TimeoutError once it is spent."""
        if self.budget_at is None:
            return self.timeout
        left = self.budget_at - time.monotonic()
        if left <= 0:
            raise TimeoutError("the request's time is spent")
        return min(self.timeout, left)

    @cached_property
    def _tls_context(self) -> ssl.SSLContext:
        bundle = str(self.ca_bundle) if self.ca_bundle else None
        stamp = os.stat(bundle).st_mtime_ns if bundle and os.path.exists(bundle) else None
        return _trusting(bundle, stamp)


@lru_cache(maxsize=8)
def _trusting(ca_bundle: str | None, _stamp: int | None) -> ssl.SSLContext:
    """A verifying TLS context with the system's trust store (and the CA bundle), built once per
    process and bundle (loading the store costs tens of milliseconds; a context is thread-safe); a
    bundle that changes on disk is loaded again."""
    context = ssl.create_default_context()
    if ca_bundle:
        context.load_verify_locations(cafile=ca_bundle)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


@dataclass
class CheckResult:
    incoming: errors.MailError | None = None
    outgoing: errors.MailError | None = None
    first_page: Any = None  # what the incoming check read on, when asked (mailcore.sync.firstpage)

    @property
    def ok(self) -> bool:
        return self.incoming is None and self.outgoing is None


# --- what a hostile server cannot do ------------------------------------------------------------

# More than any fetch asks for (reading.MAX_FETCH): a server announcing a larger literal is lying.
MAX_LITERAL = 32 * 1024 * 1024
# One answer (everything a server sends between two commands) in all, however many literals and lines
# it is made of: a whole message (reading.MAX_FETCH) and its framing fit, a flood does not.
MAX_IMAP_ANSWER = 40 * 1024 * 1024
# Untagged responses (lines outside literals) in one answer: a flag check of 5,000 messages has 5,000.
MAX_IMAP_LINES = 250_000
# One SMTP reply, all its continuation lines together: a real one is a few hundred bytes.
MAX_SMTP_ANSWER = 256 * 1024


class AnswerTooLarge(ConnectionError):
    """A server sent more in one answer than any real one does; the connection is not read again."""


class _DeadlineReader(io.RawIOBase):
    """The socket as imaplib and smtplib read it, every read bounded by the deadline: the wall-clock
    time a server has to answer, re-armed whenever the client sends a command. At most `limit` bytes
    are read between two commands; past it the connection is given up for good."""

    def __init__(self, sock: socket.socket, deadline: Deadline, limit: int):
        self.sock, self.deadline, self.limit = sock, deadline, limit
        self.taken = 0  # bytes of the current answer
        self.refused = False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.refused or self.taken > self.limit:
            self.refused = True
            raise AnswerTooLarge(f"the server sent more than {self.limit} bytes in one answer")
        remaining = self.deadline.remaining()
        if remaining <= 0:
            raise TimeoutError("timed out: the server did not finish its answer in time")
        got = self._read(buffer, remaining)
        self.taken += got
        return got

    def _read(self, buffer, remaining: float) -> int:
        timeout = self.sock.gettimeout()
        if timeout == 0.0:  # a non-blocking poll (IMAP IDLE) waits in its own way
            return self.sock.recv_into(buffer)
        self.sock.settimeout(remaining if timeout is None else min(timeout, remaining))
        try:
            return self.sock.recv_into(buffer)
        finally:
            self.sock.settimeout(timeout)


class _Guarded:
    """Mixed into imaplib's and smtplib's classes: whatever file they open on the socket reads
    under the deadline and the limit of one answer, and every command they send re-arms both."""

    deadline: Deadline
    answer_limit: int
    _file = None
    _reader: _DeadlineReader | None = None

    @property
    def file(self) -> io.BufferedReader | None:
        return self._file

    @file.setter
    def file(self, made: object) -> None:
        # the library made a plain file on its socket (at connect, after STARTTLS): read through ours
        if made is None:
            self._file = self._reader = None
            return
        self._reader = _DeadlineReader(self.sock, self.deadline, self.answer_limit)
        self._file = io.BufferedReader(self._reader)

    def send(self, data: bytes | str) -> None:  # imaplib sends bytes, smtplib str or bytes
        self.deadline.rearm()
        self._new_answer()
        super().send(data)  # type: ignore[misc]

    def _new_answer(self) -> None:
        if self._reader is not None:
            self._reader.taken = 0


# --- IMAP -------------------------------------------------------------------------------------


class _GreetingCheck(_Guarded):
    """Recognises a server that is not IMAP from its first line, before imaplib misreads it; counts
    the lines of each answer."""

    answer_limit = MAX_IMAP_ANSWER
    _greeted = False
    _lines = 0

    def _new_answer(self) -> None:
        super()._new_answer()
        self._lines = 0

    def readline(self) -> bytes:
        self._lines += 1
        if self._lines > MAX_IMAP_LINES:
            if self._reader is not None:
                self._reader.refused = True  # nothing more is read from this connection
            raise AnswerTooLarge(f"the server sent more than {MAX_IMAP_LINES} lines in one answer")
        line = super().readline()  # type: ignore[misc]
        if not self._greeted:
            self._greeted = True
            if not line:
                raise errors.ProtocolFailure("connection closed before the greeting")
            if line.startswith(b"+OK"):
                raise errors.Pop3Only(line.decode("utf-8", "replace").strip())
            if line[:4] in (b"220 ", b"220-"):
                raise errors.WrongProtocol(line.decode("utf-8", "replace").strip())
        return line

    def read(self, size: int) -> bytes:
        if size > MAX_LITERAL:
            raise self.abort(f"the server announced {size} bytes")  # type: ignore[attr-defined]
        return super().read(size)  # type: ignore[misc]


def _connect(address: str, port: int, timeout: float | None) -> socket.socket:
    sock = socket.create_connection((address, port), timeout)
    # imapclient writes a command and its CRLF separately; without this each command waits ~40 ms
    # for the server's delayed acknowledgement
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


class _PinnedIMAP4(_GreetingCheck, imap4.IMAP4WithTimeout):
    def __init__(self, host: str, port: int, address: str, timeout: float, deadline: Deadline):
        self._address, self.deadline = address, deadline
        super().__init__(host, port, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return _connect(self._address, self.port, timeout or self._timeout)


class _PinnedIMAP4TLS(_GreetingCheck, tls.IMAP4_TLS):
    def __init__(self, host: str, port: int, address: str, context: ssl.SSLContext, timeout: float,
                 deadline: Deadline):
        self._address, self.deadline = address, deadline
        super().__init__(host, port, context, timeout)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        sock = _connect(self._address, self.port, timeout or self._timeout)
        return tls.wrap_socket(sock, self.ssl_context, self.host)


class MailClient(IMAPClient):
    """IMAPClient connected to the approved address, plus the few things IMAPClient cannot do.

    This class is the one place that uses IMAPClient's protected command helpers and imaplib's
    untagged-response store; everything else speaks IMAPClient's public API.
    """

    def __init__(self, server: ServerSettings, address: str, context: ssl.SSLContext, timeout: float,
                 deadline: Deadline | float):
        self._address = address
        self.deadline = deadline if isinstance(deadline, Deadline) else Deadline(deadline)
        super().__init__(server.host, server.port, ssl=server.ssl, ssl_context=context, timeout=timeout)
        self.normalise_times = False  # keep time zones; the web layer shows the user's
        # IMAPClient sets imaplib's debug level to 5, which formats every line and every regex match
        # for a log that is then dropped: a third of a large FETCH's reading time. Nothing is logged.
        self._imap.debug = 0

    def _create_IMAP4(self):
        if self.ssl:
            return _PinnedIMAP4TLS(self.host, self.port, self._address, self.ssl_context,
                                   self._timeout.connect, self.deadline)
        return _PinnedIMAP4(self.host, self.port, self._address, self._timeout.connect, self.deadline)

    def allow(self, seconds: float) -> None:
        """Give the server this long for what comes next (an IDLE that may last many minutes)."""
        self.deadline.rearm(seconds)

    def fetch_set(self, message_set: str, items: list[str], modifiers: list[str] | None = None) -> dict[int, dict]:
        """UID FETCH over a sequence set with ranges ("1:*", "5:9,12"), keyed by UID.

        IMAPClient.fetch takes only lists of numbers and keys responses by whatever number they
        carry. Here an unsolicited FETCH (another client's flag change) has no UID, and must
        neither pass for the message whose UID equals its sequence number nor be kept.
        """
        args = [message_set.encode(), f"({' '.join(items)})".encode()]
        if modifiers:
            args.append(f"({' '.join(modifiers)})".encode())
        data = self._raw_command_untagged(b"FETCH", args)
        if not data or data == [None]:
            return {}
        by_uid: dict[int, dict] = {}
        for item in parse_fetch(data).values():
            if b"UID" in item:
                by_uid.setdefault(item[b"UID"], {}).update(item)
        return by_uid

    def token_login(self, username: str, token: str) -> None:
        """SASL XOAUTH2 where offered (Microsoft, Google, Dovecot), else OAUTHBEARER (RFC 7628).

        A refused token gets a challenge carrying the server's reason; the empty answer ends the
        exchange, so the server replies NO instead of waiting (imaplib would resend the token)."""
        capabilities = self.capabilities()
        if b"AUTH=XOAUTH2" not in capabilities and b"AUTH=OAUTHBEARER" in capabilities:
            mechanism, initial = "OAUTHBEARER", f"n,a={username},\x01auth=Bearer {token}\x01\x01"
        else:
            mechanism, initial = "XOAUTH2", f"user={username}\x01auth=Bearer {token}\x01\x01"
        answers = iter([initial.encode()])

        def respond(_challenge: bytes) -> bytes:
            return next(answers, b"")

        try:
            self._imap.authenticate(mechanism, respond)
        except imaplib.IMAP4.error as exc:
            raise LoginError(str(exc)) from None

    def transfer(self, uids: list[int], target: str, keep: bool = False) -> dict[int, int]:
        """MOVE the messages (COPY them when `keep`) to `target`; old UID -> new UID where the server
        says (COPYUID, UIDPLUS). A MOVE reports it in an untagged OK before its tagged answer (RFC
        6851), which imaplib files under "OK": cleared first, so only this command's is read."""
        self._imap.untagged_responses.pop("OK", None)
        answer = (self.copy if keep else self.move)(uids, target)
        return copied_uids([answer, *self._imap.untagged_responses.pop("OK", [])], len(uids))

    def idle_turn(self, most_lines: int, most_bytes: int) -> tuple[list, int]:
        """What the server has said in IDLE and can be read now without waiting, at most `most_lines`
        lines and about `most_bytes` bytes of it, parsed; and the bytes read. A server that streams
        lines is read a turn at a time, so one account never holds a loop that serves many. (IMAPClient's
        idle_check reads on for as long as lines keep coming.)"""
        sock = self.socket()
        sock.settimeout(None)
        sock.setblocking(False)
        responses: list = []
        size = 0
        try:
            while len(responses) < most_lines and size < most_bytes:
                try:
                    line = self._imap._get_line()
                except (BlockingIOError, ssl.SSLWantReadError):
                    break  # nothing more now
                size += len(line) + 2
                responses.append(_parse_untagged_response(line))
        finally:
            sock.setblocking(True)
            self._set_read_timeout()
        return responses, size

    def take_vanished(self) -> list[bytes]:
        """The untagged VANISHED lines (QRESYNC) received since the last call. imaplib files
        responses that no command asked for under their name; nothing else collects these."""
        return self._imap.untagged_responses.pop("VANISHED", [])


def mailbox_changed(responses: list) -> bool:
    """Whether untagged responses (from IDLE or NOOP) report new, changed or removed messages."""
    for response in responses:
        if not isinstance(response, tuple) or not response:
            continue
        if response[0] == b"VANISHED" or (len(response) > 1 and response[1] in (b"EXISTS", b"EXPUNGE", b"FETCH")):
            return True
    return False


def _server_text(exc: Exception) -> str:
    text = str(exc)
    if text.startswith(("b'", 'b"')) and text.endswith(("'", '"')):
        text = text[2:-1]
    return text.strip()


def _login_error(text: str) -> errors.MailError:
    if text.startswith("command: "):  # imaplib's own failure while reading the answer, not a refusal
        return errors.ProtocolFailure(text.partition("=> ")[2] or text)
    if "[ALERT]" in text.upper():
        return errors.ProviderAlert(text.split("]", 1)[-1].strip() if text.startswith("[") else text)
    return errors.AuthenticationFailed(text)


def _connection_error(exc: BaseException) -> errors.MailError:
    """One place that turns socket and TLS failures into what a user can act on."""
    if isinstance(exc, errors.MailError):
        return exc
    if isinstance(exc, ssl.SSLCertVerificationError):
        # 62: host name mismatch, 64: IP address mismatch
        if exc.verify_code in (62, 64) or "mismatch" in (exc.verify_message or "").lower():
            return errors.TlsCertificateWrongName(exc.verify_message or "")
        return errors.TlsCertificateUntrusted(exc.verify_message or "")
    if isinstance(exc, ssl.SSLError):
        return errors.TlsFailed(exc.reason or str(exc))
    if isinstance(exc, ConnectionRefusedError):
        return errors.ConnectionRefused()
    if isinstance(exc, (TimeoutError, socket.timeout)):
        return errors.ConnectionTimedOut()
    if isinstance(exc, socket.gaierror):
        return errors.HostNotFound(str(exc))
    if isinstance(exc, (ConnectionError, EOFError, imaplib.IMAP4.abort, smtplib.SMTPServerDisconnected)):
        return errors.ProtocolFailure(str(exc))
    if isinstance(exc, OSError):
        return errors.ConnectionRefused(exc.strerror or str(exc))
    return errors.ProtocolFailure(_server_text(exc))


def _imap_log_in(client: MailClient, username: str, secret: Secret) -> None:
    if isinstance(secret, Bearer):
        client.token_login(username, secret.token)
    else:
        client.login(username, secret)


@contextmanager
def imap_session(server: ServerSettings, password: Secret, env: MailEnvironment) -> Iterator[MailClient]:
    """A logged-in IMAP session (a password, or an OAuth access token), or a MailError for the
    incoming side."""
    side = errors.INCOMING
    try:
        address = env.policy.resolve(server.host, server.port)
        context = env.tls_context()
        client = MailClient(server, address, context, env.step_timeout(), env.answer_deadline())
    except Exception as exc:
        raise _connection_error(exc).on(side, server.host, server.port) from None
    try:
        try:
            if not server.ssl:
                if b"STARTTLS" not in client.capabilities():
                    raise errors.StartTlsNotOffered()
                client.starttls(context)
            _imap_log_in(client, server.username, password)
        except LoginError as exc:
            raise _login_error(_server_text(exc)) from None
        except Exception as exc:
            raise _connection_error(exc) from None
        yield client
    except errors.MailError as exc:
        raise exc.on(side, server.host, server.port) from None
    finally:
        try:
            client.logout()
        except Exception:
            try:
                client.shutdown()
            except Exception:
                pass


def select_inbox(client: IMAPClient) -> dict:
    """INBOX opened read-only; the server's answer (EXISTS, UIDVALIDITY, ...)."""
    try:
        return client.select_folder("INBOX", readonly=True)
    except IMAPClientError as exc:
        raise errors.NoInbox(_server_text(exc)) from None


def check_incoming(server: ServerSettings, password: Secret, env: MailEnvironment,
                   then: Callable[[MailClient, dict], Any] | None = None) -> Any:
    """Log in and open INBOX, as the inbox will; `then(client, selected)` may read on in the same
    session, and its answer is returned."""
    with imap_session(server, password, env) as client:
        try:
            selected = select_inbox(client)
        except errors.MailError as exc:
            raise exc.on(errors.INCOMING, server.host, server.port) from None
        return then(client, selected) if then else None


# --- SMTP -------------------------------------------------------------------------------------


class _PinnedSMTPMixin:
    """Connects to the approved address; TLS still checks the certificate against the host name."""

    _address: str

    def connect(self, host: str = "localhost", port: int = 0, source_address=None):
        self._host = host  # smtplib only sets it when given a host at construction; STARTTLS needs it
        return super().connect(host, port, source_address)  # type: ignore[misc]

    def _get_socket(self, host, port, timeout):
        sock = socket.create_connection((self._address, port), timeout)
        context = getattr(self, "_implicit_tls", None)
        return context.wrap_socket(sock, server_hostname=host) if context else sock


class _PinnedSMTP(_Guarded, _PinnedSMTPMixin, smtplib.SMTP):
    answer_limit = MAX_SMTP_ANSWER

    def __init__(self, address: str, timeout: float, deadline: Deadline, implicit_tls: ssl.SSLContext | None = None):
        self._address, self.deadline = address, deadline
        self._implicit_tls = implicit_tls
        super().__init__(timeout=timeout, local_hostname="localhost")


def _smtp_error(exc: smtplib.SMTPResponseException) -> errors.MailError:
    text = exc.smtp_error.decode("utf-8", "replace") if isinstance(exc.smtp_error, bytes) else str(exc.smtp_error)
    text = " ".join(text.split())
    if exc.smtp_code == 534 or "[ALERT]" in text.upper() or "application-specific" in text.lower():
        return errors.ProviderAlert(text.replace("[ALERT]", "").strip())
    if exc.smtp_code in (535, 530, 454, 535):
        return errors.AuthenticationFailed(text)
    return errors.ProtocolFailure(f"{exc.smtp_code} {text}")


def _smtp_log_in(smtp: smtplib.SMTP, username: str, secret: Secret) -> None:
    """AUTH with the password, or AUTH XOAUTH2 (OAUTHBEARER where only that is offered) with a token."""
    if not isinstance(secret, Bearer):
        smtp.login(username, secret)
        return
    offered = (smtp.esmtp_features.get("auth") or "").upper().split()
    if "XOAUTH2" not in offered and "OAUTHBEARER" in offered:
        mechanism, initial = "OAUTHBEARER", f"n,a={username},\x01auth=Bearer {secret.token}\x01\x01"
    else:
        mechanism, initial = "XOAUTH2", f"user={username}\x01auth=Bearer {secret.token}\x01\x01"

    def respond(challenge: bytes | None = None) -> str:
        return initial if challenge is None else ""  # a challenge after the token is the refusal's reason

    smtp.auth(mechanism, respond)


@contextmanager
def smtp_session(server: ServerSettings, password: Secret | None, env: MailEnvironment,
                 network_rule: bool = True) -> Iterator[smtplib.SMTP]:
    """An SMTP session, logged in with `password` (None: a relay that needs no login), or a MailError
    for the outgoing side. The one way an SMTP connection opens: TLS implicit or STARTTLS that is
    then required, the certificate checked against the host name, every answer within the deadline.
    It goes to the address the network rule approved; without `network_rule` (the installation's own
    sender, the operator's choice) to the host as DNS names it."""
    smtp: smtplib.SMTP | None = None
    try:
        address = env.policy.resolve(server.host, server.port) if network_rule else server.host
        context = env.tls_context()
        smtp = _PinnedSMTP(address, env.step_timeout(), env.answer_deadline(), context if server.ssl else None)
        code, banner = smtp.connect(server.host, server.port)
        if code != 220:
            raise errors.WrongProtocol(banner.decode("utf-8", "replace"))
        smtp.ehlo()
        if not server.ssl:
            if not smtp.has_extn("starttls"):
                raise errors.StartTlsNotOffered()
            smtp.starttls(context=context)
            smtp.ehlo()
        if password is not None:
            if not smtp.has_extn("auth"):
                raise errors.AuthenticationFailed("AUTH not offered")
            _smtp_log_in(smtp, server.username, password)
    except errors.MailError as exc:
        _close(smtp)
        raise exc.on(errors.OUTGOING, server.host, server.port) from None
    except smtplib.SMTPResponseException as exc:
        _close(smtp)
        raise _smtp_error(exc).on(errors.OUTGOING, server.host, server.port) from None
    except Exception as exc:
        _close(smtp)
        raise _connection_error(exc).on(errors.OUTGOING, server.host, server.port) from None
    try:
        yield smtp
    finally:
        _close(smtp, polite=True)


def _close(smtp: smtplib.SMTP | None, polite: bool = False) -> None:
    if smtp is None:
        return
    try:
        smtp.quit() if polite else smtp.close()
    except Exception:
        smtp.close()


def check_outgoing(server: ServerSettings, password: Secret, env: MailEnvironment) -> None:
    with smtp_session(server, password, env):
        pass


def check_account(settings: AccountSettings, credentials: Credentials, env: MailEnvironment,
                  then: Callable[[MailClient, dict], Any] | None = None) -> CheckResult:
    """Try both sides at once; the account is usable only when both work. `then` reads on in the
    incoming session (see check_incoming); its answer is the result's `first_page`."""

    def attempt(check, server, password, *more) -> tuple[errors.MailError | None, Any]:
        try:
            return None, check(server, password, env, *more)
        except errors.MailError as exc:
            return exc, None

    with ThreadPoolExecutor(max_workers=2) as pool:
        incoming = pool.submit(attempt, check_incoming, settings.incoming, credentials.incoming_password, then)
        outgoing = pool.submit(attempt, check_outgoing, settings.outgoing, credentials.outgoing_password)
        (incoming_error, first_page), (outgoing_error, _) = incoming.result(), outgoing.result()
        return CheckResult(incoming=incoming_error, outgoing=outgoing_error, first_page=first_page)
