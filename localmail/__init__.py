"""Real local mail servers (Dovecot IMAP/POP3, aiosmtpd SMTP) on loopback.

    lab = MailLab.start(tmp_path)
    lab.add_user("alice@example.com", "secret")
    lab.seed_demo("alice@example.com")
    ...  # connect to "localhost" on lab.imap_tls_port, trusting lab.ca_bundle
    lab.stop()

For IMAP synchronisation tests the lab's Dovecot offers CONDSTORE, QRESYNC, IDLE,
MOVE, UIDPLUS, SPECIAL-USE and PREVIEW, with Sent/Drafts/Trash/Junk/Archive for every
user. lab.bulk_load() writes thousands of messages straight into a maildir;
lab.imap(), set_flags(), expunge(), move(), create_folder() and delete_folder()
act as another client; stop_imap()/start_imap()/restart_imap() take Dovecot down
and up on the same ports. localmail.proxy.FaultProxy cuts connections after a
chosen number of bytes; localmail.corpus.awkward_messages() (or lab.load_awkward())
brings broken MIME, odd charsets, NUL bytes, 10,000 recipients and a 10 MB line.

For mail-server discovery there are also a DNS server (localmail.dns.LocalDns),
an HTTPS server for autoconfig documents (localmail.https.LocalHttps, with a
certificate from the lab's CA) and silent listeners on chosen ports
(localmail.tarpit.Tarpit). MailLab.start(..., standard_ports=True) puts the lab
on 993/143/465/587/110 of a chosen loopback address.

Needs root (Dovecot runs as its own master) and never imports Flask.

The distribution ships the part that `inkorg docs screenshots` runs (screens.py, with the lab's
Dovecot and SMTP servers, DNS, the demo messages and the browser; setup.py's DEMO_MAILBOX); the
rest is the test lab's, so `import localmail` must not need it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .lab import MailLab
from .smtp import ReceivedMessage
from .tarpit import STANDARD_MAIL_PORTS, Tarpit

if TYPE_CHECKING:
    from .dns import LocalDns
    from .https import LocalHttps
    from .proxy import FaultProxy

__all__ = [
    "STANDARD_MAIL_PORTS",
    "FaultProxy",
    "LocalDns",
    "LocalHttps",
    "MailLab",
    "ReceivedMessage",
    "Tarpit",
]


def __getattr__(name: str) -> Any:
    # Imported on first use, so `import localmail` needs neither dnslib nor the test lab's modules.
    if name == "LocalDns":
        from .dns import LocalDns

        return LocalDns
    if name == "LocalHttps":
        from .https import LocalHttps

        return LocalHttps
    if name == "FaultProxy":
        from .proxy import FaultProxy

        return FaultProxy
    raise AttributeError(f"module 'localmail' has no attribute {name!r}")
