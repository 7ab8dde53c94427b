"""Run a MailLab in the foreground until SIGINT or SIGTERM (used by the demo mode)."""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

from .lab import MailLab


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localmail", description=__doc__)
    parser.add_argument("--workdir", type=Path, required=True)
    parser.add_argument("--user", required=True, help="mail address to create")
    parser.add_argument("--password", required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--seed", action="store_true", help="append a dozen demo messages")
    parser.add_argument(
        "--standard-ports", action="store_true", help="IMAP 993/143, SMTP 465/587, POP3 110"
    )
    parser.add_argument(
        "--name",
        action="append",
        dest="names",
        help="a certificate name (repeatable; wildcards allowed); default localhost",
    )
    args = parser.parse_args(argv)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())

    lab = MailLab.start(
        args.workdir,
        host=args.host,
        standard_ports=args.standard_ports,
        names=args.names or ("localhost",),
    )
    try:
        lab.add_user(args.user, args.password)
        seeded = lab.seed_demo(args.user) if args.seed else 0
        info = {
            "host": lab.host,
            "hostname": lab.hostname,
            "ca_bundle": str(lab.ca_bundle),
            "user": args.user,
            "seeded": seeded,
            **{name: getattr(lab, name) for name in PORT_NAMES},
        }
        print(json.dumps(info), flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        lab.stop()
    return 0


PORT_NAMES = (
    "imap_tls_port",
    "imap_starttls_port",
    "imap_plain_only_port",
    "pop3_port",
    "imap_untrusted_tls_port",
    "smtp_tls_port",
    "smtp_starttls_port",
    "smtp_no_starttls_port",
    "tarpit_port",
    "closed_port",
)

if __name__ == "__main__":
    sys.exit(main())
