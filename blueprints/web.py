"""Request plumbing shared by every blueprint: database session, signed-in user, error pages."""

from __future__ import annotations

from functools import wraps

from flask import Flask, abort, current_app, g, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy import select
from sqlalchemy.orm import Session

from mailcore.models import User
from mailcore.services import MailService


def db() -> Session:
    if "db" not in g:
        g.db = current_app.extensions["mail"]["sessions"]()
    return g.db


def mail_service() -> MailService:
    mail = current_app.extensions["mail"]
    return MailService(db(), mail["env"], mail["box"],
                       attempts_per_window=current_app.config["MAIL_TESTS_PER_5_MINUTES"],
                       discoveries_per_minute=current_app.config["MAIL_DISCOVERIES_PER_MINUTE"],
                       detector=mail["detector"])


def current_user() -> User:
    user = g.get("user")
    if user is None:
        abort(401)
    return user


def current_account():
    """The signed-in user's mail account; 404 when there is none (nothing to act on)."""
    account = current_user().account
    if account is None:
        abort(404)
    return account


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return redirect(url_for("auth.signin", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)

    return wrapped


def sign_in(user: User) -> None:
    session.clear()  # a fresh session on sign-in: no fixation
    session["user_id"] = user.id
    session.permanent = True


def _load_user() -> None:
    user_id = session.get("user_id")
    g.user = db().scalar(select(User).where(User.id == user_id)) if user_id else None


def _close_db(_exc: BaseException | None) -> None:
    session_ = g.pop("db", None)
    if session_ is not None:
        session_.close()


def _security_headers(response):
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    response.headers.setdefault(
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: https: http:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; frame-src 'self'; object-src 'none'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
    )
    if g.get("user") is not None:
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
    app.teardown_appcontext(_close_db)
    app.after_request(_security_headers)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        from flask import render_template

        return render_template("error.html", title=_("The form has expired"),
                               message=_("Reload the page and try again.")), 400

    @app.errorhandler(404)
    def not_found(error):
        from flask import render_template

        return render_template("error.html", title=_("Not found"),
                               message=_("There is nothing here, or it belongs to someone else.")), 404

    @app.route("/")
    def home():
        return redirect(url_for("inbox.index"))

    @app.template_filter("listdate")
    def listdate(value):
        from .dates import in_list

        return in_list(value)

    @app.template_filter("folder_label")
    def folder_label(folder):
        """Special folders in the user's language; others by their (decoded) name on the server."""
        labels = {"inbox": _("INBOX"), "sent": _("Sent"), "drafts": _("Drafts"), "trash": _("Trash"),
                  "junk": _("Junk"), "archive": _("Archive")}
        return labels.get(folder.role) or folder.name

    @app.template_filter("fulldate")
    def fulldate(value):
        from .dates import full

        return full(value)

    @app.context_processor
    def frame_context():
        from flask_babel import get_locale

        from .htmx import is_fragment_request

        return {"user": g.get("user"), "lang": str(get_locale()), "is_fragment": is_fragment_request()}
