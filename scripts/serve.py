"""Starts Inkorg with waitress. With DEMO=1, first starts a local demo mailbox and a demo CRM user."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEMO_ADDRESS = "eva.lind@demo.inkorg.test"
DEMO_CRM_PASSWORD = "demo-crm-password"
DEMO_MAIL_PASSWORD = "demo-mail-password"


def start_demo_mailbox(instance: Path) -> None:
    """A real Dovecot and SMTP server on loopback, known to the app as the provider of demo addresses."""
    from localmail import MailLab

    lab = MailLab.start(instance / "demo-mail")
    lab.add_user(DEMO_ADDRESS, DEMO_MAIL_PASSWORD)
    lab.seed_demo(DEMO_ADDRESS)
    providers = instance / "demo-providers.json"
    providers.write_text(json.dumps({"version": 1, "providers": [{
        "id": "demo", "name": "Demo mailbox (local Dovecot)", "domains": ["demo.inkorg.test"],
        "incoming": {"host": lab.hostname, "port": lab.imap_tls_port, "ssl": True, "username": "address"},
        "outgoing": {"host": lab.hostname, "port": lab.smtp_tls_port, "ssl": True, "username": "address"},
    }]}, indent=2))
    os.environ["MAIL_PROVIDERS_FILE"] = str(providers)
    os.environ["MAIL_CA_BUNDLE"] = str(lab.ca_bundle)
    os.environ.setdefault("MAIL_ALLOWED_NETWORKS", "127.0.0.0/8")


def create_demo_user(app) -> None:
    from mailcore import services

    with app.extensions["mail"].sessions() as db:
        try:
            services.create_user(db, DEMO_ADDRESS, DEMO_CRM_PASSWORD, "Eva Lind", "sv")
        except services.UserExists:
            pass


def waitress_options(app) -> dict:
    """Waitress refuses a body over the app's limit from its Content-Length, before reading it (it
    would otherwise spool up to 1 GB before the app sees the request). Behind a proxy it hands the
    X-Forwarded-* headers on to the app's ProxyFix, which it otherwise drops."""
    return {"threads": 8, "ident": "Inkorg", "max_request_body_size": app.config["MAX_CONTENT_LENGTH"],
            "clear_untrusted_proxy_headers": not app.config["BEHIND_PROXY"]}


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the demo mailbox is stopped too
    instance = Path(os.environ.get("INSTANCE_PATH", ROOT / "instance"))
    demo = os.environ.get("DEMO") == "1"
    if demo:
        start_demo_mailbox(instance)

    from waitress import serve

    from app import create_app

    app = create_app()
    host, port = os.environ.get("HOST", "127.0.0.1"), app.config["PORT"]
    print(f"Inkorg is running at http://{host}:{port}/", flush=True)
    if demo:
        create_demo_user(app)
        print(f"  Sign in to the CRM:      {DEMO_ADDRESS} / {DEMO_CRM_PASSWORD}", flush=True)
        print(f"  Then set up the mailbox: {DEMO_ADDRESS} / {DEMO_MAIL_PASSWORD}", flush=True)
    else:
        print("  Create a user first:  .venv/bin/flask --app app user add EMAIL --name 'Full Name'", flush=True)
    serve(app, host=host, port=port, **waitress_options(app))


if __name__ == "__main__":
    main()
