"""Request plumbing shared by every blueprint: database session, signed-in user, the user's mail
account, error pages."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import TypeVar

from flask import Flask, abort, current_app, g, redirect, render_template, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.orm import Session

from mailcore import crm_signin as signin
from mailcore import errors
from mailcore.account import MailAccount
from mailcore.connect import MailEnvironment
from mailcore.crypto import SecretBoxError
from mailcore.installation import Installation
from mailcore.models import Account, Role, User
from mailcore.services import MailService

from .dates import full, in_list, zone_unknown
from .explain import explain
from .failures import unhandled
from .htmx import is_fragment_request, render
from .security import is_background_request, session_limits, to_sign_in

T = TypeVar("T")
_ANY_ID = 918273645546372819  # stands for a row's id in url_for_each: a number no URL has otherwise


def installation() -> Installation:
    return current_app.extensions["mail"]


def db() -> Session:
    if "db" not in g:
        g.db = installation().sessions()
    return g.db


def mail_service() -> MailService:
    return MailService(db(), installation(),
                       attempts_per_window=current_app.config["MAIL_TESTS_PER_5_MINUTES"],
                       discoveries_per_minute=current_app.config["MAIL_DISCOVERIES_PER_MINUTE"],
                       env=request_env)


def request_env(user_id: int | None = None) -> MailEnvironment:
    """The mail environment of this request, which a person waits on: one deadline for all it does with
    the mail servers (MAIL_REQUEST_BUDGET from the first time it is asked for), and a place among the
    few requests the user may have talking to their servers at once; ServerBusy when there is none."""
    if "mail_env" not in g:
        user_id = user_id if user_id is not None else current_user().id
        mail = installation()
        if not mail.gate.enter(user_id):
            raise errors.ServerBusy()
        g.mail_gate = user_id
        g.mail_env = mail.env.until(time.monotonic() + mail.settings.mail_request_budget)
    return g.mail_env


def mail_account() -> MailAccount:
    """The signed-in user's connected account, ready to act on its mail within this request's budget;
    404 when there is none."""
    return installation().account(db(), current_account(), request_env)


def current_user() -> User:
    user = g.get("user")
    if user is None:
        abort(401)
    return user


def current_account() -> Account:
    """The signed-in user's mail account; 404 when there is none (nothing to act on)."""
    account = current_user().account
    if account is None:
        abort(404)
    return account


def own(find: Callable[[Session, Account, int], T | None], ident: int | None) -> T:
    """What `find` finds in the signed-in user's account, else 404: absent and someone else's look
    the same."""
    found = find(db(), current_account(), ident) if ident is not None else None
    if found is None:
        abort(404)
    return found


def login_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        if g.get("user") is None:
            return to_sign_in()
        return view(*args, **kwargs)

    return wrapped


def sign_in(user: User) -> None:
    session.clear()  # a fresh session on sign-in: no fixation
    session["user_id"] = user.id
    session["token"] = signin.start_session(db(), user, session_limits())
    session.permanent = True


def sign_out() -> None:
    signin.end_session(db(), session.get("token"))
    session.clear()


def _load_user() -> None:
    """Signed in only while the server still knows the session (see mailcore/signin.py)."""
    g.user = signin.session_user(db(), session.get("user_id"), session.get("token"), session_limits(),
                                 touch=not is_background_request())
    if g.user is None and "user_id" in session:
        session.pop("user_id")  # ended or expired; the CSRF token stays, so the next form still posts
        session.pop("token", None)


def _close_db(_exc: BaseException | None) -> None:
    holder = g.pop("mail_gate", None)
    if holder is not None:
        installation().gate.leave(holder)
    session_ = g.pop("db", None)
    if session_ is not None:
        session_.close()


def _mail_failure(error: errors.MailError):
    """Any mail failure a view did not handle itself: the usual explanation in the user's language,
    as a notice over the page for htmx and as a page otherwise. Never a 500."""
    if "db" in g:
        user = g.get("user")
        explained = unhandled(g.db, user.account if user is not None else None, error)
    else:
        explained = explain(error)
    status = 429 if isinstance(error, (errors.RateLimited, errors.ServerBusy)) else 502
    if is_fragment_request():  # htmx swaps 422 (base.html); the notice replaces nothing the user had
        return render("error.html", "notice", 422, retarget="#notice", reswap="innerHTML",
                      title=_("The email server could not do that"), explained=explained)
    return render("error.html", "main", status, title=_("The email server could not do that"),
                  explained=explained)


def init_app(app: Flask) -> None:
    app.before_request(_load_user)
    app.teardown_appcontext(_close_db)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_template("error.html", title=_("The form has expired"),
                               message=_("Reload the page and try again.")), 400

    @app.errorhandler(errors.MailError)
    def mail_error(error: errors.MailError):
        return _mail_failure(error)

    @app.errorhandler(SecretBoxError)
    def secret_error(error: SecretBoxError):
        return _mail_failure(errors.SecretUnreadable())

    @app.errorhandler(404)
    def not_found(error):
        return render_template("error.html", title=_("Not found"),
                               message=_("There is nothing here, or it belongs to someone else.")), 404

    @app.route("/")
    def home():
        return redirect(url_for("inbox.index"))

    @app.template_global()
    def url_for_each(endpoint: str, key: str, **values):
        """url_for(endpoint, key=N, **values) for any whole number N, built once: the links of a list's
        rows (url_for for each of them is a fifth of the time of a page of 50)."""
        parts = url_for(endpoint, **{key: _ANY_ID}, **values).split(str(_ANY_ID))
        if len(parts) != 2:  # the number is in a search too: each link on its own
            return lambda value: url_for(endpoint, **{key: int(value)}, **values)
        return lambda value: str(int(value)).join(parts)

    @app.template_filter("listdate")
    def listdate(value):
        return in_list(value)

    @app.template_filter("folder_label")
    def folder_label(folder):
        """Special folders in the user's language; others by their (decoded) name on the server."""
        labels = {Role.INBOX: _("INBOX"), Role.SENT: _("Sent"), Role.DRAFTS: _("Drafts"), Role.TRASH: _("Trash"),
                  Role.JUNK: _("Junk"), Role.ARCHIVE: _("Archive")}
        return labels.get(folder.role) or folder.name

    @app.template_filter("fulldate")
    def fulldate(value):
        return full(value)

    @app.context_processor
    def frame_context():
        return {"user": g.get("user"), "lang": str(get_locale()), "is_fragment": is_fragment_request(),
                "zone_unknown": zone_unknown}
