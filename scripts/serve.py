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
# A second demo user whose mailbox signs in with OAuth 2.0 at a local issuer ("Demo ID"), as a
# Microsoft or Google account would at theirs.
DEMO_OAUTH_ADDRESS = "olle.berg@id.demo.inkorg.test"
DEMO_ID_PASSWORD = "demo-id-password"


def start_demo_mailbox(instance: Path) -> None:
    """A real Dovecot and SMTP server on loopback, known to the app as the provider of demo addresses,
    and a local OAuth 2.0 / OpenID Connect issuer for the second demo address."""
    from localmail import MailLab
    from localmail.oauth_server import LocalIssuer

    issuer = LocalIssuer()
    issuer.browser_over_http = True  # the sign-in page on plain loopback HTTP: the demo CA is not the browser's
    issuer.add_client("inkorg-demo")  # a public client: PKCE alone
    issuer.add_user(DEMO_OAUTH_ADDRESS, DEMO_ID_PASSWORD)
    # the same ports as the last run, so that a mailbox set up then keeps working after a restart
    kept = instance / "demo-ports.json"
    ports = json.loads(kept.read_text()) if kept.exists() else None
    lab = MailLab.start(instance / "demo-mail", oauth_introspection_url=issuer.introspection_url, kept_ports=ports)
    kept.write_text(json.dumps(lab.ports()))
    lab.deliver_to_mailboxes()  # mail sent to a demo address arrives in its inbox
    issuer.serve_https(lab.tls_files)
    lab.add_user(DEMO_ADDRESS, DEMO_MAIL_PASSWORD)
    lab.seed_demo(DEMO_ADDRESS)
    lab.add_user(DEMO_OAUTH_ADDRESS, DEMO_ID_PASSWORD)
    lab.seed_demo(DEMO_OAUTH_ADDRESS)
    server = {"host": lab.hostname, "ssl": True, "username": "address"}
    providers = instance / "demo-providers.json"
    providers.write_text(json.dumps({"version": 1, "providers": [{
        "id": "demo", "name": "Demo mailbox (local Dovecot)", "domains": ["demo.inkorg.test"],
        "incoming": {**server, "port": lab.imap_tls_port}, "outgoing": {**server, "port": lab.smtp_tls_port},
    }, {
        "id": "demo-id", "name": "Demo ID", "domains": ["id.demo.inkorg.test"],
        "incoming": {**server, "port": lab.imap_tls_port}, "outgoing": {**server, "port": lab.smtp_tls_port},
        "oauth2": {"issuer": issuer.issuer, "client_id": "inkorg-demo",
                   "scopes": ["openid", "email", "offline_access"]},
    }]}, indent=2))
    os.environ["MAIL_PROVIDERS_FILE"] = str(providers)
    os.environ["MAIL_CA_BUNDLE"] = str(lab.ca_bundle)
    os.environ.setdefault("MAIL_ALLOWED_NETWORKS", "127.0.0.0/8")


def create_demo_user(app) -> None:
    from mailcore import services

    with app.extensions["mail"].sessions() as db:
        for address, name in ((DEMO_ADDRESS, "Eva Lind"), (DEMO_OAUTH_ADDRESS, "Olle Berg")):
            try:
                services.create_user(db, address, DEMO_CRM_PASSWORD, name, "sv")
            except services.UserExists:
                pass


def waitress_options(app) -> dict:
    """Waitress refuses a body over the app's limit from its Content-Length, before reading it (it
    would otherwise spool up to 1 GB before the app sees the request). Behind a proxy it hands the
    X-Forwarded-* headers on to the app's ProxyFix, which it otherwise drops."""
    return {"threads": 8, "ident": "Inkorg", "max_request_body_size": app.config["MAX_CONTENT_LENGTH"],
            "clear_untrusted_proxy_headers": not app.config["BEHIND_PROXY"]}


def main() -> None:
    from mailcore.config import Settings

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # so the demo mailbox is stopped too
    instance = Settings.from_env(os.environ).instance_path  # before the demo adds its own settings
    demo = os.environ.get("DEMO") == "1"
    if demo:
        start_demo_mailbox(instance)

    from waitress import serve

    from app import create_app

    app = create_app()
    host, port = app.config["HOST"], app.config["PORT"]
    print(f"Inkorg is running at http://{host}:{port}/", flush=True)
    if demo:
        create_demo_user(app)
        print(f"  Sign in to the CRM:      {DEMO_ADDRESS} / {DEMO_CRM_PASSWORD}", flush=True)
        print(f"  Then set up the mailbox: {DEMO_ADDRESS} / {DEMO_MAIL_PASSWORD}", flush=True)
        print(f"  Or, with OAuth 2.0:      sign in to the CRM as {DEMO_OAUTH_ADDRESS} / {DEMO_CRM_PASSWORD},\n"
              f"                           then Sign in with Demo ID as {DEMO_OAUTH_ADDRESS} / {DEMO_ID_PASSWORD}",
              flush=True)
    else:
        print("  Create a user first:  .venv/bin/flask --app app user add EMAIL --name 'Full Name'", flush=True)
    serve(app, host=host, port=port, **waitress_options(app))


if __name__ == "__main__":
    main()
