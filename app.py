"""Inkorg: the email inbox of a CRM. `create_app` builds the Flask application."""

from __future__ import annotations

import logging
import os
import secrets
from pathlib import Path

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

from mailcore.compose.message import MAX_ATTACHMENTS_BYTES
from mailcore.installation import Installation
from mailcore.keyfile import read_or_create
from mailcore.resources import resource_root

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
        self.MAIL_DEADLINE = float(environ.get("MAIL_DEADLINE", "120"))
        self.MAIL_DNS_SERVER = environ.get("MAIL_DNS_SERVER") or None
        autoconfig_port = environ.get("MAIL_AUTOCONFIG_PORT")
        self.MAIL_AUTOCONFIG_PORT = int(autoconfig_port) if autoconfig_port else None
        self.MAIL_DISCOVERY_BUDGET = float(environ.get("MAIL_DISCOVERY_BUDGET", "8"))
        self.MAIL_DISCOVERIES_PER_MINUTE = int(environ.get("MAIL_DISCOVERIES_PER_MINUTE", "6"))
        self.MAIL_TESTS_PER_5_MINUTES = int(environ.get("MAIL_TESTS_PER_5_MINUTES", "10"))
        # verification links; see mailcore/compose/system_mail.py
        self.SYSTEM_MAIL_URL = environ.get("SYSTEM_MAIL_URL") or None
        self.SYSTEM_MAIL_FROM = environ.get("SYSTEM_MAIL_FROM") or None
        self.VERIFICATION_LINK_HOURS = float(environ.get("VERIFICATION_LINK_HOURS", "24"))
        self.SYNC_MODE = environ.get("SYNC_MODE", "embedded")  # embedded | external | queue | inline
        self.SYNC_WORKERS = int(environ.get("SYNC_WORKERS", "2"))
        self.QUEUE_URL = environ.get("QUEUE_URL", "redis://127.0.0.1:6379/0")
        self.WATCH_LEASE = float(environ.get("WATCH_LEASE", "45"))  # seconds; see mailcore/sync/watch.py
        self.BEHIND_PROXY = environ.get("BEHIND_PROXY", "") == "1"
        self.EXTERNAL_URL = environ.get("EXTERNAL_URL") or None  # how browsers reach the app: OAuth, mailed links
        for name in ("OAUTH_MICROSOFT_CLIENT_ID", "OAUTH_MICROSOFT_CLIENT_SECRET", "OAUTH_MICROSOFT_TENANT",
                     "OAUTH_GOOGLE_CLIENT_ID", "OAUTH_GOOGLE_CLIENT_SECRET"):
            setattr(self, name, environ.get(name) or None)
        self.OAUTH_REFRESH_MARGIN = float(environ.get("OAUTH_REFRESH_MARGIN", "120"))
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
        self.BABEL_TRANSLATION_DIRECTORIES = str(resource_root() / "translations")


class _SessionInterface(SecureCookieSessionInterface):
    """Marks the session cookie Secure whenever the request came over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"] or request.is_secure)


def _secret_from_file(path: Path) -> str:
    """Every process of the installation must sign with the same key: see mailcore/keyfile.py."""
    return read_or_create(path, lambda: secrets.token_urlsafe(48).encode()).decode()


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=Config().INSTANCE_PATH, root_path=str(resource_root()))
    app.config.from_object(Config())
    app.config.update(config or {})
    instance = Path(app.config["INSTANCE_PATH"])
    app.instance_path = str(instance)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_from_file(instance / "secret_key")
    if app.config["BEHIND_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.session_interface = _SessionInterface()

    _ensure_catalogs(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    _init_mail(app, instance)
    babel.init_app(app, locale_selector=select_locale)

    from blueprints import auth, compose, inbox, security, settings, setup, web

    web.init_app(app)
    security.init_app(app)
    csrf.init_app(app)  # after the user is loaded and the size limit set: a refused body is never parsed
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(setup.bp)
    app.register_blueprint(setup.oauth_bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(compose.bp)

    from cli import register_check_cli, register_cli, register_docs_cli, register_sync_cli, register_translate_cli

    register_cli(app)
    register_check_cli(app)
    register_sync_cli(app)
    register_translate_cli(app)
    register_docs_cli(app)
    return app


def _ensure_catalogs(directory: Path) -> None:
    """Compiles a catalog whose .mo is missing or older than its .po, so a checkout run without the
    setup script still speaks Swedish; refuses to start when it cannot."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po in sorted(directory.glob("*/LC_MESSAGES/messages.po")):
        mo = po.with_suffix(".mo")
        if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source, locale=po.parent.parent.name)
            with mo.open("wb") as target:
                write_mo(target, catalog)
        except OSError as exc:
            raise RuntimeError(f"the translation catalog {mo} is missing or out of date and cannot be written "
                               f"({exc.strerror}); run `flask --app app translate compile` as its owner") from None


def _init_mail(app: Flask, instance: Path) -> None:
    workers = web_server_workers() if app.config["SYNC_MODE"] == "embedded" else 1
    if workers > 1:
        raise RuntimeError(
            f"SYNC_MODE=embedded runs sync threads inside the web process, and this web server runs "
            f"{workers} worker processes: each would run its own. Set SYNC_MODE=queue (and run "
            f"`flask sync worker` and `flask sync watch`) or SYNC_MODE=external, or run one worker")
    mail = Installation.from_config(app.config, instance)
    app.extensions["mail"] = mail
    if mail.sync_mode == "embedded" and not app.config.get("TESTING"):
        app.before_request(mail.start_workers)
    logging.getLogger(__name__).debug("database ready: %s",
                                      mail.engine.url.render_as_string(hide_password=True))


def web_server_workers() -> int:
    """How many worker processes the web server runs: 1 unless under gunicorn, whose settings (command
    line, GUNICORN_CMD_ARGS, WEB_CONCURRENCY, config file) are read again the way its master read them."""
    if not os.environ.get("SERVER_SOFTWARE", "").startswith("gunicorn/"):
        return 1
    import sys

    from gunicorn.app.wsgiapp import WSGIApplication

    argv, sys.argv = sys.argv, list(sys.argv)
    cwd = os.getcwd()
    try:
        return int(WSGIApplication("%(prog)s [OPTIONS] [APP_MODULE]").cfg.workers)
    except (Exception, SystemExit):  # settings it cannot read: assume the worst, several workers
        return 2
    finally:
        sys.argv = argv
        os.chdir(cwd)


def select_locale() -> str:
    user = g.get("user")
    if user is not None and user.language in LANGUAGES:
        return user.language
    if session.get("language") in LANGUAGES:
        return session["language"]
    return request.accept_languages.best_match(LANGUAGES) or "en"


if __name__ == "__main__":
    create_app().run(host=os.environ.get("HOST", "127.0.0.1"), port=int(os.environ.get("PORT", "5000")))
