from urllib.parse import urlsplit

from flask import g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _

from mailcore.services import authenticate

from ..web import db, sign_in
from . import bp
from .forms import SignInForm


def _safe_next(target: str | None) -> str:
    """Only a path on this site; never an absolute URL an attacker could supply."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


@bp.route("/signin", methods=["GET", "POST"])
def signin():
    if g.user is not None:
        return redirect(_safe_next(request.args.get("next")))
    form = SignInForm()
    error = None
    if form.validate_on_submit():
        user = authenticate(db(), form.email.data, form.password.data)
        if user is not None:
            sign_in(user)
            return redirect(_safe_next(request.args.get("next")))
        error = _("The user name or password is wrong.")
    return render_template("auth/signin.html", form=form, error=error), 422 if error else 200


@bp.route("/signout", methods=["POST"])
def signout():
    session.clear()
    return redirect(url_for("auth.signin"))
