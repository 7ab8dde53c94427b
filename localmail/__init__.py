"""Real local mail servers (Dovecot IMAP/POP3, aiosmtpd SMTP) on loopback.

    lab = MailLab.start(tmp_path)
    lab.add_user("alice@example.com", "secret")
    lab.seed_demo("alice@example.com")
    ...  # connect to "localhost" on lab.imap_tls_port, trusting lab.ca_bundle
    lab.stop()

Needs root (Dovecot runs as its own master) and never imports Flask.
"""

from .lab import MailLab
from .smtp import ReceivedMessage

__all__ = ["MailLab", "ReceivedMessage"]
