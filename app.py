"""Inkorg: the email inbox of a CRM. `create_app` builds the Flask application."""

from __future__ import annotations

import logging
import os
import secrets
import sys
from collections.abc import Mapping
from pathlib import Path

from flask import Flask, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from jinja2.bccache import Bucket, BytecodeCache
from werkzeug.middleware.proxy_fix import ProxyFix

import cli
from blueprints import auth, compose, contacts, dates, inbox, security, settings, setup, web
from mailcore.catalogs import compile_catalogs
from mailcore.compose.message import MAX_ATTACHMENTS_BYTES
from mailcore.config import Settings
from mailcore.installation import Installation
from mailcore.keyfile import read_or_create
from mailcore.resources import resource_root

LANGUAGES = ("sv", "en")
csrf = CSRFProtect()
babel = Babel()


class Config:
    """The Flask configuration: every setting of mailcore.config.Settings under its environment name
    (read from the environment once, here), and the choices that are Flask's own and fixed."""

    def __init__(self, environ: Mapping[str, str] = os.environ):
        for name, value in Settings.from_env(environ).as_config().items():
            setattr(self, name, value)
        self.SESSION_COOKIE_HTTPONLY = True
        self.SESSION_COOKIE_SAMESITE = "Lax"
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


class _TemplateCode(BytecodeCache):
    """The templates' compiled code, kept for the process: every app the process makes (the tests',
    one per language for the documentation pictures) compiles each template once, not once per app.
    Jinja keys it by the template's name and checks it against the source, so an edited template is
    compiled again."""

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = _TemplateCode()


def create_app(config: dict | None = None) -> Flask:
    defaults = Config()
    app = Flask(__name__, instance_path=defaults.INSTANCE_PATH, root_path=str(resource_root()))
    app.config.from_object(defaults)
    app.config.update(config or {})
    instance = Path(app.config["INSTANCE_PATH"])
    app.instance_path = str(instance)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _secret_from_file(instance / "secret_key")
    if app.config["BEHIND_PROXY"]:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1)  # type: ignore[method-assign]
    app.session_interface = _SessionInterface()
    app.jinja_env.bytecode_cache = TEMPLATE_CODE

    _ensure_catalogs(Path(app.config["BABEL_TRANSLATION_DIRECTORIES"]))
    _init_mail(app, instance)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=dates.user_zone)

    web.init_app(app)
    inbox.notify.init_app(app)
    security.init_app(app)
    csrf.init_app(app)  # after the user is loaded and the size limit set: a refused body is never parsed
    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(setup.bp)
    app.register_blueprint(setup.oauth_bp)
    app.register_blueprint(settings.bp)
    app.register_blueprint(compose.bp)
    app.register_blueprint(contacts.bp)

    cli.register_commands(app, create_app)
    return app


def _ensure_catalogs(directory: Path) -> None:
    """Compiles a catalog whose .mo is missing or older than its .po, so a checkout run without the
    setup script still speaks Swedish; refuses to start when it cannot."""
    try:
        compile_catalogs(directory, only_stale=True)
    except OSError as exc:
        raise RuntimeError(f"the translation catalog {exc.filename} is missing or out of date and cannot be "
                           f"written ({exc.strerror}); run `flask --app app translate compile` as its owner") from None


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
    from gunicorn.app.wsgiapp import WSGIApplication  # gunicorn: only installed with the server extra

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
    main_app = create_app()
    main_app.run(host=main_app.config["HOST"], port=main_app.config["PORT"])
