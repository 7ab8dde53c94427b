"""Inkorg: the email inbox of a CRM. `create_app` builds the Flask application."""

from __future__ import annotations

import logging
import os
import secrets
import threading
from pathlib import Path

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from mailcore import db as maildb
from mailcore.compose import MAX_ATTACHMENTS_BYTES
from mailcore.connect import MailEnvironment
from mailcore.crypto import SecretBox
from mailcore.detect import Detector, DiscoveryNetwork
from mailcore.dnsquery import Dns
from mailcore.jobs import InlineRunner, SyncContext, ThreadRunner
from mailcore.netpolicy import MAIL_PORTS, NetworkPolicy, parse_networks, parse_ports
from mailcore.providers import ProviderList

LANGUAGES = ("sv", "en")
csrf = CSRFProtect()
babel = Babel()


class Config:
    """Settings from the environment; see the README for each."""

    def __init__(self, environ: dict[str, str] | os._Environ = os.environ):
        instance = Path(environ.get("INSTANCE_PATH", Path(__file__).resolve().parent / "instance"))
        self.INSTANCE_PATH = str(instance)
        self.SECRET_KEY = environ.get("SECRET_KEY")
        self.DATABASE_URL = environ.get("DATABASE_URL", f"sqlite:///{instance / 'inkorg.db'}")
        self.PORT = int(environ.get("PORT", "5000"))
        self.MAIL_CA_BUNDLE = environ.get("MAIL_CA_BUNDLE") or None
        self.MAIL_PROVIDERS_FILE = environ.get("MAIL_PROVIDERS_FILE") or None
        self.MAIL_ALLOWED_NETWORKS = environ.get("MAIL_ALLOWED_NETWORKS", "")
        self.MAIL_ALLOWED_PORTS = environ.get("MAIL_ALLOWED_PORTS", "")
        self.MAIL_ENCRYPTION_KEY = environ.get("MAIL_ENCRYPTION_KEY") or None
        self.MAIL_TIMEOUT = float(environ.get("MAIL_TIMEOUT", "15"))
        self.MAIL_DNS_SERVER = environ.get("MAIL_DNS_SERVER") or None
        self.MAIL_AUTOCONFIG_PORT = int(environ["MAIL_AUTOCONFIG_PORT"]) if environ.get("MAIL_AUTOCONFIG_PORT") else None
        self.MAIL_DISCOVERY_BUDGET = float(environ.get("MAIL_DISCOVERY_BUDGET", "8"))
        self.MAIL_DISCOVERIES_PER_MINUTE = int(environ.get("MAIL_DISCOVERIES_PER_MINUTE", "6"))
        self.MAIL_TESTS_PER_5_MINUTES = int(environ.get("MAIL_TESTS_PER_5_MINUTES", "10"))
        self.SYNC_MODE = environ.get("SYNC_MODE", "embedded")  # embedded | external | inline
        self.SYNC_WORKERS = int(environ.get("SYNC_WORKERS", "2"))
        self.BEHIND_PROXY = environ.get("BEHIND_PROXY", "") == "1"
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
        self.SESSION_COOKIE_SECURE = environ.get("SESSION_COOKIE_SECURE", "") == "1"
        self.SESSION_IDLE_HOURS = float(environ.get("SESSION_IDLE_HOURS", "12"))
        self.SESSION_MAX_DAYS = float(environ.get("SESSION_MAX_DAYS", "14"))
        self.SIGNIN_FAILURES_PER_ACCOUNT = int(environ.get("SIGNIN_FAILURES_PER_ACCOUNT", "5"))
        self.SIGNIN_FAILURES_PER_ADDRESS = int(environ.get("SIGNIN_FAILURES_PER_ADDRESS", "20"))
        self.SIGNIN_WINDOW_MINUTES = float(environ.get("SIGNIN_WINDOW_MINUTES", "15"))
        self.MAX_CONTENT_LENGTH = MAX_ATTACHMENTS_BYTES + 10 * 2**20  # attachments plus the form around them
        self.MAX_FORM_MEMORY_SIZE = 8 * 2**20  # one text field: a message of 2,000,000 characters
        self.WTF_CSRF_TIME_LIMIT = None  # tied to the session instead, so a long-open dialog still saves
        self.BABEL_TRANSLATION_DIRECTORIES = str(Path(__file__).resolve().parent / "translations")


class _SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _secret_from_file(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=Config().INSTANCE_PATH)
    app.config.from_object(Config())
    app.config.update(config or {})
    instance = Path(app.config["INSTANCE_PATH"])
    app.instance_path = str(instance)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_from_file(instance / "secret_key")
    if app.config["BEHIND_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.session_interface = _SessionInterface()

    _init_mail(app, instance)
    babel.init_app(app, locale_selector=select_locale)

    from blueprints import auth, compose, inbox, security, settings, web

    web.init_app(app)
    security.init_app(app)
    csrf.init_app(app)  # after the user is loaded and the size limit set: a refused body is never parsed
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(compose.bp)

    from cli import register_cli, register_sync_cli, register_translate_cli

    register_cli(app)
    register_sync_cli(app)
    register_translate_cli(app)
    return app


def _init_mail(app: Flask, instance: Path) -> None:
    engine = maildb.make_engine(app.config["DATABASE_URL"])
    if engine.dialect.name == "sqlite":
        instance.mkdir(parents=True, exist_ok=True)
    maildb.upgrade(engine)
    providers = ProviderList.load(Path(app.config["MAIL_PROVIDERS_FILE"]) if app.config["MAIL_PROVIDERS_FILE"] else None)
    ports = MAIL_PORTS | parse_ports(app.config["MAIL_ALLOWED_PORTS"])
    ports |= {t.port for p in providers.providers for t in (p.incoming, p.outgoing) if t}
    dns = Dns(app.config["MAIL_DNS_SERVER"])
    policy = NetworkPolicy(parse_networks(app.config["MAIL_ALLOWED_NETWORKS"]), frozenset(ports), dns.addresses)
    ca_bundle = Path(app.config["MAIL_CA_BUNDLE"]) if app.config["MAIL_CA_BUNDLE"] else None
    env = MailEnvironment(policy, ca_bundle, app.config["MAIL_TIMEOUT"])
    budget = app.config["MAIL_DISCOVERY_BUDGET"]
    network = DiscoveryNetwork(policy, env.tls_context, dns, app.config["MAIL_AUTOCONFIG_PORT"],
                               budget=budget, step_timeout=min(4.0, budget))
    app.extensions["mail"] = {
        "engine": engine,
        "sessions": maildb.session_factory(engine),
        "env": env,
        "box": SecretBox.from_config(app.config["MAIL_ENCRYPTION_KEY"], instance / "mail.key"),
        "detector": Detector(providers, network),
        "providers": providers,
    }
    _init_sync(app)
    logging.getLogger(__name__).debug("database ready: %s", engine.url.render_as_string(hide_password=True))


def _init_sync(app: Flask) -> None:
    """Embedded: worker threads in this process. External: `flask sync worker` runs elsewhere and
    picks requests up from the database. Inline: a sync runs inside the request that asks for it."""
    mail = app.extensions["mail"]
    context = SyncContext(mail["sessions"], mail["env"], mail["box"])
    mail["sync_context"] = context
    mode = app.config["SYNC_MODE"]
    mail["runner"] = InlineRunner(context) if mode == "inline" else None
    if mode == "embedded" and not app.config.get("TESTING"):
        lock = threading.Lock()

        @app.before_request
        def start_embedded_sync() -> None:
            """Started by the first request, so CLI commands never start sync threads."""
            if mail["runner"] is None:
                with lock:
                    if mail["runner"] is None:
                        mail["runner"] = ThreadRunner(context, workers=app.config["SYNC_WORKERS"]).start()


def select_locale() -> str:
    user = g.get("user")
    if user is not None and user.language in LANGUAGES:
        return user.language
    if session.get("language") in LANGUAGES:
        return session["language"]
    return request.accept_languages.best_match(LANGUAGES) or "en"


if __name__ == "__main__":
    create_app().run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
