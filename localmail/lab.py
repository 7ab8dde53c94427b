"""MailLab: real Dovecot and aiosmtpd servers on loopback, for tests and demos."""

from __future__ import annotations

import atexit
import contextlib
import email.policy
import ipaddress
import os
import re
import shutil
import socket
import ssl
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

from imapclient import DELETED, IMAPClient  # type: ignore[import-untyped]

from .bulk import bulk_messages
from .certs import ServerCert, TlsFiles
from .demo import demo_messages
from .dovecot import MAIL_UID, DovecotInstance, Listener, Shared, write_dict_conf, write_oauth2_conf
from .imap import Append, append_messages, named_context, parse_uid_set
from .maildir import MaildirMessage, write_maildir
from .ports import check_bindable, free_ports, reserve_closed_port
from .relay import TcpRelay
from .smtp import ReceivedMessage, SmtpServers
from .tarpit import Tarpit
from .users import UserTable

START_TIMEOUT = 10.0
# With standard_ports=True: the public ports, as a mail client expects them.
STANDARD_PORTS = {
    "imap_tls_port": 993,
    "imap_starttls_port": 143,
    "smtp_tls_port": 465,
    "smtp_starttls_port": 587,
    "pop3_port": 110,
}
# The ports a client is set up with, which a later run can keep (MailLab.start's kept_ports).
KEPT_PORTS = ("imap_tls_port", "imap_starttls_port", "smtp_tls_port", "smtp_starttls_port")


class MailLab:
    host: str
    hostname: str
    names: tuple[str, ...]
    standard_ports: bool
    ca_bundle: Path
    imap_tls_port: int
    imap_starttls_port: int
    imap_plain_only_port: int
    pop3_port: int
    imap_untrusted_tls_port: int
    smtp_tls_port: int
    smtp_starttls_port: int
    smtp_no_starttls_port: int
    tarpit_port: int
    closed_port: int

    def __init__(
        self,
        workdir: Path,
        host: str,
        *,
        standard_ports: bool = False,
        names: Sequence[str] = ("localhost",),
        oauth_introspection_url: str | None = None,
        connections: int = 0,
        kept_ports: dict[str, int] | None = None,
    ) -> None:
        self.workdir = workdir.resolve()
        self.kept_ports = {name: port for name, port in (kept_ports or {}).items() if name in KEPT_PORTS}
        self.oauth_introspection_url = oauth_introspection_url
        self.connections = connections
        self.host = host
        self.standard_ports = standard_ports
        self.names = (names,) if isinstance(names, str) else tuple(names)
        if not self.names or not all(isinstance(name, str) and name for name in self.names):
            raise ValueError(f"MailLab needs at least one certificate name, got {names!r}")
        self.hostname = self.names[0]
        self._dovecots: list[DovecotInstance] = []
        self._relay: TcpRelay | None = None
        self._smtp: SmtpServers | None = None
        self._tarpit: Tarpit | None = None
        self._closed: socket.socket | None = None
        self._mail_tmp: Path | None = None
        self._stopped = False
        self._imap_stopped = False

    @classmethod
    def start(
        cls,
        workdir: Path,
        host: str = "127.0.0.1",
        *,
        standard_ports: bool = False,
        names: Sequence[str] = ("localhost",),
        oauth_introspection_url: str | None = None,
        connections: int = 0,
        kept_ports: dict[str, int] | None = None,
    ) -> MailLab:
        """Start every listener on `host` (an IPv4 loopback address).

        standard_ports: IMAPS 993, IMAP+STARTTLS 143, SMTP TLS 465, SMTP STARTTLS
        587 and POP3 110 (root only; the odd listeners stay on random ports).
        names: the server certificate's SANs, exact or wildcard ("*.guess.test");
        hostname is the first.
        oauth_introspection_url: where IMAP (Dovecot's oauth2 passdb) and SMTP check the access
        tokens of XOAUTH2/OAUTHBEARER logins (RFC 7662, see localmail.oauth_server); None: passwords only.
        connections: room for this many IMAP sessions at once (Dovecot's defaults
        allow about a hundred TLS sessions).
        kept_ports: the ports of an earlier run (KEPT_PORTS, as `ports()` gives them), taken again
        where they are free, so that a client set up then still finds the servers (the demo).
        """
        lab = cls(Path(workdir), host, standard_ports=standard_ports, names=names,
                  oauth_introspection_url=oauth_introspection_url, connections=connections,
                  kept_ports=kept_ports)
        atexit.register(lab.stop)
        try:
            lab._start()
        except BaseException:
            lab.stop()
            raise
        return lab

    def _start(self) -> None:
        address = ipaddress.ip_address(self.host)
        if address.version != 4 or not address.is_loopback:
            raise ValueError(f"MailLab needs an IPv4 loopback host, got {self.host!r}")
        if self.standard_ports:  # fail before anything starts
            check_bindable("MailLab", self.host, STANDARD_PORTS.values())
        deadline = time.monotonic() + START_TIMEOUT
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._tls = TlsFiles.create(self.workdir / "tls", list(self.names))
        self.ca_bundle = self._tls.ca_bundle
        shared = self._prepare_auth_and_mail()

        self._closed = reserve_closed_port(self.host)
        self.closed_port = self._closed.getsockname()[1]
        # Dovecot listens on private ports; clients reach it through the relay.
        smtp_tls, smtp_starttls, smtp_plain, imaps, imap, pop3, untrusted, plain = free_ports(
            self.host, 8
        )
        self._dovecots = [
            self._dovecot("main", shared, self._tls.trusted, [
                Listener("imap-login", "imaps", imaps, ssl=True),
                Listener("imap-login", "imap", imap),
                Listener("pop3-login", "pop3", pop3),
            ]),
            # Its certificate chains to a CA that is not in ca_bundle.
            self._dovecot("untrusted", shared, self._tls.untrusted, [
                Listener("imap-login", "imaps", untrusted, ssl=True),
            ]),
            # ssl = no: greets, never offers STARTTLS.
            self._dovecot("plain", shared, None, [Listener("imap-login", "imap", plain)]),
        ]  # fmt: skip
        for dovecot in self._dovecots:
            dovecot.start()

        if self.standard_ports:
            smtp_tls = STANDARD_PORTS["smtp_tls_port"]
            smtp_starttls = STANDARD_PORTS["smtp_starttls_port"]
        kept = self.kept_ports
        if kept:
            try:
                check_bindable("MailLab", self.host, kept.values())
            except OSError:
                kept = {}  # taken meanwhile: new ports, as on a first run
        smtp_tls = kept.get("smtp_tls_port", smtp_tls)
        smtp_starttls = kept.get("smtp_starttls_port", smtp_starttls)
        smtp_ports = (smtp_tls, smtp_starttls, smtp_plain)
        self.smtp_tls_port, self.smtp_starttls_port, self.smtp_no_starttls_port = smtp_ports
        self._smtp = SmtpServers(
            self.host,
            _greeting_name(self.names),
            smtp_ports,
            self._tls.trusted.server_context(),
            self._users,
            self.oauth_introspection_url,
        )
        self._smtp.start()
        for dovecot in self._dovecots:
            dovecot.wait_ready(deadline)

        # Port-0 listeners last, so the kernel cannot hand out a port picked above.
        relay_source = "127.0.0.3" if self.host == "127.0.0.2" else "127.0.0.2"
        public: dict[int, int] = {}
        if self.standard_ports:
            public = {
                imaps: STANDARD_PORTS["imap_tls_port"],
                imap: STANDARD_PORTS["imap_starttls_port"],
                pop3: STANDARD_PORTS["pop3_port"],
            }
        for private, name in ((imaps, "imap_tls_port"), (imap, "imap_starttls_port")):
            if name in kept:
                public[private] = kept[name]
        self._relay = TcpRelay(
            self.host, relay_source, [imaps, imap, pop3, untrusted, plain], public
        )
        self._relay.start()
        self.imap_tls_port = self._relay.ports[imaps]
        self.imap_starttls_port = self._relay.ports[imap]
        self.pop3_port = self._relay.ports[pop3]
        self.imap_untrusted_tls_port = self._relay.ports[untrusted]
        self.imap_plain_only_port = self._relay.ports[plain]
        self._tarpit = Tarpit(self.host)
        self.tarpit_port = self._tarpit.port

    def _prepare_auth_and_mail(self) -> Shared:
        auth_dir = self.workdir / "auth"
        auth_dir.mkdir(exist_ok=True)
        self._users = UserTable(auth_dir / "users.dict")
        alerts_conf, users_conf = auth_dir / "dict-alerts.conf", auth_dir / "dict-users.conf"
        write_dict_conf(alerts_conf, self._users.dict_file, "alert")
        write_dict_conf(users_conf, self._users.dict_file, "passdb")
        oauth2_conf = None
        if self.oauth_introspection_url:
            oauth2_conf = auth_dir / "dovecot-oauth2.conf.ext"
            write_oauth2_conf(oauth2_conf, self.oauth_introspection_url)
        return Shared(self.host, alerts_conf, users_conf, self._make_mail_root(), oauth2_conf, self.connections)

    def _make_mail_root(self) -> Path:
        """The maildirs live in a fresh temp dir, linked as workdir/mail.

        Dovecot opens them as uid 65534, which needs +x on every ancestor, and
        each new pytest session chmods /tmp/pytest-of-<user> back to 0700.
        """
        self._mail_tmp = Path(tempfile.mkdtemp(prefix="localmail-mail-"))
        self._mail_tmp.chmod(0o711)
        mail_root = self._mail_tmp / "mail"
        mail_root.mkdir(mode=0o700)
        os.chown(mail_root, MAIL_UID, MAIL_UID)
        link = self.workdir / "mail"
        if link.is_symlink():
            link.unlink()
        if not link.exists():
            link.symlink_to(mail_root)
        return mail_root

    def _dovecot(
        self, name: str, shared: Shared, cert: ServerCert | None, listeners: list[Listener]
    ) -> DovecotInstance:
        return DovecotInstance(name, self.workdir / "dovecot" / name, shared, listeners, cert)

    # TLS -------------------------------------------------------------------

    @property
    def tls_files(self) -> TlsFiles:
        """The lab's CA bundle and certificates (LocalHttps takes this or the lab)."""
        return self._tls

    def issue_cert(self, names: str | Sequence[str]) -> ServerCert:
        """A server certificate for any names (wildcards too) from the CA in ca_bundle."""
        return self._tls.issue(names)

    # Users -----------------------------------------------------------------

    def add_user(self, address: str, password: str, *, alert: str | None = None) -> None:
        self._users.add(address, password, alert)

    def set_password(self, address: str, new_password: str) -> None:
        self._users.set_password(address, new_password)

    # Mailboxes -------------------------------------------------------------

    def append(
        self,
        address: str,
        message: bytes | EmailMessage,
        *,
        folder: str = "INBOX",
        seen: bool = False,
        date: datetime | None = None,
    ) -> int | None:
        """IMAP APPEND, as a mail client stores mail; the new UID (from APPENDUID).

        A missing folder is created. Raises imapclient's error if Dovecot refuses.
        """
        if isinstance(message, EmailMessage):
            message = message.as_bytes(policy=email.policy.SMTP)
        uids: list[int | None] = []
        self._append(address, [Append(message, folder, seen, date)], uids)
        return uids[0]

    def append_many(
        self,
        address: str,
        messages: Sequence[bytes | EmailMessage],
        *,
        folder: str = "INBOX",
        seen: Sequence[bool] = (),
    ) -> list[int | None]:
        """APPEND several messages in one IMAP session (one login instead of one each); their UIDs.
        seen[i] marks message i \\Seen (missing: unseen)."""
        items = [Append(m.as_bytes(policy=email.policy.SMTP) if isinstance(m, EmailMessage) else m, folder,
                        i < len(seen) and seen[i], None) for i, m in enumerate(messages)]
        uids: list[int | None] = []
        self._append(address, items, uids)
        return uids

    def seed_demo(self, address: str) -> int:
        return self._append(address, demo_messages(address))

    def _append(
        self, address: str, items: list[Append], uids: list[int | None] | None = None
    ) -> int:
        password = self._users.get(address).password
        return append_messages(
            self.host, self.imap_tls_port, self.imap_tls_context(), address, password, items, uids
        )

    def write_message(
        self,
        address: str,
        message: bytes | EmailMessage,
        *,
        folder: str = "INBOX",
        seen: bool = False,
        date: datetime | None = None,
    ) -> int:
        """Store a message as a file in the user's maildir, bypassing IMAP; its new UID.

        For messages APPEND refuses (see localmail.corpus). The bytes are stored
        exactly as given; `date` (default now) becomes the INTERNALDATE.
        """
        if isinstance(message, EmailMessage):
            message = message.as_bytes(policy=email.policy.SMTP)
        moment = (date or datetime.now(UTC)).timestamp()
        item = MaildirMessage(message, moment, "S" if seen else "")
        with self.imap(address) as client:
            before = self._open_folder(client, folder)
            write_maildir(self.mailbox_path(address, folder), [item])
            after = client.select_folder(folder)
        if after[b"EXISTS"] != before[b"EXISTS"] + 1:
            raise RuntimeError(f"Dovecot did not pick up the message written to {folder}")
        return int(before[b"UIDNEXT"])

    def bulk_load(
        self,
        address: str,
        count: int,
        *,
        folder: str = "INBOX",
        start: datetime | None = None,
        seed: int = 0,
        seen_ratio: float = 0.5,
    ) -> int:
        """Write `count` small messages straight into the user's maildir; the count.

        Dates run oldest to newest from `start` (default: about 50 a day, ending
        now), and so do the UIDs Dovecot assigns. About one in ten has an
        attachment; `seen_ratio` of them are \\Seen. The folder is created if
        missing and indexed before this returns, so a client's first SELECT is
        quick. The user must exist (add_user).
        """
        if count < 0:
            raise ValueError(f"count must be >= 0, got {count}")
        messages = bulk_messages(address, count, start=start, seed=seed, seen_ratio=seen_ratio)
        # Dovecot's first sync of a large new maildir can take a while.
        with self.imap(address, timeout=max(30.0, count / 1000)) as client:
            before = self._open_folder(client, folder)
            written = write_maildir(self.mailbox_path(address, folder), messages)
            after = client.select_folder(folder)  # Dovecot syncs and indexes the new files
        if after[b"EXISTS"] != before[b"EXISTS"] + written:
            raise RuntimeError(
                f"wrote {written} messages to {folder}, Dovecot shows "
                f"{after[b'EXISTS'] - before[b'EXISTS']} new ones"
            )
        return written

    def load_awkward(self, address: str, *, folder: str = "INBOX") -> dict[str, int]:
        """Store every message of localmail.corpus in `folder`; name -> UID.

        awkward_messages() by IMAP APPEND, unappendable_messages() (which
        Dovecot refuses over APPEND) with the maildir writer.
        """
        from .corpus import awkward_messages, unappendable_messages

        uids: dict[str, int] = {}
        for name, raw in awkward_messages():
            uid = self.append(address, raw, folder=folder)
            if uid is None:
                raise RuntimeError(f"Dovecot sent no APPENDUID for {name}")
            uids[name] = uid
        for name, raw in unappendable_messages():
            uids[name] = self.write_message(address, raw, folder=folder)
        return uids

    def mailbox_path(self, address: str, folder: str = "INBOX") -> Path:
        """The maildir directory of one of the user's folders (as Dovecot resolves it)."""
        path = self._dovecots[0].doveadm("mailbox", "path", "-u", address, folder).strip()
        if not path:
            raise RuntimeError(f"Dovecot has no path for folder {folder!r} of {address}")
        return Path(path)

    def _open_folder(self, client: IMAPClient, folder: str) -> dict[bytes, object]:
        """SELECT the folder, creating it first if needed (Dovecot makes its maildir)."""
        if folder.upper() != "INBOX" and not client.folder_exists(folder):
            client.create_folder(folder)
            client.subscribe_folder(folder)
        return client.select_folder(folder)

    # Changes "by another client": real IMAP sessions as the user -----------------

    @property
    def tls_name(self) -> str:
        """The name the lab's helpers verify the server certificate against."""
        return _greeting_name(self.names)

    def imap_tls_context(self) -> ssl.SSLContext:
        """Verifies the chain with the lab CA and the name `tls_name`, whatever IP is dialled."""
        return named_context(str(self.ca_bundle), self.tls_name)

    @contextlib.contextmanager
    def imap(self, address: str, *, timeout: float = 10.0) -> Iterator[IMAPClient]:
        """A logged-in IMAPClient for the user, over IMAPS on imap_tls_port (logged out after)."""
        password = self._users.get(address).password
        client = IMAPClient(
            self.host,
            port=self.imap_tls_port,
            ssl=True,
            ssl_context=self.imap_tls_context(),
            timeout=timeout,
        )
        try:
            client.login(address, password)
            yield client
        finally:
            try:
                client.logout()
            except Exception:  # the connection may be gone (a test stopped the server)
                with contextlib.suppress(Exception):
                    client.shutdown()

    def create_folder(self, address: str, name: str, *, subscribe: bool = True) -> None:
        with self.imap(address) as client:
            client.create_folder(name)
            if subscribe:
                client.subscribe_folder(name)

    def delete_folder(self, address: str, name: str, *, unsubscribe: bool = True) -> None:
        """DELETE (after UNSUBSCRIBE, as mail clients do: Dovecot keeps subscriptions)."""
        with self.imap(address) as client:
            if unsubscribe:
                client.unsubscribe_folder(name)
            client.delete_folder(name)

    def set_flags(
        self,
        address: str,
        folder: str,
        uids: Iterable[int],
        flags: Iterable[str | bytes],
        add: bool = True,
    ) -> dict[int, tuple[bytes, ...]]:
        """UID STORE +FLAGS (or -FLAGS with add=False); each message's flags afterwards."""
        uids, flags = list(uids), list(flags)
        with self.imap(address) as client:
            client.select_folder(folder)
            store = client.add_flags if add else client.remove_flags
            return dict(store(uids, flags))

    def expunge(self, address: str, folder: str, uids: Iterable[int]) -> None:
        """Mark \\Deleted and UID EXPUNGE just these UIDs (UIDPLUS)."""
        uids = list(uids)
        with self.imap(address) as client:
            client.select_folder(folder)
            client.add_flags(uids, [DELETED], silent=True)
            client.uid_expunge(uids)

    def move(self, address: str, folder: str, uids: Iterable[int], target: str) -> dict[int, int]:
        """UID MOVE to `target`; old UID -> new UID in target (from COPYUID)."""
        uids = list(uids)
        with self.imap(address) as client:
            client.select_folder(folder)
            client._imap.untagged_responses.pop("OK", None)
            answer = client.move(uids, target)
            texts = [answer, *client._imap.untagged_responses.pop("OK", [])]
        for text in texts:
            if isinstance(text, bytes):
                text = text.decode("ascii", "replace")
            match = re.search(r"\[COPYUID \d+ ([\d:,]+) ([\d:,]+)\]", text or "")
            if match:
                return dict(zip(parse_uid_set(match[1]), parse_uid_set(match[2]), strict=True))
        return {}

    def in_idle(self, address: str) -> int:
        """How many of the user's IMAP sessions on this lab are in IDLE now (from the imap processes'
        titles, which Dovecot keeps up to date), so a test waits for a watcher instead of sleeping."""
        title = f"localmail-main-{os.getpid()}/imap [{address} "
        count = 0
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:  # the process ended meanwhile
                continue
            if command.startswith(f"dovecot-{title}") and command.rstrip().endswith("IDLE]"):
                count += 1
        return count

    # Stopping the IMAP server -----------------------------------------------------

    def stop_imap(self) -> None:
        """Stop every Dovecot instance (IMAP and POP3): open sessions drop, new
        connections to their ports are refused. Mail stays on disk."""
        if self._imap_stopped or self._stopped:
            return
        self._imap_stopped = True
        if self._relay is not None:
            self._relay.pause()
        for dovecot in self._dovecots:
            dovecot.halt()

    def start_imap(self) -> None:
        """Start the instances again, on the same ports, with the same mail.

        Call it from a thread that lives as long as the lab (normally the main
        thread): Dovecot gets SIGTERM when the thread that started it ends.
        """
        if not self._imap_stopped or self._stopped:
            return
        deadline = time.monotonic() + START_TIMEOUT
        for dovecot in self._dovecots:
            # SIGKILLed children may hold a listening socket for a moment.
            _wait_bindable(self.host, [listener.port for listener in dovecot.listeners], deadline)
            dovecot.start()
        for dovecot in self._dovecots:
            dovecot.wait_ready(deadline)
        if self._relay is not None:
            self._relay.resume()
        self._imap_stopped = False

    def restart_imap(self) -> None:
        """As if the server were restarted: stop_imap() then start_imap()."""
        self.stop_imap()
        self.start_imap()

    def ports(self) -> dict[str, int]:
        """The ports a later run may keep (KEPT_PORTS)."""
        return {name: getattr(self, name) for name in KEPT_PORTS}

    def deliver_to_mailboxes(self) -> None:
        """Mail the SMTP server accepts for one of the lab's own users is also put in that user's INBOX,
        as a provider delivers it: in the demo, mail sent to oneself arrives."""

        def deliver(message) -> None:
            for recipient in dict.fromkeys(message.rcpt_tos):
                if self.has_user(recipient):
                    self.append(recipient, message.data)

        if self._smtp is not None:
            self._smtp.recorder.on_received = deliver

    def has_user(self, address: str) -> bool:
        try:
            self._users.get(address)
        except KeyError:
            return False
        return True

    # SMTP observations -----------------------------------------------------

    @property
    def received(self) -> list[ReceivedMessage]:
        """Messages accepted by the SMTP listeners (the live list: tests may clear it)."""
        return self._smtp.recorder.received if self._smtp else []

    @property
    def smtp_auth_attempts(self) -> list[tuple[str, bool]]:
        """(username, success) per AUTH command; smtplib's login() may try PLAIN then LOGIN."""
        return self._smtp.recorder.auth_attempts if self._smtp else []

    # Lifecycle -------------------------------------------------------------

    def diagnostics(self) -> str:
        """Dovecot config paths and log tails, for failing tests."""
        return "\n\n".join(dovecot.diagnostics() for dovecot in self._dovecots)

    def stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        atexit.unregister(self.stop)
        if self._smtp is not None:
            self._smtp.stop()
        if self._tarpit is not None:
            self._tarpit.stop()
        if self._closed is not None:
            self._closed.close()
        if self._relay is not None:
            self._relay.stop()
        for dovecot in self._dovecots:
            dovecot.stop()
        if self._mail_tmp is not None:
            shutil.rmtree(self._mail_tmp, ignore_errors=True)

    def __enter__(self) -> MailLab:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _wait_bindable(host: str, ports: list[int], deadline: float) -> None:
    while True:
        try:
            check_bindable("Dovecot restart", host, ports)
            return
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.02)


def _greeting_name(names: Sequence[str]) -> str:
    """The name SMTP greets with: the first exact name, else "mail." under a wildcard."""
    for name in names:
        if not name.startswith("*"):
            return name
    return "mail" + names[0][1:]
